/**
 * Transcoding on the sending side: the seam a pixel codec package plugs into
 * (`transcoder` from `@dnet/codecs`), and the choice of the transfer syntax a
 * data set is sent in among those the peer accepted (PS3.8 §9.3.2.2: one per
 * presentation context). @dnet/services never imports a codec: without a
 * {@link Transcoder} only conversions between uncompressed syntaxes happen.
 */
import { TransferSyntax, transferSyntaxInfo } from '@dnet/dataset';

/** What a transcoder tells before its first output byte. */
export interface TranscodeHeader {
  /** The SOP Instance UID of the output: a new one after lossy compression (PS3.3 §C.7.6.1.1.5). */
  readonly sopInstanceUid: string | undefined;
  /** True when this transcoding lost information. */
  readonly lossy: boolean;
}

/**
 * What `@dnet/services` needs of a pixel transcoder: `transcoder()` of
 * `@dnet/codecs` is one. Passed as an option (`Client.connect({ transcoder })`,
 * `Server.listen({ transcoder })`, `planStorage(files, { transcoder })`), so the
 * codecs (and their WebAssembly) are loaded only by those who pass one.
 */
export interface Transcoder {
  /** Whether a data set in `fromTransferSyntaxUid` can be transcoded to `toTransferSyntaxUid`. */
  canTranscode(fromTransferSyntaxUid: string, toTransferSyntaxUid: string): boolean;
  /** Whether encoding to this compressed syntax loses information (PS3.5 §8.2: JPEG Baseline, JPEG 2000...). */
  isLossy(transferSyntaxUid: string): boolean;
  /**
   * Transcodes a data set stream (no File Meta Information) one frame at a
   * time; `onHeader` is called before the first output chunk.
   */
  transcodeDataSet(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    fromTransferSyntaxUid: string,
    options: {
      transferSyntaxUid: string;
      /** Allow lossy compression (the transcoder's own settings). */
      lossy?: boolean;
      onHeader?: (header: TranscodeHeader) => void;
    },
  ): AsyncIterable<Uint8Array>;
}

/** How the sender may change a data set's transfer syntax. */
export interface TranscodePolicy {
  /** The pixel transcoder; without it only uncompressed syntaxes are converted between. */
  transcoder?: Transcoder | undefined;
  /** Allow a lossy target (a lossy compressed syntax the data set is not already in). Default false. */
  lossy?: boolean | undefined;
  /**
   * Transfer syntaxes wanted on the wire, best first: the first accepted that
   * the data set can reach is chosen before any other rule (dnet-scu `--propose`).
   */
  prefer?: readonly string[] | undefined;
}

/** The transfer syntax chosen for a data set, and how it gets there. */
export interface TransferSyntaxChoice {
  /** The syntax the data set is sent in. */
  transferSyntaxUid: string;
  /** `none`: as stored; `convert`: between uncompressed syntaxes (PS3.5 §10); `transcode`: through the pixel transcoder. */
  via: 'none' | 'convert' | 'transcode';
}

/** The syntax's encoding, or undefined for an unknown UID. */
function info(uid: string) {
  try {
    return transferSyntaxInfo(uid);
  } catch {
    return undefined;
  }
}

/** Whether a transfer syntax encapsulates (compresses) its Pixel Data (PS3.5 §A.4); unknown ones count as such. */
export function isEncapsulated(uid: string): boolean {
  return info(uid)?.encapsulated ?? true;
}

/** Whether bytes in `from` can be re-encoded to `to` without a codec (both native, PS3.5 §10). */
export function isConvertible(from: string, to: string): boolean {
  const a = info(from);
  const b = info(to);
  return !!a && !!b && !a.encapsulated && !b.encapsulated;
}

/**
 * The uncompressed syntaxes a compressed data set falls back to, best first:
 * Explicit then Implicit VR Little Endian (PS3.5 §10.1: Implicit VR Little
 * Endian is the default every SCP accepts).
 */
export const FALLBACK_TRANSFER_SYNTAXES: readonly string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
];

