import { describePostgres } from '@dnet/testkit';
import { startPostgres, type TestPostgres } from '@dnet/testkit/postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeArchiveIndex, record } from '../archive-index-compliance.js';
import { POSTGRES_SCHEMA_VERSION, PostgresIndex } from './postgres-index.js';

let server: TestPostgres;
let url: string;
let admin: pg.Client;

describePostgres('PostgresIndex', () => {
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('compliance');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  }, 30_000);

  describeArchiveIndex('PostgresIndex', async () => {
    const index = await PostgresIndex.open(url, { poolSize: 4 });
    // DELETE is much cheaper than TRUNCATE on tables this small.
    await admin.query(
      'DELETE FROM instance; DELETE FROM series; DELETE FROM study; DELETE FROM patient',
    );
    return index;
  });
});

/** Runs `tasks` with at most `width` in flight. */
async function inParallel<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

const STUDY = '1.2.826.0.1.3680043.10.1';
const spec = (n: number, series: number) => ({
  patientId: 'P-CONCURRENT',
  patientName: 'NODE^TEST',
  studyUid: STUDY,
  studyDate: '20240101',
  seriesUid: `${STUDY}.${series}`,
  modality: series % 2 ? 'CT' : 'MR',
  sopUid: `${STUDY}.${series}.${n}`,
  instanceNumber: n,
});

describePostgres('PostgresIndex: several nodes on one database', () => {
  let nodesServer: TestPostgres | undefined;
  let nodeUrl: string;
  beforeAll(async () => {
    nodesServer = await startPostgres();
    nodeUrl = await nodesServer.createDatabase('nodes');
  }, 60_000);
  afterAll(async () => {
    await nodesServer?.stop();
  }, 30_000);

  it('nodes starting together create the schema once (advisory lock)', async () => {
    const nodes = await Promise.all(
      Array.from({ length: 4 }, () => PostgresIndex.open(nodeUrl, { poolSize: 2 })),
    );
    const client = new pg.Client({ connectionString: nodeUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM dnet_schema_version');
      expect(rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    } finally {
      await client.end();
      await Promise.all(nodes.map((n) => n.close()));
    }
  }, 60_000);

  it('two nodes writing the same study at once never lose nor duplicate an instance', async () => {
    const a = await PostgresIndex.open(nodeUrl, { poolSize: 8 });
    const b = await PostgresIndex.open(nodeUrl, { poolSize: 8 });
    try {
      // 300 SOP Instance UIDs in 3 series of one study; both nodes put 0-199 and
      // 100-299 respectively, so 100 are sent to both (a retry through the other node).
      const uids = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => spec(from + i, (from + i) % 3));
      const put = (node: PostgresIndex, list: ReturnType<typeof uids>) =>
        list.map((s) => () => node.put(record(s)));
      const started = performance.now();
      const results = await Promise.all([
        inParallel(put(a, uids(0, 200)), 8),
        inParallel(put(b, uids(100, 300)), 8),
      ]);
      const ms = performance.now() - started;
      console.log(
        `[timing] 400 puts from 2 nodes x 8 in flight: ${ms.toFixed(0)} ms (${((400 / ms) * 1000).toFixed(0)} puts/s, fsync off, not asserted)`,
      );
      const replaced = results.flat().filter((r) => r.replaced).length;
      expect(replaced).toBe(100); // each shared UID: inserted once, replaced once
      expect(await a.count()).toEqual({ patients: 1, studies: 1, series: 3, instances: 300 });
      const listed = await b.instances('STUDY', { '0020000D': { vr: 'UI', Value: [STUDY] } });
      expect(listed).toHaveLength(300);
      expect(new Set(listed.map((i) => i.sopInstanceUid)).size).toBe(300);

      // Node A empties series 0 while node B adds new instances to it: the
      // series row is pruned and re-created under each other (FK races, retried).
      const series0 = uids(0, 300).filter((s) => s.seriesUid === `${STUDY}.0`);
      const fresh = Array.from({ length: 60 }, (_, i) => spec(1000 + i * 3, 0));
      await Promise.all([
        inParallel(
          series0.map((s) => () => a.remove(s.sopUid)),
          8,
        ),
        inParallel(put(b, fresh), 8),
      ]);
      const left = await a.instances('SERIES', {
        '0020000D': { vr: 'UI', Value: [STUDY] },
        '0020000E': { vr: 'UI', Value: [`${STUDY}.0`] },
      });
      expect(left.map((i) => i.sopInstanceUid).sort()).toEqual(fresh.map((s) => s.sopUid).sort());
      expect(await b.count()).toEqual({
        patients: 1,
        studies: 1,
        series: 3,
        instances: 300 - series0.length + fresh.length,
      });
      const found = [];
      for await (const r of a.find('IMAGE', {
        '0020000D': { vr: 'UI', Value: [STUDY] },
        '0020000E': { vr: 'UI', Value: [`${STUDY}.1`] },
        '00080018': { vr: 'UI' },
      }))
        found.push(r);
      expect(found).toHaveLength(100);
    } finally {
      await a.close();
      await b.close();
    }
  }, 120_000);
});
