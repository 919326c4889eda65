// `pnpm fuzz [--seconds N] [--seed S]`: the long fuzz run of issue 13.
// Mutated PDUs, command sets and data sets into the decoders, then byte streams
// into a running Server over memory() and TCP; prints the figures. Inputs that
// make a decoder throw an untyped error, or take over a second, are written to
// tests/reliability/fixtures/<target>-<sha>.hex as regression fixtures.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { memory } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { toHex } from '../src/fuzz/mutate.js';
import { Random } from '../src/fuzz/random.js';
import { fuzzServer } from '../src/fuzz/server-fuzz.js';
import { fuzzTarget, REGRESSION_FIXTURES, targets } from '../src/fuzz/targets.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' } },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) {
  throw new Error('--seconds must be a positive number of seconds');
}
const seed = values.seed === undefined ? Date.now() & 0x7fffffff : Number(values.seed);
const list = targets();
// Decoders get two thirds of the time, the two server runs one third.
const decoderMs = (seconds * 1000 * 2) / 3 / list.length;
const serverMs = (seconds * 1000) / 3 / 2;
console.log(`fuzz: seed ${seed}, ${seconds} s`);

let total = 0;
let findings = 0;
for (const target of list) {
  const heapBefore = process.memoryUsage().heapUsed;
  const r = fuzzTarget(target, new Random(seed), { untilMs: Date.now() + decoderMs });
  total += r.inputs;
  findings += r.findings.length;
  for (const f of r.findings) {
    const id = createHash('sha256').update(f.input).digest('hex').slice(0, 12);
    writeFileSync(join(REGRESSION_FIXTURES, `${f.target}-${id}.hex`), `${toHex(f.input)}\n`);
    console.log(`  FINDING ${f.target}-${id}: ${f.problem}`);
  }
  const heap = ((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1);
  console.log(
    `${target.name.padEnd(8)} inputs ${r.inputs}  accepted ${r.accepted}  refused (dnet error) ${r.refused}  ` +
      `slowest ${r.slowestMs.toFixed(1)} ms  heap +${heap} MiB  findings ${r.findings.length}`,
  );
}

let hung = 0;
let untyped = 0;
for (const transport of [memory(), tcp()]) {
  const r = await fuzzServer(transport, new Random(seed), { untilMs: Date.now() + serverMs });
  total += r.streams;
  hung += r.hung;
  untyped += r.untypedErrors.length;
  console.log(
    `server/${transport.name.padEnd(6)} streams ${r.streams}  not closed by the server within 3 s ${r.hung}  ` +
      `server errors ${r.errors} (untyped ${r.untypedErrors.length})  C-ECHO after ${r.echoStatus}  ` +
      `heap +${(r.heapGrowth / 1048576).toFixed(1)} MiB`,
  );
  for (const e of r.untypedErrors) console.log(`  UNTYPED ${e}`);
}
console.log(
  `fuzz: ${total} inputs in all, ${findings} decoder findings, ${untyped} untyped server errors, ${hung} streams left open`,
);
process.exitCode = findings + untyped > 0 ? 1 : 0;
