/**
 * Whether a data set's bytes are complete, checked as they stream by: no
 * value is buffered and nothing is decoded beyond element headers, so the
 * check costs a few comparisons per element whatever the object's size.
 *
 * A data set is complete when it ends at an element boundary of the top level
 * (PS3.5 §7.1) with every sequence and item of undefined length closed by its
 * delimitation item (PS3.5 §7.5.2) and encapsulated Pixel Data closed by its
 * Sequence Delimitation Item (PS3.5 §A.4). A value of defined length is
 * skipped whole, sequences included: its bytes are either all there or the
 * data set ends inside it.
 */
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_INFLATED_SIZE } from './decode.js';
import { lookupTag } from './dictionary.js';
import {
  IncompleteDataSetError,
  InflatedTooLargeError,
  MalformedDataSetError,
  NestingTooDeepError,
} from './errors.js';
import { formatTag, ItemTag, PIXEL_DATA_TAG, type Tag } from './tag.js';
import { transferSyntaxInfo } from './uid.js';
import { hasLongHeader, unknownVrHasLongHeader, VR, type Vr } from './vr.js';

const UNDEFINED_LENGTH = 0xffffffff;

/** The VRs by their two bytes in an explicit VR header (PS3.5 §7.1.2). */
const VR_BY_CODE = new Map<number, Vr>(
  Object.values(VR).map((vr) => [(vr.charCodeAt(0) << 8) | vr.charCodeAt(1), vr]),
);

/** Marks a deflate stream that stopped before its final block. */
const cutDeflate = Symbol('cut deflate stream');

/** Options of {@link DataSetCompletenessCheck}. */
export interface CompletenessCheckOptions {
  /** The deepest nesting of undefined-length sequences accepted. Default 64 (as the decoder). */
  maxDepth?: number;
  /** For a deflated syntax, the largest inflated size accepted. Default 512 MiB (as the decoder). */
  maxInflatedSize?: number;
  /**
   * The data set's length in bytes when it is known before it arrives (a
   * file's size less the data set's offset). An element whose declared length
   * runs past it then fails at once, at its header, before its value is read
   * or sent. Ignored for a deflated syntax, whose encoded length says nothing
   * of the inflated one.
   */
  expectedLength?: number;
}

/**
 * What is open while the bytes go by. A data set (top level or an item of
 * undefined length) reads element headers; a sequence of undefined length reads
 * item headers; encapsulated Pixel Data reads fragment headers.
 */
type Frame =
  | { kind: 'data-set'; item: boolean; tag: Tag; start: number }
  | { kind: 'sequence'; tag: Tag; start: number }
  | { kind: 'fragments'; tag: Tag; start: number };

/** A value being skipped: where its element started and how many bytes remain. */
interface Skipping {
  tag: Tag;
  start: number;
  length: number;
  remaining: number;
}

/**
 * The structural walk over a non-deflated encoding, synchronous: element,
 * item and fragment headers are read (a header that straddles two chunks is
 * the only thing ever copied, at most 12 bytes), values are counted past.
 */
class StructureWalker {
  readonly #explicit: boolean;
  readonly #le: boolean;
  readonly #maxDepth: number;
  readonly #expected: number | undefined;
  readonly #stack: Frame[] = [{ kind: 'data-set', item: false, tag: 0, start: 0 }];
  readonly #header = new Uint8Array(12);
  readonly #headerView = new DataView(this.#header.buffer);
  #headerLength = 0;
  #skipping: Skipping | undefined;
  /** Sequences of undefined length open. */
  #depth = 0;
  /** Bytes consumed so far: the offset of the next byte. */
  offset = 0;

