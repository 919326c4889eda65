/**
 * Group commit of fsyncs: {@link GroupSync.sync} resolves once a sync of
 * `key` (a folder, a file) that started after the call has succeeded.
 * Callers that arrive while one is running share the next one, so N
 * concurrent commits into one folder, or N index commits into one WAL, cost
 * two syncs instead of N. A failed sync rejects the callers that shared it.
 * Bounded: one entry per key with a sync running, removed when it ends.
 *
 * @example
 * ```ts
 * const folders = new GroupSync((dir) => syncDirectory(dir));
 * await rename(temp, final);
 * await folders.sync(dirname(final)); // the rename is durable
 * ```
 */
export class GroupSync {
  readonly #running = new Map<string, { next?: Deferred }>();
  readonly #syncKey: (key: string) => Promise<void>;

  /** @param syncKey - makes what was written under `key` so far durable */
  constructor(syncKey: (key: string) => Promise<void>) {
    this.#syncKey = syncKey;
  }

  /** Resolves after a sync of `key` that started after this call. */
  sync(key: string): Promise<void> {
    const running = this.#running.get(key);
    if (running) {
      // The running sync may have started before this caller's write: wait for the next.
      running.next ??= deferred();
      return running.next.promise;
    }
    return this.#start(key);
  }

  #start(key: string): Promise<void> {
    const state: { next?: Deferred } = {};
    this.#running.set(key, state);
    const done = this.#syncKey(key);
    const settle = () => {
      this.#running.delete(key);
      const next = state.next;
      if (next) this.#start(key).then(next.resolve, next.reject);
    };
    done.then(settle, settle);
    return done;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
