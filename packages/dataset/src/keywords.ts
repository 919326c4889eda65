/**
 * The keyword form of a data set: an object keyed by the keywords of PS3.6 §6
 * (`{ PatientName: 'DOE^*', StudyInstanceUID: '' }`), typed from the data
 * dictionary so that TypeScript completes and checks the keywords, and
 * converted to and from the DICOM JSON Model (PS3.18 Annex F), the form that
 * machines exchange.
 */
import { DataSet } from './data-set.js';
import { type DicomJsonAttribute, type DicomJsonDataSet, toDicomJson } from './dicom-json.js';
import { lookupKeyword, lookupTag } from './dictionary.js';
import {
  InvalidDicomJsonError,
  InvalidValueError,
  MixedKeysError,
  UnknownKeywordError,
} from './errors.js';
import type {
  BigNumberKeyword,
  BinaryKeyword,
  DecimalKeyword,
  MixedKeyword,
  NumberKeyword,
  PersonNameKeyword,
  SequenceKeyword,
  TextKeyword,
} from './generated/keywords.js';
import { parseTag, type Tag, tagToHex } from './tag.js';
import { formatPersonName, type PersonName, parsePersonName } from './values.js';
import type { Vr } from './vr.js';

export type {
  BigNumberKeyword,
  BinaryKeyword,
  DecimalKeyword,
  MixedKeyword,
  NumberKeyword,
  PersonNameKeyword,
  SequenceKeyword,
  TextKeyword,
} from './generated/keywords.js';

/**
 * Every keyword of the data dictionary (PS3.6 §6), retired ones included, as a
 * union of string literals generated at build time.
 */
export type Keyword =
  | TextKeyword
  | PersonNameKeyword
  | NumberKeyword
  | DecimalKeyword
  | BigNumberKeyword
  | BinaryKeyword
  | SequenceKeyword
  | MixedKeyword;

/**
 * An empty value: in a query, universal matching or a return key (PS3.4
 * §C.2.2.2.3, "zero length"); in a data set, an element present without value.
 */
export type EmptyValue = '' | null;

/** A value, or several (value multiplicity above one; `null` for an empty one), or none. */
export type Values<T> = T | readonly (T | null)[] | EmptyValue;

/**
 * A data set in the keyword form, as given by people: each keyword of the
 * dictionary with the value its VR takes.
 *
 * - text VRs: a string, or an array of strings for several values; matching
 *   wildcards and ranges are kept as written (`'DOE^*'`, `'20240101-'`);
 * - PN: a string (`'DOE^JOHN'`, or `'Yamada^Tarou=山田^太郎'` with its
 *   component groups) or a `PersonName` object;
 * - US, SS, UL, SL, FL, FD: numbers; DS and IS: numbers (or their decimal
 *   text); SV, UV: numbers or bigints;
 * - OB, OW and the other binary VRs: bytes;
 * - SQ: an item, or an array of items, each itself in the keyword form;
 * - `''` or `null`: no value (universal matching, a return key).
 *
 * @example
 * ```ts
 * const query: KeywordDataSet = { PatientName: 'DOE^*', StudyDate: '20240101-', StudyInstanceUID: '' };
 * ```
 */
export type KeywordDataSet = { [K in TextKeyword]?: Values<string> } & {
  [K in PersonNameKeyword]?: Values<string | PersonName>;
} & { [K in NumberKeyword]?: Values<number> } & {
  [K in DecimalKeyword]?: Values<number | string>;
} & { [K in BigNumberKeyword]?: Values<number | bigint> } & {
  [K in BinaryKeyword]?: Uint8Array | EmptyValue;
} & { [K in SequenceKeyword]?: KeywordDataSet | readonly KeywordDataSet[] | EmptyValue } & {
  [K in MixedKeyword]?: Values<number> | Uint8Array;
};

/** One value or several, as {@link toKeywords} reads them; `null` when there is none. */
export type Read<T> = T | T[] | null;

/**
 * A data set in the keyword form, as {@link toKeywords} reads it: one value
 * alone, several as an array, none as `null` (items of a sequence: always an
 * array). PN values are strings (`Alphabetic=Ideographic=Phonetic`), DS and
 * IS numbers, AT eight hex digits.
 */
