/**
 * The element decoder: a data set from bytes in Implicit VR Little Endian
 * (PS3.5 §A.1), Explicit VR Little Endian (§A.2), Explicit VR Big Endian (§A.3),
 * Deflated Explicit VR Little Endian (§A.5), and the encapsulated syntaxes
 * (§A.4) whose pixel data fragments pass through untouched.
 */
import { inflateRawSync } from 'node:zlib';
import { type DataElement, DataSet } from './data-set.js';
import { lookupPrivateTag, lookupTag } from './dictionary.js';
import {
  InflatedTooLargeError,
  LengthExceedsDataError,
  MalformedDataSetError,
  NestingTooDeepError,
} from './errors.js';
import { formatTag, ItemTag, isPrivateTag, PIXEL_DATA_TAG, type Tag } from './tag.js';
import { transferSyntaxInfo } from './uid.js';
import { hasLongHeader, unknownVrHasLongHeader, VR, type Vr } from './vr.js';

/** Default for {@link DecodeOptions.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 64;
/** Default for {@link DecodeOptions.maxInflatedSize}: 512 MiB. */
export const DEFAULT_MAX_INFLATED_SIZE = 512 * 1024 * 1024;

/** Options of {@link decodeDataSet}. */
export interface DecodeOptions {
  /** The deepest nesting of sequences accepted; deeper throws `NestingTooDeepError`. Default 64. */
  maxDepth?: number;
  /**
   * For a deflated transfer syntax, the largest inflated size accepted in bytes;
   * larger throws `InflatedTooLargeError`. Default 512 MiB.
   */
  maxInflatedSize?: number;
  /** The Specific Character Set assumed when the data set has none. */
  defaultCharacterSet?: readonly string[];
  /** Stop before the first top-level element whose tag is at least this one. */
  stopAtTag?: Tag;
  /** Copy values out of the input instead of keeping views into it. Default false. */
  copyValues?: boolean;
}

/** How an element stream is encoded (PS3.5 §7.1.2, §7.1.3, §7.3). */
export interface Encoding {
  /** VR written in each element header. */
  explicit: boolean;
  /** Little endian byte order. */
  littleEndian: boolean;
}

const UNDEFINED_LENGTH = 0xffffffff;

/** The VRs by their two bytes in an explicit VR header (PS3.5 §7.1.2). */
const VR_BY_CODE = new Map<number, Vr>(
  Object.values(VR).map((vr) => [(vr.charCodeAt(0) << 8) | vr.charCodeAt(1), vr]),
);

/**
 * Inflates a deflated data set (PS3.5 §A.5: raw deflate, RFC 1951) with a cap on
 * the inflated size.
 *
 * @param bytes - the deflated bytes
 * @param maxInflatedSize - the cap in bytes
 * @throws InflatedTooLargeError when the data inflates beyond the cap
 * @throws MalformedDataSetError when the data is not a deflate stream
 */
export function inflateDataSet(
  bytes: Uint8Array,
  maxInflatedSize = DEFAULT_MAX_INFLATED_SIZE,
): Uint8Array {
  try {
    const out = inflateRawSync(bytes, { maxOutputLength: maxInflatedSize });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new InflatedTooLargeError(maxInflatedSize, { cause: e });
    }
    throw new MalformedDataSetError('deflated data set cannot be inflated (PS3.5 A.5)', {
      cause: e,
    });
  }
}

/**
 * Decodes a data set encoded in the given transfer syntax.
 *
 * Values are views into `bytes` (unless `copyValues`), so an untouched data set
 * encodes back to the same bytes. Implicit VR elements get their VR from the
 * data dictionary (private ones from their creator's dictionary, unknown ones
 * UN; PS3.5 §6.2.2).
 *
 * @param bytes - the encoded data set (no Part 10 header)
 * @param transferSyntaxUid - the transfer syntax of the bytes
 * @param options - limits and behaviour
 * @throws MalformedDataSetError, LengthExceedsDataError, NestingTooDeepError,
 *   InflatedTooLargeError, UnsupportedTransferSyntaxError
 */
