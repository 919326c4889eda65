/**
 * What the sender makes sure of before a data set's last byte leaves: the
 * data set is complete (the @dnet/dataset completeness check, run over the
 * bytes as they stream, no second pass), and a deflated one has an even
 * length (PS3.5 §A.5).
 */
import type { Association } from '@dnet/association';
import { DataSetCompletenessCheck, DatasetError } from '@dnet/dataset';
import { OddFragmentError } from '@dnet/dimse';
import { IncompleteSourceError } from './errors.js';
import type { ResolvedSource } from './store-source.js';

/**
 * Chunks the fragmenter holds before the first PDU leaves: @dnet/dimse's
 * `fragmentMessageAsync` puts the command and the first data set chunk in one
 * PDU and looks one chunk ahead, so nothing is written before it has two
 * chunks. A source failing while it makes its first or second chunk has
 * sent nothing; once two were handed over, PDUs may be out.
 */
const CHUNKS_BEFORE_FIRST_WRITE = 2;

/** How a guarded send went so far. */
interface GuardState {
  /** Chunks the association received from the data set handed to it. */
  pulls: number;
  /** The source itself failed (the check, a read error), not the association. */
  sourceFailed: boolean;
}

/** A source's bytes with the completeness check, and how to turn a failed send into the store's error. */
export interface GuardedDataSet {
  /** Wraps the source: its data set is checked as `open()` streams it. */
  source: ResolvedSource;
  /**
   * Once `dataSetFor` gave the bytes to send: checks a data set held in
   * memory whole (nothing sent if it is cut) and counts a stream's chunks.
   */
  ready(
    data: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<Iterable<Uint8Array> | AsyncIterable<Uint8Array>>;
  /**
   * The store's error for a failed C-STORE: a completeness failure becomes
   * {@link IncompleteSourceError} naming the source and the offset. When the
   * source failed after bytes of it went out (or the fragmenter refused an
   * odd last fragment), the peer waits for the rest of a message that will
   * never come: the association is aborted (A-ABORT, PS3.8 §7.3) and the
   * batch goes on over a new one.
   */
  failure(association: Association, error: unknown): unknown;
}

/**
 * Errors of a source's own making (a pixel transcoder's, a read error) that
 * ended its association because bytes of it had gone out: a batch reports
 * them, and does not send the source again as it would after a lost
 * association (the same bytes would fail the same way).
 */
const sourceFailures = new WeakSet<object>();

/** Whether a failed store's error is its source's own (see `GuardedDataSet.failure`). */
export function isSourceFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && sourceFailures.has(error);
}

/** What names a source in errors. */
function labelOf(source: ResolvedSource): string {
  return source.label ?? `SOP instance ${source.sopInstanceUid}`;
}

/**
 * Guards a store source: its data set bytes (in the source's own transfer
 * syntax, before any conversion) go through a
 * `DataSetCompletenessCheck`; with the data set's length known (a file),
 * an element whose length runs past the end fails at its header, before its
 * value is sent; an unclosed sequence or item is found at the end, before
 * the fragment with the last-fragment bit is handed out (the fragmenter
 * asks for the end of the stream before it marks the last fragment, PS3.8
 * Annex E.2). A DataSet object is encoded by us and not checked.
 *
 * @param source - the resolved source
 */
export function guardDataSet(source: ResolvedSource): GuardedDataSet {
  const state: GuardState = { pulls: 0, sourceFailed: false };
  let inMemory: Uint8Array[] | undefined;
  const syntax = source.transferSyntaxUid;
  const guarded: ResolvedSource =
    source.dataSet || syntax === undefined
      ? source
      : {
          ...source,
          open: (chunkSize, flushed) => {
            const raw = source.open(chunkSize, flushed);
            if (Array.isArray(raw)) {
              inMemory = raw;
              return raw;
            }
            return checkedStream(raw, syntax, source.expectedLength, state);
          },
        };
  return {
    source: guarded,
    async ready(data) {
      if (inMemory && syntax !== undefined) {
        const check = new DataSetCompletenessCheck(syntax, {
          expectedLength: inMemory.reduce((n, c) => n + c.length, 0),
        });
        try {
          for (const c of inMemory) check.push(c);
          await check.end();
        } catch (e) {
          state.sourceFailed = true;
          throw e;
        }
      }
      if (Array.isArray(data)) return data;
      return counted(data, state);
    },
    failure(association, error) {
      const partial =
        state.pulls >= CHUNKS_BEFORE_FIRST_WRITE ||
        (error instanceof OddFragmentError && !!inMemory);
      if (
        partial &&
        (state.sourceFailed || error instanceof OddFragmentError) &&
        association.state === 'Sta6'
      )
        association.abort();
      if (state.sourceFailed && error instanceof DatasetError)
        return new IncompleteSourceError(labelOf(source), error.offset, source.dataSetOffset, {
          cause: error,
        });
      if (state.sourceFailed && typeof error === 'object' && error !== null)
        sourceFailures.add(error);
      return error;
    },
  };
}

/** The source's chunks pushed through the completeness check on their way; its end awaited. */
async function* checkedStream(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  transferSyntaxUid: string,
  expectedLength: number | undefined,
  state: GuardState,
): AsyncGenerator<Uint8Array> {
  try {
    const check = new DataSetCompletenessCheck(transferSyntaxUid, {
      ...(expectedLength !== undefined && { expectedLength }),
    });
    for await (const c of chunks) {
      check.push(c);
      yield c;
    }
    await check.end();
  } catch (e) {
    state.sourceFailed = true;
    throw e;
  }
}

/**
 * Counts the chunks the association pulls (nothing is on the wire before the
 * third). What fails while making them is the source's failure too: a
 * converter's or a pixel transcoder's (a frame it cannot decode), not only
 * the completeness check's.
 */
async function* counted(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  state: GuardState,
): AsyncGenerator<Uint8Array> {
  const it = (
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]()
  ) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  try {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (e) {
        state.sourceFailed = true;
        throw e;
      }
      if (r.done) return;
      state.pulls++;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}