export type KeywordAttributes = { [K in TextKeyword]?: Read<string> } & {
  [K in PersonNameKeyword]?: Read<string>;
} & { [K in NumberKeyword | DecimalKeyword]?: Read<number> } & {
  [K in BigNumberKeyword]?: Read<number | string>;
} & { [K in BinaryKeyword]?: Uint8Array | null } & {
  [K in SequenceKeyword]?: KeywordAttributes[];
} & {
  [K in MixedKeyword]?: Read<number> | Uint8Array;
};

/** Whether a key is a DICOM JSON tag: eight hex digits (PS3.18 §F.2.1.1). */
const HEX_KEY = /^[0-9A-Fa-f]{8}$/;

const NUMBER_VRS = new Set<string>(['US', 'SS', 'UL', 'SL', 'FL', 'FD']);
const BIG_VRS = new Set<string>(['SV', 'UV']);
const DECIMAL_VRS = new Set<string>(['DS', 'IS']);
const BINARY_VRS = new Set<string>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/**
 * The form an object's keys are in: `'json'` when every key is eight hex digits
 * (DICOM JSON, PS3.18 §F.2.1.1), `'keywords'` when none is; an object without
 * keys is `'json'` (both forms read it the same).
 *
 * @param object - a data set in either form
 * @throws MixedKeysError when some keys are tags and others keywords
 */
export function keyFormOf(object: object): 'json' | 'keywords' {
  let tag: string | undefined;
  let keyword: string | undefined;
  for (const key of Object.keys(object)) {
    if (HEX_KEY.test(key)) tag ??= key;
    else keyword ??= key;
    if (tag !== undefined && keyword !== undefined) throw new MixedKeysError(tag, keyword);
  }
  return keyword === undefined ? 'json' : 'keywords';
}

/**
 * Converts a data set in the keyword form to the DICOM JSON Model (PS3.18
 * Annex F), the VR of each attribute taken from the data dictionary (PS3.6 §6;
 * the first when it allows several). Empty values become attributes without
 * `Value`, which a query reads as universal matching (PS3.4 §C.2.2.2.3).
 *
 * @example
 * ```ts
 * fromKeywords({ PatientName: 'DOE^*', StudyInstanceUID: '' });
 * // { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] }, '0020000D': { vr: 'UI' } }
 * ```
 *
 * @param keywords - the data set by keyword
 * @throws UnknownKeywordError for a keyword the dictionary does not have
 * @throws MixedKeysError when keywords and eight-hex-digit tags are mixed
 * @throws InvalidValueError when a value does not fit the keyword's VR
 */
export function fromKeywords(keywords: KeywordDataSet): DicomJsonDataSet {
  if (typeof keywords !== 'object' || keywords === null || Array.isArray(keywords)) {
    throw new InvalidValueError('a data set in the keyword form is an object');
  }
  keyFormOf(keywords);
  const out: DicomJsonDataSet = {};
  const entries = Object.entries(keywords as Record<string, unknown>);
  for (const [keyword, value] of entries) {
    if (value === undefined) continue;
    const entry = lookupKeyword(keyword);
    // Group lengths and private creators are read under a keyword of their own
    // but have no single tag to write back to.
    if (!entry || keyword === 'GroupLength' || keyword === 'PrivateCreator') {
      throw new UnknownKeywordError(keyword);
    }
    out[tagToHex(entry.tag)] = attributeOf(entry.tag, keyword, entry.vr, value);
  }
  return out;
}

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    value === undefined
  );
}

