/**
 * The in-memory data set (PS3.5 §7): data elements by tag, with typed value
 * access by keyword or tag. Values keep the bytes they were read with until a
 * setter replaces them, so an untouched data set encodes back to the same bytes.
 */
import { characterSetDecoder, decodeAscii, encodeAscii, encodeText } from './character-set.js';
import { lookupKeyword, lookupTag } from './dictionary.js';
import { InvalidValueError, UnknownKeywordError } from './errors.js';
import { formatTag, parseTag, SPECIFIC_CHARACTER_SET_TAG, type Tag } from './tag.js';
import {
  type DicomDate,
  type DicomDateTime,
  type DicomTime,
  formatPersonName,
  type PersonName,
  parseDate,
  parseDateTime,
  parsePersonName,
  parseTime,
} from './values.js';
import {
  byteSwapUnit,
  isSingleValueText,
  isStringVr,
  padByte,
  usesCharacterSet,
  type Vr,
} from './vr.js';

/**
 * One data element (PS3.5 §7.1). Exactly one of `value`, `items` or
 * `fragments` holds its value.
 */
export interface DataElement {
  /** The tag. */
  readonly tag: Tag;
  /** The VR (from the stream in explicit VR, from the dictionary in implicit VR). */
  readonly vr: Vr;
  /**
   * The value bytes exactly as encoded, padding included; in big endian order
   * when {@link DataElement.bigEndian} is set. Often a view into the decoded input.
   */
  readonly value?: Uint8Array;
  /** The byte order of `value` is big endian (read from Explicit VR Big Endian). */
  readonly bigEndian?: boolean;
  /** The items of a sequence (VR SQ, or UN of undefined length: PS3.5 §6.2.2). */
  readonly items?: readonly DataSet[];
  /**
   * Encapsulated pixel data (PS3.5 §A.4): the Basic Offset Table item first,
   * then each fragment, as raw bytes.
   */
  readonly fragments?: readonly Uint8Array[];
  /** The element was, or should be, encoded with undefined length (PS3.5 §7.1.1). */
  readonly undefinedLength?: boolean;
}

/** A key naming an element: a keyword (`PatientName`), a tag number or `(0010,0010)`. */
export type ElementKey = string | Tag;

/**
 * Resolves a keyword, `(GGGG,EEEE)` text or tag number to a tag.
 *
 * @param key - the key
 * @throws UnknownKeywordError for a keyword that is not in the dictionary
 */
export function resolveTag(key: ElementKey): Tag {
  if (typeof key === 'number') return key >>> 0;
  const entry = lookupKeyword(key);
  if (entry) return entry.tag;
  const parsed = parseTag(key);
  if (parsed !== undefined) return parsed;
  throw new UnknownKeywordError(key);
}

const EMPTY = new Uint8Array(0);
const NO_TERMS: readonly string[] = Object.freeze([]);

/** Pads a value to even length with the VR's pad byte (PS3.5 §7.1.1). */
function padded(bytes: Uint8Array, vr: Vr): Uint8Array {
  if (bytes.length % 2 === 0) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = padByte(vr);
  return out;
}

function trimValue(text: string, vr: Vr): string {
  switch (vr) {
    case 'UI':
      return text.replace(/[\0 ]+$/, '');
    case 'LT':
    case 'ST':
    case 'UT':
    case 'UC':
      return text.replace(/[\0 ]+$/, '');
    default:
      return text.replace(/^ +/, '').replace(/[\0 ]+$/, '');
  }
}

/** A data set: an ordered collection of data elements (PS3.5 §7). */
export class DataSet {
  /** The elements in ascending tag order (PS3.5 §7.1); looked up by binary search. */
  #list: DataElement[] = [];
  /**
   * The data set that contains this one as an item, for the inheritance of
   * Specific Character Set (PS3.5 §7.5.3 note, PS3.3 §C.12.1.1.2).
   */
  parent: DataSet | undefined;
  /** As an item: encoded, or to be encoded, with undefined length (PS3.5 §7.5.1). */
  undefinedLength: boolean | undefined;
  /** The Specific Character Set in force when the data set has none of its own. */
  defaultCharacterSet: readonly string[] = NO_TERMS;

