/**
 * Two dnet-scp nodes (the app's own store and query handlers, in process) on
 * one PostgreSQL index and one storage root, behind HAProxy with the DICOM
 * health check of docs/scale-out.md; DCMTK tools as the SCUs (issue 14).
 * The CLI's `--db postgres://` is not wired yet, so the nodes are assembled
 * here the way startScp() assembles them.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePart10, toDicomJson } from '@dnet/dataset';
import { Server } from '@dnet/services';
import { describePeer, freePort, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { haproxyServers } from '@dnet/testkit/haproxy';
import { tcp } from '@dnet/transport-tcp';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createQueryHandlers } from '../../query-handlers.js';
import { createStoreHandler } from '../../store-handler.js';
import { type SyntheticImage, syntheticImages } from '../../synthetic-images.js';
import { LocalStorage, type ObjectUids } from '../storage.js';
import { PostgresIndex } from './postgres-index.js';
import { postgresBinDir, startPostgres, type TestPostgres } from './test-postgres.js';

const DOC = join(import.meta.dirname, '../../../../../docs/scale-out.md');
const AE = 'DNETSCP';

/** The tcp-check lines of docs/scale-out.md: the deployment tested is the one documented. */
function documentedTcpCheck(): string[] {
  const doc = readFileSync(DOC, 'utf8');
  const block = /<!-- tcp-check:begin -->\s*```[a-z]*\n([\s\S]*?)```/.exec(doc);
  if (!block?.[1]) throw new Error('docs/scale-out.md has no tcp-check block');
  return block[1]
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

interface Node {
  name: string;
  server: Server;
  index: PostgresIndex;
  /** SOP Instance UIDs this node received. */
  received: Set<string>;
  /** Slows every incoming object down by this many ms (to kill the node mid-transfer). */
  delay: { ms: number };
}

const TOOLS = ['haproxy', 'storescu', 'findscu', 'movescu', 'getscu', 'storescp'];
const peers = postgresBinDir() ? TOOLS : [...TOOLS, 'postgres-server'];

describePeer(peers, 'two dnet-scp nodes, one PostgreSQL, one storage root, HAProxy', () => {
  let dir: string;
  let root: string;
  let pgServer: TestPostgres;
  let url: string;
  let nodes: Node[] = [];
  let storescp: RunningPeer;
  let haproxy: RunningPeer;
  let images: SyntheticImage[];
  let movedTo: string;
  const logger = pino({ level: 'silent' });

  async function startNode(name: string): Promise<Node> {
    const index = await PostgresIndex.open(url, { poolSize: 6 });
    const storage = new LocalStorage(root, { nodeId: name });
    await storage.removeTemporaryFiles();
    const received = new Set<string>();
    const delay = { ms: 0 };
    // Records which node received what (to retrieve it through the other node).
    const recording = Object.assign(Object.create(storage) as LocalStorage, {
      begin: async (uids: ObjectUids) => {
        received.add(uids.sopInstanceUid);
        if (delay.ms > 0) await new Promise((r) => setTimeout(r, delay.ms));
        return storage.begin(uids);
      },
    });
    const store = createStoreHandler({ storage: recording, index, logger });
    const { find, move, get } = createQueryHandlers({ index, storage, aeTitle: AE, logger });
    const server = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: AE,
      handlers: { echo: () => undefined, store, find, move, get },
      aeTable: { STORESCP: { host: '127.0.0.1', port: storescp.port } },
    });
    return { name, server, index, received, delay };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-two-nodes-'));
    root = join(dir, 'shared-root');
    movedTo = join(dir, 'moved');
    await mkdir(movedTo);
    pgServer = await startPostgres();
    url = await pgServer.createDatabase('cluster');
    images = await syntheticImages(join(dir, 'images'), { count: 200, perSeries: 10, size: 32 });
    storescp = await startPeer({
      command: 'storescp',
      args: (port) => ['-aet', 'STORESCP', '-od', movedTo, '+B', '+xa', String(port)],
    });
    // Both nodes start together: the schema is created once (advisory lock).
    nodes = await Promise.all([startNode('node-1'), startNode('node-2')]);
    const port = await freePort();
    const config = [
      'global',
      `  stats socket ${join(dir, 'admin.sock')} mode 600 level admin`,
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  timeout check 2s',
      'listen dicom',
      `  bind 127.0.0.1:${port}`,
      '  balance roundrobin',
      ...documentedTcpCheck().map((l) => `  ${l}`),
      '  default-server check inter 300ms fall 2 rise 1',
      ...nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.server.port}`),
      '',
    ].join('\n');
    await writeFile(join(dir, 'haproxy.cfg'), config);
    haproxy = await startPeer({
      command: 'haproxy',
      port,
      args: () => ['-db', '-f', join(dir, 'haproxy.cfg')],
    });
    // Both nodes pass the DICOM health check before any SCU is sent through.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const servers = await haproxyServers(join(dir, 'admin.sock'), 'dicom');
      if (servers.filter((s) => s.status === 'UP').length === 2) break;
      if (Date.now() > deadline)
        throw new Error(`nodes not UP in HAProxy: ${JSON.stringify(servers)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 120_000);

  afterAll(async () => {
    await haproxy?.stop();
    for (const n of nodes) {
      await n.server.close({ timeoutMs: 2000 }).catch(() => undefined); // one was killed
      await n.index.close();
    }
    await storescp?.stop();
    await pgServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('storescu through HAProxy, 8 associations, 200 files: each indexed exactly once, both nodes used', async () => {
    const groups = Array.from({ length: 8 }, (_, g) => images.filter((_, i) => i % 8 === g));
    const started = performance.now();
    const runs = await Promise.all(
      groups.map((g) =>
        runTool(
          'storescu',
          ['-aec', AE, '127.0.0.1', String(haproxy.port), ...g.map((i) => i.path)],
          { timeoutMs: 90_000 },
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[timing] 200 small images, 8 storescu associations through HAProxy to 2 nodes: ${seconds.toFixed(1)} s (${(200 / seconds).toFixed(0)} images/s, not asserted)`,
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(await nodes[0]?.index.count()).toEqual({
      patients: 2,
      studies: 10,
      series: 20,
      instances: 200,
    });
    // Every SOP Instance UID was received by exactly one node.
    const [a, b] = nodes as [Node, Node];
    expect(a.received.size).toBeGreaterThan(0);
    expect(b.received.size).toBeGreaterThan(0);
    expect(a.received.size + b.received.size).toBe(200);
    const all = new Set([...a.received, ...b.received]);
    expect(all.size).toBe(200);
    for (const image of images) {
      expect(await b.index.get(image.sopInstanceUid)).toMatchObject({
        path: `${image.studyInstanceUid}/${image.seriesInstanceUid}/${image.sopInstanceUid}.dcm`,
      });
    }
  }, 180_000);

  it('findscu through HAProxy sees all 200 instances', async () => {
    const out = join(dir, 'find');
    await mkdir(out);
    const r = await runTool(
      'findscu',
      [
        '-S',
        '-X',
        '-aec',
        AE,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyInstanceUID',
        '-k',
        'NumberOfStudyRelatedInstances',
        '127.0.0.1',
        String(haproxy.port),
      ],
      { cwd: out, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const files = (await readdir(out)).filter((f) => f.startsWith('rsp'));
    expect(files).toHaveLength(10);
    let total = 0;
    for (const f of files) {
      const json = toDicomJson(decodePart10(await readFile(join(out, f))).dataSet);
      total += Number(json['00201208']?.Value?.[0]);
    }
    expect(total).toBe(200);
  }, 60_000);

  it('movescu and getscu against each node retrieve instances the other node stored', async () => {
    const [a, b] = nodes as [Node, Node];
    // A series with instances received by node B, moved through node A.
    const byB = images.find((i) => b.received.has(i.sopInstanceUid)) as SyntheticImage;
    const seriesB = images.filter((i) => i.seriesInstanceUid === byB.seriesInstanceUid);
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
        `StudyInstanceUID=${byB.studyInstanceUid}`,
        '-k',
        `SeriesInstanceUID=${byB.seriesInstanceUid}`,
        '127.0.0.1',
        String(a.server.port),
      ],
      { timeoutMs: 60_000 },
    );
    expect(move.code, move.stderr).toBe(0);
    const moved = await readdir(movedTo);
    for (const i of seriesB) expect(moved.some((f) => f.includes(i.sopInstanceUid))).toBe(true);

    // An instance received by node A, fetched with C-GET from node B.
    const byA = images.find((i) => a.received.has(i.sopInstanceUid)) as SyntheticImage;
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
        'QueryRetrieveLevel=IMAGE',
        '-k',
        `StudyInstanceUID=${byA.studyInstanceUid}`,
        '-k',
        `SeriesInstanceUID=${byA.seriesInstanceUid}`,
        '-k',
        `SOPInstanceUID=${byA.sopInstanceUid}`,
        '127.0.0.1',
        String(b.server.port),
      ],
      { timeoutMs: 60_000 },
    );
    expect(get.code, get.stderr).toBe(0);
    const got = await readdir(out);
    expect(got).toHaveLength(1);
    const sent = await readFile(byA.path);
    const fetched = await readFile(join(out, got[0] as string));
    expect(fetched.subarray(fetched.length - 32)).toEqual(sent.subarray(sent.length - 32));
  }, 120_000);

  it('killing one node mid-transfer loses nothing acknowledged; the other keeps serving', async () => {
    const [a, b] = nodes as [Node, Node];
    const batch = await syntheticImages(join(dir, 'kill-images'), {
      count: 120,
      perSeries: 30,
      size: 32,
    });
    b.delay.ms = 40; // node B is slow: its associations are still running when it dies
    const before = b.received.size;
    const groups = Array.from({ length: 4 }, (_, g) => batch.filter((_, i) => i % 4 === g));
    const runs = Promise.all(
      groups.map((g) =>
        runTool(
          'storescu',
          ['-v', '-aec', AE, '127.0.0.1', String(haproxy.port), ...g.map((i) => i.path)],
          { timeoutMs: 90_000 },
        ),
      ),
    );
    const deadline = Date.now() + 30_000;
    while (b.received.size < before + 6 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(b.received.size).toBeGreaterThanOrEqual(before + 6);
    // "Kill" node B: it stops listening and aborts its associations at once (A-ABORT).
    await b.server.close({ timeoutMs: 0 });
    const results = await runs;
    expect(results.some((r) => r.code !== 0)).toBe(true); // some transfer was cut

    // storescu sends its files in order and stops at the first failure: the first
    // k files of an association are the k acknowledged (Success) ones.
    const acknowledged: SyntheticImage[] = [];
    results.forEach((r, g) => {
      const k = (`${r.stdout}${r.stderr}`.match(/Received Store Response \(Success\)/g) ?? [])
        .length;
      acknowledged.push(...(groups[g] as SyntheticImage[]).slice(0, k));
    });
    expect(acknowledged.length).toBeLessThan(batch.length);
    for (const image of acknowledged) {
      const record = await a.index.get(image.sopInstanceUid);
      expect(record, image.sopInstanceUid).toBeDefined();
      const stat = await new LocalStorage(root).stat(record?.path as string);
      expect(stat?.size).toBe(record?.size);
    }

    // HAProxy takes node B out of rotation; re-sending the rest goes to node A.
    const down = Date.now() + 20_000;
    for (;;) {
      const servers = await haproxyServers(join(dir, 'admin.sock'), 'dicom');
      if (servers.some((s) => s.name === 'node-2' && s.status === 'DOWN')) break;
      if (Date.now() > down) throw new Error(`node-2 still UP: ${JSON.stringify(servers)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const acked = new Set(acknowledged.map((i) => i.sopInstanceUid));
    const rest = batch.filter((i) => !acked.has(i.sopInstanceUid));
    const resend = await runTool(
      'storescu',
      ['-aec', AE, '127.0.0.1', String(haproxy.port), ...rest.map((i) => i.path)],
      { timeoutMs: 90_000 },
    );
    expect(resend.code, resend.stderr).toBe(0);
    expect(await a.index.count()).toMatchObject({ instances: 320 });
    const leftovers = (await readdir(join(root, '.incoming'))).filter((f) =>
      f.startsWith('node-1'),
    );
    expect(leftovers).toEqual([]);
  }, 180_000);
});
