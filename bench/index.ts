// `pnpm bench`: dnet against DCMTK, dcmjs-dimse and the Node socket ceiling,
// side by side in one run (issue 12), then written to BENCHMARKS.md.
//
//   pnpm bench            full mode (the default; under 10 minutes on 2 cores)
//   pnpm bench --quick    small corpus, one run: for development, prints only
//   pnpm bench --micro    the packages' micro benchmarks (packages/*/bench/*.ts)
//   pnpm bench <filter>   only the micro benchmarks whose path contains <filter>
//   pnpm bench --tmpfs    only the rows of issue 26 (tmpfs, 4 senders, TLS
//                         against DCMTK, command-line start); prints only
//                         (with --quick: fewer images, one run)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRoles } from './build-roles.js';
import { codecRows } from './codecs.js';
import { compare } from './compare.js';
import { generateCorpus } from './corpus.js';
import { machine, markdown, targets, textTable } from './report.js';
import type { Plan } from './rows.js';
import { scaleOut } from './scale-out.js';
import { socketCeiling } from './socket-ceiling.js';
import type { Result } from './stats.js';
import { TMPFS_PLANS, tmpfsRows } from './tmpfs.js';
import { transcodeStoreRows } from './transcode-store.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const micro = args.includes('--micro');
const codecsOnly = args.includes('--codecs');
const tmpfsOnly = args.includes('--tmpfs');
const only = args.find((a) => !a.startsWith('--'));

/** Markers of the generated part of BENCHMARKS.md; the rest is written by hand. */
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

async function runMicro(): Promise<void> {
  const results: Result[] = [];
  if (!only || 'socket'.includes(only)) results.push(await socketCeiling());
  for (const folder of readdirSync('packages').sort()) {
    const dir = join('packages', folder, 'bench');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const path = join(dir, file);
      if (only && !path.includes(only)) continue;
      const mod = (await import(pathToFileURL(resolve(path)).href)) as {
        run?: () => Promise<Result[]>;
      };
      if (typeof mod.run !== 'function') continue;
      console.log(`running ${path}`);
      results.push(...(await mod.run()));
    }
  }
  console.log(
    `\n${'benchmark'.padEnd(56)} ${'median'.padStart(10)} ${'min'.padStart(10)} ${'max'.padStart(10)}`,
  );
  for (const r of results) {
    const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toPrecision(3)).padStart(10);
    console.log(`${r.name.padEnd(56)} ${f(r.median)} ${f(r.min)} ${f(r.max)}  ${r.unit}`);
  }
}