  /** @param elements - initial elements */
  constructor(elements: Iterable<DataElement> = []) {
    for (const e of elements) this.set(e);
  }

  /** The number of elements. */
  get size(): number {
    return this.#list.length;
  }

  /** The index of `tag` in the list, or `~insertionPoint` when absent. */
  #find(tag: Tag): number {
    const list = this.#list;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = list[mid]!.tag;
      if (t < tag) lo = mid + 1;
      else if (t > tag) hi = mid - 1;
      else return mid;
    }
    return ~lo;
  }

  /**
   * Adds or replaces an element.
   *
   * @param element - the element
   */
  set(element: DataElement): this {
    const tag = element.tag >>> 0;
    const e = tag === element.tag ? element : { ...element, tag };
    const list = this.#list;
    const n = list.length;
    if (n === 0 || list[n - 1]!.tag < tag) {
      list.push(e);
    } else {
      const i = this.#find(tag);
      if (i >= 0) list[i] = e;
      else list.splice(~i, 0, e);
    }
    if (e.items) for (const item of e.items) item.parent = this;
    return this;
  }

  /** Whether the element is present. @param key - keyword or tag */
  has(key: ElementKey): boolean {
    return this.#find(resolveTag(key)) >= 0;
  }

  /** The element, if present. @param key - keyword or tag */
  get(key: ElementKey): DataElement | undefined {
    const i = this.#find(resolveTag(key));
    return i >= 0 ? this.#list[i] : undefined;
  }

  /** Removes an element; whether it was present. @param key - keyword or tag */
  delete(key: ElementKey): boolean {
    const i = this.#find(resolveTag(key));
    if (i < 0) return false;
    this.#list.splice(i, 1);
    return true;
  }

  /** The tags, in ascending order (PS3.5 §7.1). */
  tags(): Tag[] {
    return this.#list.map((e) => e.tag);
  }

  /** The elements, in ascending tag order (a copy of the list). */
  elements(): DataElement[] {
    return this.#list.slice();
  }

  /** Iterates the elements in ascending tag order. */
  [Symbol.iterator](): Iterator<DataElement> {
    return this.elements()[Symbol.iterator]();
  }

  /**
   * The values of Specific Character Set (0008,0005) in force for this data set:
   * its own, else its parent's (PS3.3 §C.12.1.1.2), else `defaultCharacterSet`.
   */
  get characterSet(): readonly string[] {
    const own = this.get(SPECIFIC_CHARACTER_SET_TAG);
    if (own?.value) {
      return decodeAscii(own.value)
        .split('\\')
        .map((s) => s.trim());
    }
    return this.parent ? this.parent.characterSet : this.defaultCharacterSet;
  }

  // ---- reading values -------------------------------------------------------

  /**
   * The raw value bytes of an element (as encoded, padding included).
   *
   * @param key - keyword or tag
   */
  bytes(key: ElementKey): Uint8Array | undefined {
    return this.get(key)?.value;
  }

  /**
   * The string values of an element, split at backslashes (PS3.5 §6.4) except
   * for LT, ST, UT and UR, decoded with the Specific Character Set in force for
   * SH, LO, ST, LT, UC, UT and PN (PS3.5 §6.1.2.3), padding removed. An empty
   * value gives `[]`.
   *
   * @param key - keyword or tag
   */
  strings(key: ElementKey): string[] {
    const e = this.get(key);
    if (!e?.value || e.value.length === 0) return [];
    const text = usesCharacterSet(e.vr)
      ? characterSetDecoder(this.characterSet).decode(e.value)
      : decodeAscii(e.value);
    if (isSingleValueText(e.vr)) return [trimValue(text, e.vr)];
    return text.split('\\').map((s) => trimValue(s, e.vr));
  }

  /**
   * One string value (the first unless `index` is given).
   *
   * @param key - keyword or tag
   * @param index - which value
   */
  string(key: ElementKey, index = 0): string | undefined {
    return this.strings(key)[index];
  }

  /**
   * The values of a UI element, NUL padding removed.
   *
   * @param key - keyword or tag
   */
  uid(key: ElementKey): string | undefined {
    return this.string(key);
  }

  /**
   * The numeric values of an element: US, SS, UL, SL, FL, FD, SV, UV (as
   * numbers, possibly inexact beyond 2^53: use {@link DataSet.bigints}), AT (as
   * tags), OB, OW, OL, OF, OD, OV, UN (one number per unit), and the decimal
   * strings DS and IS.
   *
   * @param key - keyword or tag
   */
  numbers(key: ElementKey): number[] {
    const e = this.get(key);
    if (!e?.value) return [];
    return decodeNumbers(e);
  }

  /**
   * One numeric value (the first unless `index` is given).
   *
   * @param key - keyword or tag
   * @param index - which value
   */
  number(key: ElementKey, index = 0): number | undefined {
    return this.numbers(key)[index];
  }

  /**
   * The 64-bit values of SV, UV or OV as bigints (PS3.5 Table 6.2-1).
   *
   * @param key - keyword or tag
   */
  bigints(key: ElementKey): bigint[] {
    const e = this.get(key);
    if (!e?.value) return [];
    const v = e.value;
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    const out: bigint[] = [];
    const le = !e.bigEndian;
    for (let i = 0; i + 8 <= v.length; i += 8) {
      out.push(e.vr === 'SV' ? dv.getBigInt64(i, le) : dv.getBigUint64(i, le));
    }
    return out;
  }

  /**
   * The Person Name values, with their component groups (PS3.5 §6.2.1).
   *
   * @param key - keyword or tag
   */
  personNames(key: ElementKey): PersonName[] {
    return this.strings(key).map(parsePersonName);
  }

  /**
   * One Person Name value.
   *
   * @param key - keyword or tag
   * @param index - which value
   */
  personName(key: ElementKey, index = 0): PersonName | undefined {
    return this.personNames(key)[index];
  }

  /** A DA value parsed (PS3.5 Table 6.2-1). @param key - keyword or tag @param index - which value */
  date(key: ElementKey, index = 0): DicomDate | undefined {
    const s = this.string(key, index);
    return s === undefined ? undefined : parseDate(s);
  }

  /** A TM value parsed (PS3.5 Table 6.2-1). @param key - keyword or tag @param index - which value */
  time(key: ElementKey, index = 0): DicomTime | undefined {
    const s = this.string(key, index);
    return s === undefined ? undefined : parseTime(s);
  }

  /** A DT value parsed (PS3.5 Table 6.2-1). @param key - keyword or tag @param index - which value */
  dateTime(key: ElementKey, index = 0): DicomDateTime | undefined {
    const s = this.string(key, index);
    return s === undefined ? undefined : parseDateTime(s);
  }

  /**
   * The items of a sequence (PS3.5 §7.5); `[]` when absent or empty.
   *
   * @param key - keyword or tag
   */
  sequence(key: ElementKey): readonly DataSet[] {
    return this.get(key)?.items ?? [];
  }

  // ---- writing values -------------------------------------------------------

  #vrFor(tag: Tag, vr: Vr | undefined): Vr {
    return vr ?? this.get(tag)?.vr ?? lookupTag(tag)?.vr ?? 'UN';
  }

  /**
   * Sets raw value bytes (little endian for binary VRs), padded to even length.
   *
   * @param key - keyword or tag
   * @param bytes - the value
   * @param vr - the VR; defaults to the current one or the dictionary's
   */
  setBytes(key: ElementKey, bytes: Uint8Array, vr?: Vr): this {
    const tag = resolveTag(key);
    const v = this.#vrFor(tag, vr);
    return this.set({ tag, vr: v, value: padded(bytes, v) });
  }

  /**
   * Sets string values, joined with backslashes, encoded with the Specific
   * Character Set in force (or the default repertoire for VRs it does not apply
   * to) and padded to even length with the VR's pad byte (PS3.5 §6.2, §7.1.1).
   *
   * @param key - keyword or tag
   * @param values - one value or several
   * @param vr - the VR; defaults to the current one or the dictionary's
   * @throws InvalidValueError when the VR is not a string VR or the text cannot be encoded
   */
  setString(key: ElementKey, values: string | readonly string[], vr?: Vr): this {
    const tag = resolveTag(key);
    const v = this.#vrFor(tag, vr);
    if (!isStringVr(v) && v !== 'UN') {
      throw new InvalidValueError(`${formatTag(tag)} has VR ${v}, not a string VR`, { tag });
    }
    const text = typeof values === 'string' ? values : values.join('\\');
    const bytes =
      usesCharacterSet(v) && tag !== SPECIFIC_CHARACTER_SET_TAG
        ? encodeText(text, this.characterSet)
        : encodeAscii(text);
    return this.set({ tag, vr: v, value: padded(bytes, v) });
  }

  /**
   * Sets Person Name values (PS3.5 §6.2.1).
   *
   * @param key - keyword or tag
   * @param values - one name or several, as component groups or strings
   */
  setPersonName(
    key: ElementKey,
    values: PersonName | string | readonly (PersonName | string)[],
  ): this {
    const list = Array.isArray(values) ? values : [values as PersonName | string];
    return this.setString(key, list.map(formatPersonName), 'PN');
  }

  /**
   * Sets numeric values: binary for US, SS, UL, SL, FL, FD, SV, UV, AT and the
   * O* VRs (little endian), decimal text for DS and IS.
   *
   * @param key - keyword or tag
   * @param values - one number or several (bigints for SV, UV, OV)
   * @param vr - the VR; defaults to the current one or the dictionary's
   * @throws InvalidValueError when a value does not fit the VR
   */
  setNumber(
    key: ElementKey,
    values: number | bigint | readonly (number | bigint)[],
    vr?: Vr,
  ): this {
    const tag = resolveTag(key);
    const v = this.#vrFor(tag, vr);
    const list = (Array.isArray(values) ? values : [values]) as (number | bigint)[];
    if (v === 'DS' || v === 'IS') {
      const text = list.map((n) => formatDecimal(Number(n), v, tag)).join('\\');
      return this.set({ tag, vr: v, value: padded(encodeAscii(text), v) });
    }
    return this.set({ tag, vr: v, value: encodeNumbers(list, v, tag) });
  }

  /**
   * Sets a DA value.
   *
   * @param key - keyword or tag
   * @param text - the formatted value (see `formatDate`)
   */
  setDate(key: ElementKey, text: string): this {
    return this.setString(key, text, 'DA');
  }

  /**
   * Sets the items of a sequence (PS3.5 §7.5). New sequences and items are
   * written with undefined length.
   *
   * @param key - keyword or tag
   * @param items - the items
   */
  setSequence(key: ElementKey, items: readonly DataSet[]): this {
    const tag = resolveTag(key);
    return this.set({ tag, vr: 'SQ', items: [...items], undefinedLength: true });
  }

  /**
   * Appends a new, empty item to a sequence (created when absent) and returns
   * it; the item inherits this data set's Specific Character Set (PS3.5 §7.5).
   *
   * @param key - keyword or tag of the sequence
   */
  addItem(key: ElementKey): DataSet {
    const tag = resolveTag(key);
    const item = new DataSet();
    item.parent = this;
    const existing = this.get(tag);
    if (existing?.items && Array.isArray(existing.items) && !Object.isFrozen(existing.items)) {
      (existing.items as DataSet[]).push(item);
    } else {
      const items = [...(existing?.items ?? []), item];
      this.set({ tag, vr: 'SQ', items, undefinedLength: existing?.undefinedLength ?? true });
    }
    return item;
  }

  /**
   * A deep copy whose value bytes are shared (they are never mutated in place).
   */
  clone(): DataSet {
    const copy = new DataSet();
    copy.undefinedLength = this.undefinedLength;
    copy.defaultCharacterSet = this.defaultCharacterSet;
    for (const e of this.elements()) {
      copy.set(e.items ? { ...e, items: e.items.map((i) => i.clone()) } : e);
    }
    return copy;
  }
}

