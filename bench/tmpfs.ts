// The rows of issue 26 (`pnpm bench --tmpfs` alone, or within the full run):
// dnet against DCMTK where the disk is not the limit. Corpus, output folders
// and dnet-scp's index all sit on tmpfs (/dev/shm), max PDU 131072 on every
// side, each receiver warmed by one untimed pass of other images, the
// configurations interleaved (A B C A B C ...) and their medians compared:
//
// - one sender: storescu -> dnet-scp, dnet-scu -> storescp +B, against
//   storescu -> storescp +B (the command lines as a user runs them, process
//   start included on both sides);
// - four storescu at once -> dnet-scp --workers <cores> (and --workers 1),
//   against -> storescp --fork;
// - TLS (PS3.15 Annex B), the same PKI and mutual authentication on every side;
// - the start of the command lines: `dnet-scu --help` against `node -e 0`.
//
// Without /dev/shm the rows are skipped and the output says so: elsewhere the
// disk's sync rate, which bench/floors.ts measures, would bound them again.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, hasCommand } from '@dnet/testkit/node';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { generateCorpus } from './corpus.js';
import {
  type Finished,
  type MeasuredServer,
  runMeasured,
  SERVER_NODE_FLAGS,
  startMeasured,
} from './measure.js';
import {
  CLI_START,
  type Row,
  START_DNET_SCP,
  START_DNET_SCU,
  START_NODE,
  splitList,
  TMPFS,
  TMPFS_BARE_SCU_STORESCP,
  TMPFS_DNET_SCU_STORESCP,
  TMPFS_FOUR,
  TMPFS_FOUR_BARE_SCP,
  TMPFS_FOUR_DNET_SCP,
  TMPFS_FOUR_STORESCP,
  TMPFS_STORESCU_BARE_SCP,
  TMPFS_STORESCU_DNET_SCP,
  TMPFS_STORESCU_DNET_SCP_WORKERS,
  TMPFS_STORESCU_STORESCP,
  TMPFS_TLS,
  TMPFS_TLS_BARE_SCU_STORESCP,
  TMPFS_TLS_DNET_SCU_STORESCP,
  TMPFS_TLS_STORESCU_BARE_SCP,
  TMPFS_TLS_STORESCU_DNET_SCP,
  TMPFS_TLS_STORESCU_STORESCP,
} from './rows.js';
import { sampledRow, summarize } from './stats.js';

/** Where the rows put their files. */
export const TMPFS_ROOT = '/dev/shm';
/** Max PDU of every side, as DCMTK's storescu and storescp are run elsewhere in the bench. */
const PDU = '131072';
const SCU_CLI = resolve('apps/scu/dist/cli.js');
const SCP_CLI = resolve('apps/scp/dist/cli.js');
const BARE_SCU = resolve('bench/roles/bare-store-scu.mjs');
const BARE_SCP = resolve('bench/roles/bare-store-scp.mjs');

/** How much the rows send. */
export interface TmpfsPlan {
  runs: number;
  /** 512x512x16-bit images of the one-sender and four-sender rows. */
  images: number;
  /** Senders at once in the four-sender rows (each sends images / senders). */
  senders: number;
  /** Objects of `tlsMiB` MiB sent in the TLS rows. */
  tlsObjects: number;
  tlsMiB: number;
  /** Small images each TLS receiver is warmed with. */
  tlsWarm: number;
  /** Process starts timed per command and run in the start rows. */
  starts: number;
}

/** The plans of the full and the quick mode. */
export const TMPFS_PLANS: Record<'full' | 'quick', TmpfsPlan> = {
  full: { runs: 3, images: 1000, senders: 4, tlsObjects: 4, tlsMiB: 64, tlsWarm: 300, starts: 20 },
  quick: { runs: 1, images: 200, senders: 4, tlsObjects: 2, tlsMiB: 16, tlsWarm: 50, starts: 5 },
};

/** The reason the rows cannot run here, or `undefined`. */
export function tmpfsMissing(): string | undefined {
  if (!existsSync(TMPFS_ROOT) || !statSync(TMPFS_ROOT).isDirectory())
    return `${TMPFS_ROOT} does not exist (no tmpfs to put the files on)`;
  const missing = ['storescu', 'storescp'].filter((c) => !hasCommand(c));
  if (missing.length) return `${missing.join(', ')} (DCMTK) not installed`;
  if (!existsSync(SCU_CLI) || !existsSync(SCP_CLI)) return 'apps/scu or apps/scp not built';
  return undefined;
}

