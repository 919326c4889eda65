// `pnpm soak [--seconds N] [--objects N] [--concurrency N] [--abort-rate P] [--seed S]`:
// the soak of issue 13. Starts the built dnet-scp, stores objects from N concurrent
// associations with random A-ABORTs, then checks every object that got a success
// response is on disk with a matching SHA-256 and in the index, and that the counts agree.
import { parseArgs } from 'node:util';
import { runSoak } from '../src/soak/soak.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '180' },
    objects: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '50' },
    'abort-rate': { type: 'string', default: '0.02' },
    'pixel-bytes': { type: 'string', default: '8192' },
    seed: { type: 'string' },
  },
});
const num = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be from ${min} to ${max}`);
  return n;
};
const options = {
  timeLimitMs: num('seconds', values.seconds, 1, 24 * 3600) * 1000,
  objects: num('objects', values.objects, 1, 10_000_000),
  concurrency: num('concurrency', values.concurrency, 1, 1000),
  abortRate: num('abort-rate', values['abort-rate'], 0, 1),
  pixelBytes: num('pixel-bytes', values['pixel-bytes'], 0, 64 * 1024 * 1024),
  seed: values.seed === undefined ? Date.now() & 0x7fffffff : Number(values.seed),
};
console.log(`soak: ${JSON.stringify(options)}`);
const r = await runSoak(options);
console.log(
  `soak: ${r.attempted} stores attempted in ${(r.ms / 1000).toFixed(1)} s from ${options.concurrency} associations: ` +
    `${r.succeeded} succeeded, ${r.aborted} aborted on purpose, ${r.failed} failed (typed), ${r.untyped.length} untyped errors`,
);
console.log(
  `soak: on disk ${r.onDisk}, in the index ${r.indexed}, partial files ${r.partialFiles}, ` +
    `disk/index disagreements ${r.disagreements.length}, lost ${r.lost.length}`,
);
for (const line of [...r.untyped, ...r.lost.slice(0, 20), ...r.disagreements.slice(0, 20)])
  console.log(`  ${line}`);
const ok =
  r.lost.length === 0 &&
  r.disagreements.length === 0 &&
  r.untyped.length === 0 &&
  r.partialFiles === 0;
console.log(ok ? 'soak: OK' : 'soak: FAILED');
process.exitCode = ok ? 0 : 1;