function formatDecimal(n: number, vr: 'DS' | 'IS', tag: Tag): string {
  if (!Number.isFinite(n)) throw new InvalidValueError(`${vr} cannot hold ${n}`, { tag });
  if (vr === 'IS') {
    if (!Number.isInteger(n) || Math.abs(n) > 2 ** 31 - 1) {
      throw new InvalidValueError(`IS cannot hold ${n} (PS3.5 Table 6.2-1)`, { tag });
    }
    return String(n);
  }
  // DS: at most 16 bytes (PS3.5 Table 6.2-1).
  let s = String(n);
  if (s.length > 16) {
    for (let p = 15; p > 0 && s.length > 16; p--) s = String(Number(n.toPrecision(p)));
    if (s.length > 16) s = n.toExponential(8);
  }
  return s;
}

/** Decodes the numbers of a binary or decimal-string element. */
function decodeNumbers(e: DataElement): number[] {
  const v = e.value ?? EMPTY;
  if (e.vr === 'DS' || e.vr === 'IS') {
    return decodeAscii(v)
      .split('\\')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map(Number);
  }
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const le = !e.bigEndian;
  const out: number[] = [];
  const unit = byteSwapUnit(e.vr);
  const n = Math.floor(v.length / unit);
  for (let i = 0; i < n; i++) {
    const o = i * unit;
    switch (e.vr) {
      case 'US':
      case 'OW':
        out.push(dv.getUint16(o, le));
        break;
      case 'SS':
        out.push(dv.getInt16(o, le));
        break;
      case 'AT':
        if (i % 2 === 1) {
          out.push(((dv.getUint16(o - 2, le) << 16) | dv.getUint16(o, le)) >>> 0);
        }
        break;
      case 'UL':
      case 'OL':
        out.push(dv.getUint32(o, le));
        break;
      case 'SL':
        out.push(dv.getInt32(o, le));
        break;
      case 'FL':
      case 'OF':
        out.push(dv.getFloat32(o, le));
        break;
      case 'FD':
      case 'OD':
        out.push(dv.getFloat64(o, le));
        break;
      case 'SV':
        out.push(Number(dv.getBigInt64(o, le)));
        break;
      case 'UV':
      case 'OV':
        out.push(Number(dv.getBigUint64(o, le)));
        break;
      default:
        out.push(v[o]!);
    }
  }
  return out;
}