export function decodeDataSet(
  bytes: Uint8Array,
  transferSyntaxUid: string,
  options: DecodeOptions = {},
): DataSet {
  const ts = transferSyntaxInfo(transferSyntaxUid);
  const input = ts.deflated ? inflateDataSet(bytes, options.maxInflatedSize) : bytes;
  const encoding = { explicit: ts.explicitVr, littleEndian: ts.littleEndian };
  const { dataSet } = decodeElements(input, encoding, options);
  return dataSet;
}

/**
 * Decodes elements from bytes with a given encoding; returns the data set and
 * the offset where decoding stopped (the end, or `stopAtTag`).
 *
 * @param bytes - the encoded elements
 * @param encoding - explicit VR or not, byte order
 * @param options - limits and behaviour
 */
export function decodeElements(
  bytes: Uint8Array,
  encoding: Encoding,
  options: DecodeOptions = {},
): { dataSet: DataSet; offset: number } {
  const reader = new Reader(bytes, options);
  const dataSet = new DataSet();
  if (options.defaultCharacterSet) dataSet.defaultCharacterSet = options.defaultCharacterSet;
  const offset = reader.dataSet(dataSet, 0, bytes.length, 0, false, encoding);
  return { dataSet, offset };
}

/**
 * The VR of an implicit VR element (PS3.5 §A.1): from the data dictionary, from
 * the private dictionary of its creator in `ds`, or UN (SQ for an undefined
 * length, PS3.5 §6.2.2). Elements with several VRs take OW for pixel-like data
 * and US or SS after Pixel Representation (0028,0103).
 *
 * @param tag - the element's tag
 * @param ds - the data set it belongs to (for private creators)
 * @param length - its value length (0xFFFFFFFF when undefined)
 */
export function implicitVr(tag: Tag, ds: DataSet, length: number): Vr {
  let entry = lookupTag(tag);
  if (!entry && isPrivateTag(tag) && (tag & 0xffff) >= 0x1000) {
    const creatorTag = ((tag & 0xffff0000) | ((tag >>> 8) & 0xff)) >>> 0;
    const creator = ds.string(creatorTag);
    if (creator) entry = lookupPrivateTag(creator, tag);
  }
  if (!entry) return length === UNDEFINED_LENGTH ? 'SQ' : 'UN';
  if (entry.vrs.length === 1) return entry.vr;
  if (entry.vrs.includes('OW')) return entry.vrs.includes('US') ? 'US' : 'OW';
  if (entry.vrs.includes('SS')) {
    let scope: DataSet | undefined = ds;
    while (scope) {
      const pr = scope.number(0x00280103);
      if (pr !== undefined) return pr === 1 ? 'SS' : 'US';
      scope = scope.parent;
    }
    return 'US';
  }
  return entry.vr;
}

/**
 * Decodes at most `maxElements` top-level elements from `bytes` into an
 * existing data set (used by the streaming converter); returns the offset after
 * the last element read.
 *
 * @param target - the data set that receives the elements
 * @param bytes - the encoded elements
 * @param encoding - explicit VR or not, byte order
 * @param options - limits
 * @param maxElements - how many top-level elements to read at most
 */
export function decodeElementsInto(
  target: DataSet,
  bytes: Uint8Array,
  encoding: Encoding,
  options: DecodeOptions = {},
  maxElements = Number.POSITIVE_INFINITY,
): number {
  const reader = new Reader(bytes, options, maxElements);
  return reader.dataSet(target, 0, bytes.length, 0, false, encoding);
}

class Reader {
  readonly #bytes: Uint8Array;
  readonly #dv: DataView;
  readonly #maxDepth: number;
  readonly #stopAt: number;
  readonly #copy: boolean;
  #topLevelLeft: number;

