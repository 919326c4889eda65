/** PDU types of PS3.8 §9.3.1 (Table 9-11 and following). */
export const PduType = {
  /** A-ASSOCIATE-RQ, PS3.8 §9.3.2 */
  A_ASSOCIATE_RQ: 0x01,
  /** A-ASSOCIATE-AC, PS3.8 §9.3.3 */
  A_ASSOCIATE_AC: 0x02,
  /** A-ASSOCIATE-RJ, PS3.8 §9.3.4 */
  A_ASSOCIATE_RJ: 0x03,
  /** P-DATA-TF, PS3.8 §9.3.5 */
  P_DATA_TF: 0x04,
  /** A-RELEASE-RQ, PS3.8 §9.3.6 */
  A_RELEASE_RQ: 0x05,
  /** A-RELEASE-RP, PS3.8 §9.3.7 */
  A_RELEASE_RP: 0x06,
  /** A-ABORT, PS3.8 §9.3.8 */
  A_ABORT: 0x07,
} as const;
/** One of the PDU type codes. */
export type PduType = (typeof PduType)[keyof typeof PduType];

/** Size of the PDU header: type, reserved, 4-byte length (PS3.8 §9.3.1). */
export const PDU_HEADER_LENGTH = 6;
