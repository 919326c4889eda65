/** Item and sub-item types of the A-ASSOCIATE PDUs (PS3.8 §9.3.2-9.3.3, Annex D; PS3.7 Annex D.3.3). */
export const ItemType = {
  /** Application Context Item, PS3.8 §9.3.2.1 */
  APPLICATION_CONTEXT: 0x10,
  /** Presentation Context Item in an A-ASSOCIATE-RQ, PS3.8 §9.3.2.2 */
  PRESENTATION_CONTEXT_RQ: 0x20,
  /** Presentation Context Item in an A-ASSOCIATE-AC, PS3.8 §9.3.3.2 */
  PRESENTATION_CONTEXT_AC: 0x21,
  /** Abstract Syntax Sub-Item, PS3.8 §9.3.2.2.1 */
  ABSTRACT_SYNTAX: 0x30,
  /** Transfer Syntax Sub-Item, PS3.8 §9.3.2.2.2 and §9.3.3.2.1 */
  TRANSFER_SYNTAX: 0x40,
  /** User Information Item, PS3.8 §9.3.2.3 and §9.3.3.3 */
  USER_INFORMATION: 0x50,
  /** Maximum Length Sub-Item, PS3.8 Annex D.1 */
  MAXIMUM_LENGTH: 0x51,
  /** Implementation Class UID Sub-Item, PS3.7 Annex D.3.3.2 */
  IMPLEMENTATION_CLASS_UID: 0x52,
  /** Asynchronous Operations Window Sub-Item, PS3.7 Annex D.3.3.3 */
  ASYNCHRONOUS_OPERATIONS_WINDOW: 0x53,
  /** SCP/SCU Role Selection Sub-Item, PS3.7 Annex D.3.3.4 */
  ROLE_SELECTION: 0x54,
  /** Implementation Version Name Sub-Item, PS3.7 Annex D.3.3.2 */
  IMPLEMENTATION_VERSION_NAME: 0x55,
  /** SOP Class Extended Negotiation Sub-Item, PS3.7 Annex D.3.3.5 */
  SOP_CLASS_EXTENDED_NEGOTIATION: 0x56,
  /** SOP Class Common Extended Negotiation Sub-Item, PS3.7 Annex D.3.3.6 */
  SOP_CLASS_COMMON_EXTENDED_NEGOTIATION: 0x57,
  /** User Identity Sub-Item in an A-ASSOCIATE-RQ, PS3.7 Annex D.3.3.7.1 */
  USER_IDENTITY_RQ: 0x58,
  /** User Identity Sub-Item in an A-ASSOCIATE-AC, PS3.7 Annex D.3.3.7.2 */
  USER_IDENTITY_AC: 0x59,
} as const;
/** One of the item type codes. */
export type ItemType = (typeof ItemType)[keyof typeof ItemType];
