import type { PduType } from './pdu-type.js';
import type { UnknownItem, UserIdentityRq, UserInformation } from './user-information.js';

/** The DICOM Application Context Name, PS3.7 Annex A.2.1. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

/** Presentation Context Item of an A-ASSOCIATE-RQ, PS3.8 §9.3.2.2. */
export interface PresentationContextRq {
  /** Presentation-context-ID: an odd integer 1..255. */
  id: number;
  /** Abstract Syntax Name (a SOP Class UID), PS3.8 §9.3.2.2.1. */
  abstractSyntax: string;
  /** Transfer Syntax Names proposed, at least one, PS3.8 §9.3.2.2.2. */
  transferSyntaxes: string[];
  /** Sub-items of unknown types, kept in order. */
  unknownItems?: UnknownItem[];
}

/** A-ASSOCIATE-RQ PDU, PS3.8 §9.3.2 (Table 9-11). */
export interface AAssociateRq {
  /** PDU type A-ASSOCIATE-RQ (PS3.8 §9.3.1). */
  type: typeof PduType.A_ASSOCIATE_RQ;
  /** Protocol-version bit field; bit 0 set is version 1 (the only one). */
  protocolVersion: number;
  /** Called-AE-title, without padding. */
  calledAeTitle: string;
  /** Calling-AE-title, without padding. */
  callingAeTitle: string;
  /** Application Context Name, normally {@link DICOM_APPLICATION_CONTEXT}. */
  applicationContextName: string;
  /** Presentation contexts proposed, at least one. */
  presentationContexts: PresentationContextRq[];
  /** User Information. */
  userInformation: UserInformation<UserIdentityRq>;
  /** Items of unknown types, kept in order (encoded after the User Information item). */
  unknownItems?: UnknownItem[];
}
