/**
 * Conversion between transfer syntaxes (PS3.5 §10), for when the accepted
 * presentation context differs from the syntax a data set is held in: whole
 * ({@link convertTransferSyntax}) or as a stream ({@link TransferSyntaxConverter},
 * {@link createTransferSyntaxConverter}, {@link convertTransferSyntaxStream})
 * where large values pass through without being buffered.
 */
import { DataSet } from './data-set.js';
import {
  DEFAULT_MAX_INFLATED_SIZE,
  type DecodeOptions,
  decodeDataSet,
  decodeElementsInto,
  type Encoding,
  implicitVr,
} from './decode.js';
import { concatChunks, encodeDataSet, encodeElements, encodeHeader, swapBytes } from './encode.js';
import {
  DatasetError,
  InflatedTooLargeError,
  LengthExceedsDataError,
  MalformedDataSetError,
  UnsupportedTransferSyntaxError,
} from './errors.js';
import { formatTag, ItemTag, SPECIFIC_CHARACTER_SET_TAG, type Tag } from './tag.js';
import { type TransferSyntaxInfo, transferSyntaxInfo } from './uid.js';
import { byteSwapUnit, hasLongHeader, isVr, unknownVrHasLongHeader, type Vr } from './vr.js';

/**
 * The two syntaxes of a conversion; refuses what needs a pixel data codec:
 * to, from or between encapsulated syntaxes (PS3.5 §A.4).
 */
function conversion(fromUid: string, toUid: string): [TransferSyntaxInfo, TransferSyntaxInfo] {
  const from = transferSyntaxInfo(fromUid);
  const to = transferSyntaxInfo(toUid);
  if (from.uid !== to.uid && (from.encapsulated || to.encapsulated)) {
    const which = from.encapsulated ? from.uid : to.uid;
    throw new UnsupportedTransferSyntaxError(which, {
      cause: new Error(`converting ${from.uid} to ${to.uid} needs a pixel data codec`),
    });
  }
  return [from, to];
}

/**
 * Re-encodes a data set from one transfer syntax to another. When both are the
 * same the bytes are returned untouched. Element values are carried over as
 * bytes (swapped per VR between little and big endian, PS3.5 §7.3); implicit VR
 * elements take the dictionary's VR, unknown ones UN (PS3.5 §6.2.2).
 *
 * @param bytes - the encoded data set
 * @param fromTransferSyntaxUid - the syntax of `bytes`
 * @param toTransferSyntaxUid - the syntax wanted
 * @param options - decoding limits
 * @throws UnsupportedTransferSyntaxError when either syntax is encapsulated and they differ
 */
export function convertTransferSyntax(
  bytes: Uint8Array,
  fromTransferSyntaxUid: string,
  toTransferSyntaxUid: string,
  options: DecodeOptions = {},
): Uint8Array {
  const [from, to] = conversion(fromTransferSyntaxUid, toTransferSyntaxUid);
  if (from.uid === to.uid) return bytes;
  return encodeDataSet(decodeDataSet(bytes, from.uid, options), to.uid);
}

/** Options of the streaming converter. */
export interface TransferSyntaxConverterOptions extends DecodeOptions {
  /**
   * The largest top-level element held whole in memory (a sequence, or a value
   * of undefined length), in bytes; larger throws. Default 64 MiB. Other values
   * larger than 1 KiB stream through.
   */
  maxBufferedElement?: number;
}

/** Default of {@link TransferSyntaxConverterOptions.maxBufferedElement}: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_ELEMENT = 64 * 1024 * 1024;

const UNDEFINED_LENGTH = 0xffffffff;
/** Values up to this size are decoded whole (and kept for VR decisions). */
const SMALL_VALUE = 1024;

/** Where converted chunks are written. */
interface Sink {
  push(...chunks: Uint8Array[]): unknown;
}

/** A converted group held back behind its Group Length. */
class HeldGroup implements Sink {
  /** Converted bytes of the group's other elements. */
  readonly chunks: Uint8Array[] = [];
  /** Their total length: the value of the Group Length. */
  length = 0;

  /** @param tag - the Group Length tag (gggg,0000) */
  constructor(readonly tag: Tag) {}

  push(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.length += c.length;
    this.chunks.push(...chunks);
  }
}

/** A value being passed through. */
interface Passing {
  remaining: number;
  unit: number;
  swap: boolean;
  carry: Uint8Array;
}

