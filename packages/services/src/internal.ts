/**
 * `@dnet/services/internal`: tuning for benchmarks and the bundled apps, not
 * part of the stable API (it may change in any release). `GcPacer` and
 * `youngGenerationCollector` flip V8 flags to pace young-generation
 * collections in a process that receives many objects. Why they exist and
 * what they gain:
 * BENCHMARKS.md ("GC pacing"). `transferSyntaxesFor` is the rule of the
 * server's C-MOVE sub-associations for the transfer
 * syntaxes proposed per stored object (with the uncompressed fallbacks beside
 * a compressed syntax when a transcoder is given); dnet-scp's conformance
 * statement prints it.
 *
 * @example
 * ```ts
 * import { GcPacer, youngGenerationCollector } from '@dnet/services/internal';
 * const pacer = new GcPacer(youngGenerationCollector());
 * ```
 *
 * @packageDocumentation
 */
export { GcPacer, YOUNG_GC_EVERY_BYTES, youngGenerationCollector } from './gc-pacing.js';
export { transferSyntaxesFor } from './store-source.js';
/** The transcoder `transferSyntaxesFor` takes (the same types as `@dnet/services` exports). */
export type { TranscodeHeader, Transcoder } from './transcoding.js';
