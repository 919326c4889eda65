import type { PduType } from './pdu-type.js';

/** A-RELEASE-RQ PDU, PS3.8 §9.3.6 (Table 9-24): no parameters. */
export interface AReleaseRq {
  /** PDU type A-RELEASE-RQ (PS3.8 §9.3.1). */
  type: typeof PduType.A_RELEASE_RQ;
}

/** A-RELEASE-RP PDU, PS3.8 §9.3.7 (Table 9-25): no parameters. */
export interface AReleaseRp {
  /** PDU type A-RELEASE-RP (PS3.8 §9.3.1). */
  type: typeof PduType.A_RELEASE_RP;
}
