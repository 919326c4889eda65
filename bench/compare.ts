// The side-by-side run of `pnpm bench`: dnet against DCMTK, dcmjs-dimse and
// the Node socket ceiling, every configuration run several times,
// interleaved (A B C A B C ...), each role in its own process under GNU
// time so its peak RSS is its own.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, hasCommand } from '@dnet/testkit/node';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import type { Corpus } from './corpus.js';
import { floors } from './floors.js';
import {
  type MeasuredServer,
  nodeRole,
  runMeasured,
  SERVER_NODE_FLAGS,
  startMeasured,
} from './measure.js';
import type { Plan, Row } from './rows.js';
import {
  ASSOC_PARALLEL,
  ASSOC_PARALLELED,
  ASSOC_SERIAL,
  CEILING,
  ECHO_SERIAL,
  ECHO_WIDE,
  ECHO_WIDE_WINDOW,
  ECHO_WINDOW,
  ECHO_WINDOWED,
  LARGE_IN_MEMORY,
  splitList,
  TLS_CEILING,
  WARM_ASSOCIATIONS,
} from './rows.js';
import { sampledRow, summarize } from './stats.js';
import {
  DNET_LARGE_PDU,
  dcmjs,
  dnetMemoryScu,
  dnetRoleReceiver,
  dnetRoleScp,
  dnetRoleScpDefaultGc,
  dnetRoleScpUnpaced,
  dnetScpApp,
  dnetScu,
  type Mode,
  parseJson,
  type Receiver,
  type Sender,
  storescp,
  storescu,
} from './store-peers.js';

/** A store configuration: sender, receiver, mode. */
interface StoreConfig {
  sender: Sender;
  receiver: Receiver;
  mode: Mode;
  /** The row's name, if not "sender -> receiver, mode". */
  name?: string;
  /** The sender sends the list this many times over in one run (default 1). */
  repeat?: number;
}

/**
 * Times the in-memory sender and the socket ceiling send the large corpus
 * over: at 2-3 GB/s one pass (128 MiB) lasts only ~50 ms, too short a window
 * to time steadily.
 */
const LARGE_REPEAT = 4;

function median(values: number[]): number | undefined {
  const ok = values.filter((v) => Number.isFinite(v));
  return ok.length ? summarize('', '', ok).median : undefined;
}

/** What a store group measures at the start of each of its runs, besides its configurations. */
interface Alongside {
  /** The socket ceiling, for the same number of bytes (a row of the group). */
  ceiling?: Ceiling;
  /** One run of the floors that bound the group's rows (bench/floors.ts; rows of their own). */
  floors?: () => Promise<void>;
}

/** A socket ceiling pushed before each run of a group (bench/socket-ceiling.ts). */
interface Ceiling {
  /** Its row's name. */
  name: string;
  /** Bytes pushed. */
  bytes: number;
  /** Extra arguments of the serving and the pushing role (TLS credentials). */
  serveArgs: string[];
  pushArgs: string[];
}

/**
 * Runs every store configuration `runs` times, interleaved, over `files`,
 * each run starting with what `alongside` names: the socket ceiling for the
 * same number of bytes, one run of the floors.
 */
