import { DataSetStream } from '@dnet/dimse';

/**
 * A data set arriving on an association: the `DataSetStream` of
 * `@dnet/dimse` (an async iterable with a bounded buffer; while the
 * consumer lags, the association stops reading its connection), plus two
 * conveniences. Each data set must be read to its end or discarded.
 *
 * @example
 * ```ts
 * association.handle('C-STORE', async (rq) => {
 *   for await (const chunk of rq.dataSet!) await file.write(chunk);
 *   await rq.respond(respondTo(rq.message, { status: 0x0000 }));
 * });
 * ```
 */
export class IncomingDataSet extends DataSetStream {
  #discarding = false;
  #reading = false;

  /** The chunks, in order; single use (see DataSetStream). */
  override [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const inner = super[Symbol.asyncIterator]();
    // Reading has begun at the first next() (when the stream's own iteration starts).
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => {
        this.#reading = true;
        return inner.next();
      },
      return: (value?: unknown) =>
        inner.return ? inner.return(value) : Promise.resolve({ done: true, value: undefined }),
      throw: (error?: unknown) => (inner.throw ? inner.throw(error) : Promise.reject(error)),
    };
  }

  /** Drops the data set: what is buffered and what still arrives is thrown away. */
  discard(): void {
    // Already being read (or read to its end): that reader owns it; a second
    // iteration would only fail (single consumer) after building an error.
    if (this.#discarding || this.#reading) return;
    this.#discarding = true;
    void (async () => {
      try {
        // Leaving the loop early cancels the stream (DataSetStream semantics).
        for await (const _ of this) break;
      } catch {
        // already consumed, or failed: nothing to drop
      }
    })();
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
}
