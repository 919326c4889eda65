import type { PduType } from './pdu-type.js';

/** A-ABORT PDU, PS3.8 §9.3.8 (Table 9-26). */
export interface AAbort {
  /** PDU type A-ABORT (PS3.8 §9.3.1). */
  type: typeof PduType.A_ABORT;
  /** One of `AbortSource`. */
  source: number;
  /** One of `AbortReason`; significant only when the source is the service-provider. */
  reason: number;
}

/** A-ABORT Source field, PS3.8 §9.3.8 Table 9-26. */
export const AbortSource = {
  /** DICOM UL service-user (initiated abort) */
  SERVICE_USER: 0,
  /** reserved */
  RESERVED: 1,
  /** DICOM UL service-provider (initiated abort) */
  SERVICE_PROVIDER: 2,
} as const;
/** One of the `AbortSource` values. */
export type AbortSource = (typeof AbortSource)[keyof typeof AbortSource];

/** A-ABORT Reason/Diag. field when the source is the service-provider, PS3.8 §9.3.8 Table 9-26. */
export const AbortReason = {
  /** reason-not-specified */
  NOT_SPECIFIED: 0,
  /** unrecognized-PDU */
  UNRECOGNIZED_PDU: 1,
  /** unexpected-PDU */
  UNEXPECTED_PDU: 2,
  /** unrecognized-PDU parameter */
  UNRECOGNIZED_PDU_PARAMETER: 4,
  /** unexpected-PDU parameter */
  UNEXPECTED_PDU_PARAMETER: 5,
  /** invalid-PDU-parameter value */
  INVALID_PDU_PARAMETER_VALUE: 6,
} as const;
/** One of the `AbortReason` values. */
export type AbortReason = (typeof AbortReason)[keyof typeof AbortReason];