/**
 * An incremental converter between two non-deflated transfer syntaxes: push
 * chunks of the source encoding, get chunks of the target encoding. Sequences
 * and undefined-length values are buffered whole (bounded by
 * `maxBufferedElement`); other large values are passed through chunk by chunk,
 * byte-swapped when the byte order changes.
 *
 * Group Length (gggg,0000, PS3.5 §7.2; retired outside groups 0000 and 0002
 * but still met) keeps its value when only the byte order changes. When the
 * change between explicit and implicit VR changes header sizes, its new value
 * is known only once its group has gone by: the converted group is then held
 * back, up to `maxBufferedElement` bytes, and written after the recomputed
 * Group Length, as `dcmconv` does by default (`+g=`). A group whose source
 * length already exceeds that bound (e.g. a (7FE0,0000) before gigabytes of
 * Pixel Data), or grows past it, is streamed without its Group Length: the
 * element is optional there and a wrong value would mislead readers that
 * skip groups by it.
 */
export class TransferSyntaxConverter {
  readonly #from: Encoding;
  readonly #to: Encoding;
  readonly #options: TransferSyntaxConverterOptions;
  readonly #maxBuffered: number;
  /** Small top-level elements seen so far: private creators, Pixel Representation. */
  readonly #context = new DataSet();
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #passing: Passing | undefined;
  #lastAttempt = 0;
  /** A group held back until its Group Length can be written (see the class comment). */
  #group: HeldGroup | undefined;

  /**
   * @param fromTransferSyntaxUid - the source syntax (not deflated)
   * @param toTransferSyntaxUid - the target syntax (not deflated)
   * @param options - limits
   */
  constructor(
    fromTransferSyntaxUid: string,
    toTransferSyntaxUid: string,
    options: TransferSyntaxConverterOptions = {},
  ) {
    const [from, to] = conversion(fromTransferSyntaxUid, toTransferSyntaxUid);
    this.#from = { explicit: from.explicitVr, littleEndian: from.littleEndian };
    this.#to = { explicit: to.explicitVr, littleEndian: to.littleEndian };
    this.#options = options;
    this.#maxBuffered = options.maxBufferedElement ?? DEFAULT_MAX_BUFFERED_ELEMENT;
    if (options.defaultCharacterSet)
      this.#context.defaultCharacterSet = options.defaultCharacterSet;
  }

  /**
   * Feeds source bytes; returns the target bytes that are ready.
   *
   * @param chunk - the next source bytes
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingLength += chunk.length;
    }
    return this.#drain(false);
  }

  /** Ends the input; returns the last target bytes. @throws MalformedDataSetError when the input stops mid-element */
  end(): Uint8Array[] {
    const out = this.#drain(true);
    if (this.#passing || this.#pendingLength > 0) {
      throw new MalformedDataSetError('data set ends in the middle of an element');
    }
    this.#closeGroup(out, true);
    return out;
  }

  /** Writes a held group: its recomputed Group Length (when `keep`), then its elements. */
  #closeGroup(out: Uint8Array[], keep: boolean): void {
    const g = this.#group;
    if (!g) return;
    this.#group = undefined;
    if (keep) {
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, g.length, this.#to.littleEndian);
      out.push(encodeHeader(g.tag, 'UL', 4, this.#to), value);
    }
    out.push(...g.chunks);
  }

  #peek(n: number): Uint8Array {
    const first = this.#pending[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = concatChunks(this.#pending);
    this.#pending = [joined];
    return joined.subarray(0, n);
  }