/** A receiver on a fresh port writing into `dir`. */
type Start = (port: number, dir: string) => Promise<MeasuredServer>;
/** A sender of `files` to `port`: its process report(s). */
type Send = (port: number, calledAe: string, files: string[]) => Promise<Finished[]>;

interface Config {
  group: string;
  name: string;
  calledAe: string;
  start: Start;
  send: Send;
}

/** The tmpfs rows; none (and the reason printed) when they cannot run here. */
export async function tmpfsRows(plan: TmpfsPlan, log: (line: string) => void): Promise<Row[]> {
  const missing = tmpfsMissing();
  if (missing) {
    log(`tmpfs rows skipped: ${missing}`);
    return [];
  }
  const work = await mkdtemp(join(TMPFS_ROOT, 'dnet-bench-'));
  let pki: TestPki | undefined;
  try {
    log(
      `tmpfs rows in ${work}: ${plan.images} images of 512x512x16 bit, ${plan.tlsObjects} x ${plan.tlsMiB} MiB over TLS, max PDU ${PDU}`,
    );
    const corpus = await generateCorpus(join(work, 'corpus'), {
      small: plan.images,
      warm: plan.images,
      large: plan.tlsObjects,
      largeMiB: plan.tlsMiB,
      hugeMiB: 0,
    });
    pki = makeTestPki();
    const configs = tmpfsConfigs(plan, pki);
    const rows = await interleaved(plan, configs, corpus, work, log);
    rows.push(...(await startRows(plan, log)));
    return rows;
  } finally {
    pki?.remove();
    await rm(work, { recursive: true, force: true });
  }
}

