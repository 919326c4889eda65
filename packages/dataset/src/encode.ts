/**
 * The element encoder: a data set to bytes in any uncompressed transfer syntax
 * (PS3.5 §A.1–A.3, A.5) or an encapsulated one (§A.4, fragments passed through).
 * Large values are handed on as views (no copy) in the chunk list of
 * {@link encodeDataSetChunks}; {@link encodeDataSet} joins them once.
 */
import { deflateRawSync } from 'node:zlib';
import type { DataElement, DataSet } from './data-set.js';
import type { Encoding } from './decode.js';
import { ItemTag } from './tag.js';
import { transferSyntaxInfo } from './uid.js';
import { byteSwapUnit, hasLongHeader, type Vr } from './vr.js';

const UNDEFINED_LENGTH = 0xffffffff;
const SCRATCH = 64 * 1024;
const VIEW_THRESHOLD = 512;

/** Collects small writes in a scratch buffer and large values as views. */
class ChunkWriter {
  readonly chunks: Uint8Array[] = [];
  #buf = new Uint8Array(SCRATCH);
  #dv = new DataView(this.#buf.buffer);
  #pos = 0;
  #start = 0;
  length = 0;
  readonly le: boolean;

  constructor(le: boolean) {
    this.le = le;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    this.#flush();
    this.#buf = new Uint8Array(Math.max(SCRATCH, n));
    this.#dv = new DataView(this.#buf.buffer);
    this.#pos = 0;
    this.#start = 0;
  }

  #flush(): void {
    if (this.#pos > this.#start) this.chunks.push(this.#buf.subarray(this.#start, this.#pos));
    this.#start = this.#pos;
  }

  u16(v: number): void {
    this.#room(2);
    this.#dv.setUint16(this.#pos, v, this.le);
    this.#pos += 2;
    this.length += 2;
  }

  u32(v: number): void {
    this.#room(4);
    this.#dv.setUint32(this.#pos, v, this.le);
    this.#pos += 4;
    this.length += 4;
  }

  tag(tag: number): void {
    this.u16(tag >>> 16);
    this.u16(tag & 0xffff);
  }

  ascii2(text: string): void {
    this.#room(2);
    this.#buf[this.#pos] = text.charCodeAt(0);
    this.#buf[this.#pos + 1] = text.charCodeAt(1);
    this.#pos += 2;
    this.length += 2;
  }

  bytes(v: Uint8Array): void {
    if (v.length >= VIEW_THRESHOLD) {
      this.#flush();
      this.chunks.push(v);
    } else {
      this.#room(v.length);
      this.#buf.set(v, this.#pos);
      this.#pos += v.length;
    }
    this.length += v.length;
  }

  finish(): Uint8Array[] {
    this.#flush();
    return this.chunks;
  }
}

/**
 * Swaps the byte order of each `unit`-byte word (PS3.5 §7.3) into a new array
 * (Node's native `swap16`/`swap32`/`swap64`); a trailing partial word is copied.
 *
 * @param v - the bytes
 * @param unit - 2, 4 or 8 (1 copies)
 */
