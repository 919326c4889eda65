import { setFlagsFromString } from 'node:v8';

// Memory of dnet-scp while it receives: every socket read hands the receive
// path a fresh 64 KiB buffer (allocated by Node outside the JS heap) that is
// garbage once written to the file, but V8 frees it only when a young-generation
// collection (scavenge) finds its small JS wrapper dead. The wrappers are tiny,
// so the young generation fills slowly: left alone, V8 scavenges only once
// about 32 MB of such buffers are pending (a fixed limit of V8's, not a flag).
// Receiving a 1 GiB object then peaked at ~109 MB against ~63 MB idle (issue
// #12 asks < 100 MB). So the CLI asks V8 for a scavenge each time
// YOUNG_GC_EVERY_BYTES more data set bytes have arrived (~128 per GiB): the
// peak dropped to ~88 MB. Every 16 MiB: ~96 MB. A young generation kept small
// instead (`--semi-space-growth-factor=1`) helped the 1 GiB object a little
// more but cost RSS and CPU with several small objects in flight (their
// buffers then outlive a scavenge and are promoted), so the young generation
// is left as V8 sizes it.
//
// Those scavenges are cheap (little survives them) but V8 runs each one on
// helper threads and waits for them; on a 2-core machine also running the
// sender, the 127 scavenges of a 1 GiB object took 139-152 ms of the main
// thread that way, 63-79 ms on the main thread alone (SCAVENGE_FLAG). What is
// left costs some throughput: 1 GiB into dnet-scp, medians of 20 alternating
// runs, 607 -> 541 MB/s (runs spread 438-750 MB/s), CPU 2.01 -> 2.22 s per
// run, though the GC pauses add up to about the same per GiB (43 scavenges,
// ~100 ms, before; 135, ~115 ms, after). Small objects (window 8) and many
// associations: unchanged CPU. Async scavenges (`execution: 'async'`): no better.
// The pacing (GcPacer, youngGenerationCollector) is @dnet/services' own, where
// any dnet Server can use it; gc-pacing.ts there also has what the pending
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
