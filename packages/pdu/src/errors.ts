/**
 * Errors of `@dnet/pdu`. Every error extends `DnetError` of `@dnet/errors`
 * (a stable `code`, a `cause`, the cross-install brand `isDnetError` checks).
 */

import { DnetError, type DnetErrorOptions, isDnetError } from '@dnet/errors';

export { DnetError, type DnetErrorOptions, isDnetError };

/** The stable codes of {@link PduError}. */
export const PduErrorCode = {
  /** The PDU length in the header exceeds the decoder's cap (PS3.8 §9.3.1, Annex D.1). */
  TOO_LARGE: 'DNET_PDU_TOO_LARGE',
  /** The PDU type byte is not one of 01H..07H (PS3.8 §9.3.1). */
  UNKNOWN_TYPE: 'DNET_PDU_UNKNOWN_TYPE',
  /** A length field disagrees with its parent or with the fixed size of its PDU or item. */
  INVALID_LENGTH: 'DNET_PDU_INVALID_LENGTH',
  /** A mandatory item or sub-item is absent. */
  MISSING_ITEM: 'DNET_PDU_MISSING_ITEM',
  /** An item that may occur once occurs more than once. */
  DUPLICATE_ITEM: 'DNET_PDU_DUPLICATE_ITEM',
  /** A known item type appears where the standard does not allow it. */
  UNEXPECTED_ITEM: 'DNET_PDU_UNEXPECTED_ITEM',
  /** A field holds a value outside its allowed range. */
  INVALID_VALUE: 'DNET_PDU_INVALID_VALUE',
  /** An AE title breaks PS3.8 §9.3.2 / PS3.5 §6.2 (AE). */
  INVALID_AE_TITLE: 'DNET_PDU_INVALID_AE_TITLE',
  /** A UID breaks PS3.5 §9.1. */
  INVALID_UID: 'DNET_PDU_INVALID_UID',
} as const;
/** One of the `PduErrorCode` values. */
export type PduErrorCode = (typeof PduErrorCode)[keyof typeof PduErrorCode];

/** Options of a {@link PduError}. */
export interface PduErrorOptions extends DnetErrorOptions {
  /** The field at fault, e.g. `user-information/maximum-length`. */
  field: string;
  /** Byte offset of the field from the start of the PDU (decoding only). */
  offset?: number;
  /** Type of the PDU being decoded or encoded, when known. */
  pduType?: number;
}

/**
 * A malformed PDU (decoding) or an invalid value given to the encoder.
 * `abortReason` is the A-ABORT reason (PS3.8 §9.3.8, Table 9-26) a provider
 * would send for this fault.
 */
export class PduError extends DnetError {
  declare readonly code: PduErrorCode;
  /** The field at fault. */
  readonly field: string;
  /** Byte offset of the field from the start of the PDU, when decoding. */
  readonly offset: number | undefined;
  /** Type of the PDU, when known. */
  readonly pduType: number | undefined;

  constructor(code: PduErrorCode, message: string, options: PduErrorOptions) {
    super(code, message, options);
    this.name = 'PduError';
    this.field = options.field;
    this.offset = options.offset;
    this.pduType = options.pduType;
  }

  /**
   * The A-ABORT reason for this fault (PS3.8 §9.3.8): 1 unrecognized-PDU,
   * 5 unexpected-PDU parameter, 6 invalid-PDU-parameter value.
   */
  get abortReason(): number {
    if (this.code === PduErrorCode.UNKNOWN_TYPE) return 1;
    if (this.code === PduErrorCode.UNEXPECTED_ITEM) return 5;
    return 6;
  }
}

/** True when `e` is a {@link PduError} from any copy of `@dnet/pdu`. */
export function isPduError(e: unknown): e is PduError {
  return isDnetError(e) && e.code.startsWith('DNET_PDU_');
}