  constructor(explicit: boolean, littleEndian: boolean, options: CompletenessCheckOptions) {
    this.#explicit = explicit;
    this.#le = littleEndian;
    this.#maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.#expected = options.expectedLength;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      const skip = this.#skipping;
      if (skip) {
        const n = Math.min(skip.remaining, chunk.length - pos);
        skip.remaining -= n;
        pos += n;
        this.offset += n;
        if (skip.remaining === 0) this.#skipping = undefined;
        continue;
      }
      // Gather a header: 8 bytes, or 12 for an explicit VR element with a long header.
      const need = this.#headerNeed();
      const n = Math.min(need - this.#headerLength, chunk.length - pos);
      this.#header.set(chunk.subarray(pos, pos + n), this.#headerLength);
      this.#headerLength += n;
      pos += n;
      this.offset += n;
      if (this.#headerLength === this.#headerNeed()) {
        const start = this.offset - this.#headerLength;
        this.#headerLength = 0;
        this.#onHeader(start);
      }
    }
  }

  /** @throws IncompleteDataSetError when something is left open */
  end(): void {
    const skip = this.#skipping;
    if (this.#stack.length === 1 && !skip && this.#headerLength === 0) return;
    const at = this.offset;
    // Name the top-level element left open: that is where the cut lies for a reader.
    const open = this.#stack[1] ?? skip;
    if (!open) {
      throw new IncompleteDataSetError(
        `data set ends at byte ${at} inside an element header (${this.#headerLength} of its bytes present)`,
        { offset: at - this.#headerLength, end: at },
      );
    }
    const detail = describeOpen(this.#stack[this.#stack.length - 1]!, skip, this.#headerLength);
    throw new IncompleteDataSetError(
      `data set ends at byte ${at} inside ${describeTag(open.tag)} started at byte ${open.start} (${detail})`,
      { tag: open.tag, offset: open.start, end: at },
    );
  }

  #headerNeed(): number {
    const frame = this.#stack[this.#stack.length - 1]!;
    if (frame.kind !== 'data-set' || !this.#explicit || this.#headerLength < 6) return 8;
    // Item and delimitation tags carry no VR (PS3.5 §7.5).
    if (this.#tagOfHeader() === ItemTag.ItemDelimitation) return 8;
    return this.#longHeader() ? 12 : 8;
  }

  /** Whether the explicit VR header gathered has a 4-byte length (PS3.5 §7.1.2). */
  #longHeader(): boolean {
    const code = (this.#header[4]! << 8) | this.#header[5]!;
    const vr = VR_BY_CODE.get(code);
    // A VR code outside PS3.5 Table 6.2-1: its length field guessed as the decoder does.
    return vr === undefined ? unknownVrHasLongHeader(code >> 8, code & 0xff) : hasLongHeader(vr);
  }

  #tagOfHeader(): Tag {
    const dv = this.#headerView;
    return ((dv.getUint16(0, this.#le) << 16) | dv.getUint16(2, this.#le)) >>> 0;
  }

  #onHeader(start: number): void {
    const frame = this.#stack[this.#stack.length - 1]!;
    const tag = this.#tagOfHeader();
    const dv = this.#headerView;
    if (frame.kind === 'data-set') {
      if (tag === ItemTag.ItemDelimitation) {
        if (!frame.item) {
          throw new MalformedDataSetError('Item Delimitation Item outside an item (PS3.5 §7.5.2)', {
            tag,
            offset: start,
          });
        }
        this.#stack.pop();
        return;
      }
      if (tag === ItemTag.Item || tag === ItemTag.SequenceDelimitation) {
        throw new MalformedDataSetError(`unexpected ${formatTag(tag)} in a data set (PS3.5 §7.5)`, {
          tag,
          offset: start,
        });
      }
      let vr: Vr | undefined;
      let length: number;
      if (this.#explicit) {
        vr = VR_BY_CODE.get((this.#header[4]! << 8) | this.#header[5]!) ?? 'UN';
        length = this.#longHeader() ? dv.getUint32(8, this.#le) : dv.getUint16(6, this.#le);
      } else {
        length = dv.getUint32(4, this.#le);
      }
      if (length !== UNDEFINED_LENGTH) {
        this.#skip(tag, start, length);
        return;
      }
      // PS3.5 §7.1.1 and §A.4: undefined length is a sequence (SQ, or UN holding one,
      // PS3.5 §6.2.2) or encapsulated Pixel Data (OB/OW). In implicit VR the
      // dictionary decides, and an unknown tag is a sequence, as the decoder reads it.
      if (vr === undefined) vr = lookupTag(tag)?.vr ?? 'SQ';
      if (tag === PIXEL_DATA_TAG || vr === 'OB' || vr === 'OW') {
        this.#stack.push({ kind: 'fragments', tag, start });
      } else if (vr === 'SQ' || vr === 'UN') {
        if (++this.#depth > this.#maxDepth) {
          throw new NestingTooDeepError(this.#maxDepth, { tag, offset: start });
        }
        this.#stack.push({ kind: 'sequence', tag, start });
      } else {
        throw new MalformedDataSetError(
          `undefined length on ${formatTag(tag)} with VR ${vr} (PS3.5 §7.1.1)`,
          { tag, offset: start },
        );
      }
      return;
    }
    const length = dv.getUint32(4, this.#le);
    if (tag === ItemTag.SequenceDelimitation) {
      if (this.#stack.pop()!.kind === 'sequence') this.#depth--;
      return;
    }
    if (tag !== ItemTag.Item) {
      throw new MalformedDataSetError(
        `expected an item in ${formatTag(frame.tag)}, found ${formatTag(tag)} (PS3.5 §7.5, §A.4)`,
        { tag: frame.tag, offset: start },
      );
    }
    if (length === UNDEFINED_LENGTH) {
      if (frame.kind === 'fragments') {
        throw new MalformedDataSetError('fragment of undefined length (PS3.5 §A.4)', {
          tag: frame.tag,
          offset: start,
        });
      }
      this.#stack.push({ kind: 'data-set', item: true, tag: frame.tag, start });
      return;
    }
    this.#skip(frame.tag, start, length);
  }

  #skip(tag: Tag, start: number, length: number): void {
    if (this.#expected !== undefined && this.offset + length > this.#expected) {
      const present = Math.max(0, this.#expected - this.offset);
      const element = this.#stack[1] ?? { tag, start };
      throw new IncompleteDataSetError(
        `data set ends at byte ${this.#expected} inside ${describeTag(element.tag)} started at byte ${element.start} (a value needs ${length} bytes, ${present} present)`,
        { tag: element.tag, offset: element.start, end: this.#expected },
      );
    }
    if (length > 0) this.#skipping = { tag, start, length, remaining: length };
  }
}

function describeTag(tag: Tag): string {
  const keyword = lookupTag(tag)?.keyword;
  return keyword ? `${formatTag(tag)} ${keyword}` : formatTag(tag);
}

function describeOpen(frame: Frame, skip: Skipping | undefined, headerBytes: number): string {
  if (skip) return `a value needs ${skip.length} bytes, ${skip.length - skip.remaining} present`;
  if (headerBytes > 0) return `an element or item header is cut after ${headerBytes} bytes`;
  switch (frame.kind) {
    case 'sequence':
      return `sequence ${formatTag(frame.tag)} has no Sequence Delimitation Item (PS3.5 §7.5.2)`;
    case 'fragments':
      return 'encapsulated Pixel Data has no Sequence Delimitation Item (PS3.5 §A.4)';
    default:
      return 'an item of undefined length has no Item Delimitation Item (PS3.5 §7.5.2)';
  }
}

/**
 * Checks that a data set is complete as its bytes stream by (see the module
 * comment for what complete means). Push the bytes in any chunking, then
 * await {@link DataSetCompletenessCheck.end}. State is a few words per open
 * sequence; values are never buffered.
 *
 * @example
 * ```ts
 * const check = new DataSetCompletenessCheck(transferSyntaxUid, { expectedLength: size });
 * for await (const chunk of file.dataSetStream()) check.push(chunk);
 * await check.end(); // throws IncompleteDataSetError naming the element left open
 * ```
 */
export class DataSetCompletenessCheck {
  readonly #walker: StructureWalker;
  readonly #inflate: InflateRaw | undefined;
  #inflated = 0;
  #pushed = 0;
  #failure: unknown = undefined;
  readonly #maxInflated: number;

  /**
   * @param transferSyntaxUid - the data set's transfer syntax (any, encapsulated ones included)
   * @param options - limits and the expected length
   * @throws UnsupportedTransferSyntaxError for a syntax this package does not know
   */
  constructor(transferSyntaxUid: string, options: CompletenessCheckOptions = {}) {
    const ts = transferSyntaxInfo(transferSyntaxUid);
    this.#maxInflated = options.maxInflatedSize ?? DEFAULT_MAX_INFLATED_SIZE;
    this.#walker = new StructureWalker(
      ts.explicitVr,
      ts.littleEndian,
      ts.deflated ? { ...options, expectedLength: undefined } : options,
    );
    if (ts.deflated) {
      // PS3.5 §A.5: raw deflate (RFC 1951). The inflated bytes are walked as they come.
      const inflate = createInflateRaw();
      inflate.on('data', (chunk: Uint8Array) => {
        if (this.#failure) return;
        this.#inflated += chunk.length;
        try {
          if (this.#inflated > this.#maxInflated)
            throw new InflatedTooLargeError(this.#maxInflated);
          this.#walker.push(chunk);
        } catch (e) {
          this.#failure = e;
          inflate.destroy();
        }
      });
      inflate.on('error', (cause: Error & { code?: string }) => {
        // A deflate stream cut before its final block ends with Z_BUF_ERROR: the
        // data set is incomplete, and end() names what the inflated bytes left open.
        this.#failure ??=
          cause.code === 'Z_BUF_ERROR'
            ? cutDeflate
            : new MalformedDataSetError('deflated data set does not inflate (PS3.5 §A.5)', {
                cause,
              });
      });
      this.#inflate = inflate;
    }
  }

  /** Bytes of the data set pushed so far, as encoded (deflated bytes for a deflated syntax). */
  get offset(): number {
    return this.#pushed;
  }

  /**
   * Feeds the next bytes.
   *
   * @param chunk - the next bytes of the data set
   * @throws MalformedDataSetError, IncompleteDataSetError (with `expectedLength`),
   *   NestingTooDeepError as soon as the structure cannot be complete; for a
   *   deflated syntax these surface from {@link DataSetCompletenessCheck.end}
   */
  push(chunk: Uint8Array): void {
    this.#pushed += chunk.length;
    if (this.#inflate) {
      if (!this.#failure && chunk.length > 0) this.#inflate.write(chunk);
      return;
    }
    this.#walker.push(chunk);
  }

  /**
   * Ends the input.
   *
   * @throws IncompleteDataSetError when the data set stops inside an element,
   *   an undefined-length sequence or item, or encapsulated Pixel Data; the
   *   errors of {@link DataSetCompletenessCheck.push}
   */
  async end(): Promise<void> {
    const inflate = this.#inflate;
    if (inflate && !this.#failure) {
      await new Promise<void>((resolve) => {
        inflate.once('close', resolve);
        inflate.end();
        inflate.resume();
      });
    }
    if (this.#failure === cutDeflate) {
      this.#walker.end();
      throw new IncompleteDataSetError(
        `deflated data set ends at byte ${this.#pushed} before its last deflate block (PS3.5 §A.5)`,
        { offset: this.#pushed, end: this.#pushed },
      );
    }
    if (this.#failure) throw this.#failure;
    this.#walker.end();
  }
}

/**
 * Checks that one buffer holds a complete data set (see {@link DataSetCompletenessCheck}).
 *
 * @param bytes - the encoded data set
 * @param transferSyntaxUid - its transfer syntax
 * @param options - limits
 * @throws IncompleteDataSetError, MalformedDataSetError
 */
export async function checkDataSetComplete(
  bytes: Uint8Array,
  transferSyntaxUid: string,
  options: Omit<CompletenessCheckOptions, 'expectedLength'> = {},
): Promise<void> {
  const check = new DataSetCompletenessCheck(transferSyntaxUid, {
    ...options,
    expectedLength: bytes.length,
  });
  check.push(bytes);
  await check.end();
}
