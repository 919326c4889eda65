/**
 * A pull reader over a stream of byte chunks: the transcoder asks for exactly
 * the bytes it needs next (an element header, a fragment, a frame), so no
 * more than that plus one source chunk is held.
 */
import { CodecsError, CodecsErrorCode } from './errors.js';

/** Reads exact byte counts from an async iterable of chunks. */
export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #chunks: Uint8Array[] = [];
  #have = 0;
  #eof = false;
  /** Bytes consumed so far. */
  position = 0;

  /** @param source - the bytes, as chunks */
  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : toAsync(source as Iterable<Uint8Array>);
  }

  /** Buffers until `n` bytes are there or the input ends; returns how many are there. */
  async fill(n: number): Promise<number> {
    while (this.#have < n && !this.#eof) {
      const r = await this.#it.next();
      if (r.done) this.#eof = true;
      else if (r.value.length > 0) {
        this.#chunks.push(r.value);
        this.#have += r.value.length;
      }
    }
    return this.#have;
  }

  /** True when every byte has been read. */
  async atEnd(): Promise<boolean> {
    return (await this.fill(1)) === 0;
  }

  /** The next `n` bytes without consuming them (`n` must be buffered: call `fill`). */
  peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    // Join only the chunks that hold the first n bytes.
    let k = 0;
    let size = 0;
    while (size < n && k < this.#chunks.length) size += this.#chunks[k++]!.length;
    const joined = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < k; i++) {
      joined.set(this.#chunks[i]!, at);
      at += this.#chunks[i]!.length;
    }
    this.#chunks.splice(0, k, joined);
    return joined.subarray(0, n);
  }

  /**
   * Exactly `n` bytes, in one array (a view when they lie in one chunk).
   *
   * @throws CodecsError `DNET_CODECS_MALFORMED_PIXEL_DATA` when the input ends first
   */
  async read(n: number): Promise<Uint8Array> {
    if ((await this.fill(n)) < n) {
      throw new CodecsError(
        CodecsErrorCode.MALFORMED_PIXEL_DATA,
        `the data set ends ${n - this.#have} bytes short, at byte ${this.position + this.#have}`,
      );
    }
    const out = this.peek(n);
    this.#drop(n);
    return out;
  }

  /** Every remaining byte as chunks. */
  async *rest(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if ((await this.fill(1)) === 0) return;
      const c = this.#chunks.shift()!;
      this.#have -= c.length;
      this.position += c.length;
      yield c;
    }
  }

  #drop(n: number): void {
    this.position += n;
    this.#have -= n;
    while (n > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= n) {
        this.#chunks.shift();
        n -= first.length;
      } else {
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}

async function* toAsync(source: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* source;
}
