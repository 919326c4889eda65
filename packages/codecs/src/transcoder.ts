/**
 * The codecs as a transcoder for `@dnet/services` (`Client.connect({ transcoder })`,
 * `new Server({ transcoder })`): the network packages never import a codec,
 * they are handed this object.
 */
import { codecFor } from './built-in-codecs.js';
import type { EncodeOptions, FrameCodec } from './frame-codec.js';
import { canTranscode, type TranscodeInfo, transcodeDataSet } from './transcode.js';

/** Options of {@link transcoder}. */
export interface TranscoderOptions {
  /** The codecs to use (default: the built-in ones). */
  readonly codecs?: readonly FrameCodec[];
  /**
   * The codec settings used when the sender allows a lossy target (its
   * `lossy` store option); by default each codec's own (JPEG quality,
   * JPEG 2000 ratio, JPEG-LS NEAR...).
   */
  readonly lossySettings?: NonNullable<EncodeOptions['lossy']>;
  /** The largest part of a data set before Pixel Data held in memory (see {@link TranscodeOptions}). */
  readonly maxHeaderLength?: number;
}

/** What `@dnet/services` calls to transcode a data set it sends (its `Transcoder`). */
export interface DataSetTranscoder {
  /** Whether `from` can be transcoded to `to` ({@link canTranscode}). */
  canTranscode(fromTransferSyntaxUid: string, toTransferSyntaxUid: string): boolean;
  /** Whether encoding to this syntax loses information (its codec's `lossy`; false for a syntax without codec). */
  isLossy(transferSyntaxUid: string): boolean;
  /** {@link transcodeDataSet}, lossy only when `lossy` is true. */
  transcodeDataSet(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    fromTransferSyntaxUid: string,
    options: {
      transferSyntaxUid: string;
      lossy?: boolean;
      onHeader?: (info: TranscodeInfo) => void;
    },
  ): AsyncIterable<Uint8Array>;
}

/**
 * The codecs as the transcoder `@dnet/services` takes, so a sender can send a
 * file in a transfer syntax the peer accepted when its own was refused.
 *
 * @param options - the codecs, the lossy settings
 * @example
 * ```ts
 * import { transcoder } from '@dnet/codecs';
 * import { Client, planStorage } from '@dnet/services';
 *
 * const t = transcoder();
 * for (const plan of await planStorage(['./studies'], { transcoder: t })) {
 *   const client = await Client.connect({ ...peer, contexts: plan.contexts, transcoder: t });
 *   await client.storeMany(plan);
 *   await client.release();
 * }
 * ```
 */
export function transcoder(options: TranscoderOptions = {}): DataSetTranscoder {
  const { codecs, lossySettings, maxHeaderLength } = options;
  return {
    canTranscode: (from, to) => canTranscode(from, to, codecs),
    isLossy: (uid) => codecFor(uid, codecs)?.lossy ?? false,
    transcodeDataSet: (source, from, o) =>
      transcodeDataSet(source, from, {
        transferSyntaxUid: o.transferSyntaxUid,
        ...(o.lossy && { lossy: lossySettings ?? {} }),
        ...(codecs && { codecs }),
        ...(maxHeaderLength !== undefined && { maxHeaderLength }),
        ...(o.onHeader && { onHeader: o.onHeader }),
      }),
  };
}