async function storeGroup(
  group: string,
  files: string[],
  bytes: number,
  configs: StoreConfig[],
  runs: number,
  work: string,
  alongside: Alongside,
  log: (line: string) => void,
  warmCount = warmFiles.length,
): Promise<Row[]> {
  const ceilingRun = alongside.ceiling;
  const listFile = join(work, `${group}.list`);
  await writeFile(listFile, files.join('\n'));
  const warm = warmFiles.slice(0, warmCount);
  /** The warm-up of a JIT process in `mode`: its list file, and the same as WARM_ASSOCIATIONS runs. */
  interface Warmup {
    list: string | undefined;
    parts: [string, string[]][];
  }
  const warmups = new Map<Mode, Warmup>();
  for (const mode of ['discard', 'write'] as const) {
    // Discarding runs: the tiny images first (bench/index.ts), when the full list is used.
    const files =
      mode === 'discard' && warmCount === warmFiles.length ? [...warmTinyFiles, ...warm] : warm;
    const list = files.length ? join(work, `${group}-warmup-${mode}.list`) : undefined;
    if (list) await writeFile(list, files.join('\n'));
    // A sender that does not warm itself sends the list as WARM_ASSOCIATIONS runs.
    const parts: [string, string[]][] = [];
    for (const [i, part] of splitList(files, WARM_ASSOCIATIONS).entries()) {
      const partList = join(work, `${group}-warmup-${mode}-${i}.list`);
      await writeFile(partList, part.join('\n'));
      parts.push([partList, part]);
    }
    warmups.set(mode, { list, parts });
  }
  const nativeWarm = warm.slice(0, warmNative);
  const nativeWarmList = nativeWarm.length ? join(work, `${group}-warmup-native.list`) : undefined;
  if (nativeWarmList) await writeFile(nativeWarmList, nativeWarm.join('\n'));
  interface Acc {
    mbs: number[];
    ips: number[];
    s: number[];
    r: number[];
    failures: number;
    note?: string;
  }
  const accs = new Map<string, Acc>();
  const keyOf = (c: StoreConfig) =>
    c.name ??
    `${c.sender.name} -> ${c.receiver.name}, ${c.mode === 'write' ? 'writing files' : 'discarding'}`;
  const ceiling: Acc = { mbs: [], ips: [], s: [], r: [], failures: 0 };
  for (let run = 0; run < runs; run++) {
    await alongside.floors?.();
    if (ceilingRun) {
      const port = await freePort();
      // bench/socket-ceiling.ts: two processes, 4 MiB writes, a warm-up push, connect to the server's FIN.
      const server = await startMeasured(
        ...nodeRole(
          'socket-ceiling',
          ['--serve', String(port), ...ceilingRun.serveArgs],
          SERVER_NODE_FLAGS,
        ),
        port,
      );
      const push = await runMeasured(
        ...nodeRole('socket-ceiling', [
          '--push',
          String(port),
          '--bytes',
          String(ceilingRun.bytes),
          ...ceilingRun.pushArgs,
        ]),
      );
      const stopped = await server.stop();
      const r = parseJson(push);
      ceiling.mbs.push(ceilingRun.bytes / 1e6 / ((r.ms ?? Number.NaN) / 1000));
      ceiling.s.push(push.rssMb);
      ceiling.r.push(stopped.rssMb);
    }
    for (const config of configs) {
      const key = keyOf(config);
      const acc = accs.get(key) ?? { mbs: [], ips: [], s: [], r: [], failures: 0 };
      accs.set(key, acc);
      const out = join(work, `out-${group}-${run}`);
      // Two attempts: a run that fails because a dist/ folder was being
      // rebuilt by a concurrent build (or a port was taken meanwhile) is not
      // what is measured; a second failure is reported.
      for (let attempt = 1; attempt <= 2; attempt++) {
        await mkdir(out, { recursive: true });
        let server: MeasuredServer | undefined;
        try {
          server = await config.receiver.start(await freePort(), config.mode, out);
          // Warm-up, untimed, into this receiver: small images first, so that
          // dnet's JIT-compiled code is measured, as in a long-lived SCP or
          // client. A dnet sender warms itself (same process, the full list);
          // another sender sends the full list as a run of its own when the
          // receiver is a dnet process, a few images otherwise.
          const warmup = warmups.get(config.mode)!;
          if (!config.sender.warmsItself) {
            const runs: [string, string[]][] = config.receiver.jit
              ? warmup.parts
              : nativeWarmList
                ? [[nativeWarmList, nativeWarm]]
                : [];
            for (const [list, listed] of runs) {
              await config.sender.send(server.port, config.receiver.calledAe, list, listed);
            }
          }
          const result = await config.sender.send(
            server.port,
            config.receiver.calledAe,
            listFile,
            files,
            config.sender.warmsItself ? warmup.list : undefined,
          );
          const stopped = await server.stop();
          server = undefined;
          if (result.failed > 0 || !Number.isFinite(result.ms)) {
            throw new Error(`${result.failed} stores failed`);
          }
          const times = config.repeat ?? 1;
          acc.mbs.push((bytes * times) / 1e6 / (result.ms / 1000));
          acc.ips.push((files.length * times) / (result.ms / 1000));
          acc.s.push(result.proc.rssMb);
          acc.r.push(stopped.rssMb);
          log(`  ${group} run ${run + 1}: ${key}: ${(acc.mbs.at(-1) ?? 0).toFixed(0)} MB/s`);
          break;
        } catch (err) {
          const note = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
          if (server) await server.stop();
          log(`  ${group} run ${run + 1}: ${key}: attempt ${attempt} FAILED ${note}`);
          if (attempt === 2) {
            acc.failures++;
            acc.note = note.slice(0, 160);
          } else {
            await new Promise((r) => setTimeout(r, 3000));
          }
        } finally {
          await rm(out, { recursive: true, force: true });
        }
      }
    }
  }
  const rows: Row[] = [];
  const row = (name: string, acc: Acc): Row => {
    const s = acc.mbs.length ? summarize(name, 'MB/s', acc.mbs) : undefined;
    const i = acc.ips.length ? summarize(name, 'images/s', acc.ips) : undefined;
    return {
      group,
      name,
      unit: 'MB/s',
      median: s?.median ?? Number.NaN,
      min: s?.min ?? Number.NaN,
      max: s?.max ?? Number.NaN,
      ...(i && { rate: { unit: 'images/s', median: i.median, min: i.min, max: i.max } }),
      senderRssMb: median(acc.s),
      receiverRssMb: median(acc.r),
      failures: acc.failures,
      ...(acc.note && { note: acc.note }),
    };
  };
  if (ceilingRun) rows.push(row(ceilingRun.name, ceiling));
  for (const [key, acc] of accs) rows.push(row(key, acc));
  return rows;
}

