/**
 * docs/scale-out.md end to end (issue 14): the BUILT dnet-scp CLI started
 * twice (`--db postgres://... --node-id`) on one throwaway PostgreSQL and one
 * storage root, HAProxy in TCP mode with the documented DICOM health check in
 * front, DCMTK tools as the SCUs, and one node SIGKILLed in the middle of a
 * transfer. Needs `pnpm build` first (the README's test command builds).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INCOMING_FOLDER } from '@dnet/archive';
import { readPart10Header } from '@dnet/dataset';
import { Client, storage } from '@dnet/services';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { postgresBinDir, startPostgres, type TestPostgres } from '@dnet/testkit/postgres';
import { tcp } from '@dnet/transport-tcp';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type RunningHaproxy,
  type ScpNode,
  startHaproxy,
  startScpNode,
} from './scale-out-cluster.test-support.js';
import { studyCounts } from './study-counts.test-support.js';
import { CT_IMAGE_STORAGE, type SyntheticImage, syntheticImages } from './synthetic-images.js';

const AE = 'DNETSCP';
const SIZE = 32; // rows and columns: the pixel data is the last SIZE * SIZE * 2 bytes of a file

const TOOLS = ['haproxy', 'storescu', 'findscu', 'movescu', 'getscu', 'storescp'];
const peers = postgresBinDir() ? TOOLS : [...TOOLS, 'postgres-server'];

/** The pixel data bytes at the end of a Part 10 file of a synthetic image. */
async function pixels(path: string, size = SIZE): Promise<Buffer> {
  const bytes = await readFile(path);
  return bytes.subarray(bytes.length - size * size * 2);
}

/** storescu arguments sending `files` to `port` with our AE title. */
const storescuArgs = (port: number, files: SyntheticImage[], verbose = false) => [
  ...(verbose ? ['-v'] : []),
  '-aec',
  AE,
  '127.0.0.1',
  String(port),
  ...files.map((i) => i.path),
];

