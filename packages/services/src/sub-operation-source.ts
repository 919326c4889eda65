import { InvalidSourceError } from './errors.js';
import type { ResolvedSource, StoreSource } from './store-source.js';

/**
 * The data set of one C-MOVE/C-GET sub-operation, watched while it is sent:
 * a source that fails before handing on a byte (a file that cannot be
 * opened or read) fails that sub-operation alone, since no C-STORE-RQ left;
 * one that fails after (a read error mid-file) has left its C-STORE-RQ
 * incomplete on the association. PS3.8 §9.3.5 has no way to end a message
 * early and the next message cannot begin while one is incomplete (PS3.8
 * Annex E.2), so that association must be aborted: {@link brokenBy} says so.
 */
export class WatchedSource {
  /** The source to send (the resolved one, its stream watched). */
  readonly source: StoreSource;
  #handedOn = false;
  #broken: InvalidSourceError | undefined;

  /** @param resolved - the sub-operation's resolved source */
  constructor(resolved: ResolvedSource) {
    if (resolved.dataSet) {
      // In memory: nothing to read, nothing to fail half-way.
      this.source = resolved.dataSet;
      return;
    }
    this.source = {
      sopClassUid: resolved.sopClassUid,
      sopInstanceUid: resolved.sopInstanceUid,
      transferSyntaxUid: resolved.transferSyntaxUid!,
      dataSet: (chunkSize) => {
        const stream = resolved.open(chunkSize);
        return Symbol.asyncIterator in stream
          ? this.#watch(stream, resolved.sopInstanceUid)
          : stream;
      },
    };
  }

  /**
   * The error, when the source failed after some of its bytes were handed to
   * the association (its C-STORE-RQ went out incomplete); `cause` is the
   * source's own error (the read error, with its errno and path).
   */
  get brokenBy(): InvalidSourceError | undefined {
    return this.#broken;
  }

  async *#watch(stream: AsyncIterable<Uint8Array>, uid: string): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of stream) {
        this.#handedOn = true;
        yield chunk;
      }
    } catch (cause) {
      if (this.#handedOn) {
        this.#broken = new InvalidSourceError(
          `the data set of ${uid} failed after its first bytes were sent: ${String(
            (cause as Error | undefined)?.message ?? cause,
          )}`,
          { cause },
        );
      }
      throw cause;
    }
  }
}