  constructor(bytes: Uint8Array, options: DecodeOptions, maxElements = Number.POSITIVE_INFINITY) {
    this.#topLevelLeft = maxElements;
    this.#bytes = bytes;
    this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#stopAt = options.stopAtTag ?? Number.POSITIVE_INFINITY;
    this.#copy = options.copyValues ?? false;
  }

  #tagAt(off: number, le: boolean): Tag {
    return ((this.#dv.getUint16(off, le) << 16) | this.#dv.getUint16(off + 2, le)) >>> 0;
  }

  #slice(start: number, end: number): Uint8Array {
    return this.#copy ? this.#bytes.slice(start, end) : this.#bytes.subarray(start, end);
  }

  /**
   * Reads elements into `ds` from `start` up to `end`, or up to an Item
   * Delimitation Item when `inUndefinedItem` (PS3.5 §7.5.2). Returns the offset
   * after the last byte consumed.
   */
  dataSet(
    ds: DataSet,
    start: number,
    end: number,
    depth: number,
    inUndefinedItem: boolean,
    enc: Encoding,
  ): number {
    const dv = this.#dv;
    const le = enc.littleEndian;
    let off = start;
    while (off < end) {
      if (end - off < 8) {
        throw new MalformedDataSetError(`${end - off} stray bytes at the end of a data set`, {
          offset: off,
        });
      }
      const tag = this.#tagAt(off, le);
      if (tag === ItemTag.ItemDelimitation) {
        if (!inUndefinedItem) {
          throw new MalformedDataSetError('Item Delimitation Item outside an item (PS3.5 7.5.2)', {
            tag,
            offset: off,
          });
        }
        return off + 8;
      }
      if (depth === 0 && (tag >= this.#stopAt || this.#topLevelLeft <= 0)) return off;
      if (tag === ItemTag.Item || tag === ItemTag.SequenceDelimitation) {
        throw new MalformedDataSetError(`unexpected ${formatTag(tag)} in a data set (PS3.5 7.5)`, {
          tag,
          offset: off,
        });
      }
      let vr: Vr;
      let length: number;
      let header: number;
      if (enc.explicit) {
        const code = (this.#bytes[off + 4]! << 8) | this.#bytes[off + 5]!;
        const known = VR_BY_CODE.get(code);
        // A VR code outside PS3.5 Table 6.2-1: read as UN, its length field
        // guessed from the code as DCMTK does (see unknownVrHasLongHeader).
        vr = known ?? 'UN';
        if (
          known === undefined ? unknownVrHasLongHeader(code >> 8, code & 0xff) : hasLongHeader(vr)
        ) {
          if (end - off < 12) {
            throw new MalformedDataSetError('truncated element header', { tag, offset: off });
          }
          length = dv.getUint32(off + 8, le);
          header = 12;
        } else {
          length = dv.getUint16(off + 6, le);
          header = 8;
        }
      } else {
        length = dv.getUint32(off + 4, le);
        header = 8;
        vr = implicitVr(tag, ds, length);
      }
      const valueStart = off + header;
      let element: DataElement;
      if (length === UNDEFINED_LENGTH) {
        if (vr === 'SQ' || vr === 'UN') {
          // PS3.5 §6.2.2: UN of undefined length holds a sequence in Implicit VR LE.
          const inner = vr === 'UN' ? { explicit: false, littleEndian: true } : enc;
          const r = this.#items(ds, valueStart, end, depth, false, inner, tag);
          element = { tag, vr, items: r.items, undefinedLength: true };
          off = r.offset;
        } else if (vr === 'OB' || vr === 'OW' || tag === PIXEL_DATA_TAG) {
          const r = this.#fragments(valueStart, end, le, tag);
          element = { tag, vr, fragments: r.fragments, undefinedLength: true };
          off = r.offset;
        } else {
          throw new MalformedDataSetError(
            `undefined length on ${formatTag(tag)} with VR ${vr} (PS3.5 7.1.1)`,
            { tag, offset: off },
          );
        }
      } else {
        if (length > end - valueStart) {
          throw new LengthExceedsDataError(length, end - valueStart, { tag, offset: off });
        }
        if (vr === 'SQ') {
          const r = this.#items(ds, valueStart, valueStart + length, depth, true, enc, tag);
          element = { tag, vr, items: r.items, undefinedLength: false };
        } else {
          const value = this.#slice(valueStart, valueStart + length);
          element = le ? { tag, vr, value } : { tag, vr, value, bigEndian: true };
        }
        off = valueStart + length;
      }
      ds.set(element);
      if (depth === 0) this.#topLevelLeft--;
    }
    if (inUndefinedItem) {
      throw new MalformedDataSetError('item of undefined length has no Item Delimitation Item', {
        offset: off,
      });
    }
    return off;
  }

  /** Reads the items of a sequence (PS3.5 §7.5). */
  #items(
    parent: DataSet,
    start: number,
    end: number,
    depth: number,
    definedLength: boolean,
    enc: Encoding,
    seqTag: Tag,
  ): { items: DataSet[]; offset: number } {
    if (depth + 1 > this.#maxDepth) {
      throw new NestingTooDeepError(this.#maxDepth, { tag: seqTag, offset: start });
    }
    const dv = this.#dv;
    const le = enc.littleEndian;
    const items: DataSet[] = [];
    let off = start;
    while (off < end || !definedLength) {
      if (end - off < 8) {
        throw new MalformedDataSetError(
          definedLength ? 'truncated item header' : 'sequence has no Sequence Delimitation Item',
          { tag: seqTag, offset: off },
        );
      }
      const tag = this.#tagAt(off, le);
      const length = dv.getUint32(off + 4, le);
      if (tag === ItemTag.SequenceDelimitation) {
        off += 8;
        if (!definedLength) return { items, offset: off };
        continue;
      }
      if (tag !== ItemTag.Item) {
        throw new MalformedDataSetError(`expected an item, found ${formatTag(tag)} (PS3.5 7.5)`, {
          tag: seqTag,
          offset: off,
        });
      }
      off += 8;
      const item = new DataSet();
      item.parent = parent;
      if (length === UNDEFINED_LENGTH) {
        item.undefinedLength = true;
        off = this.dataSet(item, off, end, depth + 1, true, enc);
      } else {
        if (length > end - off) {
          throw new LengthExceedsDataError(length, end - off, { tag: seqTag, offset: off - 8 });
        }
        item.undefinedLength = false;
        this.dataSet(item, off, off + length, depth + 1, false, enc);
        off += length;
      }
      items.push(item);
    }
    return { items, offset: off };
  }

  /** Reads encapsulated pixel data fragments (PS3.5 §A.4). */
  #fragments(
    start: number,
    end: number,
    le: boolean,
    tag: Tag,
  ): { fragments: Uint8Array[]; offset: number } {
    const dv = this.#dv;
    const fragments: Uint8Array[] = [];
    let off = start;
    for (;;) {
      if (end - off < 8) {
        throw new MalformedDataSetError(
          'encapsulated pixel data has no Sequence Delimitation Item',
          {
            tag,
            offset: off,
          },
        );
      }
      const t = this.#tagAt(off, le);
      const length = dv.getUint32(off + 4, le);
      off += 8;
      if (t === ItemTag.SequenceDelimitation) return { fragments, offset: off };
      if (t !== ItemTag.Item || length === UNDEFINED_LENGTH) {
        throw new MalformedDataSetError(`invalid fragment item ${formatTag(t)} (PS3.5 A.4)`, {
          tag,
          offset: off - 8,
        });
      }
      if (length > end - off) {
        throw new LengthExceedsDataError(length, end - off, { tag, offset: off - 8 });
      }
      fragments.push(this.#slice(off, off + length));
      off += length;
    }
  }
}
