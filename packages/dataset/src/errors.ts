/**
 * Typed errors of `@dnet/dataset`. Every error extends `DnetError` of
 * `@dnet/errors`: a stable `code`, a `cause`, and the brand
 * {@link isDnetError} recognises even when two copies of dnet are installed.
 */

import { DnetError, isDnetError } from '@dnet/errors';

export { DnetError, isDnetError };

/** The stable codes of the errors this package throws. */
export const DatasetErrorCode = {
  /** The bytes do not follow the PS3.5 §7 element encoding. */
  MALFORMED: 'DNET_DATASET_MALFORMED',
  /** An element's value length is larger than what remains of the input (PS3.5 §7.1). */
  LENGTH_EXCEEDS_DATA: 'DNET_DATASET_LENGTH_EXCEEDS_DATA',
  /** Sequences are nested deeper than the configured limit (PS3.5 §7.5). */
  NESTING_TOO_DEEP: 'DNET_DATASET_NESTING_TOO_DEEP',
  /** A deflated data set inflates to more than the configured limit (PS3.5 §A.5). */
  INFLATED_TOO_LARGE: 'DNET_DATASET_INFLATED_TOO_LARGE',
  /** The transfer syntax is not one this codec reads or writes natively (PS3.5 §10). */
  UNSUPPORTED_TRANSFER_SYNTAX: 'DNET_DATASET_UNSUPPORTED_TRANSFER_SYNTAX',
  /** The Part 10 preamble or File Meta Information is invalid (PS3.10 §7.1). */
  INVALID_PART10: 'DNET_DATASET_INVALID_PART10',
  /** A value cannot be encoded with the element's VR (PS3.5 §6.2). */
  INVALID_VALUE: 'DNET_DATASET_INVALID_VALUE',
  /** A DICOM JSON document does not follow PS3.18 Annex F. */
  INVALID_JSON: 'DNET_DATASET_INVALID_JSON',
  /** A keyword is not in the data dictionary (PS3.6 §6). */
  UNKNOWN_KEYWORD: 'DNET_DATASET_UNKNOWN_KEYWORD',
  /**
   * A data set's keys mix keywords (PS3.6 §6) and eight-hex-digit tags (the
   * DICOM JSON Model, PS3.18 §F.2.1.1): it must be one form or the other.
   */
  MIXED_KEYS: 'DNET_DATASET_MIXED_KEYS',
  /**
   * A data set stops inside an element, an undefined-length sequence or item,
   * or encapsulated Pixel Data (PS3.5 §7.1, §7.5.2, §A.4): it was cut short.
   */
  INCOMPLETE: 'DNET_DATASET_INCOMPLETE',
} as const;

/** One of `DatasetErrorCode`'s values. */
export type DatasetErrorCode = (typeof DatasetErrorCode)[keyof typeof DatasetErrorCode];

/** Options every dataset error accepts. */
export interface DatasetErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** The tag of the element being processed, as a 32-bit number. */
  tag?: number;
  /** The byte offset in the input where the problem was found. */
  offset?: number;
}

/** The base of every error thrown by `@dnet/dataset`. */
export class DatasetError extends DnetError {
  /** A stable machine-readable code (`DNET_DATASET_...`). */
  declare readonly code: DatasetErrorCode;
  /** The tag of the element concerned, when known. */
  readonly tag: number | undefined;
  /** The byte offset in the input, when known. */
  readonly offset: number | undefined;

  /**
   * @param code - the stable code
   * @param message - a human-readable explanation
   * @param options - cause, tag, offset
   */
  constructor(code: DatasetErrorCode, message: string, options: DatasetErrorOptions = {}) {
    super(code, message, options);
    this.tag = options.tag;
    this.offset = options.offset;
  }
}

/** The input is not a valid PS3.5 §7 encoding. */
export class MalformedDataSetError extends DatasetError {
  /** @param message - what is wrong; @param options - cause, tag, offset */
  constructor(message: string, options?: DatasetErrorOptions) {
    super(DatasetErrorCode.MALFORMED, message, options);
  }
}

/** An element's length is larger than what remains of the input (PS3.5 §7.1.1). */
export class LengthExceedsDataError extends DatasetError {
  /** The declared value length. */
  readonly length: number;
  /** The bytes that remained. */
  readonly remaining: number;
  /**
   * @param length - the declared value length
   * @param remaining - the bytes that remained
   * @param options - cause, tag, offset
   */
  constructor(length: number, remaining: number, options?: DatasetErrorOptions) {
    super(
      DatasetErrorCode.LENGTH_EXCEEDS_DATA,
      `value length ${length} is larger than the ${remaining} bytes that remain`,
      options,
    );
    this.length = length;
    this.remaining = remaining;
  }
}

