/**
 * The transcoder: a data set (or a Part 10 file) from any transfer syntax to
 * any other, one frame at a time. Everything before Pixel Data is read and
 * re-encoded whole (it is small); Pixel Data streams frame by frame through the
 * source codec's decoder and the target codec's encoder; memory is one frame
 * plus the codecs' buffers, whatever the number of frames.
 */
import { randomBytes } from 'node:crypto';
import {
  convertTransferSyntaxStream,
  type DataSet,
  decodeElements,
  encodeDataSetChunks,
  encodeHeader,
  encodePart10Header,
  FileMetaTag,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  PIXEL_DATA_TAG,
  readPart10Stream,
  swapBytes,
  TransferSyntax,
  type TransferSyntaxInfo,
  transferSyntaxInfo,
} from '@dnet/dataset';
import { codecFor } from './built-in-codecs.js';
import { ByteReader } from './byte-reader.js';
import {
  fragmentItem,
  itemHeader,
  readEncapsulatedFrames,
  sequenceDelimiter,
} from './encapsulated-frames.js';
import { CodecsError, CodecsErrorCode } from './errors.js';
import type { DecodedFrame, EncodeOptions, FrameCodec, FrameDescription } from './frame-codec.js';
import { frameLength } from './pixel-layout.js';
import { readDataSetHeader } from './read-data-set-header.js';

/** Options of the transcoder. */
export interface TranscodeOptions {
  /** The transfer syntax wanted (a UID; see `resolveTransferSyntax` for names). */
  readonly transferSyntaxUid: string;
  /**
   * Allow lossy compression, with the codec's settings. Without it the output
   * holds exactly the source's pixel values.
   */
  readonly lossy?: EncodeOptions['lossy'];
  /** The codecs to use (default: the built-in ones). */
  readonly codecs?: readonly FrameCodec[];
  /** The largest part of the data set before Pixel Data held in memory, in bytes. Default 64 MiB. */
  readonly maxHeaderLength?: number;
  /** Called once, before the first output byte, with what the output will be. */
  readonly onHeader?: (info: TranscodeInfo) => void;
  /**
   * For an encapsulated output of several frames: given, the Basic Offset Table
   * is reserved (one zero entry per frame) instead of left empty, and this is
   * called once the last frame is written with where the table's value lies in
   * the output (a byte offset) and the offsets to write there (32-bit little
   * endian, PS3.5 §A.4). A caller that can seek, as {@link transcodeFile} does,
   * fills it in. Not reserved when the output could pass 4 GiB.
   */
  readonly onOffsetTable?: (table: OffsetTable) => void;
}

/** A Basic Offset Table to fill in (see {@link TranscodeOptions.onOffsetTable}). */
export interface OffsetTable {
  /** Byte offset in the output of the table's first entry. */
  readonly position: number;
  /** Each frame's offset from the first fragment item (PS3.5 §A.4). */
  readonly offsets: readonly number[];
}

/** What a transcoding produces, known before its first byte is written. */
export interface TranscodeInfo {
  /** The source transfer syntax. */
  readonly fromTransferSyntaxUid: string;
  /** The target transfer syntax. */
  readonly transferSyntaxUid: string;
  /** The SOP Instance UID of the output: new when lossy compression was applied. */
  readonly sopInstanceUid: string | undefined;
  /** True when this transcoding lost information (lossy compression applied now). */
  readonly lossy: boolean;
  /** Number of frames transcoded (0 when the pixels passed through untouched). */
  readonly frames: number;
}

/** Default of {@link TranscodeOptions.maxHeaderLength}: 64 MiB. */
export const DEFAULT_MAX_HEADER_LENGTH = 64 * 1024 * 1024;

/** What a transcoder reads: chunks, or one array. */
export type TranscodeSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;

function chunksOf(source: TranscodeSource): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  return source instanceof Uint8Array ? [source] : source;
}

/**
 * Whether `from` can be transcoded to `to` with `codecs`: both uncompressed, or
 * a codec that decodes `from` and one that encodes `to` (the pixel format is
 * checked only when transcoding).
 *
 * @param fromTransferSyntaxUid - the source syntax
 * @param toTransferSyntaxUid - the target syntax
 * @param codecs - the codecs (default the built-in ones)
 */
