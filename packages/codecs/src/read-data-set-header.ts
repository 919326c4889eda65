/**
 * Reads the top-level elements of a data set stream up to Pixel Data
 * (7FE0,0010), as bytes, walking sequences and items of undefined length
 * (PS3.5 §7.5) without decoding them.
 */
import { type Encoding, hasLongHeader, isVr, unknownVrHasLongHeader } from '@dnet/dataset';
import type { ByteReader } from './byte-reader.js';
import { CodecsError, CodecsErrorCode } from './errors.js';

const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;

/** The elements before Pixel Data, and Pixel Data's header when there is one. */
export interface DataSetHeader {
  /** The encoded top-level elements before Pixel Data. */
  readonly bytes: Uint8Array;
  /** Pixel Data's value length (0xFFFFFFFF when encapsulated) and VR; absent without Pixel Data. */
  readonly pixelData?: { readonly length: number; readonly vr: string };
}

interface Element {
  tag: number;
  vr: string;
  length: number;
  header: Uint8Array;
}

async function readElementHeader(r: ByteReader, enc: Encoding): Promise<Element> {
  const le = enc.littleEndian;
  const first = await r.read(8);
  const dv = new DataView(first.buffer, first.byteOffset, 8);
  const tag = ((dv.getUint16(0, le) << 16) | dv.getUint16(2, le)) >>> 0;
  if (tag === ITEM || tag === ITEM_END || tag === SEQUENCE_END || !enc.explicit) {
    // Items and delimiters have no VR in any syntax (PS3.5 §7.5).
    return { tag, vr: '', length: dv.getUint32(4, le), header: first.slice() };
  }
  const vr = String.fromCharCode(first[4]!, first[5]!);
  const long = isVr(vr) ? hasLongHeader(vr) : unknownVrHasLongHeader(first[4]!, first[5]!);
  if (!long) return { tag, vr, length: dv.getUint16(6, le), header: first.slice() };
  const more = await r.read(4);
  const header = new Uint8Array(12);
  header.set(first);
  header.set(more, 8);
  return { tag, vr, length: new DataView(header.buffer).getUint32(8, le), header };
}

/**
 * Copies the value of an element to `out`: defined lengths whole, undefined
 * lengths (sequences, or UN holding one: PS3.5 §6.2.2) item by item to their
 * delimiter.
 */
async function copyValue(
  r: ByteReader,
  enc: Encoding,
  e: Element,
  out: Uint8Array[],
  budget: { left: number },
  depth: number,
): Promise<void> {
  const take = async (n: number) => {
    budget.left -= n;
    if (budget.left < 0) {
      throw new CodecsError(
        CodecsErrorCode.MALFORMED_PIXEL_DATA,
        'the data set before Pixel Data is larger than maxHeaderLength',
      );
    }
    out.push((await r.read(n)).slice());
  };
  if (e.length !== UNDEFINED) {
    await take(e.length);
    return;
  }
  if (depth > 64)
    throw new CodecsError(CodecsErrorCode.MALFORMED_PIXEL_DATA, 'sequences nested too deep');
  const inner: Encoding = e.vr === 'UN' ? { explicit: false, littleEndian: true } : enc;
  for (;;) {
    const item = await readElementHeader(r, inner);
    out.push(item.header);
    if (item.tag === SEQUENCE_END) return;
    if (item.tag !== ITEM) {
      throw new CodecsError(
        CodecsErrorCode.MALFORMED_PIXEL_DATA,
        'a sequence holds a non-item (PS3.5 7.5)',
      );
    }
    if (item.length !== UNDEFINED) {
      await take(item.length);
      continue;
    }
    for (;;) {
      const el = await readElementHeader(r, inner);
      out.push(el.header);
      if (el.tag === ITEM_END) break;
      await copyValue(r, inner, el, out, budget, depth + 1);
    }
  }
}

/**
 * Reads top-level elements until Pixel Data or the end.
 *
 * @param r - the data set stream, at its first element
 * @param enc - its encoding (not deflated)
 * @param maxLength - the most bytes held
 */
export async function readDataSetHeader(
  r: ByteReader,
  enc: Encoding,
  maxLength: number,
): Promise<DataSetHeader> {
  const out: Uint8Array[] = [];
  const budget = { left: maxLength };
  let pixelData: DataSetHeader['pixelData'];
  while (!(await r.atEnd())) {
    const e = await readElementHeader(r, enc);
    if (e.tag === 0x7fe00010) {
      pixelData = { length: e.length, vr: e.vr };
      break;
    }
    out.push(e.header);
    await copyValue(r, enc, e, out, budget, 0);
  }
  return { bytes: Buffer.concat(out), ...(pixelData ? { pixelData } : {}) };
}
