import { InvalidOptionError, StreamClosedError } from './errors.js';

/** Options of {@link DataSetStream}. */
export interface DataSetStreamOptions {
  /**
   * Bytes buffered before {@link DataSetStream.push} asks the producer to
   * pause (default 1 MiB). Memory per stream stays near this plus one PDU.
   */
  highWaterMark?: number;
}

/** Default {@link DataSetStreamOptions.highWaterMark}: 1 MiB. */
export const DEFAULT_DATA_SET_HIGH_WATER_MARK = 1024 * 1024;

/**
 * A received data set as an async stream of chunks, with backpressure: the
 * bridge between a {@link Reassembler}'s `data` events (pushed as PDUs
 * arrive) and the handler that consumes the data set (a file write, a
 * parser). One producer, one consumer.
 *
 * The producer calls {@link DataSetStream.push} for each fragment; when it
 * returns `false`, it stops reading the connection until
 * {@link DataSetStream.drained} resolves. It calls {@link DataSetStream.end}
 * after the last fragment, or {@link DataSetStream.fail} when the
 * association is aborted. The consumer iterates with `for await`; leaving
 * the loop early cancels the stream (later pushes are dropped, and
 * `cancelled` tells the producer it may stop).
 *
 * @example
 * ```ts
 * // producer (association layer)
 * if (event.type === 'command' && event.message.hasDataSet) { stream = new DataSetStream(); handle(event.message, stream); }
 * if (event.type === 'data' && !stream.push(event.data)) { socket.pause(); stream.drained().then(() => socket.resume()); }
 * if (event.type === 'end') stream.end();
 * // consumer (service handler)
 * for await (const chunk of stream) await file.write(chunk);
 * ```
 */
export class DataSetStream implements AsyncIterable<Uint8Array> {
  readonly #highWaterMark: number;
  #queue: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #ended = false;
  #error: { error: unknown } | undefined;
  #cancelled = false;
  #iterating = false;
  #wakeConsumer: (() => void) | undefined;
  #drainWaiters: (() => void)[] = [];

  /** @param options - backpressure threshold. */
  constructor(options: DataSetStreamOptions = {}) {
    const hwm = options.highWaterMark ?? DEFAULT_DATA_SET_HIGH_WATER_MARK;
    if (!Number.isInteger(hwm) || hwm < 1)
      throw new InvalidOptionError('highWaterMark', `must be a positive integer, not ${hwm}`);
    this.#highWaterMark = hwm;
  }

  /** Bytes pushed and not yet taken by the consumer. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True once the consumer stopped early: the producer may stop pushing. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * Queues a chunk for the consumer. Returns `false` when the buffered bytes
   * reached the high-water mark: pause the source until {@link DataSetStream.drained}.
   */
  push(chunk: Uint8Array): boolean {
    if (this.#ended || this.#error)
      throw new StreamClosedError('DataSetStream.push() after end() or fail()');
    if (this.#cancelled) return true;
    if (chunk.length > 0) {
      this.#queue.push(chunk);
      this.#buffered += chunk.length;
      this.#wake();
    }
    return this.#buffered < this.#highWaterMark;
  }

  /** Marks the end of the data set (after its last fragment). */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Ends the stream with an error (the association was aborted); the consumer's loop throws it. */
  fail(error: unknown): void {
    if (this.#ended || this.#error) return;
    this.#error = { error };
    this.#wake();
    this.#releaseDrainWaiters();
  }

  /**
   * Drops the data set: what is buffered and what still arrives is thrown
   * away, a waiting producer is released, and a consumer's loop ends.
   */
  cancel(): void {
    if (this.#error) return;
    this.#cancel();
    this.#wake();
  }

  /** Resolves when the buffered bytes fall below the high-water mark, or the stream is cancelled or failed. */
  drained(): Promise<void> {
    if (this.#buffered < this.#highWaterMark || this.#cancelled || this.#error)
      return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #wake(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  #take(): Uint8Array | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const chunk = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as Uint8Array;
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#buffered -= chunk.length;
    if (this.#buffered < this.#highWaterMark) this.#releaseDrainWaiters();
    return chunk;
  }

  #cancel(): void {
    this.#cancelled = true;
    this.#queue = [];
    this.#head = 0;
    this.#buffered = 0;
    this.#releaseDrainWaiters();
  }

  /** The chunks, in order; single use. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterating) throw new StreamClosedError('a DataSetStream has a single consumer');
    this.#iterating = true;
    let done = false;
    try {
      for (;;) {
        if (this.#cancelled) {
          done = true;
          return;
        }
        const chunk = this.#take();
        if (chunk) {
          yield chunk;
          continue;
        }
        if (this.#error) throw this.#error.error;
        if (this.#ended) {
          done = true;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#wakeConsumer = resolve;
        });
      }
    } finally {
      if (!done && !this.#error) this.#cancel();
    }
  }
}
