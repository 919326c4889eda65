/**
 * The DICOM JSON Model (PS3.18 Annex F): a data set as a JSON object keyed by
 * eight hex digits, each attribute `{ vr, Value | InlineBinary | BulkDataURI }`.
 */
import { DataSet } from './data-set.js';
import { DEFAULT_MAX_DEPTH } from './decode.js';
import { swapBytes } from './encode.js';
import { InvalidDicomJsonError } from './errors.js';
import { parseTag, SPECIFIC_CHARACTER_SET_TAG, type Tag, tagToHex } from './tag.js';
import type { PersonName } from './values.js';
import { byteSwapUnit, isVr, usesCharacterSet, type Vr } from './vr.js';

/** One attribute of the DICOM JSON Model (PS3.18 §F.2.2). */
export interface DicomJsonAttribute {
  /** The VR (PS3.18 §F.2.3). */
  vr: string;
  /** The values: strings, numbers, Person Name objects or items (PS3.18 §F.2.4). */
  Value?: (string | number | PersonName | DicomJsonDataSet | null)[];
  /** Base64 of the value bytes, little endian (PS3.18 §F.2.7). */
  InlineBinary?: string;
  /** Where to fetch the value bytes (PS3.18 §F.2.6). */
  BulkDataURI?: string;
}

/** A data set in the DICOM JSON Model (PS3.18 §F.2.1). */
export type DicomJsonDataSet = Record<string, DicomJsonAttribute>;

/** Options of {@link toDicomJson}. */
export interface ToDicomJsonOptions {
  /**
   * Called for each binary value (OB, OD, OF, OL, OV, OW, UN); a returned URI is
   * written as `BulkDataURI` instead of `InlineBinary` (PS3.18 §F.2.6).
   */
  bulkDataUri?: (tag: Tag, bytes: Uint8Array) => string | undefined;
}