/** Every store configuration, in the order of each round. */
function tmpfsConfigs(plan: TmpfsPlan, pki: TestPki): Config[] {
  const serverTls = (name: string) => [
    '--tls',
    '--cert',
    pki.path(`${name}.pem`),
    '--key',
    pki.path(`${name}.key`),
    '--ca',
    pki.path('ca.pem'),
  ];
  // storescp +tls requires the client's certificate by default (-rc): so does dnet-scp here.
  const dnetScp =
    (tls: boolean, workers?: number): Start =>
    (port, dir) =>
      startMeasured(
        process.execPath,
        [
          ...SERVER_NODE_FLAGS,
          SCP_CLI,
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
          '--aet',
          'DNETSCP',
          '--storage',
          dir,
          '--max-pdu',
          PDU,
          '--log-level',
          'silent',
          ...(tls ? [...serverTls('server'), '--require-client-cert'] : []),
          ...(workers !== undefined ? ['--workers', String(workers)] : []),
        ],
        port,
      );
  const storescp =
    (fork: boolean, tls: boolean): Start =>
    (port, dir) =>
      startMeasured(
        'storescp',
        [
          '-od',
          dir,
          '+B',
          '+xa',
          '-pdu',
          PDU,
          ...(fork ? ['--fork'] : []),
          ...(tls ? pki.dcmtkArgs('server') : []),
          String(port),
        ],
        port,
      );
  const storescu =
    (tls: boolean): Send =>
    async (port, calledAe, files) => {
      const proc = await runMeasured('storescu', [
        '-aec',
        calledAe,
        '-pdu',
        PDU,
        ...(tls ? pki.dcmtkArgs('client') : []),
        '127.0.0.1',
        String(port),
        ...files,
      ]);
      if (proc.code !== 0)
        throw new Error(`storescu exit ${proc.code}: ${proc.stderr.slice(-300)}`);
      return [proc];
    };
  const manyStorescu =
    (n: number): Send =>
    (port, calledAe, files) =>
      Promise.all(
        splitList(files, n).map(async (part) => (await storescu(false)(port, calledAe, part))[0]!),
      );
  const dnetScu =
    (tls: boolean): Send =>
    async (port, calledAe, files) => {
      const proc = await runMeasured(process.execPath, [
        SCU_CLI,
        'store',
        '127.0.0.1',
        String(port),
        '--aec',
        calledAe,
        '--max-pdu',
        PDU,
        '-q',
        ...(tls ? serverTls('client') : []),
        ...files,
      ]);
      if (proc.code !== 0)
        throw new Error(`dnet-scu exit ${proc.code}: ${proc.stderr.slice(-300)}`);
      return [proc];
    };
  // The floors take the same PKI as dnet-scp and dnet-scu (key, certificate, CA).
  const bareTls = (name: string) =>
    `--tls=${pki.path(`${name}.key`)},${pki.path(`${name}.pem`)},${pki.path('ca.pem')}`;
  const bareScp =
    (tls: boolean, processes = 1): Start =>
    (port, dir) =>
      startMeasured(
        process.execPath,
        [
          BARE_SCP,
          ...(tls ? [bareTls('server')] : []),
          ...(processes > 1 ? [`--processes=${processes}`] : []),
          String(port),
          dir,
          PDU,
        ],
        port,
      );
  const bareScu =
    (tls: boolean): Send =>
    async (port, calledAe, files) => {
      const proc = await runMeasured(process.execPath, [
        BARE_SCU,
        ...(tls ? [bareTls('client')] : []),
        '127.0.0.1',
        String(port),
        calledAe,
        PDU,
        ...files,
      ]);
      if (proc.code !== 0)
        throw new Error(`bare sender exit ${proc.code}: ${proc.stderr.slice(-300)}`);
      return [proc];
    };
  const n = plan.senders;
  const cores = availableParallelism();
  return [
    {
      group: TMPFS,
      name: TMPFS_STORESCU_DNET_SCP,
      calledAe: 'DNETSCP',
      start: dnetScp(false),
      send: storescu(false),
    },
    {
      group: TMPFS,
      name: TMPFS_STORESCU_DNET_SCP_WORKERS(cores),
      calledAe: 'DNETSCP',
      start: dnetScp(false, cores),
      send: storescu(false),
    },
    {
      group: TMPFS,
      name: TMPFS_STORESCU_BARE_SCP,
      calledAe: 'BARESCP',
      start: bareScp(false),
      send: storescu(false),
    },
    {
      group: TMPFS,
      name: TMPFS_DNET_SCU_STORESCP,
      calledAe: 'STORESCP',
      start: storescp(false, false),
      send: dnetScu(false),
    },
    {
      group: TMPFS,
      name: TMPFS_BARE_SCU_STORESCP,
      calledAe: 'STORESCP',
      start: storescp(false, false),
      send: bareScu(false),
    },
    {
      group: TMPFS,
      name: TMPFS_STORESCU_STORESCP,
      calledAe: 'STORESCP',
      start: storescp(false, false),
      send: storescu(false),
    },
    {
      group: TMPFS_FOUR,
      name: TMPFS_FOUR_DNET_SCP(n, cores),
      calledAe: 'DNETSCP',
      // One worker process per core (--workers auto), as storescp --fork forks one
      // process per association: the configuration of the target.
      start: dnetScp(false, cores),
      send: manyStorescu(n),
    },
    {
      group: TMPFS_FOUR,
      name: TMPFS_FOUR_DNET_SCP(n, 1),
      calledAe: 'DNETSCP',
      // The default, one process: what the workers do for four senders.
      start: dnetScp(false, 1),
      send: manyStorescu(n),
    },
    {
      group: TMPFS_FOUR,
      name: TMPFS_FOUR_BARE_SCP(n),
      calledAe: 'BARESCP',
      start: bareScp(false),
      send: manyStorescu(n),
    },
    {
      group: TMPFS_FOUR,
      // One process per core, as the target's dnet-scp --workers <cores>.
      name: TMPFS_FOUR_BARE_SCP(n, cores),
      calledAe: 'BARESCP',
      start: bareScp(false, cores),
      send: manyStorescu(n),
    },
    {
      group: TMPFS_FOUR,
      name: TMPFS_FOUR_STORESCP(n),
      calledAe: 'STORESCP',
      start: storescp(true, false),
      send: manyStorescu(n),
    },
    {
      group: TMPFS_TLS,
      name: TMPFS_TLS_STORESCU_DNET_SCP,
      calledAe: 'DNETSCP',
      start: dnetScp(true),
      send: storescu(true),
    },
    {
      group: TMPFS_TLS,
      name: TMPFS_TLS_DNET_SCU_STORESCP,
      calledAe: 'STORESCP',
      start: storescp(false, true),
      send: dnetScu(true),
    },
    {
      group: TMPFS_TLS,
      name: TMPFS_TLS_STORESCU_BARE_SCP,
      calledAe: 'BARESCP',
      start: bareScp(true),
      send: storescu(true),
    },
    {
      group: TMPFS_TLS,
      name: TMPFS_TLS_BARE_SCU_STORESCP,
      calledAe: 'STORESCP',
      start: storescp(false, true),
      send: bareScu(true),
    },
    {
      group: TMPFS_TLS,
      name: TMPFS_TLS_STORESCU_STORESCP,
      calledAe: 'STORESCP',
      start: storescp(false, true),
      send: storescu(true),
    },
  ];
}