describePeer(peers, 'dnet-scp CLI x 2, one PostgreSQL, one storage root, HAProxy', () => {
  let dir: string;
  let root: string;
  let movedTo: string;
  let pgServer: TestPostgres;
  let url: string;
  let db: pg.Client;
  let storescp: RunningPeer;
  let haproxy: RunningHaproxy;
  let images: SyntheticImage[];
  const nodes: ScpNode[] = [];
  const node = (i: number) => nodes[i] as ScpNode;

  const startNode = (name: string, port?: number) =>
    startScpNode({
      name,
      db: url,
      storage: root,
      peers: { STORESCP: storescp.port },
      ...(port !== undefined && { port }),
    });

  /** What the index holds, read straight from PostgreSQL. */
  async function rows(): Promise<Map<string, { path: string; size: number }>> {
    const r = await db.query<{ sop_instance_uid: string; path: string; size: string }>(
      'SELECT sop_instance_uid, path, size FROM instance',
    );
    return new Map(r.rows.map((x) => [x.sop_instance_uid, { path: x.path, size: Number(x.size) }]));
  }

  /** Every image of `list` has exactly one row, and the file it names holds the bytes sent. */
  async function expectStored(list: SyntheticImage[]): Promise<void> {
    const index = await rows();
    for (const image of list) {
      const row = index.get(image.sopInstanceUid);
      expect(row, image.sopInstanceUid).toBeDefined();
      expect(row?.path).toBe(
        `${image.studyInstanceUid}/${image.seriesInstanceUid}/${image.sopInstanceUid}.dcm`,
      );
      const file = join(root, row?.path as string);
      expect((await readFile(file)).length).toBe(row?.size);
      expect(await pixels(file)).toEqual(await pixels(image.path));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scale-out-e2e-'));
    root = join(dir, 'shared-root');
    movedTo = join(dir, 'moved');
    await mkdir(movedTo);
    pgServer = await startPostgres();
    url = await pgServer.createDatabase('cluster');
    db = new pg.Client({ connectionString: url });
    await db.connect();
    images = await syntheticImages(join(dir, 'images'), { count: 200, perSeries: 10, size: SIZE });
    storescp = await startPeer({
      command: 'storescp',
      args: (port) => ['-aet', 'STORESCP', '-od', movedTo, '+B', '+xa', String(port)],
    });
    // Both nodes start together: the schema is created once (advisory lock).
    nodes.push(...(await Promise.all([startNode('node-1'), startNode('node-2')])));
    haproxy = await startHaproxy({
      dir,
      servers: nodes.map((n) => ({ name: n.name, port: n.port })),
    });
  }, 120_000);

  afterAll(async () => {
    await haproxy?.stop();
    for (const n of nodes) await n.stop();
    await storescp?.stop();
    await db?.end().catch(() => undefined);
    await pgServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('storescu through HAProxy, 8 associations, 200 files: each indexed exactly once, by one node', async () => {
    const groups = Array.from({ length: 8 }, (_, g) => images.filter((_, i) => i % 8 === g));
    const runs = await Promise.all(
      groups.map((g) => runTool('storescu', storescuArgs(haproxy.port, g), { timeoutMs: 120_000 })),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const counts = await db.query<{ n: string; distinct: string }>(
      'SELECT count(*) AS n, count(DISTINCT sop_instance_uid) AS distinct FROM instance',
    );
    expect(counts.rows[0]).toEqual({ n: '200', distinct: '200' });
    const levels = await db.query<{ p: string; st: string; se: string }>(
      'SELECT (SELECT count(*) FROM patient) AS p, (SELECT count(*) FROM study) AS st, (SELECT count(*) FROM series) AS se',
    );
    expect(levels.rows[0]).toEqual({ p: '2', st: '10', se: '20' });
    await expectStored(images);
    // Both nodes took associations, and no instance was stored by both.
    const [a, b] = [node(0).stored(), node(1).stored()];
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    expect(a.size + b.size).toBe(200);
    expect(new Set([...a, ...b]).size).toBe(200);
  }, 180_000);

  it('findscu through HAProxy sees all 200 instances', async () => {
    const studies = await studyCounts(join(dir, 'find'), haproxy.port, AE);
    expect(studies).toHaveLength(10);
    expect(studies.reduce((n, c) => n + c, 0)).toBe(200);
  }, 60_000);

  it('movescu and getscu against each node retrieve instances the other node stored', async () => {
    for (const [here, other] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const theirs = node(other).stored();
      const mine = node(here).stored();
      // A series with instances only the other node received, moved through this node.
      const series =
        images.find(
          (i) =>
            theirs.has(i.sopInstanceUid) &&
            images
              .filter((j) => j.seriesInstanceUid === i.seriesInstanceUid)
              .every((j) => !mine.has(j.sopInstanceUid)),
        ) ?? images.find((i) => theirs.has(i.sopInstanceUid));
      expect(series).toBeDefined();
      const s = series as SyntheticImage;
      const members = images.filter((i) => i.seriesInstanceUid === s.seriesInstanceUid);
      const move = await runTool(
        'movescu',
        [
          '-S',
          '-aec',
          AE,
          '-aem',
          'STORESCP',
          '-k',
          'QueryRetrieveLevel=SERIES',
          '-k',
          `StudyInstanceUID=${s.studyInstanceUid}`,
          '-k',
          `SeriesInstanceUID=${s.seriesInstanceUid}`,
          '127.0.0.1',
          String(node(here).port),
        ],
        { timeoutMs: 60_000 },
      );
      expect(move.code, move.stderr).toBe(0);
      const moved = await readdir(movedTo);
      for (const i of members) {
        const f = moved.find((name) => name.includes(i.sopInstanceUid));
        expect(f, `${i.sopInstanceUid} moved by ${node(here).name}`).toBeDefined();
        expect(await pixels(join(movedTo, f as string))).toEqual(await pixels(i.path));
      }

      // One instance the other node received, fetched with C-GET from this node.
      const one = images.find(
        (i) => theirs.has(i.sopInstanceUid) && i.seriesInstanceUid !== s.seriesInstanceUid,
      ) as SyntheticImage;
      const out = join(dir, `get-${here}`);
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
          'QueryRetrieveLevel=IMAGE',
          '-k',
          `StudyInstanceUID=${one.studyInstanceUid}`,
          '-k',
          `SeriesInstanceUID=${one.seriesInstanceUid}`,
          '-k',
          `SOPInstanceUID=${one.sopInstanceUid}`,
          '127.0.0.1',
          String(node(here).port),
        ],
        { timeoutMs: 60_000 },
      );
      expect(get.code, get.stderr).toBe(0);
      const got = await readdir(out);
      expect(got).toHaveLength(1);
      expect(await pixels(join(out, got[0] as string))).toEqual(await pixels(one.path));
    }
  }, 120_000);

  it('SIGKILL of one node mid-transfer: nothing acknowledged is lost; HAProxy marks it DOWN; the other serves', async () => {
    const [a, b] = [node(0), node(1)];
    const batch = await syntheticImages(join(dir, 'kill-images'), {
      count: 160,
      perSeries: 20,
      size: SIZE,
    });
    const batchUids = new Set(batch.map((i) => i.sopInstanceUid));
    const storedOfBatch = (n: ScpNode) =>
      [...n.stored()].filter((uid) => batchUids.has(uid)).length;

    // An association straight to node-2 that sends 80% of a 512 KiB object,
    // then waits: node-2 is certainly in the middle of a transfer when it dies.
    const [big] = await syntheticImages(join(dir, 'big'), { count: 1, size: 512 });
    const file = await readFile((big as SyntheticImage).path);
    const dataSet = file.subarray(readPart10Header(file).dataSetOffset);
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: b.port,
      callingAeTitle: 'STALLED',
      calledAeTitle: AE,
      contexts: [storage(CT_IMAGE_STORAGE, ['1.2.840.10008.1.2.1'])],
    });
    const half = Math.floor(dataSet.length * 0.8);
    const store = client.store({
      sopClassUid: CT_IMAGE_STORAGE,
      sopInstanceUid: (big as SyntheticImage).sopInstanceUid,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      // In 32 KiB chunks: the sender holds the newest chunk back until it knows
      // whether it is the last (its last PDV carries the last-fragment bit).
      dataSet: (async function* () {
        for (let at = 0; at < half; at += 32_768) {
          yield dataSet.subarray(at, Math.min(at + 32_768, half));
        }
        await stalled;
        yield dataSet.subarray(half);
      })(),
    });
    const storeOutcome = store.then(
      () => 'acknowledged',
      () => 'failed',
    );

    // The stalled object is on node-2's disk as a temporary file, beside the
    // one node-2 made ahead for its next object (nothing else is sending to
    // node-2 yet, so these are the two).
    // Each node has its own temporary folder, .incoming/<node-id>.
    const incoming = join(root, INCOMING_FOLDER, 'node-2');
    const partials = async () =>
      existsSync(incoming) ? (await readdir(incoming)).filter((f) => f.endsWith('.part')) : [];
    const until = async (done: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 60_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(async () => (await partials()).length >= 2, 'the stalled temporary file');
    const atStall = await partials();

    // Then four storescu associations through HAProxy, two on each node; node-2
    // is killed once it has acknowledged a few objects of the batch.
    const groups = Array.from({ length: 4 }, (_, g) => batch.filter((_, i) => i % 4 === g));
    const runs = Promise.all(
      groups.map((g) =>
        runTool('storescu', storescuArgs(haproxy.port, g, true), { timeoutMs: 120_000 }),
      ),
    );
    await until(async () => storedOfBatch(b) >= 3, 'node-2 to store 3 objects of the batch');
    await b.kill();
    release();
    const results = await runs;
    expect(await storeOutcome).toBe('failed');
    client.abort();

    // storescu sends its files in order and stops at the first failure: the first
    // k files of an association are the k it got Success for.
    const acknowledged: SyntheticImage[] = [];
    results.forEach((r, g) => {
      const k = (`${r.stdout}${r.stderr}`.match(/Received Store Response \(Success\)/g) ?? [])
        .length;
      acknowledged.push(...(groups[g] as SyntheticImage[]).slice(0, k));
    });
    expect(acknowledged.length).toBeGreaterThan(0);
    console.log(
      `[info] node-2 killed: ${acknowledged.length} of ${batch.length} acknowledged, ${results.filter((r) => r.code !== 0).length} of 4 storescu associations cut`,
    );
    await expectStored(acknowledged);
    // The object node-2 was receiving: no row, and its temporary file is still
    // there; the other file of then was taken by the next object node-2 stored.
    expect((await rows()).has((big as SyntheticImage).sopInstanceUid)).toBe(false);
    const afterKill = await partials();
    expect(atStall.filter((f) => afterKill.includes(f))).toHaveLength(1);

    // HAProxy takes node-2 out of rotation; new associations succeed, on node-1.
    await haproxy.waitFor(['node-2'], 'DOWN');
    const acked = new Set(acknowledged.map((i) => i.sopInstanceUid));
    const rest = batch.filter((i) => !acked.has(i.sopInstanceUid));
    const before = a.stored();
    const resend = await runTool('storescu', storescuArgs(haproxy.port, rest), {
      timeoutMs: 120_000,
    });
    expect(resend.code, resend.stderr).toBe(0);
    const after = a.stored();
    for (const i of rest) {
      expect(before.has(i.sopInstanceUid) || after.has(i.sopInstanceUid)).toBe(true);
    }
    await expectStored(batch);
    expect((await rows()).size).toBe(360);
  }, 240_000);

  it('the killed node restarts: removes only its own temporary files, comes back UP, sees everything', async () => {
    const incoming = join(root, INCOMING_FOLDER, 'node-2');
    const port = node(1).port;
    // The killed node's lock (a pid that no longer runs) is taken over.
    nodes[1] = await startNode('node-2', port);
    expect((await readdir(incoming)).filter((f) => f.endsWith('.part'))).toEqual([]);
    await haproxy.waitFor(['node-1', 'node-2'], 'UP');
    const studies = await studyCounts(join(dir, 'find-after'), port, AE);
    expect(studies.reduce((n, c) => n + c, 0)).toBe(360);
  }, 120_000);

  it("a third process given a running node's id refuses to start, naming the folder and the pid", () => {
    const r = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'dist', 'cli.js'),
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--storage',
        root,
        '--db',
        url,
        '--node-id',
        'node-1',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `dnet-scp: cannot start: ${join(root, INCOMING_FOLDER, 'node-1')} is in use by another dnet-scp (pid ${node(0).peer.process.pid})`,
    );
  });
});
