/**
 * An incoming data set, as the chunks (PDV fragments, PS3.8 Annex E) arrive:
 * an async iterable with a bounded buffer. While more than `highWaterMark`
 * bytes wait unread, the association stops reading its connection, so a slow
 * consumer slows the peer down (backpressure end to end).
 *
 * Each data set must be read to its end or {@link DataSetStream.discard}ed.
 *
 * @example
 * ```ts
 * association.on('C-STORE-RQ', async (rq) => {
 *   for await (const chunk of rq.dataSet!) await file.write(chunk);
 *   await rq.respond(responseFor(rq.message, 0x0000));
 * });
 * ```
 */
export class DataSetStream implements AsyncIterable<Uint8Array> {
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #discarded = false;
  #iterating = false;
  #received = 0;
  readonly #highWaterMark: number;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  /** @param highWaterMark - unread bytes above which the producer waits */
  constructor(highWaterMark = 1 << 20) {
    this.#highWaterMark = highWaterMark;
  }

  /** Total bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** Bytes received and not yet read. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True once the last fragment arrived (or the stream failed or was discarded). */
  get ended(): boolean {
    return this.#ended;
  }

  /** @internal Adds a fragment. The chunk may be a view into a received buffer: it is not copied. */
  push(chunk: Uint8Array): void {
    if (this.#ended) return;
    this.#received += chunk.length;
    if (this.#discarded) return;
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    this.#wake();
  }

  /** @internal Marks the end of the data set. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** @internal Fails the stream (association aborted or lost). */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#error = error;
    this.#ended = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#wake();
  }

  /** @internal Resolves when the producer may push more (buffer under the high-water mark). */
  async ready(): Promise<void> {
    while (!this.#discarded && !this.#ended && this.#buffered > this.#highWaterMark) {
      await new Promise<void>((resolve) => {
        this.#wakeWriter = resolve;
      });
    }
  }

  /** Drops the data set: buffered and later fragments are thrown away. */
  discard(): void {
    this.#discarded = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#wake();
  }

  /** Reads the whole data set into one buffer (for small data sets: identifiers, N-service attributes). */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of this) {
      parts.push(chunk);
      length += chunk.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(length);
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }

  #wake(): void {
    const r = this.#wakeReader;
    this.#wakeReader = undefined;
    r?.();
    const w = this.#wakeWriter;
    this.#wakeWriter = undefined;
    w?.();
  }

  /** Yields the fragments in order; throws if the association ends before the last one. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterating) throw new Error('a data set can be read only once');
    this.#iterating = true;
    try {
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk) {
          this.#buffered -= chunk.length;
          if (this.#buffered <= this.#highWaterMark) {
            const w = this.#wakeWriter;
            this.#wakeWriter = undefined;
            w?.();
          }
          yield chunk;
          continue;
        }
        if (this.#error) throw this.#error;
        if (this.#ended || this.#discarded) return;
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
      }
    } finally {
      // Leaving early (break/throw) discards the rest so the association keeps going.
      if (!this.#ended) this.discard();
    }
  }
}