function attributeOf(tag: Tag, keyword: string, vr: Vr, value: unknown): DicomJsonAttribute {
  const attr: DicomJsonAttribute = { vr };
  if (isEmpty(value)) return attr;
  const bad = (what: string) =>
    new InvalidValueError(`${keyword} (${vr}) takes ${what}, not ${describe(value)}`, { tag });
  if (vr === 'SQ') {
    // One item may be given alone; each item is itself in the keyword form (PS3.5 §7.5).
    const items = Array.isArray(value) ? value : [value];
    attr.Value = items.map((item) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw bad('items (objects by keyword)');
      }
      return fromKeywords(item as KeywordDataSet);
    });
    return attr;
  }
  if (BINARY_VRS.has(vr) && value instanceof Uint8Array) {
    // PS3.18 §F.2.7: binary values are base64 of their little-endian bytes.
    attr.InlineBinary = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(
      'base64',
    );
    return attr;
  }
  if (BINARY_VRS.has(vr)) throw bad('bytes (a Uint8Array)');
  const values = Array.isArray(value) ? (value as unknown[]) : [value];
  attr.Value = values.map((v) => {
    if (v === null || v === '') return null;
    if (vr === 'PN') {
      // PS3.18 §F.2.2: a PN value is an object of component groups; the string
      // form separates them with "=" (PS3.5 §6.2.1).
      if (typeof v === 'string') return parsePersonName(v);
      if (typeof v === 'object' && !Array.isArray(v)) return v as PersonName;
      throw bad('a name (string or { Alphabetic, Ideographic, Phonetic })');
    }
    if (vr === 'AT') {
      // PS3.18 §F.2.3: AT values are eight hex digits; a keyword names its tag.
      if (typeof v !== 'string') throw bad('a tag (eight hex digits or a keyword)');
      const t = HEX_KEY.test(v) ? parseTag(v) : lookupKeyword(v)?.tag;
      if (t === undefined) throw new UnknownKeywordError(v);
      return tagToHex(t);
    }
    if (DECIMAL_VRS.has(vr)) {
      // PS3.18 §F.2.3.1: DS and IS are JSON numbers.
      const n = typeof v === 'string' ? Number(v.trim()) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw bad('numbers');
      return n;
    }
    if (BIG_VRS.has(vr)) {
      // PS3.18 §F.2.3.1: SV and UV beyond 2^53 travel as strings.
      if (typeof v === 'bigint') {
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
          ? Number(v)
          : v.toString();
      }
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad('integers (number or bigint)');
      return v;
    }
    if (NUMBER_VRS.has(vr)) {
      if (typeof v !== 'number' || Number.isNaN(v)) throw bad('numbers');
      return v;
    }
    if (typeof v !== 'string') throw bad('text');
    return v;
  });
  return attr;
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `"${value}"` : typeof value;
}

/**
 * Reads a data set by keyword: a {@link DataSet} or a DICOM JSON data set
 * (PS3.18 Annex F) becomes an object keyed by the keywords of the data
 * dictionary (see {@link KeywordAttributes} for the value shapes). Elements
 * without a keyword of their own (private data elements, group lengths,
 * private creators, unknown tags) and values given by `BulkDataURI` are left
 * out: keep the DICOM JSON when they matter.
 *
 * @example
 * ```ts
 * toKeywords({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] }, '00280010': { vr: 'US', Value: [512] } });
 * // { PatientName: 'DOE^JANE', Rows: 512 }
 * ```
 *
 * @param dataSet - a data set or its DICOM JSON
 * @throws InvalidDicomJsonError when a plain object's keys are keywords (it is already in the keyword form)
 * @throws MixedKeysError when they mix keywords and tags
 */
export function toKeywords(dataSet: DataSet | DicomJsonDataSet): KeywordAttributes {
  const json = dataSet instanceof DataSet ? toDicomJson(dataSet) : dataSet;
  if (keyFormOf(json) === 'keywords') {
    throw new InvalidDicomJsonError('the keys are keywords, not tags: already in the keyword form');
  }
  const out: Record<string, unknown> = {};
  for (const [key, attr] of Object.entries(json)) {
    const tag = parseTag(key);
    const entry = tag === undefined ? undefined : lookupTag(tag);
    if (
      !entry ||
      entry.keyword === 'GroupLength' ||
      entry.keyword === 'PrivateCreator' ||
      attr.BulkDataURI !== undefined
    ) {
      continue;
    }
    out[entry.keyword] = readAttribute(attr);
  }
  return out as KeywordAttributes;
}

function readAttribute(attr: DicomJsonAttribute): unknown {
  if (attr.vr === 'SQ') {
    return (attr.Value ?? []).map((item) => toKeywords((item ?? {}) as DicomJsonDataSet));
  }
  if (attr.InlineBinary !== undefined) {
    const b = Buffer.from(attr.InlineBinary, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const values = (attr.Value ?? []).map((v) =>
    attr.vr === 'PN' && v !== null && typeof v === 'object' ? formatPersonName(v as PersonName) : v,
  );
  if (values.length === 0) return null;
  return values.length === 1 ? values[0] : values;
}
