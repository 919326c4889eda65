/** An item or sub-item of a type this package does not know, kept to be re-encoded unchanged (PS3.8 §9.3.1). */
export interface UnknownItem {
  /** The item type byte. */
  type: number;
  /** The item's value: the bytes after its 4-byte header. */
  data: Uint8Array;
}

/** Asynchronous Operations Window, PS3.7 Annex D.3.3.3 (0 means unlimited). */
export interface AsyncOperationsWindow {
  /** Maximum-number-operations-invoked. */
  maxInvoked: number;
  /** Maximum-number-operations-performed. */
  maxPerformed: number;
}

/**
 * SCP/SCU Role Selection, PS3.7 Annex D.3.3.4. In an A-ASSOCIATE-RQ `true`
 * proposes the role; in an A-ASSOCIATE-AC `true` accepts it.
 */
export interface RoleSelection {
  /** SOP Class UID the roles apply to. */
  sopClassUid: string;
  /** SCU-role: the association-requester may act as SCU. */
  scuRole: boolean;
  /** SCP-role: the association-requester may act as SCP. */
  scpRole: boolean;
}

/** SOP Class Extended Negotiation, PS3.7 Annex D.3.3.5. */
export interface ExtendedNegotiation {
  /** SOP Class UID. */
  sopClassUid: string;
  /** Service-class-application-information, as defined by the service class (PS3.4). */
  serviceClassApplicationInformation: Uint8Array;
}

/** SOP Class Common Extended Negotiation, PS3.7 Annex D.3.3.6 (A-ASSOCIATE-RQ only). */
export interface CommonExtendedNegotiation {
  /** SOP Class UID. */
  sopClassUid: string;
  /** Service Class UID. */
  serviceClassUid: string;
  /** Related General SOP Class UIDs (PS3.7 Table D.3-13), possibly none. */
  relatedGeneralSopClassUids: string[];
}

/** User-Identity-Type values, PS3.7 Annex D.3.3.7.1 Table D.3-14. */
export const UserIdentityType = {
  /** Username as a UTF-8 string */
  USERNAME: 1,
  /** Username as a UTF-8 string and passcode */
  USERNAME_AND_PASSCODE: 2,
  /** Kerberos Service ticket */
  KERBEROS: 3,
  /** SAML Assertion */
  SAML: 4,
  /** JSON Web Token (JWT) */
  JWT: 5,
} as const;
/** One of the `UserIdentityType` values. */
export type UserIdentityType = (typeof UserIdentityType)[keyof typeof UserIdentityType];

/**
 * User Identity Negotiation in an A-ASSOCIATE-RQ, PS3.7 Annex D.3.3.7.1.
 * Fields are bytes: Kerberos tickets and SAML assertions are not text.
 */
export interface UserIdentityRq {
  /** One of `UserIdentityType`. */
  type: number;
  /** Positive-response-requested: the requester wants a server response. */
  positiveResponseRequested: boolean;
  /** Primary-field: username, Kerberos ticket, SAML assertion or JWT. */
  primaryField: Uint8Array;
  /** Secondary-field: the passcode for type 2, otherwise empty. */
  secondaryField: Uint8Array;
}

/** User Identity Negotiation in an A-ASSOCIATE-AC, PS3.7 Annex D.3.3.7.2. */
export interface UserIdentityAc {
  /** Server-response: Kerberos server ticket, SAML response or JWT; empty for types 1 and 2. */
  serverResponse: Uint8Array;
}

/** User Information Item, PS3.8 §9.3.2.3 / §9.3.3.3, with its sub-items (PS3.8 Annex D, PS3.7 Annex D.3.3). */
export interface UserInformation<Identity = UserIdentityRq | UserIdentityAc> {
  /** Maximum-length-received of P-DATA-TF PDUs (PS3.8 Annex D.1); 0 means no limit. */
  maxLength: number;
  /** Implementation Class UID (PS3.7 Annex D.3.3.2). */
  implementationClassUid: string;
  /** Implementation Version Name, 1 to 16 characters (PS3.7 Annex D.3.3.2). */
  implementationVersionName?: string;
  /** Asynchronous Operations Window (PS3.7 Annex D.3.3.3); absent means 1/1. */
  asyncOperationsWindow?: AsyncOperationsWindow;
  /** SCP/SCU Role Selection sub-items (PS3.7 Annex D.3.3.4). */
  roleSelections: RoleSelection[];
  /** SOP Class Extended Negotiation sub-items (PS3.7 Annex D.3.3.5). */
  extendedNegotiations: ExtendedNegotiation[];
  /** SOP Class Common Extended Negotiation sub-items (PS3.7 Annex D.3.3.6). */
  commonExtendedNegotiations: CommonExtendedNegotiation[];
  /** User Identity sub-item (PS3.7 Annex D.3.3.7). */
  userIdentity?: Identity;
  /** Sub-items of unknown types, kept in order. */
  unknownItems: UnknownItem[];
}
