/**
 * The JPEG codecs of `@dnet/codecs` (ITU-T T.81; PS3.5 §8.2.1, §A.4.1): Baseline,
 * Extended, Lossless and Lossless SV1, each a `FrameCodec`.
 */

export { DEFAULT_JPEG_QUALITY } from './dct-encoder.js';
export {
  JpegError,
  JpegErrorCode,
  JpegMismatchError,
  LossyNotAllowedError,
  MalformedJpegError,
  UnsupportedJpegError,
} from './errors.js';
export {
  createJpegLosslessCodec,
  type JpegLosslessCodecOptions,
  JpegTransferSyntax,
  jpegBaselineCodec,
  jpegCodecs,
  jpegExtendedCodec,
  jpegLosslessCodec,
  jpegLosslessSv1Codec,
} from './jpeg-codecs.js';
