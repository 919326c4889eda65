import {
  DataSetCompletenessCheck,
  DatasetError,
  DatasetErrorCode,
  formatTag,
  UnsupportedTransferSyntaxError,
} from '@dnet/dataset';
import { Status } from '@dnet/dimse';
import { errorCommentText } from './error-comment.js';

/**
 * The C-STORE status of a data set that is incomplete or malformed: C000H,
 * "Error: Cannot understand" (PS3.4 §B.2.3 Table B.2-1, the Cxxx range): the
 * SCP cannot take the data set as an instance, and sending it again unchanged
 * cannot succeed. The Error Comment (0000,0902) names the cut
 * ({@link dataSetProblemComment}).
 */
export const INCOMPLETE_DATA_SET_STATUS = Status.CANNOT_UNDERSTAND;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * Whether a C-STORE status keeps the instance: Success (0000H) or a Warning
 * (0001H, Bxxx: PS3.7 Annex C, PS3.4 §B.2.3). Anything else is a failure.
 *
 * @param status - the status a store handler returned
 */
export function keepsInstance(status: number): boolean {
  return (
    status === Status.SUCCESS ||
    status === Status.OPTIONAL_ATTRIBUTES_NOT_SUPPORTED ||
    (status & 0xf000) === Status.WARNING_B000
  );
}

/**
 * A short Error Comment (0000,0902) for a data set that failed the
 * completeness check: what is cut or wrong and where, without any server
 * detail, in the LO repertoire and within 64 characters (PS3.7 Annex C), e.g.
 * `data set ends inside (7FE0,0010) at offset 1234`. The offset is the byte of
 * the data set (inflated, for a deflated syntax) where the element left open
 * starts.
 *
 * @param error - what the check threw
 */
export function dataSetProblemComment(error: unknown): string {
  if (error instanceof DatasetError) {
    const at = error.offset === undefined ? '' : ` at offset ${error.offset}`;
    const where = error.tag === undefined ? '' : ` ${formatTag(error.tag)}`;
    switch (error.code) {
      case DatasetErrorCode.INCOMPLETE:
        if (error.tag !== undefined) return errorCommentText(`data set ends inside${where}${at}`);
        // A deflate stream cut before its last block (PS3.5 §A.5): the offset is in its bytes.
        if (error.message.startsWith('deflated')) {
          return errorCommentText(`deflated data set cut before its last block${at}`);
        }
        return errorCommentText(`data set ends inside an element header${at}`);
      case DatasetErrorCode.NESTING_TOO_DEEP:
        return errorCommentText(`data set nests sequences too deep${at}`);
      case DatasetErrorCode.INFLATED_TOO_LARGE:
        return errorCommentText('deflated data set inflates past the limit');
      default:
        return errorCommentText(`malformed data set${where}${at}`);
    }
  }
  return errorCommentText(String((error as Error)?.message ?? error));
}

/** Whether `error` is a data set problem the completeness check found (not a lost association). */
export function isDataSetProblem(error: unknown): error is DatasetError {
  return error instanceof DatasetError;
}

/**
 * Runs the completeness check of `@dnet/dataset` over a received data set
 * while its consumer (a store handler) reads it, in the same pass: each chunk
 * is pushed through the check before it is handed on, and the end of the
 * stream is reported only once the check has found the data set complete
 * (PS3.5 §7.1, §7.5.2, §A.4); otherwise the consumer's loop throws the
 * check's error (`IncompleteDataSetError`, `MalformedDataSetError`...), so a
 * handler that commits after its loop never commits a cut data set.
 *
 * {@link CompletenessGuard.settle} then decides, once the handler has
 * answered: a handler that kept the data set without reading it to its end
 * has the rest read through the check; the check's failure overrides its
 * status. A transfer syntax `@dnet/dataset` does not know (a private one) is
 * passed through unchecked.
 *
 * @example
 * ```ts
 * const guard = new CompletenessGuard(request.dataSet, transferSyntaxUid);
 * const status = await handler({ ...instance, dataSet: guard.dataSet });
 * const problem = await guard.settle(status === 0);
 * if (problem) answer(INCOMPLETE_DATA_SET_STATUS, dataSetProblemComment(problem));
 * ```
 */