export function swapBytes(v: Uint8Array, unit: number): Uint8Array {
  const out = Buffer.allocUnsafeSlow(v.length);
  out.set(v);
  const body = out.subarray(0, v.length - (v.length % unit));
  if (unit === 2) body.swap16();
  else if (unit === 4) body.swap32();
  else if (unit === 8) body.swap64();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The VR written for an element: a short-header VR too long for 16 bits becomes UN (PS3.5 §6.2.2). */
function outVr(e: DataElement, enc: Encoding): Vr {
  if (enc.explicit && e.value && !hasLongHeader(e.vr) && e.value.length > 0xffff) return 'UN';
  return e.vr;
}

/** The encoding of the items of an element: UN sequences are Implicit VR LE (PS3.5 §6.2.2). */
function innerEncoding(e: DataElement, enc: Encoding): Encoding {
  return e.vr === 'UN' ? { explicit: false, littleEndian: true } : enc;
}

function headerSize(vr: Vr, enc: Encoding): number {
  return enc.explicit && hasLongHeader(vr) ? 12 : 8;
}

/**
 * The elements of a data set as they are written: a Group Length (gggg,0000)
 * present in the data set gets the length of its group in this encoding
 * (PS3.5 §7.2), so it stays right across conversions; when it already was right
 * it is the same element, so the bytes do not change.
 */
function encodedElements(ds: DataSet, enc: Encoding): DataElement[] {
  const elements = ds.elements();
  let hasGroupLength = false;
  for (const e of elements) {
    if ((e.tag & 0xffff) === 0 && e.value) {
      hasGroupLength = true;
      break;
    }
  }
  if (!hasGroupLength) return elements;
  const sizes = new Map<number, number>();
  for (const e of elements) {
    if ((e.tag & 0xffff) === 0) continue;
    const g = e.tag >>> 16;
    sizes.set(g, (sizes.get(g) ?? 0) + elementSize(e, enc));
  }
  return elements.map((e) => {
    if ((e.tag & 0xffff) !== 0 || !e.value || e.vr !== 'UL') return e;
    const length = sizes.get(e.tag >>> 16) ?? 0;
    const v = e.value;
    const current =
      v.length === 4
        ? new DataView(v.buffer, v.byteOffset, 4).getUint32(0, !e.bigEndian)
        : undefined;
    if (current === length) return e;
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, length, true);
    return { tag: e.tag, vr: 'UL', value };
  });
}

/** The encoded size of a data set's elements (no item header). */
function dataSetSize(ds: DataSet, enc: Encoding): number {
  let n = 0;
  for (const e of encodedElements(ds, enc)) n += elementSize(e, enc);
  return n;
}

function itemsSize(e: DataElement, enc: Encoding): number {
  const inner = innerEncoding(e, enc);
  let n = 0;
  for (const item of e.items!) {
    n += 8 + dataSetSize(item, inner) + (item.undefinedLength !== false ? 8 : 0);
  }
  return n;
}

function elementSize(e: DataElement, enc: Encoding): number {
  const vr = outVr(e, enc);
  const h = headerSize(vr, enc);
  if (e.items) return h + itemsSize(e, enc) + (e.undefinedLength !== false ? 8 : 0);
  if (e.fragments) {
    let n = h + 8;
    for (const f of e.fragments) n += 8 + f.length;
    return n;
  }
  return h + (e.value?.length ?? 0);
}

/**
 * Encodes one element header (PS3.5 §7.1.2, §7.1.3).
 *
 * @param tag - the tag
 * @param vr - the VR
 * @param length - the value length
 * @param encoding - explicit VR or not, byte order
 */
export function encodeHeader(tag: number, vr: Vr, length: number, encoding: Encoding): Uint8Array {
  const w = new ChunkWriter(encoding.littleEndian);
  writeHeader(w, tag, vr, length, encoding);
  return concatChunks(w.finish());
}

function writeHeader(w: ChunkWriter, tag: number, vr: Vr, length: number, enc: Encoding): void {
  w.tag(tag);
  if (!enc.explicit) {
    w.u32(length);
    return;
  }
  w.ascii2(vr);
  if (hasLongHeader(vr)) {
    w.u16(0);
    w.u32(length);
  } else {
    w.u16(length);
  }
}