  #take(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (n > 0) {
      const first = this.#pending[0]!;
      if (first.length <= n) {
        out.push(first);
        this.#pending.shift();
        n -= first.length;
        this.#pendingLength -= first.length;
      } else {
        out.push(first.subarray(0, n));
        this.#pending[0] = first.subarray(n);
        this.#pendingLength -= n;
        n = 0;
      }
    }
    return out;
  }

  #drain(eof: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const g = this.#group;
      if (g && g.length > this.#maxBuffered) this.#closeGroup(out, false);
      if (this.#passing) {
        if (this.#pendingLength === 0) return out;
        this.#pass(this.#sink(out));
        continue;
      }
      if (this.#pendingLength < 8) return out;
      if (g) {
        // The held group ends at the first element of another group (or at a
        // second Group Length, which starts its own).
        const head = this.#peek(4);
        const dv = new DataView(head.buffer, head.byteOffset, 4);
        const le = this.#from.littleEndian;
        if (dv.getUint16(0, le) !== g.tag >>> 16 || dv.getUint16(2, le) === 0) {
          this.#closeGroup(out, true);
        }
      }
      const step = this.#element(eof, this.#sink(out));
      if (!step) return out;
    }
  }

  /** Where converted bytes go: the held group, or out. */
  #sink(out: Sink): Sink {
    return this.#group ?? out;
  }

  /** Passes value bytes through, swapping whole units. */
  #pass(out: Sink): void {
    const p = this.#passing!;
    const n = Math.min(p.remaining, this.#pendingLength);
    p.remaining -= n;
    for (const piece of this.#take(n)) {
      if (!p.swap) {
        out.push(piece);
        continue;
      }
      const joined = p.carry.length > 0 ? concatChunks([p.carry, piece]) : piece;
      const whole = joined.length - (joined.length % p.unit);
      if (whole > 0) out.push(swapBytes(joined.subarray(0, whole), p.unit));
      p.carry = joined.slice(whole);
    }
    if (p.remaining === 0) {
      if (p.carry.length > 0) out.push(p.carry);
      this.#passing = undefined;
    }
  }

  /** Converts the next top-level element if enough bytes are there; false to wait. */
  #element(eof: boolean, out: Sink): boolean {
    const le = this.#from.littleEndian;
    const head = this.#peek(Math.min(12, this.#pendingLength));
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const tag: Tag = ((dv.getUint16(0, le) << 16) | dv.getUint16(2, le)) >>> 0;
    if (
      tag === ItemTag.Item ||
      tag === ItemTag.ItemDelimitation ||
      tag === ItemTag.SequenceDelimitation
    ) {
      throw new MalformedDataSetError(`unexpected ${formatTag(tag)} at the top level (PS3.5 7.5)`, {
        tag,
      });
    }
    let vr: Vr;
    let length: number;
    let header: number;
    if (this.#from.explicit) {
      const text = String.fromCharCode(head[4]!, head[5]!);
      // A VR code outside PS3.5 Table 6.2-1 is read as UN, as the decoder does.
      const known = isVr(text);
      vr = known ? text : 'UN';
      if (known ? hasLongHeader(vr) : unknownVrHasLongHeader(head[4]!, head[5]!)) {
        if (head.length < 12) return false;
        length = dv.getUint32(8, le);
        header = 12;
      } else {
        length = dv.getUint16(6, le);
        header = 8;
      }
    } else {
      length = dv.getUint32(4, le);
      header = 8;
      vr = implicitVr(tag, this.#context, length);
    }
    const whole = length === UNDEFINED_LENGTH || vr === 'SQ' || length <= SMALL_VALUE;
    if (!whole) {
      // A large plain value: write its header, then pass the bytes through.
      const outVr: Vr = this.#to.explicit && !hasLongHeader(vr) && length > 0xffff ? 'UN' : vr;
      out.push(encodeHeader(tag, outVr, length, this.#to));
      this.#take(header);
      const unit = byteSwapUnit(vr);
      this.#passing = {
        remaining: length,
        unit,
        swap: unit > 1 && this.#from.littleEndian !== this.#to.littleEndian,
        carry: new Uint8Array(0),
      };
      return true;
    }
    if (length !== UNDEFINED_LENGTH) {
      const total = header + length;
      if (total > this.#maxBuffered) {
        throw new LengthExceedsDataError(total, this.#maxBuffered, { tag });
      }
      if (this.#pendingLength < total) return false;
      this.#emit(this.#peek(total), total, out);
      return true;
    }
    // Undefined length: try to decode once enough new bytes have arrived.
    if (!eof && this.#pendingLength < this.#lastAttempt * 2) return false;
    this.#lastAttempt = this.#pendingLength;
    const bytes = this.#peek(this.#pendingLength);
    const probe = new DataSet();
    probe.parent = this.#context;
    let end: number;
    try {
      end = decodeElementsInto(probe, bytes, this.#from, this.#options, 1);
    } catch (e) {
      if (!eof && e instanceof DatasetError && e.code !== 'DNET_DATASET_NESTING_TOO_DEEP') {
        if (this.#pendingLength > this.#maxBuffered) {
          throw new LengthExceedsDataError(this.#pendingLength, this.#maxBuffered, {
            tag,
            cause: e,
          });
        }
        return false;
      }
      throw e;
    }
    this.#lastAttempt = 0;
    this.#emit(bytes, end, out);
    return true;
  }

  /** Decodes one whole element from the first `n` bytes and writes it in the target syntax. */
  #emit(bytes: Uint8Array, n: number, out: Sink): void {
    const one = new DataSet();
    one.parent = this.#context;
    decodeElementsInto(one, bytes.slice(0, n), this.#from, this.#options, 1);
    const element = one.elements()[0]!;
    this.#take(n);
    // A Group Length (PS3.5 §7.2) whose value changes with the VR encoding:
    // its group is held back and the length recomputed (see the class comment).
    const groupLength = (element.tag & 0xffff) === 0;
    if (groupLength && this.#from.explicit !== this.#to.explicit) {
      const v = element.value;
      const source =
        v?.length === 4
          ? new DataView(v.buffer, v.byteOffset, 4).getUint32(0, this.#from.littleEndian)
          : undefined;
      if (source !== undefined && source <= this.#maxBuffered) {
        this.#group = new HeldGroup(element.tag);
      }
      return;
    }
    out.push(...encodeElements([element], this.#to));
    if (element.value && element.value.length <= SMALL_VALUE) {
      if (element.tag === SPECIFIC_CHARACTER_SET_TAG || element.tag === 0x00280103) {
        this.#context.set(element);
      } else if ((element.tag >>> 16) % 2 === 1 && (element.tag & 0xffff) <= 0x00ff) {
        this.#context.set(element); // a private creator (PS3.5 §7.8.1)
      }
    }
  }
}

/** Passes bytes on and counts them against the inflate limit (PS3.5 §A.5). */
function inflateLimit(max: number): TransformStream<Uint8Array, Uint8Array> {
  let n = 0;
  return new TransformStream({
    transform(chunk, controller) {
      n += chunk.length;
      if (n > max) throw new InflatedTooLargeError(max);
      controller.enqueue(chunk);
    },
  });
}

/** Pads a stream to an even length with a zero byte (PS3.5 §A.5, §7.1.1). */
function evenLength(): TransformStream<Uint8Array, Uint8Array> {
  let n = 0;
  return new TransformStream({
    transform(chunk, controller) {
      n += chunk.length;
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (n % 2 === 1) controller.enqueue(new Uint8Array(1));
    },
  });
}

/**
 * A web `TransformStream` that converts a data set between any two of the
 * uncompressed transfer syntaxes, deflated ones included (inflated with the
 * `maxInflatedSize` cap, deflated with the platform's raw deflate).
 *
 * @param fromTransferSyntaxUid - the source syntax
 * @param toTransferSyntaxUid - the target syntax
 * @param options - limits
 */
export function createTransferSyntaxConverter(
  fromTransferSyntaxUid: string,
  toTransferSyntaxUid: string,
  options: TransferSyntaxConverterOptions = {},
): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
  const [from, to] = conversion(fromTransferSyntaxUid, toTransferSyntaxUid);
  const plain = (ts: typeof from) => (ts.deflated ? '1.2.840.10008.1.2.1' : ts.uid);
  if (from.uid === to.uid) return new TransformStream<Uint8Array, Uint8Array>();
  const converter = new TransferSyntaxConverter(plain(from), plain(to), options);
  const core = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const c of converter.push(chunk)) controller.enqueue(c);
    },
    flush(controller) {
      for (const c of converter.end()) controller.enqueue(c);
    },
  });
  let writable: WritableStream<Uint8Array> = core.writable;
  let readable: ReadableStream<Uint8Array> = core.readable;
  if (from.deflated) {
    const inflate = new DecompressionStream('deflate-raw');
    const limit = inflateLimit(options.maxInflatedSize ?? DEFAULT_MAX_INFLATED_SIZE);
    inflate.readable
      .pipeThrough(limit)
      .pipeTo(core.writable)
      .catch(() => {});
    writable = inflate.writable as WritableStream<Uint8Array>;
  }
  if (to.deflated) {
    readable = core.readable
      .pipeThrough(new CompressionStream('deflate-raw') as TransformStream<Uint8Array, Uint8Array>)
      .pipeThrough(evenLength());
  }
  return { readable, writable };
}

/**
 * Converts a stream of data set chunks between two transfer syntaxes (an async
 * iterable in, an async iterable out), with the same bounds as
 * {@link createTransferSyntaxConverter}.
 *
 * @param source - the data set's bytes in the source syntax
 * @param fromTransferSyntaxUid - the source syntax
 * @param toTransferSyntaxUid - the target syntax
 * @param options - limits
 */
export async function* convertTransferSyntaxStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fromTransferSyntaxUid: string,
  toTransferSyntaxUid: string,
  options: TransferSyntaxConverterOptions = {},
): AsyncGenerator<Uint8Array> {
  const [from, to] = conversion(fromTransferSyntaxUid, toTransferSyntaxUid);
  if (!from.deflated && !to.deflated) {
    if (from.uid === to.uid) {
      yield* source;
      return;
    }
    const converter = new TransferSyntaxConverter(from.uid, to.uid, options);
    for await (const chunk of source) yield* converter.push(chunk);
    yield* converter.end();
    return;
  }
  const { readable, writable } = createTransferSyntaxConverter(from.uid, to.uid, options);
  const writer = writable.getWriter();
  const feeding = (async () => {
    try {
      for await (const chunk of source) await writer.write(chunk);
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => {});
    }
  })();
  try {
    for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) yield chunk;
  } finally {
    await feeding;
  }
}