export class CompletenessGuard {
  /** The data set as the consumer reads it: the source's chunks, checked. */
  readonly dataSet: AsyncIterable<Uint8Array>;
  readonly #source: AsyncIterable<Uint8Array>;
  readonly #check: DataSetCompletenessCheck | undefined;
  #iterator: AsyncIterator<Uint8Array> | undefined;
  /** The source's end was reached and the check passed. */
  #complete = false;
  /** The source was cancelled: the rest is dropped. */
  #cancelled = false;
  #failure: DatasetError | undefined;

  /**
   * @param source - the data set as it arrives (read once, by the guard)
   * @param transferSyntaxUid - the presentation context's transfer syntax
   */
  constructor(source: AsyncIterable<Uint8Array>, transferSyntaxUid: string) {
    this.#source = source;
    let check: DataSetCompletenessCheck | undefined;
    try {
      check = new DataSetCompletenessCheck(transferSyntaxUid);
    } catch (error) {
      if (!(error instanceof UnsupportedTransferSyntaxError)) throw error;
    }
    this.#check = check;
    let handedOut = false;
    this.dataSet = {
      [Symbol.asyncIterator]: () => {
        if (handedOut) throw new TypeError('a received data set has a single consumer');
        handedOut = true;
        return {
          next: () => this.#next(),
          // The consumer left its loop early: settle() reads or drops the rest.
          return: async () => DONE,
        };
      },
    };
  }

  /** The check's failure, once found. */
  get failure(): DatasetError | undefined {
    return this.#failure;
  }

  /** Whether the whole data set was read and found complete. */
  get complete(): boolean {
    return this.#complete;
  }

  async #next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#failure) throw this.#failure;
    if (this.#complete || this.#cancelled) return DONE;
    this.#iterator ??= this.#source[Symbol.asyncIterator]();
    const r = await this.#iterator.next();
    if (r.done) {
      await this.#end();
      return DONE;
    }
    await this.#push(r.value);
    return r;
  }

  async #push(chunk: Uint8Array): Promise<void> {
    try {
      this.#check?.push(chunk);
    } catch (error) {
      await this.#fail(error);
    }
  }

  async #end(): Promise<void> {
    try {
      await this.#check?.end();
    } catch (error) {
      await this.#fail(error);
    }
    this.#complete = true;
  }

  /** Records the check's failure, drops the rest of the data set, and throws. */
  async #fail(error: unknown): Promise<never> {
    if (!(error instanceof DatasetError)) throw error;
    this.#failure = error;
    await this.#cancel();
    throw error;
  }

  async #cancel(): Promise<void> {
    if (this.#cancelled || this.#complete) return;
    this.#cancelled = true;
    // Leaving the source's iteration cancels it (the association drops what still arrives).
    await this.#iterator?.return?.();
  }

  /**
   * Finishes with the data set once its handler has answered. When the
   * answer keeps the instance (`kept`: Success or a Warning) but the handler
   * did not read the data set to its end, the rest is read through the check
   * (nothing is kept); when the answer is a failure the rest is dropped.
   * Resolves the check's failure (the status must then be a failure), or
   * `undefined`. Rejects with the source's error when the association ends
   * while the rest is read.
   *
   * @param kept - whether the handler's status keeps the instance
   */
  async settle(kept: boolean): Promise<DatasetError | undefined> {
    if (this.#failure || this.#complete) return this.#failure;
    if (!kept) {
      // Never read: discard() of the source drops it; being read: cancelled here.
      if (this.#iterator) await this.#cancel();
      return undefined;
    }
    try {
      while (!(await this.#next()).done) {
        // Each chunk went through the check; nothing is kept.
      }
    } catch (error) {
      if (!(error instanceof DatasetError)) throw error;
    }
    return this.#failure;
  }
}
