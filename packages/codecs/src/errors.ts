/**
 * Typed errors of `@dnet/codecs`. Every error extends `DnetError` of
 * `@dnet/errors`: a stable `code`, a `cause`, and the brand `isDnetError`
 * recognises even when two copies of dnet are installed.
 */
import { DnetError, isDnetError } from '@dnet/errors';

export { DnetError, isDnetError };

/** The stable codes of the errors this package throws. */
export const CodecsErrorCode = {
  /** No codec here reads or writes this transfer syntax (PS3.5 §10). */
  UNSUPPORTED_TRANSFER_SYNTAX: 'DNET_CODECS_UNSUPPORTED_TRANSFER_SYNTAX',
  /** The codec cannot handle this pixel format (bit depth, samples, signedness). */
  UNSUPPORTED_PIXEL_FORMAT: 'DNET_CODECS_UNSUPPORTED_PIXEL_FORMAT',
  /** The target syntax is lossy and the caller did not allow lossy compression. */
  LOSSY_NOT_ALLOWED: 'DNET_CODECS_LOSSY_NOT_ALLOWED',
  /** A compressed frame cannot be decoded. */
  DECODE_FAILED: 'DNET_CODECS_DECODE_FAILED',
  /** A frame cannot be encoded. */
  ENCODE_FAILED: 'DNET_CODECS_ENCODE_FAILED',
  /**
   * The Pixel Data or the Image Pixel Module is not as PS3.3 §C.7.6.3 and
   * PS3.5 §A.4 require (a missing attribute, fragments that do not make the
   * number of frames, a native value of the wrong length).
   */
  MALFORMED_PIXEL_DATA: 'DNET_CODECS_MALFORMED_PIXEL_DATA',
  /** A WebAssembly codec module cannot be loaded. */
  CODEC_UNAVAILABLE: 'DNET_CODECS_CODEC_UNAVAILABLE',
  /** JPEG bytes that do not follow ITU-T T.81 (markers, segment lengths, Huffman codes). */
  JPEG_MALFORMED: 'DNET_CODECS_JPEG_MALFORMED',
  /** A valid JPEG process the JPEG codecs do not implement (progressive, hierarchical, arithmetic). */
  JPEG_UNSUPPORTED: 'DNET_CODECS_JPEG_UNSUPPORTED',
  /** A JPEG frame header that disagrees with the Image Pixel Module (PS3.5 §8.2.1). */
  JPEG_MISMATCH: 'DNET_CODECS_JPEG_MISMATCH',
} as const;

/** One of `CodecsErrorCode`'s values. */
export type CodecsErrorCode = (typeof CodecsErrorCode)[keyof typeof CodecsErrorCode];

/** Options every codecs error accepts. */
export interface CodecsErrorOptions {
  /** The underlying error. */
  cause?: unknown;
  /** The transfer syntax concerned, when there is one. */
  transferSyntaxUid?: string;
  /** The frame number (0-based) concerned, when there is one. */
  frame?: number;
}

/** The error every part of `@dnet/codecs` throws; `code` tells which failure it is. */
export class CodecsError extends DnetError {
  /** A stable machine-readable code (`DNET_CODECS_...`). */
  declare readonly code: CodecsErrorCode;
  /** The transfer syntax concerned, when known. */
  readonly transferSyntaxUid: string | undefined;
  /** The 0-based frame number concerned, when known. */
  readonly frame: number | undefined;

  /**
   * @param code - the stable code
   * @param message - a human-readable explanation
   * @param options - cause, transfer syntax, frame
   */
  constructor(code: CodecsErrorCode, message: string, options: CodecsErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.transferSyntaxUid = options.transferSyntaxUid;
    this.frame = options.frame;
  }
}
