/**
 * Mutual exclusion per key (a SOP Instance UID): one holder at a time per
 * key, the others wait in arrival order; keys nobody holds take no memory.
 * Used so that the duplicate check, the commit and the index write of one
 * SOP Instance are never interleaved by two associations storing it at once.
 *
 * @example
 * ```ts
 * const locks = new KeyedLock();
 * const release = await locks.acquire(sopInstanceUid);
 * try { await commitAndIndex(); } finally { release(); }
 * ```
 */
export class KeyedLock {
  /** The tail of each key's queue: settles when its last holder releases. */
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves once `key` is ours, with the function that releases it (call it once). */
  async acquire(key: string): Promise<() => void> {
    const previous = this.#tails.get(key);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => held) : held;
    this.#tails.set(key, tail);
    if (previous) await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      // The last holder leaves nothing behind.
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }

  /** Keys held or waited for (for tests). */
  get size(): number {
    return this.#tails.size;
  }
}
