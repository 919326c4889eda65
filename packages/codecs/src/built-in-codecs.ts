/**
 * The codecs `@dnet/codecs` uses by default, one per transfer syntax. The
 * registry ({@link codecFor}) takes any list, so more codecs are added here.
 */
import type { FrameCodec } from './frame-codec.js';
import { jpegCodecs } from './jpeg/index.js';
import {
  htj2kCodec,
  htj2kLosslessCodec,
  htj2kLosslessRpclCodec,
  jpeg2000Codec,
  jpeg2000LosslessCodec,
} from './jpeg-2000-codec.js';
import { jpegLsLosslessCodec, jpegLsNearLosslessCodec } from './jpeg-ls-codec.js';
import { rleCodec } from './rle-codec.js';

/** Every built-in codec: RLE, JPEG (Baseline, Extended, Lossless), JPEG-LS, JPEG 2000 and HTJ2K. */
export const builtInCodecs: readonly FrameCodec[] = [
  rleCodec,
  ...jpegCodecs,
  jpegLsLosslessCodec,
  jpegLsNearLosslessCodec,
  jpeg2000LosslessCodec,
  jpeg2000Codec,
  htj2kLosslessCodec,
  htj2kLosslessRpclCodec,
  htj2kCodec,
];

/**
 * The codec for a transfer syntax in `codecs`, or `undefined` when none
 * handles it (an uncompressed syntax has no codec).
 *
 * @param transferSyntaxUid - the syntax
 * @param codecs - the codecs to choose from (default {@link builtInCodecs})
 */
export function codecFor(
  transferSyntaxUid: string,
  codecs: readonly FrameCodec[] = builtInCodecs,
): FrameCodec | undefined {
  const uid = transferSyntaxUid.replace(/\0+$/, '').trim();
  return codecs.find((c) => c.transferSyntaxUid === uid);
}