/**
 * Chooses the transfer syntax to send a data set in, among those the peer
 * accepted for its SOP class (each accepted context carries one, PS3.8
 * §9.3.2.2), or undefined when none can carry it. Lossless first:
 * 1. the first of `policy.prefer` accepted and reachable;
 * 2. the data set's own syntax (sent as stored);
 * 3. for a compressed data set, a lossless compressed syntax (still
 *    compressed on the wire), then Explicit VR Little Endian, Implicit VR
 *    Little Endian, then the other uncompressed ones; for an uncompressed
 *    data set, the uncompressed ones first (no codec), then a lossless
 *    compressed one;
 * 4. a lossy compressed syntax, only when `policy.lossy` allows it.
 * Without a transcoder, only 2 and the uncompressed conversions apply.
 *
 * @param from - the data set's transfer syntax (undefined: a DataSet object, which any native syntax encodes)
 * @param accepted - the accepted syntaxes of the usable contexts, in the order of the contexts
 * @param policy - the transcoder, lossy permission and preferred syntaxes
 */
export function chooseTransferSyntax(
  from: string | undefined,
  accepted: readonly string[],
  policy: TranscodePolicy = {},
): TransferSyntaxChoice | undefined {
  const t = policy.transcoder;
  if (from === undefined) {
    const native = accepted.find((ts) => isConvertible(TransferSyntax.ExplicitVRLittleEndian, ts));
    return native === undefined ? undefined : { transferSyntaxUid: native, via: 'convert' };
  }
  const how = (to: string, lossyAllowed: boolean): TransferSyntaxChoice['via'] | undefined => {
    if (to === from) return 'none';
    if (isConvertible(from, to)) return 'convert';
    if (!t?.canTranscode(from, to)) return undefined;
    // Encoding to a lossy syntax loses information: only when allowed (PS3.5 §8.2).
    if (isEncapsulated(to) && t.isLossy(to) && !lossyAllowed) return undefined;
    return 'transcode';
  };
  const pick = (to: string | undefined, lossyAllowed = !!policy.lossy) => {
    if (to === undefined || !accepted.includes(to)) return undefined;
    const via = how(to, lossyAllowed);
    return via && { transferSyntaxUid: to, via };
  };
  const first = (
    list: readonly string[],
    lossyAllowed = false,
  ): TransferSyntaxChoice | undefined => {
    for (const to of list) {
      const c = pick(to, lossyAllowed);
      if (c) return c;
    }
    return undefined;
  };
  const losslessCompressed = accepted.filter((ts) => isEncapsulated(ts) && !!t && !t.isLossy(ts));
  const uncompressed = [
    ...FALLBACK_TRANSFER_SYNTAXES,
    ...accepted.filter((ts) => !isEncapsulated(ts) && !FALLBACK_TRANSFER_SYNTAXES.includes(ts)),
  ];
  const lossyCompressed = accepted.filter((ts) => isEncapsulated(ts) && !!t && t.isLossy(ts));
  return (
    first(policy.prefer ?? [], !!policy.lossy) ??
    pick(from) ??
    (isEncapsulated(from)
      ? (first(losslessCompressed) ?? first(uncompressed))
      : (first(uncompressed) ?? first(losslessCompressed))) ??
    (policy.lossy ? first(lossyCompressed, true) : undefined)
  );
}

/**
 * The transfer syntaxes proposed for sending data sets held in
 * `transferSyntaxUid` in one presentation context: its own first, then the
 * uncompressed fallbacks when it can reach them (natively, or through the
 * transcoder for a compressed syntax); a compressed syntax the transcoder
 * cannot decode is proposed alone.
 */
export function transferSyntaxesFor(
  transferSyntaxUid: string | undefined,
  transcoder?: Transcoder,
): string[] {
  const fallback = [...FALLBACK_TRANSFER_SYNTAXES];
  if (transferSyntaxUid === undefined) return fallback;
  const reaches =
    isConvertible(transferSyntaxUid, TransferSyntax.ExplicitVRLittleEndian) ||
    (!!transcoder &&
      transcoder.canTranscode(transferSyntaxUid, TransferSyntax.ExplicitVRLittleEndian));
  if (!reaches) return [transferSyntaxUid];
  return [transferSyntaxUid, ...fallback.filter((t) => t !== transferSyntaxUid)];
}
