/**
 * A batch of C-STOREs (PS3.4 Annex B) that survives the loss of its
 * association: every source gets its outcome, and when the association ends
 * mid-batch (the peer's A-ABORT, a reset, PS3.8 §7.3-7.4) the sources not
 * answered go on over a new one, a bounded number of times.
 */
import type { Association } from '@dnet/association';
import type { StoreManyOptions, StoreManyResult, StoreResult } from './client-types.js';
import { IncompleteSourceError } from './errors.js';
import { isSourceFailure } from './store-check.js';
import type { StoreSource } from './store-source.js';

/** New associations {@link StoreManyOptions.retries} opens by default after one is lost mid-batch. */
export const DEFAULT_STORE_RETRIES = 3;
/** Largest {@link StoreManyOptions.retries}. */
const MAX_RETRIES = 100;
/** Sources `Client.storeMany` prepares ahead of those being sent, by default. */
export const DEFAULT_PREFETCH = 2;
/** Largest {@link StoreManyOptions.prefetch}. */
const MAX_PREFETCH = 16;

/** What a batch needs of its client: the association, a way to open a new one, and the two steps of a store. */
export interface StoreBatchHost<P> {
  /** The association the client has now. */
  association(): Association;
  /** Opens a new association in place of a lost one (the client's own options); undefined: none can be. */
  reconnect: (() => Promise<Association>) | undefined;
  /** Resolves a source and picks its context on an association. */
  prepare(association: Association, source: StoreSource): Promise<P>;
  /** Sends a prepared source; resolves its result, rejects with its failure. */
  send(association: Association, prepared: P): Promise<StoreResult>;
  /** Gives up a prepared source never sent (its buffers). */
  drop?(prepared: P): void;
}

/** An association is usable while it is established (PS3.8 §9.2, Sta6). */
function alive(association: Association): boolean {
  return association.state === 'Sta6';
}

/**
 * Runs a batch store (see {@link StoreBatchHost}): up to `concurrency`
 * operations outstanding on the current association, sources prepared
 * ahead. When the association is lost, sources answered keep their outcome
 * (nothing acknowledged is sent again); each one in flight is retried once,
 * alone, on a new association, and reported failed if that fails too; the
 * sources not yet sent go on. At most `retries` new associations are opened
 * for the whole batch; past that (or when the client cannot reconnect) the
 * sources left are reported failed with the error that ended the last
 * association. A source that fails by itself (a failure status, a cut file)
 * is reported and not retried.
 *
 * @throws the signal's reason when `options.signal` aborts
 */
export async function storeBatch<P>(
  host: StoreBatchHost<P>,
  list: readonly StoreSource[],
  options: StoreManyOptions,
): Promise<StoreManyResult> {
  const results: (StoreResult | Error)[] = new Array(list.length);
  const retries = Math.max(0, Math.min(options.retries ?? DEFAULT_STORE_RETRIES, MAX_RETRIES));
  let reconnections = 0;
  let stored = 0;
  let done = 0;
  const report = (i: number, result: StoreResult | Error): void => {
    results[i] = result;
    if (!(result instanceof Error)) stored++;
    done++;
    options.onProgress?.({ done, total: list.length, source: list[i]!, result });
  };

  /** A usable association: the current one, else a new one while retries remain. */
  const usable = async (): Promise<{ association?: Association; error?: Error }> => {
    let error: Error | undefined;
    for (;;) {
      const current = host.association();
      if (alive(current)) return { association: current };
      if (!host.reconnect || reconnections >= retries) return { error };
      options.signal?.throwIfAborted();
      reconnections++;
      try {
        await host.reconnect();
      } catch (e) {
        error = e as Error;
      }
    }
  };

  let pending = list.map((_, i) => i);
  let lostBy: Error | undefined;
  while (pending.length > 0) {
    const { association, error } = await usable();
    if (!association) {
      const why = error ?? lostBy;
      for (const i of pending)
        report(i, why ?? new Error('the association ended before this source was sent'));
      break;
    }
    const run = await runOn(host, association, list, pending, options, report);
    if (run.interrupted.length === 0 && run.rest.length === 0) break;
    lostBy = run.lostBy;
    // Each source in flight when the association broke: once more, alone.
    for (const i of run.interrupted) {
      const next = await usable();
      if (!next.association) {
        report(i, next.error ?? run.lostBy ?? new Error('association lost'));
        continue;
      }
      try {
        report(
          i,
          await host.send(next.association, await host.prepare(next.association, list[i]!)),
        );
      } catch (e) {
        options.signal?.throwIfAborted();
        report(i, e as Error);
        if (!alive(next.association)) lostBy = e as Error;
      }
    }
    pending = run.rest;
  }
  return { stored, failed: list.length - stored, results };
}

/** One pass over `pending` on one association: what was in flight when it broke, and what was never sent. */
async function runOn<P>(
  host: StoreBatchHost<P>,
  association: Association,
  list: readonly StoreSource[],
  pending: readonly number[],
  options: StoreManyOptions,
  report: (i: number, result: StoreResult | Error) => void,
): Promise<{ interrupted: number[]; rest: number[]; lostBy: Error | undefined }> {
  const window = association.info.asyncOperationsWindow?.maxInvoked || 1;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? window, 128));
  const prefetch = Math.max(0, Math.min(options.prefetch ?? DEFAULT_PREFETCH, MAX_PREFETCH));
  // Sources are prepared (a file opened, its meta header read, a small file read whole)
  // ahead of sending, so reading overlaps the transfer and the wait for the response.
  // At most `concurrency + prefetch` sources are prepared and not yet finished.
  const prepared: (Promise<P> | undefined)[] = new Array(pending.length);
  let preparedUpTo = 0;
  let finished = 0;
  let stopped = false;
  const fill = () => {
    while (
      !stopped &&
      preparedUpTo < pending.length &&
      preparedUpTo - finished < concurrency + prefetch
    ) {
      const p = host.prepare(association, list[pending[preparedUpTo]!]!);
      p.catch(() => {});
      prepared[preparedUpTo++] = p;
    }
  };
  const interrupted: number[] = [];
  const rest: number[] = [];
  let lostBy: Error | undefined;
  let next = 0;
  const worker = async () => {
    while (next < pending.length && !lostBy) {
      options.signal?.throwIfAborted();
      const k = next++;
      const i = pending[k]!;
      if (!alive(association)) {
        // Lost between two sources: this one was never sent.
        rest.push(i);
        continue;
      }
      try {
        let p = prepared[k];
        if (p === undefined) {
          // Not prepared yet (the first ones): this one now, the next ones after its send.
          if (preparedUpTo === k) preparedUpTo++;
          p = host.prepare(association, list[i]!);
        }
        prepared[k] = undefined;
        const sending = host.send(association, await p);
        fill();
        report(i, await sending);
      } catch (error) {
        options.signal?.throwIfAborted();
        if (
          alive(association) ||
          error instanceof IncompleteSourceError ||
          isSourceFailure(error)
        ) {
          // The source's own failure (a cut file ends its association by itself).
          report(i, error as Error);
          if (!alive(association)) lostBy = error as Error;
        } else {
          // The association ended under it: no answer, so it may be sent again.
          interrupted.push(i);
          lostBy = error as Error;
        }
      } finally {
        finished++;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
  } finally {
    stopped = true;
    for (const p of prepared)
      if (p)
        p.then(
          (x) => host.drop?.(x),
          () => {},
        );
    prepared.fill(undefined);
  }
  for (let k = next; k < pending.length; k++) rest.push(pending[k]!);
  rest.sort((a, b) => a - b);
  return { interrupted, rest, lostBy };
}