/** Options of {@link compare}. */
export interface CompareOptions {
  corpus: Corpus;
  plan: Plan;
  work: string;
  log: (line: string) => void;
}

/** Files sent untimed before each timed store run (set by {@link compare}). */
let warmFiles: string[] = [];
/** Tiny files sent before those in discarding runs (set by {@link compare}). */
let warmTinyFiles: string[] = [];
/** How many of them a non-dnet sender sends into a non-dnet receiver. */
let warmNative = 0;

/** Every comparison of the issue; rows in report order. */
export async function compare({ corpus, plan, work, log }: CompareOptions): Promise<Row[]> {
  const rows: Row[] = [];
  warmFiles = corpus.warm.slice(0, plan.warmup);
  warmTinyFiles = corpus.warmTiny.slice(0, plan.warmupTiny);
  warmNative = plan.warmupNative;
  const haveDcmtk = hasCommand('storescu') && hasCommand('storescp');
  if (!haveDcmtk) log('DCMTK (storescu, storescp) not found: its rows are skipped');
  const app = dnetScpApp();
  const largeMiB = corpus.large.length
    ? Math.round(corpus.largeBytes / corpus.large.length / 2 ** 20)
    : 0;
  const pairs = (
    modes: Mode[],
    withWindow: boolean,
    withDcmjs: boolean,
    withMemory = false,
    withDefaultGc = false,
  ): StoreConfig[] => {
    const out: StoreConfig[] = [];
    for (const mode of modes) {
      out.push({ sender: dnetScu(1), receiver: mode === 'write' ? app : dnetRoleScp, mode });
      if (withMemory && mode === 'discard') {
        // Like with like against the ceiling (which writes from memory): the
        // data set in memory, 4 MiB PDUs on both sides.
        out.push({
          sender: dnetMemoryScu(largeMiB, DNET_LARGE_PDU, plan.warmup, LARGE_REPEAT),
          receiver: dnetRoleReceiver('dnet SCP', [], DNET_LARGE_PDU),
          mode,
          name: LARGE_IN_MEMORY,
          repeat: LARGE_REPEAT,
        });
      }
      if (withWindow) {
        out.push({ sender: dnetScu(8), receiver: mode === 'write' ? app : dnetRoleScp, mode });
      }
      if (withDefaultGc && mode === 'discard') {
        out.push({ sender: dnetScu(1), receiver: dnetRoleScpDefaultGc, mode });
        if (haveDcmtk) out.push({ sender: storescu, receiver: dnetRoleScpDefaultGc, mode });
        out.push({ sender: dnetScu(1), receiver: dnetRoleScpUnpaced, mode });
      }
      if (haveDcmtk) {
        out.push({ sender: storescu, receiver: mode === 'write' ? app : dnetRoleScp, mode });
        out.push({ sender: dnetScu(1), receiver: storescp, mode });
        if (withWindow) out.push({ sender: dnetScu(8), receiver: storescp, mode });
        out.push({ sender: storescu, receiver: storescp, mode });
        if (withDcmjs) out.push({ sender: dcmjs, receiver: storescp, mode });
      }
    }
    return out;
  };

  // The machine's floors, measured within the large and the small group's runs.
  const bounds = floors(plan, work, corpus.small, corpus.large, log);
  log(
    `large objects: ${corpus.large.length} x ${(corpus.largeBytes / corpus.large.length / 2 ** 20).toFixed(0)} MiB`,
  );
  rows.push(
    ...(await storeGroup(
      'large',
      corpus.large,
      corpus.largeBytes,
      pairs(['discard', 'write'], false, plan.dcmjsLarge, true),
      plan.runs,
      work,
      {
        ceiling: {
          name: CEILING,
          bytes: corpus.largeBytes * LARGE_REPEAT,
          serveArgs: [],
          pushArgs: [],
        },
        floors: bounds.runLarge,
      },
      log,
    )),
  );
  log(`small objects: ${corpus.small.length} x 512 KiB`);
  rows.push(
    ...(await storeGroup(
      'small',
      corpus.small,
      corpus.smallBytes,
      pairs(['discard', 'write'], true, true, false, true),
      plan.runs,
      work,
      { floors: bounds.runSmall },
      log,
    )),
  );

  // TLS against plaintext, dnet -> dnet discarding, large objects.
  let pki: TestPki | undefined;
  try {
    pki = makeTestPki();
    const tlsScp = dnetRoleReceiver('dnet SCP over TLS', [
      '--tls',
      `${pki.path('server.pem')},${pki.path('server.key')}`,
    ]);
    const tlsScu = { ...dnetScu(1, pki.path('ca.pem')), name: 'dnet SCU over TLS' };
    log('TLS against plaintext');
    rows.push(
      ...(await storeGroup(
        'tls',
        // The large corpus sent LARGE_REPEAT times over by both configurations,
        // so each run lasts long enough to time steadily (one pass: ~0.3 s).
        Array.from({ length: LARGE_REPEAT }, () => corpus.large).flat(),
        corpus.largeBytes * LARGE_REPEAT,
        [
          { sender: dnetScu(1), receiver: dnetRoleScp, mode: 'discard' },
          { sender: tlsScu, receiver: tlsScp, mode: 'discard' },
        ],
        plan.runs,
        work,
        // Node's own TLS sockets pushing the same bytes: what TLS costs without DICOM.
        {
          ceiling: {
            name: TLS_CEILING,
            bytes: corpus.largeBytes * LARGE_REPEAT,
            serveArgs: ['--tls', `${pki.path('server.pem')},${pki.path('server.key')}`],
            pushArgs: ['--tls', pki.path('ca.pem')],
          },
        },
        log,
      )),
    );
  } catch (err) {
    log(`TLS skipped: ${(err as Error).message}`);
  } finally {
    pki?.remove();
  }

  // The 1 GiB object, written to files by dnet-scp: its peak RSS. Only the
  // short warm-up (plan.warmupNative images) here: the receiver's peak RSS is
  // over its whole life, and 300 small images raise it above what receiving
  // the one large object takes, which is what this row checks (measured:
  // dnet-scp peaks at 118 MB on the 300 small images alone; 109-111 MB for 10
  // images then 1 GiB, 124-126 MB for 300 then 1 GiB).
  if (corpus.huge) {
    log(`memory check: one ${(corpus.hugeBytes / 2 ** 30).toFixed(2)} GiB object`);
    const huge = await storeGroup(
      'huge',
      [corpus.huge],
      corpus.hugeBytes,
      [{ sender: dnetScu(1), receiver: app, mode: 'write' }],
      1,
      work,
      {},
      log,
      plan.warmupNative,
    );
    rows.push(...huge);
  }

  rows.push(...(await control(plan, work, haveDcmtk, log)));
  rows.push(...bounds.rows());
  return rows;
}