async function runCompare(): Promise<void> {
  const started = performance.now();
  // Warm-up sizes (untimed, in the measured process, into the same receiver):
  // the same in both modes, so --quick figures are warm too. Echoes and
  // associations take long to reach optimized code: measured 13:10, 8
  // associations under way from one process did 603, 1 317, 1 671 and 1 977
  // per second in four consecutive batches of 2 000 (client CPU 1 253 -> 399
  // us each); C-ECHO with 8 outstanding, in batches of 20 000 on a quiet
  // machine (13:50): 14 457, 18 169, then 38 833-43 209 per second (client
  // CPU 46 -> 15 us per echo), so 50 000 echoes first.
  // Stores: the JIT of a dnet process keeps optimizing for thousands of
  // images. Measured 17:3x, storescu -> a fresh SCP role, 8 associations of
  // 499 images of 512 KiB: SCP CPU 902, 882, 621, 421, 361, 361, 321, 341 us
  // per image, 927 -> 1 849 images/s; V8 completed 56, 34, 17, 13, 8, 5, 7, 4
  // optimizing compilations in those 8 batches. The per-image code is what
  // warms slowly (it runs once an image, the per-chunk code eight times), so
  // discarding runs first send 2 000 tiny images (64x64x16 bit, about 0.3 ms
  // each), then the 300 of 512 KiB. Runs writing files keep the 300 only:
  // 2 000 durable commits would take several seconds a run, and the disk,
  // not the JIT, bounds those rows.
  const warm = {
    warmup: 300,
    warmupTiny: quick ? 200 : 2000,
    warmupNative: 10,
    echoWarmup: 50000,
    assocWarmup: 3000,
  };
  // Full mode: 500 small images, as issue 12 names. With 100, a run of ~1 000
  // images/s lasted ~0.1 s, so DCMTK's process start-up and the association
  // set-up weighed in every small row and runs spread widely.
  const sizes = quick
    ? {
        small: 40,
        large: 2,
        largeMiB: 32,
        hugeMiB: 128,
        warm: warm.warmup,
        warmTiny: warm.warmupTiny,
      }
    : {
        small: 500,
        large: 4,
        largeMiB: 32,
        hugeMiB: 1024,
        warm: warm.warmup,
        warmTiny: warm.warmupTiny,
      };
  const plan: Plan = quick
    ? {
        runs: 1,
        echoes: 3000,
        associations: 300,
        findMatches: 1000,
        concurrentAssociations: 20,
        concurrentPerAssociation: 10,
        concurrentImageSize: 512,
        ...warm,
        dcmjsLarge: true,
      }
    : {
        runs: 3,
        echoes: 10000,
        associations: 2000,
        findMatches: 1000,
        concurrentAssociations: 200,
        concurrentPerAssociation: 50,
        concurrentImageSize: 64,
        ...warm,
        dcmjsLarge: false,
      };
  const work = await mkdtemp(join(tmpdir(), 'dnet-bench-'));
  const log = (line: string) =>
    console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
  try {
    console.log(`machine: ${machine()}`);
    // The roles run as plain JavaScript (`node bench/.build/ROLE.js`), no loader.
    log('compiling the roles into bench/.build');
    await buildRoles();
    log(`generating the corpus in ${work}`);
    const corpus = await generateCorpus(join(work, 'corpus'), sizes);
    const rows = await compare({ corpus, plan, work, log });
    // Several dnet-scp nodes behind HAProxy on one PostgreSQL (docs/scale-out.md).
    log('scale-out: images/s through HAProxy into one dnet-scp node, then two');
    rows.push(
      ...(await scaleOut(
        quick
          ? { runs: 1, associations: 8, images: 160, size: 64 }
          : { runs: plan.runs, associations: 8, images: 240, size: 64 },
        work,
        log,
      )),
    );
    // Where the disk is not the limit: tmpfs, four senders, TLS against DCMTK's, CLI start (bench/tmpfs.ts).
    rows.push(...(await tmpfsRows(TMPFS_PLANS[quick ? 'quick' : 'full'], log)));
    // Frames/s of each codec, dnet beside DCMTK's and GDCM's tools (bench/codecs.ts).
    rows.push(...(await codecRows(codecPlan, work, log)));
    // dnet-scu storing JPEG-LS files transcoded on the fly, beside the same images uncompressed.
    rows.push(...(await transcodeStoreRows(transcodeStorePlan, work, log)));
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${textTable(rows)}\n`);
    const corpusText = `${sizes.small} CT images of 512x512x16 bit (${(corpus.smallBytes / 2 ** 20).toFixed(0)} MiB), ${sizes.large} multi-frame objects of ${sizes.largeMiB} MiB, one of ${sizes.hugeMiB} MiB for the memory check; Explicit VR Little Endian, generated deterministically`;
    const md = markdown(rows, {
      mode: quick ? 'quick' : 'full',
      runs: plan.runs,
      seconds,
      corpus: corpusText,
    });
    console.log(md.slice(md.indexOf('### Targets'), md.indexOf('### All figures')));
    if (!quick) {
      const file = 'BENCHMARKS.md';
      const old = existsSync(file)
        ? readFileSync(file, 'utf8')
        : `# Benchmarks\n\n${START}\n${END}\n`;
      const a = old.indexOf(START);
      const b = old.indexOf(END);
      const next =
        a >= 0 && b > a
          ? `${old.slice(0, a + START.length)}\n${md}\n${old.slice(b)}`
          : `${old}\n${START}\n${md}\n${END}\n`;
      writeFileSync(file, next);
      log(`wrote ${file}`);
    }
    log('done');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** How much the codec rows code, in quick and full mode. */
const codecPlan = quick ? { runs: 1, frames: 20, size: 512 } : { runs: 3, frames: 100, size: 512 };

/** How much the transcoding store rows send, in quick and full mode. */
const transcodeStorePlan = quick
  ? { runs: 1, images: 20, size: 512 }
  : { runs: 3, images: 100, size: 512 };

/** `pnpm bench --codecs`: the codec rows alone (with the transcoding store rows). */
async function runCodecs(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'dnet-bench-'));
  const started = performance.now();
  try {
    const log = (line: string) =>
      console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
    const rows = await codecRows(codecPlan, work, log);
    rows.push(...(await transcodeStoreRows(transcodeStorePlan, work, log)));
    console.log(`\n${textTable(rows)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `pnpm bench --tmpfs`: the rows of issue 26 alone, with their targets; prints only. */
async function runTmpfs(): Promise<void> {
  const started = performance.now();
  console.log(`machine: ${machine()}`);
  const rows = await tmpfsRows(TMPFS_PLANS[quick ? 'quick' : 'full'], (line) =>
    console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`),
  );
  console.log(`\n${textTable(rows)}\n`);
  for (const t of targets(rows).filter((t) => t.value !== '—')) {
    console.log(
      `${t.what}: ${t.value} (goal ${t.goal}${t.info ? '' : t.met ? ', met' : ', NOT met'})`,
    );
  }
  console.log(`${((performance.now() - started) / 1000).toFixed(0)} s in all`);
}

if (tmpfsOnly) await runTmpfs();
else if (codecsOnly) await runCodecs();
else if (micro || only) await runMicro();
else await runCompare();