const BINARY_VRS = new Set<Vr>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMBER_VRS = new Set<Vr>(['DS', 'FL', 'FD', 'IS', 'SL', 'SS', 'UL', 'US', 'SV', 'UV']);

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function fromBase64(text: string): Uint8Array {
  const b = Buffer.from(text, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Converts a data set to the DICOM JSON Model (PS3.18 Annex F). Text is decoded
 * with the Specific Character Set; DS and IS become numbers, AT eight hex
 * digits, PN objects with component groups, binary values `InlineBinary`, and
 * encapsulated pixel data the concatenation of its fragments.
 *
 * @param dataSet - the data set
 * @param options - bulk data handling
 */
export function toDicomJson(dataSet: DataSet, options: ToDicomJsonOptions = {}): DicomJsonDataSet {
  const out: DicomJsonDataSet = {};
  for (const e of dataSet.elements()) {
    const key = tagToHex(e.tag);
    const attr: DicomJsonAttribute = { vr: e.vr };
    if (e.items) {
      // A UN of undefined length holding items is a sequence (PS3.5 §6.2.2).
      attr.vr = 'SQ';
      if (e.items.length > 0) attr.Value = e.items.map((i) => toDicomJson(i, options));
    } else if (e.fragments) {
      const bytes = Buffer.concat(e.fragments.slice(1));
      const uri = options.bulkDataUri?.(e.tag, bytes);
      if (uri) attr.BulkDataURI = uri;
      else attr.InlineBinary = toBase64(bytes);
    } else if (BINARY_VRS.has(e.vr)) {
      if (e.value && e.value.length > 0) {
        const unit = byteSwapUnit(e.vr);
        const le = e.bigEndian && unit > 1 ? swapBytes(e.value, unit) : e.value;
        const uri = options.bulkDataUri?.(e.tag, le);
        if (uri) attr.BulkDataURI = uri;
        else attr.InlineBinary = toBase64(le);
      }
    } else if (e.vr === 'PN') {
      const names = dataSet.personNames(e.tag);
      if (names.length > 0) {
        attr.Value = names.map((n) => (Object.keys(n).length === 0 ? null : n));
      }
    } else if (e.vr === 'AT') {
      const tags = dataSet.numbers(e.tag);
      if (tags.length > 0) attr.Value = tags.map(tagToHex);
    } else if (NUMBER_VRS.has(e.vr)) {
      if (e.vr === 'DS' || e.vr === 'IS') {
        const s = dataSet.strings(e.tag);
        if (s.length > 0) attr.Value = s.map((x) => (x === '' ? null : Number(x)));
      } else if (e.vr === 'SV' || e.vr === 'UV') {
        const b = dataSet.bigints(e.tag);
        if (b.length > 0) {
          attr.Value = b.map((x) =>
            x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= BigInt(Number.MIN_SAFE_INTEGER)
              ? Number(x)
              : x.toString(),
          );
        }
      } else {
        const n = dataSet.numbers(e.tag);
        if (n.length > 0) attr.Value = n;
      }
    } else {
      const s = dataSet.strings(e.tag);
      if (s.length > 0) attr.Value = s.map((x) => (x === '' ? null : x));
    }
    out[key] = attr;
  }
  return out;
}

/** Options of {@link fromDicomJson}. */
export interface FromDicomJsonOptions {
  /** Fetches the bytes of a `BulkDataURI`; without it such values are left empty. */
  bulkData?: (uri: string, tag: Tag) => Uint8Array | undefined;
  /** The deepest nesting of sequences accepted (default 64, as when decoding). */
  maxDepth?: number;
}

function hasNonAsciiText(json: DicomJsonDataSet, depth: number, maxDepth: number): boolean {
  if (depth > maxDepth) {
    throw new InvalidDicomJsonError(`sequences nested deeper than ${maxDepth}`);
  }
  if (typeof json !== 'object' || json === null) return false;
  for (const attr of Object.values(json)) {
    if (!attr || !Array.isArray(attr.Value)) continue;
    const vr = attr.vr as Vr;
    for (const v of attr.Value) {
      if (v === null) continue;
      if (vr === 'SQ' && typeof v === 'object') {
        if (hasNonAsciiText(v as DicomJsonDataSet, depth + 1, maxDepth)) return true;
      } else if (usesCharacterSet(vr)) {
        const text = typeof v === 'string' ? v : JSON.stringify(v);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range
        if (/[^\u0000-\u007f]/.test(text)) return true;
      }
    }
  }
  return false;
}

/**
 * Builds a data set from the DICOM JSON Model (PS3.18 Annex F). JSON text is
 * Unicode: when it holds characters outside ASCII, Specific Character Set is set
 * to `ISO_IR 192` (UTF-8) so that it can be encoded.
 *
 * @param json - the JSON object (already parsed)
 * @param options - bulk data resolution
 * @throws InvalidDicomJsonError when the document does not follow Annex F
 */
export function fromDicomJson(json: unknown, options: FromDicomJsonOptions = {}): DataSet {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidDicomJsonError('a DICOM JSON data set is an object (PS3.18 F.2.1)');
  }
  const doc = json as DicomJsonDataSet;
  const utf8 = hasNonAsciiText(doc, 0, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  return build(doc, options, utf8, undefined);
}

function build(
  json: DicomJsonDataSet,
  options: FromDicomJsonOptions,
  utf8: boolean,
  parent: DataSet | undefined,
): DataSet {
  const ds = new DataSet();
  ds.parent = parent;
  const keys = Object.keys(json).sort();
  // Specific Character Set first: it decides how the other text is encoded.
  const csKey = tagToHex(SPECIFIC_CHARACTER_SET_TAG);
  if (utf8 && parent === undefined) ds.setString(SPECIFIC_CHARACTER_SET_TAG, 'ISO_IR 192', 'CS');
  for (const key of keys) {
    const tag = parseTag(key);
    const attr = json[key];
    if (tag === undefined || key.length !== 8) {
      throw new InvalidDicomJsonError(`"${key}" is not eight hex digits (PS3.18 F.2.1.1)`);
    }
    if (
      typeof attr !== 'object' ||
      attr === null ||
      typeof attr.vr !== 'string' ||
      !isVr(attr.vr)
    ) {
      throw new InvalidDicomJsonError(`${key} has no valid "vr" (PS3.18 F.2.2)`, { tag });
    }
    if (key === csKey && utf8) continue;
    const vr: Vr = attr.vr;
    const values = attr.Value ?? [];
    if (!Array.isArray(values)) {
      throw new InvalidDicomJsonError(`${key} "Value" is not an array (PS3.18 F.2.4)`, { tag });
    }
    try {
      if (vr === 'SQ') {
        const items = values.map((v) => {
          if (typeof v !== 'object' || v === null) {
            throw new InvalidDicomJsonError(`${key} item is not an object (PS3.18 F.2.4)`, { tag });
          }
          return build(v as DicomJsonDataSet, options, utf8, ds);
        });
        ds.setSequence(tag, items);
      } else if (attr.InlineBinary !== undefined || attr.BulkDataURI !== undefined) {
        let bytes: Uint8Array = new Uint8Array(0);
        if (attr.InlineBinary !== undefined) bytes = fromBase64(attr.InlineBinary);
        else if (attr.BulkDataURI !== undefined) {
          bytes = options.bulkData?.(attr.BulkDataURI, tag) ?? bytes;
        }
        ds.setBytes(tag, bytes, vr);
      } else if (vr === 'PN') {
        ds.setPersonName(
          tag,
          values.map((v) => (v === null ? '' : typeof v === 'string' ? v : (v as PersonName))),
        );
      } else if (vr === 'AT') {
        ds.setNumber(
          tag,
          values.map((v) => {
            const t = typeof v === 'string' ? parseTag(v) : undefined;
            if (t === undefined) throw new InvalidDicomJsonError(`${key} AT value is not a tag`);
            return t;
          }),
          'AT',
        );
      } else if (vr === 'DS' || vr === 'IS') {
        ds.setString(
          tag,
          values.map((v) => (v === null ? '' : String(v))),
          vr,
        );
      } else if (NUMBER_VRS.has(vr)) {
        ds.setNumber(
          tag,
          values.map((v) => {
            if (typeof v === 'number') return v;
            if (typeof v === 'string' && (vr === 'SV' || vr === 'UV')) return BigInt(v);
            throw new InvalidDicomJsonError(`${key} value is not a number (PS3.18 F.2.3)`, { tag });
          }),
          vr,
        );
      } else if (BINARY_VRS.has(vr)) {
        ds.setBytes(tag, new Uint8Array(0), vr);
      } else {
        ds.setString(
          tag,
          values.map((v) => (v === null ? '' : String(v))),
          vr,
        );
      }
    } catch (e) {
      if (e instanceof InvalidDicomJsonError) throw e;
      throw new InvalidDicomJsonError(`${key} cannot be encoded: ${(e as Error).message}`, {
        tag,
        cause: e,
      });
    }
  }
  return ds;
}
