import { setFlagsFromString } from 'node:v8';

// Memory of dnet-scp while it receives: every socket read hands the receive
// path a fresh 64 KiB buffer (allocated by Node outside the JS heap) that is
// garbage once written to the file, but V8 frees it only when a young-generation
// collection (scavenge) finds its small JS wrapper dead. The wrappers are tiny,
// so the young generation fills slowly and, left alone, V8 lets many such
// buffers pend (issue #12 bounds the memory of receiving a 1 GiB object). So
// the CLI asks V8 for a scavenge each time a few more MiB of data set bytes
// have arrived. A young generation kept small instead
// (`--semi-space-growth-factor=1`) cost RSS and CPU with several small objects
// in flight (their buffers then outlive a scavenge and are promoted), so the
// young generation is left as V8 sizes it.
//
// Those scavenges are cheap (little survives them), but V8 runs each one on
// helper threads and waits for them, which on a machine with few cores costs
// the main thread more than running it there alone: hence SCAVENGE_FLAG. Async
// scavenges (`execution: 'async'`) were no better. The figures are in
// BENCHMARKS.md ("dnet-scp heap settings").
// The pacing (GcPacer, youngGenerationCollector) is @dnet/services' own, where
// any dnet Server can use it; gc-pacing.ts there also explains what the pending
// buffers cost in full collections when nothing paces them.

/**
 * The V8 flag the CLI sets on itself: scavenges run on the main thread only.
 * V8 reads it at each scavenge, so setting it at run time takes effect.
 */
export const SCAVENGE_FLAG = '--no-parallel-scavenge';

/**
 * Whether the operator already chose parallel or single-threaded scavenges
 * on the `node` command line or in NODE_OPTIONS: then the CLI leaves it alone.
 */
export function scavengeChosen(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  const chosen = (arg: string) => /^--(no[-_])?parallel[-_]scavenge(=|$)/.test(arg);
  return execArgv.some(chosen) || (nodeOptions ?? '').split(/\s+/).some(chosen);
}

/**
 * Sets {@link SCAVENGE_FLAG} unless the operator chose otherwise; returns
 * whether it did.
 */
export function applyHeapSettings(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (scavengeChosen(execArgv, nodeOptions)) return false;
  setFlagsFromString(SCAVENGE_FLAG);
  return true;
}