/**
 * A data set was cut short: it stops inside an element, an undefined-length
 * sequence or item, or encapsulated Pixel Data. `offset` is where the open
 * top-level element started (the last complete boundary before the cut),
 * `end` where the bytes stop.
 */
export class IncompleteDataSetError extends DatasetError {
  /** The byte offset where the data set's bytes stop. */
  readonly end: number;
  /** @param message - what was left open; @param options - tag, offset of the open element, end */
  constructor(message: string, options: DatasetErrorOptions & { end: number }) {
    super(DatasetErrorCode.INCOMPLETE, message, options);
    this.end = options.end;
  }
}

/** Sequences are nested deeper than the limit. */
export class NestingTooDeepError extends DatasetError {
  /** The limit that was exceeded. */
  readonly limit: number;
  /** @param limit - the maximum depth; @param options - cause, tag, offset */
  constructor(limit: number, options?: DatasetErrorOptions) {
    super(DatasetErrorCode.NESTING_TOO_DEEP, `sequences nested deeper than ${limit}`, options);
    this.limit = limit;
  }
}

/** A deflated data set inflates to more than the limit. */
export class InflatedTooLargeError extends DatasetError {
  /** The limit in bytes. */
  readonly limit: number;
  /** @param limit - the maximum inflated size; @param options - cause */
  constructor(limit: number, options?: DatasetErrorOptions) {
    super(
      DatasetErrorCode.INFLATED_TOO_LARGE,
      `deflated data set inflates to more than ${limit} bytes`,
      options,
    );
    this.limit = limit;
  }
}

/** The transfer syntax is not handled by the element codec. */
export class UnsupportedTransferSyntaxError extends DatasetError {
  /** The transfer syntax UID. */
  readonly transferSyntaxUid: string;
  /** @param transferSyntaxUid - the UID; @param options - cause */
  constructor(transferSyntaxUid: string, options?: DatasetErrorOptions) {
    super(
      DatasetErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
      `transfer syntax ${transferSyntaxUid} is not supported here`,
      options,
    );
    this.transferSyntaxUid = transferSyntaxUid;
  }
}

/** The Part 10 header (preamble, prefix, File Meta Information) is invalid. */
export class InvalidPart10Error extends DatasetError {
  /** @param message - what is wrong; @param options - cause, tag, offset */
  constructor(message: string, options?: DatasetErrorOptions) {
    super(DatasetErrorCode.INVALID_PART10, message, options);
  }
}

/** A value cannot be encoded with the VR of its element. */
export class InvalidValueError extends DatasetError {
  /** @param message - what is wrong; @param options - cause, tag */
  constructor(message: string, options?: DatasetErrorOptions) {
    super(DatasetErrorCode.INVALID_VALUE, message, options);
  }
}

/** A DICOM JSON document does not follow PS3.18 Annex F. */
export class InvalidDicomJsonError extends DatasetError {
  /** @param message - what is wrong; @param options - cause, tag */
  constructor(message: string, options?: DatasetErrorOptions) {
    super(DatasetErrorCode.INVALID_JSON, message, options);
  }
}

/** A keyword is not in the data dictionary. */
export class UnknownKeywordError extends DatasetError {
  /** The keyword asked for. */
  readonly keyword: string;
  /** @param keyword - the unknown keyword */
  constructor(keyword: string) {
    super(DatasetErrorCode.UNKNOWN_KEYWORD, `unknown keyword ${keyword}`);
    this.keyword = keyword;
  }
}

/**
 * A data set's keys mix the two forms: keywords (`PatientName`) and DICOM JSON
 * tags (`00100010`). Each data set is given wholly in one of them.
 */
export class MixedKeysError extends DatasetError {
  /** The first key that is a tag. */
  readonly tagKey: string;
  /** The first key that is a keyword. */
  readonly keywordKey: string;
  /** @param tagKey - a key that is eight hex digits; @param keywordKey - a key that is not */
  constructor(tagKey: string, keywordKey: string) {
    super(
      DatasetErrorCode.MIXED_KEYS,
      `a data set is keyed either by keywords or by DICOM JSON tags, not both: "${keywordKey}" is a keyword, "${tagKey}" a tag`,
    );
    this.tagKey = tagKey;
    this.keywordKey = keywordKey;
  }
}
