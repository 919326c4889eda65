import type { PduType } from './pdu-type.js';
import type { UnknownItem, UserIdentityAc, UserInformation } from './user-information.js';

/** Result/Reason of a Presentation Context Item in an A-ASSOCIATE-AC, PS3.8 §9.3.3.2 Table 9-18. */
export const PresentationContextResult = {
  /** acceptance */
  ACCEPTANCE: 0,
  /** user-rejection */
  USER_REJECTION: 1,
  /** no-reason (provider rejection) */
  NO_REASON: 2,
  /** abstract-syntax-not-supported (provider rejection) */
  ABSTRACT_SYNTAX_NOT_SUPPORTED: 3,
  /** transfer-syntaxes-not-supported (provider rejection) */
  TRANSFER_SYNTAXES_NOT_SUPPORTED: 4,
} as const;
/** One of the `PresentationContextResult` values. */
export type PresentationContextResult =
  (typeof PresentationContextResult)[keyof typeof PresentationContextResult];

/** Presentation Context Item of an A-ASSOCIATE-AC, PS3.8 §9.3.3.2. */
export interface PresentationContextAc {
  /** Presentation-context-ID, as proposed. */
  id: number;
  /** One of `PresentationContextResult`. */
  result: number;
  /**
   * Transfer Syntax Name accepted. Not significant unless the result is
   * acceptance (PS3.8 §9.3.3.2.1); `''` when the sub-item is absent or empty.
   */
  transferSyntax: string;
  /** Sub-items of unknown types, kept in order. */
  unknownItems?: UnknownItem[];
}

/** A-ASSOCIATE-AC PDU, PS3.8 §9.3.3 (Table 9-17). */
export interface AAssociateAc {
  /** PDU type A-ASSOCIATE-AC (PS3.8 §9.3.1). */
  type: typeof PduType.A_ASSOCIATE_AC;
  /** Protocol-version bit field; bit 0 set is version 1. */
  protocolVersion: number;
  /** Called-AE-title as received in the RQ; not tested when received (PS3.8 §9.3.3). */
  calledAeTitle: string;
  /** Calling-AE-title as received in the RQ; not tested when received (PS3.8 §9.3.3). */
  callingAeTitle: string;
  /** Application Context Name. */
  applicationContextName: string;
  /** One result per proposed presentation context. */
  presentationContexts: PresentationContextAc[];
  /** User Information. */
  userInformation: UserInformation<UserIdentityAc>;
  /** Items of unknown types, kept in order (encoded after the User Information item). */
  unknownItems?: UnknownItem[];
}