/** Encodes numbers little endian for a binary VR. */
function encodeNumbers(list: (number | bigint)[], vr: Vr, tag: Tag): Uint8Array {
  const unit = vr === 'AT' ? 4 : byteSwapUnit(vr);
  const out = new Uint8Array(padLen(list.length * unit));
  const dv = new DataView(out.buffer);
  const fail = (x: number | bigint) =>
    new InvalidValueError(`${String(x)} does not fit VR ${vr}`, { tag });
  list.forEach((x, i) => {
    const o = i * unit;
    const n = Number(x);
    switch (vr) {
      case 'US':
      case 'OW':
        if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw fail(x);
        dv.setUint16(o, n, true);
        break;
      case 'SS':
        if (!Number.isInteger(n) || n < -0x8000 || n > 0x7fff) throw fail(x);
        dv.setInt16(o, n, true);
        break;
      case 'AT':
        if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw fail(x);
        dv.setUint16(o, n >>> 16, true);
        dv.setUint16(o + 2, n & 0xffff, true);
        break;
      case 'UL':
      case 'OL':
        if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw fail(x);
        dv.setUint32(o, n, true);
        break;
      case 'SL':
        if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw fail(x);
        dv.setInt32(o, n, true);
        break;
      case 'FL':
      case 'OF':
        dv.setFloat32(o, n, true);
        break;
      case 'FD':
      case 'OD':
        dv.setFloat64(o, n, true);
        break;
      case 'SV':
        dv.setBigInt64(o, BigInt(x), true);
        break;
      case 'UV':
      case 'OV':
        if (BigInt(x) < 0n) throw fail(x);
        dv.setBigUint64(o, BigInt(x), true);
        break;
      case 'OB':
      case 'UN':
        if (!Number.isInteger(n) || n < 0 || n > 0xff) throw fail(x);
        out[o] = n;
        break;
      default:
        throw new InvalidValueError(`VR ${vr} does not hold binary numbers`, { tag });
    }
  });
  return out;
}

function padLen(n: number): number {
  return n + (n % 2);
}