/** C-ECHO, associations, C-FIND and the concurrent-association check. */
async function control(
  plan: Plan,
  work: string,
  haveDcmtk: boolean,
  log: (line: string) => void,
): Promise<Row[]> {
  const rows: Row[] = [];
  const scu = (args: string[], timeoutMs = 120_000) =>
    runMeasured(...nodeRole('dnet-scu', args), { timeoutMs });

  log(
    `C-ECHO: ${plan.echoes} on one association, 1, ${ECHO_WINDOW} and ${ECHO_WIDE_WINDOW} outstanding; ${plan.associations} associations, 1 and ${ASSOC_PARALLEL} under way (warm-up ${plan.echoWarmup} echoes, ${plan.assocWarmup} associations)`,
  );
  const echo: number[] = [];
  const echoWindow: number[] = [];
  const echoWide: number[] = [];
  const pingpong: number[] = [];
  const echoDcmtk: number[] = [];
  const assoc: number[] = [];
  const assocParallel: number[] = [];
  const echoRss: number[] = [];
  const parallelRss: number[] = [];
  const serverRss: number[] = [];
  for (let run = 0; run < plan.runs; run++) {
    const port = await freePort();
    const server = await dnetRoleScp.start(port, 'discard', work);
    // Each measured process warms itself first (untimed, into this server).
    const echoRun = async (window: number, into: number[]) => {
      const e = parseJson(
        await scu([
          '--op',
          'echo',
          '--port',
          String(port),
          '--count',
          String(plan.echoes),
          '--warm',
          String(plan.echoWarmup),
          '--window',
          String(window),
        ]),
      );
      into.push(plan.echoes / ((e.loopMs ?? Number.NaN) / 1000));
    };
    const assocRun = async (parallel: number, into: number[], rss: number[]) => {
      const a = await scu([
        '--op',
        'assoc',
        '--port',
        String(port),
        '--count',
        String(plan.associations),
        '--warm',
        String(plan.assocWarmup),
        '--parallel',
        String(parallel),
      ]);
      const ar = parseJson(a);
      into.push(plan.associations / ((ar.ms ?? Number.NaN) / 1000));
      rss.push(a.rssMb);
    };
    try {
      await echoRun(1, echo);
      await echoRun(ECHO_WINDOW, echoWindow);
      await echoRun(ECHO_WIDE_WINDOW, echoWide);
      await assocRun(1, assoc, echoRss);
      await assocRun(ASSOC_PARALLEL, assocParallel, parallelRss);
    } catch (err) {
      log(`  echo run ${run + 1} FAILED: ${(err as Error).message.slice(0, 300)}`);
    } finally {
      serverRss.push((await server.stop()).rssMb);
    }
    {
      const p3 = await freePort();
      const sink = await startMeasured(
        ...nodeRole('socket', ['--serve', String(p3), '--echo'], SERVER_NODE_FLAGS),
        p3,
      );
      try {
        const pp = parseJson(
          await runMeasured(
            ...nodeRole('socket', [
              '--pingpong',
              String(p3),
              '--count',
              String(plan.echoes),
              '--warm',
              String(plan.echoWarmup),
            ]),
          ),
        );
        pingpong.push(plan.echoes / ((pp.ms ?? Number.NaN) / 1000));
      } finally {
        await sink.stop();
      }
    }
    if (haveDcmtk) {
      const p2 = await freePort();
      const scp = await storescp.start(p2, 'discard', work);
      const t = await runMeasured('echoscu', [
        '--repeat',
        String(plan.echoes),
        '127.0.0.1',
        String(p2),
      ]);
      await scp.stop();
      if (t.code === 0) echoDcmtk.push(plan.echoes / (t.wallMs / 1000));
    }
  }
  const put = (
    group: string,
    name: string,
    unit: string,
    samples: number[],
    extra: Partial<Row> = {},
  ) => {
    const row = sampledRow(plan.runs, group, name, unit, samples, extra);
    if (row) rows.push(row);
  };
  put(
    'echo',
    'node net.Socket ping-pong, 80 bytes each way (round-trip ceiling)',
    'round trips/s',
    pingpong,
  );
  put('echo', ECHO_SERIAL, 'echo/s', echo, {
    receiverRssMb: median(serverRss),
  });
  put('echo', ECHO_WINDOWED, 'echo/s', echoWindow);
  put('echo', ECHO_WIDE, 'echo/s', echoWide);
  put('echo', 'echoscu --repeat -> storescp (process start-up included)', 'echo/s', echoDcmtk);
  put('echo', ASSOC_SERIAL, 'assoc/s', assoc, {
    senderRssMb: median(echoRss),
  });
  put('echo', ASSOC_PARALLELED, 'assoc/s', assocParallel, {
    senderRssMb: median(parallelRss),
  });

  // C-FIND: dnet-scp's index populated with findMatches tiny images.
  log(`C-FIND: ${plan.findMatches} matches from dnet-scp`);
  {
    const port = await freePort();
    const dir = join(work, 'find');
    await mkdir(dir, { recursive: true });
    const server = await dnetScpApp().start(port, 'write', dir);
    const latency: number[] = [];
    const rate: number[] = [];
    try {
      const pop = parseJson(
        await scu([
          '--op',
          'populate',
          '--port',
          String(port),
          '--count',
          String(plan.findMatches),
          '--size',
          '16',
        ]),
      );
      if (pop.count !== plan.findMatches)
        throw new Error(`populated ${pop.count} of ${plan.findMatches}`);
      for (let run = 0; run < plan.runs; run++) {
        // One full C-FIND untimed first (same process), then the timed one.
        const f = parseJson(await scu(['--op', 'find', '--port', String(port), '--warm', '1']));
        if (f.count !== plan.findMatches) throw new Error(`C-FIND returned ${f.count} matches`);
        latency.push(f.firstMs ?? Number.NaN);
        rate.push((f.count ?? 0) / ((f.loopMs ?? Number.NaN) / 1000));
      }
    } catch (err) {
      log(`  C-FIND FAILED: ${(err as Error).message.slice(0, 300)}`);
    } finally {
      const stopped = await server.stop();
      put(
        'find',
        `dnet SCU -> dnet-scp: C-FIND, first of ${plan.findMatches} matches`,
        'ms',
        latency,
      );
      put('find', `dnet SCU -> dnet-scp: C-FIND, ${plan.findMatches} matches`, 'matches/s', rate, {
        receiverRssMb: stopped.rssMb,
      });
      await rm(dir, { recursive: true, force: true });
    }
  }

  // Concurrent associations into dnet-scp writing files.
  const n = plan.concurrentAssociations;
  const per = plan.concurrentPerAssociation;
  log(`concurrency: ${n} associations x ${per} images into dnet-scp`);
  {
    const port = await freePort();
    const dir = join(work, 'concurrent');
    await mkdir(dir, { recursive: true });
    const server = await dnetScpApp(['--max-associations', String(n + 8)]).start(
      port,
      'write',
      dir,
    );
    let row: Row | undefined;
    try {
      const proc = await scu(
        [
          '--op',
          'concurrent',
          '--port',
          String(port),
          '--count',
          String(n),
          '--per',
          String(per),
          '--size',
          String(plan.concurrentImageSize),
        ],
        300_000,
      );
      const r = parseJson(proc);
      const stopped = await server.stop();
      row = {
        group: 'concurrent',
        name: `${n} associations x ${per} images of ${plan.concurrentImageSize}x${plan.concurrentImageSize}x16 bit -> dnet-scp writing files (${r.count} stored, ${r.failed} failed)`,
        unit: 'images/s',
        median: (r.count ?? 0) / ((r.ms ?? Number.NaN) / 1000),
        min: Number.NaN,
        max: Number.NaN,
        senderRssMb: proc.rssMb,
        receiverRssMb: stopped.rssMb,
        failures: r.count === n * per ? 0 : 1,
      };
    } catch (err) {
      log(`  concurrency FAILED: ${(err as Error).message.slice(0, 300)}`);
      await server.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (row) rows.push(row);
  }
  return rows;
}