/**
 * Runs every configuration `plan.runs` times, interleaved. Each run: a fresh
 * receiver on tmpfs, one untimed pass of the warm-up images (other UIDs, so
 * the timed pass stores new instances) by the row's own sender, then the
 * timed pass; the time is the wall time of the sending process(es), their
 * start included.
 */
async function interleaved(
  plan: TmpfsPlan,
  configs: Config[],
  corpus: Awaited<ReturnType<typeof generateCorpus>>,
  work: string,
  log: (line: string) => void,
): Promise<Row[]> {
  interface Acc {
    mbs: number[];
    ips: number[];
    s: number[];
    r: number[];
    note?: string;
  }
  const accs = new Map<Config, Acc>(
    configs.map((c) => [c, { mbs: [], ips: [], s: [], r: [] } as Acc]),
  );
  const tls = (c: Config) => c.group === TMPFS_TLS;
  for (let run = 0; run < plan.runs; run++) {
    for (const config of configs) {
      const acc = accs.get(config)!;
      const files = tls(config) ? corpus.large : corpus.small;
      const bytes = tls(config) ? corpus.largeBytes : corpus.smallBytes;
      const warm = tls(config) ? corpus.warm.slice(0, plan.tlsWarm) : corpus.warm;
      const out = join(work, `out-${run}`);
      await mkdir(out, { recursive: true });
      let server: MeasuredServer | undefined;
      try {
        server = await config.start(await freePort(), out);
        await config.send(server.port, config.calledAe, warm);
        const t0 = performance.now();
        const procs = await config.send(server.port, config.calledAe, files);
        const ms = performance.now() - t0;
        const stopped = await server.stop();
        server = undefined;
        acc.mbs.push(bytes / 1e6 / (ms / 1000));
        acc.ips.push(files.length / (ms / 1000));
        acc.s.push(Math.max(...procs.map((p) => p.rssMb)));
        acc.r.push(stopped.rssMb);
        log(
          `  ${config.group} run ${run + 1}: ${config.name}: ${(ms / 1000).toFixed(2)} s, ${acc.mbs.at(-1)!.toFixed(0)} MB/s, ${acc.ips.at(-1)!.toFixed(0)} images/s`,
        );
      } catch (err) {
        acc.note = (err as Error).message.replace(/\s+/g, ' ').slice(0, 160);
        log(`  ${config.group} run ${run + 1}: ${config.name}: FAILED ${acc.note}`);
      } finally {
        if (server) await server.stop();
        await rm(out, { recursive: true, force: true });
      }
    }
  }
  const median = (v: number[]) => (v.length ? summarize('', '', v).median : undefined);
  const rows: Row[] = [];
  for (const [config, acc] of accs) {
    const i = acc.ips.length ? summarize(config.name, 'images/s', acc.ips) : undefined;
    const row = sampledRow(plan.runs, config.group, config.name, 'MB/s', acc.mbs, {
      ...(i && { rate: { unit: 'images/s', median: i.median, min: i.min, max: i.max } }),
      senderRssMb: median(acc.s),
      receiverRssMb: median(acc.r),
      ...(acc.note && { note: acc.note }),
    });
    rows.push(
      row ?? {
        group: config.group,
        name: config.name,
        unit: 'MB/s',
        median: Number.NaN,
        min: Number.NaN,
        max: Number.NaN,
        failures: plan.runs,
        ...(acc.note && { note: acc.note }),
      },
    );
  }
  return rows;
}

/**
 * The start of the command lines: `plan.starts` processes of each command
 * per run, the commands alternating, each timed from spawn to exit in this
 * process (no GNU time around them: it would add its own start).
 */
async function startRows(plan: TmpfsPlan, log: (line: string) => void): Promise<Row[]> {
  const commands: [string, string[]][] = [
    [START_NODE, ['-e', '0']],
    [START_DNET_SCU, [SCU_CLI, '--help']],
    [START_DNET_SCP, [SCP_CLI, '--help']],
  ];
  const once = (args: string[]) =>
    new Promise<number>((done, fail) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, args, { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('error', fail);
      child.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) done(performance.now() - t0);
        else fail(new Error(`${args.join(' ')}: exit ${code}`));
      });
    });
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  log(`start: ${plan.starts} x each of ${commands.map(([n]) => n).join(', ')}, alternating`);
  for (let run = 0; run < plan.runs; run++) {
    for (let i = 0; i < plan.starts; i++) {
      for (const [name, args] of commands) samples.get(name)!.push(await once(args));
    }
  }
  const rows: Row[] = [];
  for (const [name, ms] of samples) {
    const row = sampledRow(ms.length, CLI_START, name, 'ms', ms);
    if (row) rows.push(row);
  }
  return rows;
}
