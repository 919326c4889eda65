import type { PduType } from './pdu-type.js';

/** A-ASSOCIATE-RJ PDU, PS3.8 §9.3.4 (Table 9-21). */
export interface AAssociateRj {
  /** PDU type A-ASSOCIATE-RJ (PS3.8 §9.3.1). */
  type: typeof PduType.A_ASSOCIATE_RJ;
  /** One of `RejectResult`. */
  result: number;
  /** One of `RejectSource`. */
  source: number;
  /** One of the {@link RejectReason} values for `source`. */
  reason: number;
}

/** A-ASSOCIATE-RJ Result field, PS3.8 §9.3.4 Table 9-21. */
export const RejectResult = {
  /** rejected-permanent */
  REJECTED_PERMANENT: 1,
  /** rejected-transient */
  REJECTED_TRANSIENT: 2,
} as const;
/** One of the `RejectResult` values. */
export type RejectResult = (typeof RejectResult)[keyof typeof RejectResult];

/** A-ASSOCIATE-RJ Source field, PS3.8 §9.3.4 Table 9-21. */
export const RejectSource = {
  /** DICOM UL service-user */
  SERVICE_USER: 1,
  /** DICOM UL service-provider (ACSE related function) */
  SERVICE_PROVIDER_ACSE: 2,
  /** DICOM UL service-provider (Presentation related function) */
  SERVICE_PROVIDER_PRESENTATION: 3,
} as const;
/** One of the `RejectSource` values. */
export type RejectSource = (typeof RejectSource)[keyof typeof RejectSource];

/** A-ASSOCIATE-RJ Reason/Diag. field, per source, PS3.8 §9.3.4 Table 9-21. */
export const RejectReason = {
  /** Reasons when the source is the DICOM UL service-user (1). */
  SERVICE_USER: {
    /** no-reason-given */
    NO_REASON_GIVEN: 1,
    /** application-context-name-not-supported */
    APPLICATION_CONTEXT_NAME_NOT_SUPPORTED: 2,
    /** calling-AE-title-not-recognized */
    CALLING_AE_TITLE_NOT_RECOGNIZED: 3,
    /** called-AE-title-not-recognized */
    CALLED_AE_TITLE_NOT_RECOGNIZED: 7,
  },
  /** Reasons when the source is the service-provider, ACSE related function (2). */
  SERVICE_PROVIDER_ACSE: {
    /** no-reason-given */
    NO_REASON_GIVEN: 1,
    /** protocol-version-not-supported */
    PROTOCOL_VERSION_NOT_SUPPORTED: 2,
  },
  /** Reasons when the source is the service-provider, Presentation related function (3). */
  SERVICE_PROVIDER_PRESENTATION: {
    /** temporary-congestion */
    TEMPORARY_CONGESTION: 1,
    /** local-limit-exceeded */
    LOCAL_LIMIT_EXCEEDED: 2,
  },
} as const;
