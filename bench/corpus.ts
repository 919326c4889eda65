// The benchmark corpus, generated deterministically: CT-like Part 10 files
// (Explicit VR Little Endian, PS3.10 §7.1 meta header, PS3.5 §7.1.2 element
// encoding) written by hand so that a 1 GiB object streams to disk without
// ever being held in memory.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

/** CT Image Storage (PS3.4 Annex B.5). */
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** Enhanced CT Image Storage (PS3.4 Annex B.5): the multi-frame objects. */
export const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
/** Explicit VR Little Endian (PS3.5 §A.2). */
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
/** A fixed UID root, so every run makes the same files. */
const ROOT = '2.25.1234567890';

/** One element, Explicit VR Little Endian (PS3.5 §7.1.2). */
function element(group: number, elem: number, vr: string, value: Uint8Array): Uint8Array {
  const long = vr === 'OB' || vr === 'OW' || vr === 'UN' || vr === 'SQ' || vr === 'UT';
  const head = new Uint8Array(long ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, group, true);
  view.setUint16(2, elem, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, value.length, true);
  else view.setUint16(6, value.length, true);
  const out = new Uint8Array(head.length + value.length);
  out.set(head);
  out.set(value, head.length);
  return out;
}

/** A text value padded to even length (PS3.5 §6.2: UI with NUL, others with space). */
function text(value: string, pad = ' '): Uint8Array {
  const s = value.length % 2 ? value + pad : value;
  return new TextEncoder().encode(s);
}

function us(value: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, value, true);
  return b;
}