export function canTranscode(
  fromTransferSyntaxUid: string,
  toTransferSyntaxUid: string,
  codecs?: readonly FrameCodec[],
): boolean {
  let from: TransferSyntaxInfo;
  let to: TransferSyntaxInfo;
  try {
    from = transferSyntaxInfo(fromTransferSyntaxUid);
    to = transferSyntaxInfo(toTransferSyntaxUid);
  } catch {
    return false;
  }
  if (from.uid === to.uid) return true;
  if (from.encapsulated && !codecFor(from.uid, codecs)) return false;
  if (to.encapsulated && !codecFor(to.uid, codecs)?.encode) return false;
  return true;
}

/** A fresh UID under 2.25 (PS3.5 §B.2: a UUID as a decimal integer). */
export function createUid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40; // a version 4 UUID (RFC 4122 §4.4)
  b[8] = (b[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString()}`;
}

/** Inflates a deflated data set stream (PS3.5 §A.5: raw deflate). */
async function* inflated(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  const feeding = (async () => {
    try {
      for await (const c of source) await writer.write(c as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => {});
    }
  })();
  try {
    for await (const c of ds.readable as unknown as AsyncIterable<Uint8Array>) yield c;
  } finally {
    await feeding;
  }
}

/** Deflates a data set stream and pads it to an even length (PS3.5 §A.5). */
async function* deflated(source: AsyncIterable<Uint8Array>) {
  const cs = new CompressionStream('deflate-raw');
  const writer = cs.writable.getWriter();
  const feeding = (async () => {
    try {
      for await (const c of source) await writer.write(c as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => {});
    }
  })();
  let n = 0;
  try {
    for await (const c of cs.readable as unknown as AsyncIterable<Uint8Array>) {
      n += c.length;
      yield c;
    }
    if (n % 2 === 1) yield new Uint8Array(1);
  } finally {
    await feeding;
  }
}

/** The Image Pixel Module attributes of a frame (PS3.3 §C.7.6.3). */
function describeFrame(ds: DataSet): FrameDescription {
  const need = (tag: number, name: string): number => {
    const v = ds.number(tag);
    if (v === undefined) {
      throw new CodecsError(
        CodecsErrorCode.MALFORMED_PIXEL_DATA,
        `${name} is missing (PS3.3 C.7.6.3)`,
      );
    }
    return v;
  };
  const samplesPerPixel = need(0x00280002, 'Samples per Pixel (0028,0002)');
  return {
    rows: need(0x00280010, 'Rows (0028,0010)'),
    columns: need(0x00280011, 'Columns (0028,0011)'),
    samplesPerPixel,
    bitsAllocated: need(0x00280100, 'Bits Allocated (0028,0100)'),
    bitsStored: ds.number(0x00280101) ?? need(0x00280100, 'Bits Allocated (0028,0100)'),
    pixelRepresentation: ds.number(0x00280103) === 1 ? 1 : 0,
    photometricInterpretation: (ds.string(0x00280004) ?? '').trim(),
    planarConfiguration: samplesPerPixel > 1 && ds.number(0x00280006) === 1 ? 1 : 0,
  };
}

/** Writes an unsigned 16-bit value as US (little endian: the data set's own form). */
function us(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, value >>> 8]);
}

/** Formats a compression ratio as a DS value (PS3.5 §6.2: 16 characters at most). */
function ratioText(r: number): string {
  return String(Number(r.toPrecision(6))).slice(0, 16);
}

/** The changes to the data set's attributes for the output (PS3.3 §C.7.6.3, §C.7.6.1.1.5). */
function updateAttributes(
  ds: DataSet,
  out: FrameDescription,
  lossy: { method: string; ratio: number } | undefined,
): string | undefined {
  ds.setString(0x00280004, out.photometricInterpretation, 'CS');
  // Planar Configuration is present only with more than one sample (PS3.3 §C.7.6.3.1.3).
  if (out.samplesPerPixel > 1) ds.setBytes(0x00280006, us(out.planarConfiguration), 'US');
  // The offsets of the Extended Offset Table no longer hold (PS3.3 §C.7.6.3.1.8).
  ds.delete(0x7fe00001);
  ds.delete(0x7fe00002);
  // Group lengths (PS3.5 §7.2, retired) would be wrong once VRs or values change.
  for (const tag of ds.tags()) if ((tag & 0xffff) === 0 && tag >>> 16 !== 0x0002) ds.delete(tag);
  if (!lossy) return undefined;
  // PS3.3 §C.7.6.1.1.5: Lossy Image Compression "01"; ratio and method appended to
  // the values of earlier lossy compressions, in the same order.
  ds.setString(0x00282110, '01', 'CS');
  ds.setString(0x00282112, [...ds.strings(0x00282112), ratioText(lossy.ratio)], 'DS');
  ds.setString(0x00282114, [...ds.strings(0x00282114), lossy.method], 'CS');
  // Lossy compressed pixels are a new image, so a new SOP Instance (PS3.3
  // §C.7.6.1.1.5); the SOP Instance UID is that of the new instance (PS3.3 §C.12.1.1.1).
  const uid = createUid();
  ds.setString(0x00080018, uid, 'UI');
  return uid;
}

/** The transcoding of one data set stream; see {@link transcodeDataSet}. */
async function* transcodeCore(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fromUid: string,
  options: TranscodeOptions,
  prefix: (info: TranscodeInfo) => Uint8Array[],
): AsyncGenerator<Uint8Array> {
  const from = transferSyntaxInfo(fromUid);
  const to = transferSyntaxInfo(options.transferSyntaxUid);
  const codecs = options.codecs;
  const started = (info: TranscodeInfo): Uint8Array[] => {
    options.onHeader?.(info);
    return prefix(info);
  };
  const passInfo = (uid: string | undefined): TranscodeInfo => ({
    fromTransferSyntaxUid: from.uid,
    transferSyntaxUid: to.uid,
    sopInstanceUid: uid,
    lossy: false,
    frames: 0,
  });
  if (from.uid === to.uid || (!from.encapsulated && !to.encapsulated)) {
    // No pixel codec needed: bytes through, or @dnet/dataset's streaming converter.
    yield* started(passInfo(undefined));
    yield* convertTransferSyntaxStream(source, from.uid, to.uid);
    return;
  }
  const sourceCodec = from.encapsulated ? codecFor(from.uid, codecs) : undefined;
  if (from.encapsulated && !sourceCodec) {
    throw new CodecsError(
      CodecsErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
      `no codec decodes ${from.uid}`,
      {
        transferSyntaxUid: from.uid,
      },
    );
  }
  const targetCodec = to.encapsulated ? codecFor(to.uid, codecs) : undefined;
  if (to.encapsulated && !targetCodec?.encode) {
    throw new CodecsError(
      CodecsErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
      `no codec encodes ${to.uid}`,
      {
        transferSyntaxUid: to.uid,
      },
    );
  }
  const reader = new ByteReader(from.deflated ? inflated(source) : source);
  const fromEncoding = { explicit: from.explicitVr, littleEndian: from.littleEndian };
  const toEncoding = { explicit: to.explicitVr, littleEndian: to.littleEndian };
  const head = await readDataSetHeader(
    reader,
    fromEncoding,
    options.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH,
  );
  const ds = decodeElements(head.bytes, fromEncoding, { copyValues: true }).dataSet;
  if (!head.pixelData) {
    // No Pixel Data: only the encoding changes.
    yield* started(passInfo(ds.uid(0x00080018)));
    yield* encodeOut(encodeDataSetChunks(ds, to.deflated ? EXPLICIT_LE : to.uid), to);
    return;
  }
  const description = describeFrame(ds);
  const frames = Math.max(1, ds.number(0x00280008) ?? 1);
  const decodeWhy = sourceCodec?.unsupported(description, 'decode');
  if (decodeWhy) {
    throw new CodecsError(
      CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT,
      `cannot decode ${from.uid}: ${decodeWhy}`,
    );
  }
  const decodedFrames = sourceFrames(
    reader,
    head.pixelData,
    description,
    frames,
    from,
    sourceCodec,
    ds,
  );
  const output = targetFrames(decodedFrames, targetCodec, options, frames);
  const first = await output.next();
  if (first.done)
    throw new CodecsError(CodecsErrorCode.MALFORMED_PIXEL_DATA, 'Pixel Data has no frame');
  const out = first.value;
  const newUid = updateAttributes(ds, out.description, out.lossy);
  // Bytes handed out so far (the body reads it where the Basic Offset Table goes).
  let written = 0;
  const body = async function* (): AsyncGenerator<Uint8Array> {
    yield* encodeDataSetChunks(ds, to.deflated ? EXPLICIT_LE : to.uid);
    if (to.encapsulated) {
      // PS3.5 §A.4: OB, undefined length; a Basic Offset Table item, one fragment
      // per frame. For several frames the table is empty unless the caller can
      // fill it in afterwards (onOffsetTable): the offsets are known only once
      // every frame has been encoded, and the stream is written as it goes;
      // one fragment per frame lets readers find frames without it.
      const onTable = options.onOffsetTable;
      const reserve =
        frames > 1 && onTable !== undefined && 2 * frameLength(out.description) * frames < 2 ** 31;
      yield encodeHeader(PIXEL_DATA_TAG, 'OB', 0xffffffff, toEncoding);
      let table = -1;
      if (frames === 1 || reserve) {
        yield itemHeader(4 * frames);
        table = written;
        yield new Uint8Array(4 * frames);
      } else {
        yield itemHeader(0);
      }
      const firstFragment = written;
      const offsets: number[] = [];
      let item = out;
      for (;;) {
        offsets.push(written - firstFragment);
        yield* fragmentItem(item.data);
        const next = await output.next();
        if (next.done) break;
        item = next.value;
      }
      if (reserve) {
        if (written - firstFragment > 0xffffffff) {
          throw new CodecsError(
            CodecsErrorCode.ENCODE_FAILED,
            'the frames pass 4 GiB: no Basic Offset Table can hold their offsets',
          );
        }
        onTable({ position: table, offsets });
      }
      yield sequenceDelimiter();
    } else {
      // Native Pixel Data (PS3.5 §8.1.1): a defined length, padded to even.
      const per = frameLength(out.description);
      const total = per * frames;
      const vr = out.description.bitsAllocated > 8 ? 'OW' : 'OB';
      yield encodeHeader(PIXEL_DATA_TAG, vr, total + (total % 2), toEncoding);
      let item = out;
      for (;;) {
        const px = item.data;
        yield to.littleEndian || out.description.bitsAllocated !== 16 ? px : swapBytes(px, 2);
        const next = await output.next();
        if (next.done) break;
        item = next.value;
      }
      if (total % 2 === 1) yield new Uint8Array(1);
    }
    // Elements after Pixel Data (e.g. (FFFC,FFFC) padding, signatures): re-encoded.
    const tail: Uint8Array[] = [];
    for await (const c of reader.rest()) tail.push(c.slice());
    if (tail.length > 0) {
      const bytes = Buffer.concat(tail);
      const rest = decodeElements(bytes, fromEncoding, { copyValues: true }).dataSet;
      rest.delete(0xfffcfffc);
      yield* encodeDataSetChunks(rest, to.deflated ? EXPLICIT_LE : to.uid);
    }
  };
  const prefixChunks = started({
    fromTransferSyntaxUid: from.uid,
    transferSyntaxUid: to.uid,
    sopInstanceUid: ds.uid(0x00080018),
    lossy: newUid !== undefined,
    frames,
  });
  for (const c of prefixChunks) {
    written += c.length;
    yield c;
  }
  for await (const c of encodeOut(body(), to)) {
    written += c.length;
    yield c;
  }
}

function encodeOut(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  to: TransferSyntaxInfo,
): AsyncIterable<Uint8Array> | Iterable<Uint8Array> {
  if (!to.deflated) return chunks;
  return deflated(
    (async function* () {
      yield* chunks;
    })(),
  );
}

/** The decoded frames of the source, one at a time. */
async function* sourceFrames(
  reader: ByteReader,
  pixel: { length: number },
  d: FrameDescription,
  frames: number,
  from: TransferSyntaxInfo,
  codec: FrameCodec | undefined,
  ds: DataSet,
): AsyncGenerator<DecodedFrame> {
  if (!codec) {
    const per = frameLength(d);
    if (pixel.length === 0xffffffff || pixel.length < per * frames) {
      throw new CodecsError(
        CodecsErrorCode.MALFORMED_PIXEL_DATA,
        `native Pixel Data of ${pixel.length} bytes for ${frames} frames of ${per} (PS3.5 8.1.1)`,
      );
    }
    for (let i = 0; i < frames; i++) {
      let px: Uint8Array = (await reader.read(per)).slice();
      if (!from.littleEndian && d.bitsAllocated === 16) px = swapBytes(px, 2);
      yield { pixels: px, description: d };
    }
    await reader.read(pixel.length - per * frames);
    return;
  }
  const eot = ds.get(0x7fe00001)?.value;
  const extended: bigint[] | undefined = eot
    ? Array.from({ length: eot.length / 8 }, (_, i) =>
        new DataView(eot.buffer, eot.byteOffset, eot.byteLength).getBigUint64(i * 8, true),
      )
    : undefined;
  let i = 0;
  for await (const f of readEncapsulatedFrames(
    reader,
    frames,
    from.uid,
    extended ? { extended } : {},
  )) {
    try {
      yield await codec.decode(f, d);
    } catch (e) {
      if (e instanceof CodecsError && e.frame === undefined) {
        throw new CodecsError(e.code, `frame ${i + 1}: ${e.message}`, {
          cause: e,
          frame: i,
          transferSyntaxUid: from.uid,
        });
      }
      throw e;
    }
    i++;
  }
}

/** What the target gets per frame: encoded bytes, or native pixels. */
interface OutFrame {
  data: Uint8Array;
  description: FrameDescription;
  lossy?: { method: string; ratio: number };
}

async function* targetFrames(
  decoded: AsyncGenerator<DecodedFrame>,
  codec: FrameCodec | undefined,
  options: TranscodeOptions,
  frames: number,
): AsyncGenerator<OutFrame> {
  let n = 0;
  for await (const f of decoded) {
    n++;
    if (!codec?.encode) {
      yield { data: f.pixels, description: f.description };
      continue;
    }
    // Checked on the decoded frame, not the source's attributes: a JPEG
    // YBR_FULL_422 frame, say, decodes to RGB, which the target may take.
    const why = n === 1 ? codec.unsupported(f.description, 'encode') : undefined;
    if (why) {
      throw new CodecsError(
        CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT,
        `cannot encode ${codec.transferSyntaxUid}: ${why}`,
        { transferSyntaxUid: codec.transferSyntaxUid },
      );
    }
    const e = await codec.encode(
      f.pixels,
      f.description,
      options.lossy ? { lossy: options.lossy } : {},
    );
    if (e.lossy && !options.lossy) {
      throw new CodecsError(
        CodecsErrorCode.LOSSY_NOT_ALLOWED,
        `${codec.transferSyntaxUid} compresses with loss; allow it with the lossy option`,
        { transferSyntaxUid: codec.transferSyntaxUid },
      );
    }
    yield e;
  }
  if (n !== frames) {
    throw new CodecsError(
      CodecsErrorCode.MALFORMED_PIXEL_DATA,
      `${n} frames read, ${frames} expected`,
    );
  }
}

/**
 * Transcodes a data set byte stream (no Part 10 header) from one transfer
 * syntax to another, one frame at a time. Chunks come out as soon as they are
 * ready; nothing is written before the first frame is coded (its result fixes
 * Photometric Interpretation, Planar Configuration and the lossy attributes).
 *
 * @param source - the data set's bytes in `fromTransferSyntaxUid`
 * @param fromTransferSyntaxUid - the source syntax
 * @param options - the target syntax, lossy permission, codecs
 * @throws CodecsError (`DNET_CODECS_...`), and the errors of `@dnet/dataset` for malformed data sets
 */
export function transcodeDataSet(
  source: TranscodeSource,
  fromTransferSyntaxUid: string,
  options: TranscodeOptions,
): AsyncGenerator<Uint8Array> {
  return transcodeCore(chunksOf(source), fromTransferSyntaxUid, options, () => []);
}

/**
 * Transcodes a Part 10 file (PS3.10 §7) given as bytes or chunks: the File
 * Meta Information is rewritten with the new Transfer Syntax UID and, after
 * lossy compression, the new Media Storage SOP Instance UID.
 *
 * @param source - the file's bytes
 * @param options - the target syntax, lossy permission, codecs
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { transcode } from '@dnet/codecs';
 * for await (const chunk of transcode(createReadStream('ct.dcm'), { transferSyntaxUid: '1.2.840.10008.1.2.4.80' })) {
 *   out.write(chunk);
 * }
 * ```
 */
export async function* transcode(
  source: TranscodeSource,
  options: TranscodeOptions,
): AsyncGenerator<Uint8Array> {
  const iterable = chunksOf(source);
  const async =
    Symbol.asyncIterator in iterable
      ? (iterable as AsyncIterable<Uint8Array>)
      : (async function* () {
          yield* iterable as Iterable<Uint8Array>;
        })();
  const { header, dataSet } = await readPart10Stream(async);
  const prefix = (info: TranscodeInfo): Uint8Array[] => {
    const meta = header.meta.clone();
    meta.setString(FileMetaTag.TransferSyntaxUid, info.transferSyntaxUid, 'UI');
    // PS3.10 §7.1: the implementation named is the one that wrote the file.
    meta.setString(FileMetaTag.ImplementationClassUid, IMPLEMENTATION_CLASS_UID, 'UI');
    meta.setString(FileMetaTag.ImplementationVersionName, IMPLEMENTATION_VERSION_NAME, 'SH');
    if (info.lossy && info.sopInstanceUid) {
      meta.setString(FileMetaTag.MediaStorageSopInstanceUid, info.sopInstanceUid, 'UI');
    }
    return [encodePart10Header(meta, header.preamble)];
  };
  yield* transcodeCore(dataSet, header.transferSyntaxUid, options, prefix);
}