function writeElement(w: ChunkWriter, e: DataElement, enc: Encoding): void {
  const vr = outVr(e, enc);
  if (e.items) {
    const inner = innerEncoding(e, enc);
    const undefinedLength = e.undefinedLength !== false;
    writeHeader(w, e.tag, vr, undefinedLength ? UNDEFINED_LENGTH : itemsSize(e, enc), enc);
    for (const item of e.items) {
      const itemUndefined = item.undefinedLength !== false;
      w.tag(ItemTag.Item);
      w.u32(itemUndefined ? UNDEFINED_LENGTH : dataSetSize(item, inner));
      const innerWriter = inner === enc || inner.littleEndian === enc.littleEndian;
      if (innerWriter) {
        for (const child of encodedElements(item, inner)) writeElement(w, child, inner);
      } else {
        // Implicit VR LE items inside a big endian stream (UN, PS3.5 §6.2.2).
        const sub = new ChunkWriter(true);
        for (const child of encodedElements(item, inner)) writeElement(sub, child, inner);
        for (const c of sub.finish()) w.bytes(c);
      }
      if (itemUndefined) {
        w.tag(ItemTag.ItemDelimitation);
        w.u32(0);
      }
    }
    if (undefinedLength) {
      w.tag(ItemTag.SequenceDelimitation);
      w.u32(0);
    }
    return;
  }
  if (e.fragments) {
    // PS3.5 §A.4: undefined length, one item per fragment, then the delimiter.
    writeHeader(w, e.tag, vr, UNDEFINED_LENGTH, enc);
    for (const f of e.fragments) {
      w.tag(ItemTag.Item);
      w.u32(f.length);
      w.bytes(f);
    }
    w.tag(ItemTag.SequenceDelimitation);
    w.u32(0);
    return;
  }
  const value = e.value ?? new Uint8Array(0);
  writeHeader(w, e.tag, vr, value.length, enc);
  const unit = byteSwapUnit(e.vr);
  if (unit > 1 && !e.bigEndian !== enc.littleEndian) w.bytes(swapBytes(value, unit));
  else w.bytes(value);
}

/**
 * Encodes a data set as a list of chunks: small headers gathered into shared
 * buffers, large values as views of the element values (for a gathered write).
 * A deflated transfer syntax gives one deflated chunk.
 *
 * @param dataSet - the data set
 * @param transferSyntaxUid - the transfer syntax to write
 * @throws UnsupportedTransferSyntaxError for an unknown transfer syntax
 */
export function encodeDataSetChunks(dataSet: DataSet, transferSyntaxUid: string): Uint8Array[] {
  const ts = transferSyntaxInfo(transferSyntaxUid);
  const enc = { explicit: ts.explicitVr, littleEndian: ts.littleEndian };
  const w = new ChunkWriter(enc.littleEndian);
  for (const e of encodedElements(dataSet, enc)) writeElement(w, e, enc);
  const chunks = w.finish();
  if (!ts.deflated) return chunks;
  return [deflateDataSet(concatChunks(chunks))];
}

/**
 * Encodes elements (in the order given) with an encoding; used by the streaming
 * converter.
 *
 * @param elements - the elements
 * @param encoding - explicit VR or not, byte order
 */
export function encodeElements(elements: readonly DataElement[], encoding: Encoding): Uint8Array[] {
  const w = new ChunkWriter(encoding.littleEndian);
  for (const e of elements) writeElement(w, e, encoding);
  return w.finish();
}

/**
 * Deflates an encoded data set (PS3.5 §A.5: raw deflate, RFC 1951), padded to an
 * even length with a zero byte.
 *
 * @param bytes - the Explicit VR Little Endian encoding
 */
export function deflateDataSet(bytes: Uint8Array): Uint8Array {
  const d = deflateRawSync(bytes);
  if (d.length % 2 === 0) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const out = new Uint8Array(d.length + 1);
  out.set(d);
  return out;
}

/**
 * Joins chunks into one array (one allocation).
 *
 * @param chunks - the chunks
 */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Encodes a data set in the given transfer syntax. Values nobody changed are
 * written with their original bytes; sequences and items keep the defined or
 * undefined length they were read with (new ones use undefined length).
 *
 * @param dataSet - the data set
 * @param transferSyntaxUid - the transfer syntax to write
 * @throws UnsupportedTransferSyntaxError for an unknown transfer syntax
 */
export function encodeDataSet(dataSet: DataSet, transferSyntaxUid: string): Uint8Array {
  return concatChunks(encodeDataSetChunks(dataSet, transferSyntaxUid));
}

/**
 * The encoded length of a data set in a non-deflated transfer syntax, without
 * encoding it.
 *
 * @param dataSet - the data set
 * @param transferSyntaxUid - the transfer syntax
 */
export function encodedLength(dataSet: DataSet, transferSyntaxUid: string): number {
  const ts = transferSyntaxInfo(transferSyntaxUid);
  return dataSetSize(dataSet, { explicit: ts.explicitVr, littleEndian: ts.littleEndian });
}
