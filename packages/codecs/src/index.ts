/**
 * `@dnet/codecs`: pixel codecs for dnet, kept apart so that users who never
 * touch pixels do not install WebAssembly. Each codec decodes and encodes one
 * frame at a time (see {@link FrameCodec}); the transcoder ({@link transcode},
 * {@link transcodeFile}, {@link transcodeDataSet}) streams a data set from any
 * supported transfer syntax to any other, one frame at a time.
 *
 * @example
 * ```ts
 * import { resolveTransferSyntax, transcodeFile } from '@dnet/codecs';
 *
 * // JPEG 2000 from a modality to JPEG-LS lossless for the archive:
 * await transcodeFile('in.dcm', 'out.dcm', {
 *   transferSyntaxUid: resolveTransferSyntax('jpeg-ls-lossless'),
 * });
 * ```
 *
 * @packageDocumentation
 */
export { builtInCodecs, codecFor } from './built-in-codecs.js';
export {
  CodecsError,
  CodecsErrorCode,
  type CodecsErrorOptions,
  DnetError,
  isDnetError,
} from './errors.js';
export type {
  DecodedFrame,
  EncodedFrame,
  EncodeOptions,
  FrameCodec,
  FrameDescription,
} from './frame-codec.js';
export {
  createJpegLosslessCodec,
  DEFAULT_JPEG_QUALITY,
  JpegError,
  JpegErrorCode,
  type JpegLosslessCodecOptions,
  JpegMismatchError,
  JpegTransferSyntax,
  jpegBaselineCodec,
  jpegCodecs,
  jpegExtendedCodec,
  jpegLosslessCodec,
  jpegLosslessSv1Codec,
  LossyNotAllowedError,
  MalformedJpegError,
  UnsupportedJpegError,
} from './jpeg/index.js';
export {
  DEFAULT_HTJ2K_QUALITY,
  DEFAULT_JPEG_2000_RATIO,
  HTJ2K,
  HTJ2K_LOSSLESS,
  HTJ2K_LOSSLESS_RPCL,
  htj2kCodec,
  htj2kLosslessCodec,
  htj2kLosslessRpclCodec,
  JPEG_2000,
  JPEG_2000_LOSSLESS,
  jpeg2000Codec,
  jpeg2000LosslessCodec,
} from './jpeg-2000-codec.js';
export {
  DEFAULT_JPEG_LS_NEAR,
  JPEG_LS_LOSSLESS,
  JPEG_LS_NEAR_LOSSLESS,
  jpegLsLosslessCodec,
  jpegLsNearLosslessCodec,
} from './jpeg-ls-codec.js';
export { frameLength, toPlanarConfiguration } from './pixel-layout.js';
export { RLE_LOSSLESS, rleCodec } from './rle-codec.js';
export {
  canTranscode,
  createUid,
  DEFAULT_MAX_HEADER_LENGTH,
  type OffsetTable,
  type TranscodeInfo,
  type TranscodeOptions,
  type TranscodeSource,
  transcode,
  transcodeDataSet,
} from './transcode.js';
export { transcodeFile } from './transcode-file.js';
export { type DataSetTranscoder, type TranscoderOptions, transcoder } from './transcoder.js';
export { resolveTransferSyntax, TRANSFER_SYNTAX_NAMES } from './transfer-syntax-names.js';
