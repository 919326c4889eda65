/**
 * `dnet-scp --workers N` end to end: the BUILT CLI as a primary and its
 * worker processes (node:cluster), DCMTK senders at once, the durability
 * rule through a kill -9 of the whole process group, the association limits
 * kept across the workers, and a killed worker replaced. Needs `pnpm build`
 * first (the README's test command builds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INCOMING_FOLDER, SqliteIndex } from '@dnet/archive';
import { AssociationRejectedError } from '@dnet/association';
import { Client, storageCommitment, verification } from '@dnet/services';
import { describePeer, freePort, runTool } from '@dnet/testkit';
import { postgresBinDir, startPostgres, type TestPostgres } from '@dnet/testkit/postgres';
import { tcp } from '@dnet/transport-tcp';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SCP_CLI } from './scale-out-cluster.test-support.js';
import { studyCounts } from './study-counts.test-support.js';
import { CT_IMAGE_STORAGE, type SyntheticImage, syntheticImages } from './synthetic-images.js';

const AE = 'DNETSCP';

/** One JSON log line of dnet-scp. */
type LogLine = Record<string, unknown>;

/** The CLI started in its own process group (so that one kill -9 takes the primary and its workers). */
interface Cli {
  child: ChildProcess;
  port: number;
  lines(): LogLine[];
  /** Resolves the first log line `match` accepts (bounded). */
  waitForLine(match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
}

const running: Cli[] = [];

async function startCli(storage: string, args: string[]): Promise<Cli> {
  if (!existsSync(SCP_CLI)) throw new Error(`${SCP_CLI} is missing: run pnpm build first`);
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [SCP_CLI, '--host', '127.0.0.1', '--port', String(port), '--storage', storage, ...args],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const lines = () =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return []; // cut by a kill
        }
      });
  const waitForLine = async (match: (l: LogLine) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines().find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no such log line in ${timeoutMs} ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const cli = { child, port, lines, waitForLine, exited };
  running.push(cli);
  const deadline = Date.now() + 30_000;
  while (!stdout.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`dnet-scp did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return cli;
}

/** SIGKILL to the CLI's whole process group: the primary and every worker, no shutdown at all. */
async function killGroup(cli: Cli): Promise<void> {
  try {
    process.kill(-(cli.child.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
  await cli.exited;
}

/** Graceful stop (SIGTERM to the primary); SIGKILL to the group after 15 s. */
async function stopCli(cli: Cli): Promise<number | null> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.child.exitCode;
  cli.child.kill('SIGTERM');
  const timer = setTimeout(() => void killGroup(cli), 15_000);
  const code = await cli.exited;
  clearTimeout(timer);
  return code;
}

/** Whether process `pid` is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The SOP Instance UIDs answered Success (the C-STORE log lines), and which workers answered. */
function acknowledged(cli: Cli): { uids: Set<string>; workers: Set<unknown> } {
  const uids = new Set<string>();
  const workers = new Set<unknown>();
  for (const l of cli.lines()) {
    if (l.op === 'C-STORE' && l.status === '0x0000' && typeof l.sopInstanceUid === 'string') {
      uids.add(l.sopInstanceUid);
      workers.add(l.worker);
    }
  }
  return { uids, workers };
}

describePeer(
  ['storescu', 'findscu', 'echoscu', 'getscu'],
  'dnet-scp --workers (node:cluster)',
  () => {
    let dir: string;
    let images: SyntheticImage[];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-workers-'));
      images = await syntheticImages(join(dir, 'images'), { count: 80, perSeries: 10, size: 32 });
    }, 60_000);

    afterEach(async () => {
      for (const cli of running.splice(0)) await stopCli(cli);
    }, 60_000);

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('4 storescu at once on 2 workers: every acknowledged object is on disk and found by C-FIND; after kill -9 of the process group every one is still in the index', async () => {
      const storage = join(dir, 'durable');
      const cli = await startCli(storage, ['--workers', '2']);
      const groups = Array.from({ length: 4 }, (_, g) => images.filter((_, i) => i % 4 === g));
      const runs = await Promise.all(
        groups.map((g) =>
          runTool(
            'storescu',
            ['-aec', AE, '127.0.0.1', String(cli.port), ...g.map((i) => i.path)],
            {
              timeoutMs: 120_000,
            },
          ),
        ),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const { uids, workers } = acknowledged(cli);
      expect(uids.size).toBe(images.length);
      // Both workers served associations (node:cluster hands connections round robin).
      expect([...workers].sort()).toEqual([1, 2]);
      const counts = await studyCounts(join(dir, 'find-before'), cli.port, AE);
      expect(counts.reduce((n, c) => n + c, 0)).toBe(images.length);
      // The durability rule: a Success response means the file and its index row are durable.
      await killGroup(cli);
      const index = new SqliteIndex(join(storage, 'index.sqlite'));
      try {
        expect((await index.count()).instances).toBe(images.length);
        for (const image of images) {
          const row = await index.get(image.sopInstanceUid);
          expect(row, image.sopInstanceUid).toBeDefined();
          expect((await stat(join(storage, row?.path as string))).size).toBe(row?.size);
        }
      } finally {
        await index.close();
      }
      // The archive reopens (the dead primary's lock is taken over) and answers the same.
      const again = await startCli(storage, ['--workers', '2']);
      const after = await studyCounts(join(dir, 'find-after'), again.port, AE);
      expect(after.reduce((n, c) => n + c, 0)).toBe(images.length);
      expect(await stopCli(again)).toBe(0);
    }, 180_000);

    it('--max-associations and --max-associations-per-ae hold across the workers together (A-ASSOCIATE-RJ transient, local-limit-exceeded)', async () => {
      const cli = await startCli(join(dir, 'limits'), [
        '--workers',
        '2',
        '--max-associations',
        '3',
        '--max-associations-per-ae',
        '2',
      ]);
      const connect = (calling: string) =>
        Client.connect({
          transport: tcp(),
          host: '127.0.0.1',
          port: cli.port,
          callingAeTitle: calling,
          calledAeTitle: AE,
          contexts: [verification()],
        });
      const refusal = (p: Promise<Client>) =>
        p.then(
          async (c) => {
            await c.release();
            throw new Error('accepted');
          },
          (e: unknown) => {
            expect(e).toBeInstanceOf(AssociationRejectedError);
            const r = e as AssociationRejectedError;
            return { result: r.result, source: r.source, reason: r.reason };
          },
        );
      // PS3.8 §9.3.4 Table 9-21: rejected-transient, service-provider (presentation), local-limit-exceeded.
      const LIMIT = { result: 2, source: 3, reason: 2 };
      const held = [await connect('MOD'), await connect('MOD')];
      expect(await refusal(connect('MOD'))).toEqual(LIMIT);
      held.push(await connect('OTHER'));
      expect(await refusal(connect('OTHER'))).toEqual(LIMIT);
      // The held associations are spread over both workers: each worker alone is under both limits.
      const accepted = cli
        .lines()
        .filter((l) => l.event === 'association' && l.status === 'accepted')
        .map((l) => l.worker);
      expect(new Set(accepted)).toEqual(new Set([1, 2]));
      const causes = cli
        .lines()
        .filter((l) => l.status === 'rejected')
        .map((l) => l.cause);
      expect(causes).toEqual([
        '2 associations of MOD already open on all workers, at most 2',
        '3 associations open on all workers, at most 3',
      ]);
      for (const c of held) expect(await c.echo()).toBe(0);
      // A slot frees when an association ends.
      await (held.shift() as Client).release();
      await cli.waitForLine((l) => l.event === 'association' && l.status === 'closed');
      const next = await connect('MOD');
      expect(await next.echo()).toBe(0);
      await Promise.all([next, ...held].map((c) => c.release()));
    }, 60_000);

    it('through the workers: --on-duplicate reject (A701H on every worker), C-GET of a series, Storage Commitment', async () => {
      const cli = await startCli(join(dir, 'services'), [
        '--workers',
        '2',
        '--on-duplicate',
        'reject',
      ]);
      const series = images.filter((i) => i.seriesInstanceUid === images[0]?.seriesInstanceUid);
      const first = series[0] as SyntheticImage;
      const send = (files: SyntheticImage[]) =>
        runTool(
          'storescu',
          ['-aec', AE, '127.0.0.1', String(cli.port), ...files.map((i) => i.path)],
          {
            timeoutMs: 60_000,
          },
        );
      const r = await send(series);
      expect(r.code, r.stderr).toBe(0);
      // Sent again on two associations (one per worker): the index each worker asks is the one.
      await send([first]);
      await send([first]);
      const refused = cli
        .lines()
        .filter((l) => l.op === 'C-STORE' && l.sopInstanceUid === first.sopInstanceUid)
        .map((l) => [l.worker, l.status]);
      expect(refused).toHaveLength(3);
      expect(refused.slice(1).map(([, status]) => status)).toEqual(['0xa701', '0xa701']);
      expect(new Set(refused.map(([w]) => w))).toEqual(new Set([1, 2]));
      // C-GET (PS3.4 §C.4.3): the series' instances selected through the primary's index.
      const out = join(dir, 'get');
      await mkdir(out);
      const get = await runTool(
        'getscu',
        [
          '-S',
          '-aec',
          AE,
          '-od',
          out,
          '-k',
          'QueryRetrieveLevel=SERIES',
          '-k',
          `StudyInstanceUID=${first.studyInstanceUid}`,
          '-k',
          `SeriesInstanceUID=${first.seriesInstanceUid}`,
          '127.0.0.1',
          String(cli.port),
        ],
        { timeoutMs: 60_000 },
      );
      expect(get.code, get.stderr).toBe(0);
      const got = await readdir(out);
      for (const i of series) expect(got.some((f) => f.includes(i.sopInstanceUid))).toBe(true);
      // Storage Commitment (PS3.4 Annex J): held, and not held (0112H).
      const client = await Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: cli.port,
        callingAeTitle: 'SCU',
        calledAeTitle: AE,
        contexts: [storageCommitment()],
      });
      try {
        const refs = [
          { sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid: first.sopInstanceUid },
          { sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid: '1.2.3.999' },
        ];
        const report = await client.commit(refs, { timeoutMs: 20_000 });
        expect(report.committed).toEqual([refs[0]]);
        expect(report.failed).toEqual([{ ...refs[1], reason: 0x0112 }]);
      } finally {
        await client.release();
      }
    }, 120_000);

    it('a worker that cannot listen stops the start: exit 1, one line saying why, the lock released', async () => {
      const busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const port = (busy.address() as AddressInfo).port;
      const storage = join(dir, 'busy');
      try {
        const r = await runTool(
          process.execPath,
          [
            SCP_CLI,
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '--storage',
            storage,
            '--workers',
            '2',
          ],
          { timeoutMs: 60_000 },
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /dnet-scp: cannot start: worker [12] could not start: .*EADDRINUSE/,
        );
      } finally {
        await new Promise((resolve) => busy.close(resolve));
      }
      expect(existsSync(join(storage, '.dnet-scp.lock'))).toBe(false);
    }, 60_000);

    it('a worker killed with SIGKILL is replaced and the server keeps serving; SIGTERM stops every worker', async () => {
      const cli = await startCli(join(dir, 'restart'), ['--workers', '2']);
      const pids = (await cli.waitForLine((l) => l.msg === 'workers listening')).pids as number[];
      expect(pids).toHaveLength(2);
      process.kill(pids[0] as number, 'SIGKILL');
      const exited = await cli.waitForLine((l) => l.msg === 'worker exited');
      expect(exited).toMatchObject({ worker: 1, signal: 'SIGKILL' });
      const replaced = await cli.waitForLine((l) => l.msg === 'worker replaced');
      expect(replaced.worker).toBe(1);
      // Served all along (by the other worker meanwhile), and by both after.
      for (let i = 0; i < 4; i++) {
        const r = await runTool('echoscu', ['-aec', AE, '127.0.0.1', String(cli.port)], {
          timeoutMs: 30_000,
        });
        expect(r.code, r.stderr).toBe(0);
      }
      const some = images.slice(0, 8);
      const r = await runTool(
        'storescu',
        ['-aec', AE, '127.0.0.1', String(cli.port), ...some.map((i) => i.path)],
        { timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(acknowledged(cli).uids.size).toBe(some.length);
      const all = [pids[1] as number, replaced.pid as number];
      expect(await stopCli(cli)).toBe(0);
      for (const pid of all) expect(alive(pid)).toBe(false);
    }, 60_000);
  },
);

describePeer(
  postgresBinDir() ? ['storescu'] : ['storescu', 'postgres-server'],
  'dnet-scp --workers with a PostgreSQL --db',
  () => {
    let dir: string;
    let pgServer: TestPostgres;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-workers-pg-'));
      pgServer = await startPostgres();
    }, 60_000);

    afterAll(async () => {
      for (const cli of running.splice(0)) await stopCli(cli);
      await pgServer?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    it('each worker connects to the database itself; every acknowledged object has its row', async () => {
      const url = await pgServer.createDatabase('workers');
      const images = await syntheticImages(join(dir, 'images'), {
        count: 24,
        perSeries: 6,
        size: 16,
      });
      const cli = await startCli(join(dir, 'root'), [
        '--workers',
        '2',
        '--db',
        url,
        '--node-id',
        'n1',
      ]);
      const groups = Array.from({ length: 4 }, (_, g) => images.filter((_, i) => i % 4 === g));
      const runs = await Promise.all(
        groups.map((g) =>
          runTool(
            'storescu',
            ['-aec', AE, '127.0.0.1', String(cli.port), ...g.map((i) => i.path)],
            {
              timeoutMs: 60_000,
            },
          ),
        ),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const { uids, workers } = acknowledged(cli);
      expect(uids.size).toBe(images.length);
      expect([...workers].sort()).toEqual([1, 2]);
      // The workers' temporary folders are their own, after the node's id.
      const incoming = await readdir(join(dir, 'root', INCOMING_FOLDER));
      expect(incoming).toEqual(expect.arrayContaining(['n1', 'n1-w1', 'n1-w2']));
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const rows = await db.query<{ sop_instance_uid: string }>(
          'SELECT sop_instance_uid FROM instance',
        );
        expect(new Set(rows.rows.map((r) => r.sop_instance_uid))).toEqual(uids);
      } finally {
        await db.end();
      }
      expect(await stopCli(cli)).toBe(0);
    }, 120_000);
  },
);
