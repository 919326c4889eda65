import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Garbage of a process that receives many objects (a Server, or a Client
// receiving C-GET sub-operations): every socket read hands the receive path a
// fresh 64 KiB buffer, allocated by Node outside the JS heap, that is garbage
// as soon as its bytes are written or dropped. V8 frees such a buffer only
// when a young-generation collection (scavenge) finds its small JS wrapper
// dead; the wrappers are tiny, so left alone V8 scavenges only once about
// 32 MB of these buffers are pending (a fixed limit of V8's, not a flag).
//
// Two costs follow: memory (the pending buffers), and CPU: V8 counts the bytes
// of those pending buffers as external memory grown since the last full
// collection, against the old generation's limit, and with the small old
// generation of a server that leaves less room than the young generation's
// capacity, so V8 starts one full (mark-compact) collection after another.
// Asking V8 for a scavenge each time a few MiB more have arrived bounds both;
// each scavenge is cheap (little survives it). The figures are in
// BENCHMARKS.md ("GC pacing").

/** Bytes received between two young-generation collections by default: 8 MiB. */
export const YOUNG_GC_EVERY_BYTES = 8 * 1024 * 1024;

/**
 * A function that runs one young-generation collection (scavenge) now.
 * V8's `gc` exists only in contexts created while `--expose-gc` is on: the
 * flag is switched on just long enough to create one such context (unless the
 * process was started with it), so the program's own global object never
 * gets a `gc`.
 */
export function youngGenerationCollector(): () => void {
  const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!exposed) setFlagsFromString('--expose-gc');
  let gc: (options: { type: 'minor' }) => void;
  try {
    gc = runInNewContext('gc') as typeof gc;
  } finally {
    if (!exposed) setFlagsFromString('--no-expose-gc');
  }
  return () => gc({ type: 'minor' });
}

/**
 * Counts received bytes and calls `collect` each time `everyBytes` more have
 * arrived: the dead read buffers that pile up between two collections stay
 * below about `everyBytes`. One pacer serves every association of a process:
 * call {@link GcPacer.received} with the length of each data set chunk a store
 * handler takes from `instance.dataSet`.
 *
 * @example
 * ```ts
 * const pacer = new GcPacer(youngGenerationCollector());
 * Server.listen({ ..., handlers: { store: async (instance) => {
 *   for await (const chunk of instance.dataSet) { pacer.received(chunk.length); ... }
 *   return 0;
 * } } });
 * ```
 */
export class GcPacer {
  readonly #collect: () => void;
  readonly #everyBytes: number;
  #pending = 0;
  /** Collections run so far. */
  collections = 0;

  /**
   * @param collect - runs one collection ({@link youngGenerationCollector})
   * @param everyBytes - bytes between two collections (default {@link YOUNG_GC_EVERY_BYTES})
   */
  constructor(collect: () => void, everyBytes: number = YOUNG_GC_EVERY_BYTES) {
    if (!(everyBytes > 0)) throw new RangeError(`everyBytes must be > 0, got ${everyBytes}`);
    this.#collect = collect;
    this.#everyBytes = everyBytes;
  }

  /** Records `bytes` more received; collects each time the interval is reached. */
  received(bytes: number): void {
    this.#pending += bytes;
    if (this.#pending < this.#everyBytes) return;
    this.#pending = 0;
    this.collections++;
    this.#collect();
  }
}
