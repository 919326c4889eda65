/**
 * Typed errors of the JPEG codecs of `@dnet/codecs`. Every error extends
 * `DnetError` of `@dnet/errors`: a stable `code`, a `cause`, and the brand
 * `isDnetError` recognises even when two copies of dnet are installed.
 */

import { CodecsError, CodecsErrorCode } from '../errors.js';

/** The stable codes of the errors the JPEG codecs throw. */
export const JpegErrorCode = {
  /** The bytes do not follow the ITU-T T.81 syntax (markers, segment lengths, Huffman codes). */
  MALFORMED: CodecsErrorCode.JPEG_MALFORMED,
  /**
   * A valid JPEG process this codec does not implement (progressive, hierarchical, arithmetic
   * coding), or a frame the codec cannot carry (bit depth, samples per pixel, layout).
   */
  UNSUPPORTED: CodecsErrorCode.JPEG_UNSUPPORTED,
  /** The JPEG frame header disagrees with the data set's Image Pixel Module (PS3.5 §8.2.1). */
  MISMATCH: CodecsErrorCode.JPEG_MISMATCH,
  /** Lossy encoding was asked for without `options.lossy` (PS3.5 §8.2). */
  LOSSY_NOT_ALLOWED: CodecsErrorCode.LOSSY_NOT_ALLOWED,
} as const;

/** One of `JpegErrorCode`'s values. */
export type JpegErrorCode = (typeof JpegErrorCode)[keyof typeof JpegErrorCode];

/** The base of every error the JPEG codecs throw. */
export class JpegError extends CodecsError {
  /** A stable machine-readable code (`DNET_CODECS_...`). */
  declare readonly code: JpegErrorCode;
  /** The byte offset in the JPEG bitstream where the problem was found, when known. */
  readonly offset: number | undefined;

  /**
   * @param code - the stable code
   * @param message - what went wrong
   * @param offset - the byte offset in the bitstream, when known
   */
  constructor(code: JpegErrorCode, message: string, offset?: number) {
    super(code, message);
    this.offset = offset;
  }
}

/** The bitstream breaks ITU-T T.81 (a bad marker, segment, Huffman code or a truncated stream). */
export class MalformedJpegError extends JpegError {
  /**
   * @param message - what is wrong
   * @param offset - the byte offset in the bitstream, when known
   */
  constructor(message: string, offset?: number) {
    super(JpegErrorCode.MALFORMED, message, offset);
  }
}

/** A JPEG process or a frame layout these codecs do not implement. */
export class UnsupportedJpegError extends JpegError {
  /**
   * @param message - what is not supported
   * @param offset - the byte offset in the bitstream, when known
   */
  constructor(message: string, offset?: number) {
    super(JpegErrorCode.UNSUPPORTED, message, offset);
  }
}

/** The JPEG frame header does not match the frame's description (rows, columns, samples). */
export class JpegMismatchError extends JpegError {
  /** @param message - which value differs */
  constructor(message: string) {
    super(JpegErrorCode.MISMATCH, message);
  }
}

/** A lossy JPEG encoding was asked for without `options.lossy`. */
export class LossyNotAllowedError extends JpegError {
  /** @param transferSyntaxUid - the lossy transfer syntax */
  constructor(transferSyntaxUid: string) {
    super(
      JpegErrorCode.LOSSY_NOT_ALLOWED,
      `${transferSyntaxUid} is lossy: encoding needs options.lossy (PS3.5 §8.2)`,
    );
  }
}