function ul(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What one generated object looks like. */
export interface ObjectSpec {
  /** SOP Instance UID. */
  sopInstanceUid: string;
  /** SOP Class UID. */
  sopClassUid: string;
  /** Rows and columns (16-bit pixels). */
  size: number;
  /** Number of frames (1 for a single-frame image). */
  frames: number;
  /** Series Instance UID. */
  seriesInstanceUid: string;
  /** A seed for the pixel pattern. */
  seed: number;
}

/**
 * Part 10 header and data set up to the Pixel Data value: the bytes before the
 * pixels, with the Pixel Data (7FE0,0010) OW element header giving their length.
 */
export function headerOf(spec: ObjectSpec): Uint8Array {
  const pixelBytes = spec.size * spec.size * 2 * spec.frames;
  // PS3.10 §7.1: File Meta Information, group 0002, Explicit VR LE.
  const metaBody = concat([
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(0x0002, 0x0002, 'UI', text(spec.sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', text(spec.sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', text(EXPLICIT_VR_LE, '\0')),
    element(0x0002, 0x0012, 'UI', text(`${ROOT}.1`, '\0')),
  ]);
  const meta = concat([element(0x0002, 0x0000, 'UL', ul(metaBody.length)), metaBody]);
  // PS3.5 §7.1: data set elements in ascending tag order.
  const data = concat([
    element(0x0008, 0x0016, 'UI', text(spec.sopClassUid, '\0')),
    element(0x0008, 0x0018, 'UI', text(spec.sopInstanceUid, '\0')),
    element(0x0008, 0x0060, 'CS', text('CT')),
    element(0x0010, 0x0010, 'PN', text('BENCH^PATIENT')),
    element(0x0010, 0x0020, 'LO', text('BENCH1')),
    element(0x0020, 0x000d, 'UI', text(`${ROOT}.2`, '\0')),
    element(0x0020, 0x000e, 'UI', text(spec.seriesInstanceUid, '\0')),
    element(0x0020, 0x0013, 'IS', text(String(spec.seed))),
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')),
    ...(spec.frames > 1 ? [element(0x0028, 0x0008, 'IS', text(String(spec.frames)))] : []),
    element(0x0028, 0x0010, 'US', us(spec.size)),
    element(0x0028, 0x0011, 'US', us(spec.size)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(16)),
    element(0x0028, 0x0102, 'US', us(15)),
    element(0x0028, 0x0103, 'US', us(0)),
  ]);
  const pixelHead = element(0x7fe0, 0x0010, 'OW', new Uint8Array(0));
  new DataView(pixelHead.buffer).setUint32(8, pixelBytes, true);
  const preamble = new Uint8Array(132);
  preamble.set(text('DICM'), 128);
  return concat([preamble, meta, data, pixelHead]);
}

/** Writes one object: header, then the pixel pattern in 1 MiB writes. */
export async function writeObject(path: string, spec: ObjectSpec): Promise<number> {
  const total = spec.size * spec.size * 2 * spec.frames;
  const chunk = new Uint8Array(Math.min(total, 1 << 20));
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + spec.seed) & 0xff;
  const out = createWriteStream(path);
  const header = headerOf(spec);
  out.write(header);
  for (let done = 0; done < total; done += chunk.length) {
    const part = total - done >= chunk.length ? chunk : chunk.subarray(0, total - done);
    if (!out.write(part)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return header.length + total;
}

/** Sizes of a corpus. */
export interface CorpusSizes {
  /** Small 512x512x16-bit CT images (about 512 KiB each). */
  small: number;
  /** Multi-frame objects of `largeMiB` each. */
  large: number;
  /** Size of each large object, MiB. */
  largeMiB: number;
  /** Size of the one huge object for the memory check, MiB (0: none). */
  hugeMiB: number;
  /** Small images sent untimed before each timed run (warm-up), distinct from `small`. */
  warm?: number;
  /** Tiny images (64x64x16 bit) sent untimed before those, in discarding runs (warm-up). */
  warmTiny?: number;
}

/** The generated files. */
export interface Corpus {
  small: string[];
  /** The warm-up images: like `small`, other UIDs (their own series). */
  warm: string[];
  /** The tiny warm-up images: 64x64x16 bit, their own UIDs and series. */
  warmTiny: string[];
  large: string[];
  huge: string | undefined;
  smallBytes: number;
  largeBytes: number;
  hugeBytes: number;
}

/** Generates the corpus in `dir` (sub-folders small/, warm/, large/, huge/). */
export async function generateCorpus(dir: string, sizes: CorpusSizes): Promise<Corpus> {
  const { mkdir } = await import('node:fs/promises');
  const corpus: Corpus = {
    small: [],
    warm: [],
    warmTiny: [],
    large: [],
    huge: undefined,
    smallBytes: 0,
    largeBytes: 0,
    hugeBytes: 0,
  };
  for (const sub of ['small', 'warm', 'warm-tiny', 'large', 'huge'])
    await mkdir(join(dir, sub), { recursive: true });
  /** `n` CT images of `size`x`size`x16 bit into `sub`, UIDs `<ROOT>.<uidArc>.i` in series `<ROOT>.4.<series>`; their bytes. */
  const ctImages = async (
    sub: string,
    n: number,
    uidArc: number,
    series: number,
    into: string[],
    size = 512,
  ) => {
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const uid = `${ROOT}.${uidArc}.${i + 1}`;
      const path = join(dir, sub, `${uid}.dcm`);
      bytes += await writeObject(path, {
        sopInstanceUid: uid,
        sopClassUid: CT_IMAGE_STORAGE,
        size,
        frames: 1,
        seriesInstanceUid: `${ROOT}.4.${series}`,
        seed: i + 1,
      });
      into.push(path);
    }
    return bytes;
  };
  corpus.smallBytes += await ctImages('small', sizes.small, 3, 1, corpus.small);
  await ctImages('warm', sizes.warm ?? 0, 7, 4, corpus.warm);
  await ctImages('warm-tiny', sizes.warmTiny ?? 0, 8, 5, corpus.warmTiny, 64);
  // 512x512x2 bytes = 512 KiB per frame.
  const framesPerMiB = 2;
  for (let i = 0; i < sizes.large; i++) {
    const uid = `${ROOT}.5.${i + 1}`;
    const path = join(dir, 'large', `${uid}.dcm`);
    corpus.largeBytes += await writeObject(path, {
      sopInstanceUid: uid,
      sopClassUid: ENHANCED_CT_IMAGE_STORAGE,
      size: 512,
      frames: sizes.largeMiB * framesPerMiB,
      seriesInstanceUid: `${ROOT}.4.2`,
      seed: i + 1,
    });
    corpus.large.push(path);
  }
  if (sizes.hugeMiB > 0) {
    const uid = `${ROOT}.6.1`;
    const path = join(dir, 'huge', `${uid}.dcm`);
    corpus.hugeBytes = await writeObject(path, {
      sopInstanceUid: uid,
      sopClassUid: ENHANCED_CT_IMAGE_STORAGE,
      size: 512,
      frames: sizes.hugeMiB * framesPerMiB,
      seriesInstanceUid: `${ROOT}.4.3`,
      seed: 1,
    });
    corpus.huge = path;
  }
  return corpus;
}
