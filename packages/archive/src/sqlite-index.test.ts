import fs, { readlinkSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DATA,
  describeArchiveIndex,
  pn,
  record,
  S4,
  type Spec,
  withTag,
} from './archive-index-compliance.js';
import { collect, empty, value } from './compliance-helpers.js';
import { ArchiveErrorCode, isDnetError } from './errors.js';
import { INDEX_SCHEMA_VERSION, SqliteIndex } from './sqlite-index.js';

describeArchiveIndex('SqliteIndex', () => new SqliteIndex(':memory:'));

let dir: string;
let index: SqliteIndex;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnet-scp-index-'));
  index = new SqliteIndex(join(dir, 'index.sqlite'));
});
afterEach(async () => {
  await index.close();
  await rm(dir, { recursive: true, force: true });
});

/** Instance `n` of one series of study S4. */
const spec = (n: number): Spec => ({
  ...S4,
  seriesUid: '1.2.3.4.1',
  sopUid: `1.2.3.4.1.${n}`,
  instanceNumber: n,
});

async function load(): Promise<void> {
  for (const spec of DATA) await index.put(record(spec));
}

describe('SqliteIndex: the database', () => {
  it('is in WAL mode with a schema version table', async () => {
    const db = new Database(join(dir, 'index.sqlite'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([
        { version: INDEX_SCHEMA_VERSION },
      ]);
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all()
        .map((r) => (r as { name: string }).name);
      expect(tables).toEqual(['instance', 'patient', 'schema_version', 'series', 'study']);
    } finally {
      db.close();
    }
  });

  it('reopens an existing index with its data', async () => {
    await load();
    await index.close();
    index = new SqliteIndex(join(dir, 'index.sqlite'));
    expect(await index.count()).toEqual({ patients: 3, studies: 4, series: 5, instances: 8 });
  });

  it('refuses a schema newer than it knows', async () => {
    await index.close();
    const db = new Database(join(dir, 'index.sqlite'));
    db.prepare('UPDATE schema_version SET version = ?').run(INDEX_SCHEMA_VERSION + 1);
    db.close();
    let error: unknown;
    try {
      index = new SqliteIndex(join(dir, 'index.sqlite'));
    } catch (e) {
      error = e;
    }
    expect(isDnetError(error)).toBe(true);
    expect(error).toMatchObject({
      code: ArchiveErrorCode.INDEX_SCHEMA,
      found: INDEX_SCHEMA_VERSION + 1,
    });
    index = new SqliteIndex(':memory:'); // for afterEach
  });
});

describe('SqliteIndex: options', () => {
  it('rejects records larger than maxRecordBytes', async () => {
    const small = new SqliteIndex(':memory:', { maxRecordBytes: 600 });
    const rec = withTag(record(DATA[0] as Spec), '00081030', value('LO', 'x'.repeat(1000)));
    await expect(small.put(rec)).rejects.toMatchObject({ code: ArchiveErrorCode.INVALID_RECORD });
    await small.close();
  });

  it('pages through results while puts interleave', async () => {
    const paged = new SqliteIndex(':memory:', { pageSize: 2 });
    for (const spec of DATA) await paged.put(record(spec));
    const seen: unknown[] = [];
    let n = 0;
    for await (const r of paged.find('STUDY', { '0020000D': empty('UI') })) {
      seen.push(r['0020000D']?.Value?.[0]);
      // The connection is free between pages: a put does not fail.
      await paged.put(record({ ...S4, seriesUid: '1.2.3.4.1', sopUid: `1.2.3.4.1.${100 + n++}` }));
    }
    expect(seen).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3', '1.2.3.4']);
    await paged.close();
  });
});

describe('SqliteIndex: group commit', () => {
  it('concurrent puts all land, each with its own result, in call order', async () => {
    const t0 = performance.now();
    const results = await Promise.all([
      ...Array.from({ length: 600 }, (_, n) => index.put(record(spec(n)))),
      index.put(record({ ...spec(5), size: 5 })), // same SOP again, later in the same turn
    ]);
    const elapsed = performance.now() - t0;
    expect(results.slice(0, 600).every((r) => r.replaced === false)).toBe(true);
    expect(results[600]).toEqual({ replaced: true });
    expect((await index.get('1.2.3.4.1.5'))?.size).toBe(5);
    expect(await index.count()).toMatchObject({ instances: 600, studies: 1 });
    console.log(`600 concurrent puts (durable, group commit): ${elapsed.toFixed(0)} ms`);
  });

  it('other calls see the puts made before them, even unawaited', async () => {
    const put = index.put(record(spec(1)));
    expect(
      await index.hasInstance(
        '1.2.3.4.1.1',
        record(spec(1)).attributes['00080016']?.Value?.[0] as string,
      ),
    ).toBe(true);
    const removed = index.remove('1.2.3.4.1.1');
    await put;
    expect((await removed)?.path).toBe(record(spec(1)).path);
    const last = index.put(record(spec(2)));
    await index.close(); // writes the waiting put first
    await last;
    index = new SqliteIndex(join(dir, 'index.sqlite'));
    expect(await index.get('1.2.3.4.1.2')).toBeDefined();
    await expect(
      (async () => {
        const closing = new SqliteIndex(':memory:');
        await closing.close();
        return closing.put(record(spec(3)));
      })(),
    ).rejects.toMatchObject({ code: ArchiveErrorCode.INDEX_CLOSED });
  });
});

/** Makes the index see its folder on a file system of `type` (statfs, linux/magic.h). */
function onFileSystem(type: number): void {
  vi.spyOn(fs, 'statfs').mockImplementation(((
    _path: string,
    done: (error: null, stats: fs.StatsFs) => void,
  ) => setImmediate(() => done(null, { type } as fs.StatsFs))) as never);
}

describe('SqliteIndex: durability off the event loop', () => {
  // The WAL syncs spied on below run on the thread pool: a disk's (ext4).
  beforeEach(() => onFileSystem(0xef53));
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('on tmpfs fdatasyncs the WAL inline, before the put settles; a failure is fail-stop', async () => {
    onFileSystem(0x01021994);
    const pooled = await spyDatasync(1);
    const inline = vi.spyOn(fs, 'fdatasyncSync');
    try {
      const put = index.put(record(spec(1)));
      expect(inline).not.toHaveBeenCalled();
      expect(await put).toEqual({ replaced: false });
      expect(inline).toHaveBeenCalledTimes(1);
      expect(readlinkSync(`/proc/self/fd/${inline.mock.calls[0]?.[0]}`)).toBe(
        join(dir, 'index.sqlite-wal'),
      );
      expect(pooled.synced).toEqual([]);
      inline.mockImplementation(() => {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      });
      await expect(index.put(record(spec(2)))).rejects.toMatchObject({
        code: ArchiveErrorCode.STORAGE_FAILED,
      });
      inline.mockRestore();
      await expect(index.put(record(spec(3)))).rejects.toMatchObject({
        code: ArchiveErrorCode.STORAGE_FAILED,
      });
    } finally {
      pooled.restore();
    }
  });
  /** Spies on FileHandle.prototype.datasync: the paths synced, each after `delayMs`. */
  async function spyDatasync(delayMs: number, fail?: Error) {
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const synced: string[] = [];
    const spy = vi.spyOn(proto, 'datasync').mockImplementation(async function (this: FileHandle) {
      await new Promise((r) => setTimeout(r, delayMs));
      if (fail) throw fail;
      synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    });
    return { synced, restore: () => spy.mockRestore() };
  }

  it('settles a put only after a WAL fdatasync on the thread pool', async () => {
    const spy = await spyDatasync(30);
    try {
      let settled = false;
      const put = index.put(record(spec(1))).then((r) => {
        settled = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 10));
      // Committed (visible to queries) but not yet settled: its WAL sync is running.
      expect(await index.get('1.2.3.4.1.1')).toBeDefined();
      expect(settled).toBe(false);
      expect(await put).toEqual({ replaced: false });
      expect(spy.synced).toEqual([join(dir, 'index.sqlite-wal')]);
    } finally {
      spy.restore();
    }
  });

  it('concurrent puts share the WAL syncs (group commit)', async () => {
    const spy = await spyDatasync(20);
    try {
      // Three turns of the event loop, several puts each.
      const puts: Promise<unknown>[] = [];
      for (let turn = 0; turn < 3; turn++) {
        for (let k = 0; k < 5; k++) puts.push(index.put(record(spec(turn * 10 + k))));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(puts);
      expect(spy.synced.length).toBeGreaterThanOrEqual(1);
      expect(spy.synced.length).toBeLessThanOrEqual(3);
      expect(await index.count()).toMatchObject({ instances: 15 });
    } finally {
      spy.restore();
    }
  });

  it('a failed WAL sync fails the put, and every write after it (fail-stop)', async () => {
    const spy = await spyDatasync(1, Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    try {
      await expect(index.put(record(spec(1)))).rejects.toMatchObject({
        code: ArchiveErrorCode.STORAGE_FAILED,
      });
      await expect(index.put(record(spec(2)))).rejects.toMatchObject({
        code: ArchiveErrorCode.STORAGE_FAILED,
      });
      await expect(index.remove('1.2.3.4.1.1')).rejects.toMatchObject({
        code: ArchiveErrorCode.STORAGE_FAILED,
      });
    } finally {
      spy.restore();
    }
  });

  it('syncs nothing with synchronous NORMAL, nor for an in-memory index', async () => {
    const spy = await spyDatasync(1);
    try {
      const normal = new SqliteIndex(join(dir, 'normal.sqlite'), { synchronous: 'NORMAL' });
      const memory = new SqliteIndex(':memory:');
      await normal.put(record(spec(1)));
      await memory.put(record(spec(1)));
      await normal.remove('1.2.3.4.1.1');
      await normal.close();
      await memory.close();
      expect(spy.synced).toEqual([]);
    } finally {
      spy.restore();
    }
  });

  it('a remove settles after its WAL sync too', async () => {
    await index.put(record(spec(1)));
    const spy = await spyDatasync(10);
    try {
      expect((await index.remove('1.2.3.4.1.1'))?.path).toBe(record(spec(1)).path);
      expect(spy.synced).toEqual([join(dir, 'index.sqlite-wal')]);
    } finally {
      spy.restore();
    }
  });
});

describe('SqliteIndex: 10 000 instances', () => {
  it('inserts and queries them (timings printed, not asserted)', async () => {
    // synchronous=NORMAL keeps this test short; with the default FULL every put
    // waits for one WAL fsync (see SqliteIndexOptions.synchronous).
    const big = new SqliteIndex(join(dir, 'big.sqlite'), { synchronous: 'NORMAL' });
    const t0 = performance.now();
    let n = 0;
    for (let p = 0; p < 50; p++) {
      for (let s = 0; s < 4; s++) {
        const study = `1.2.826.0.1.3680043.10.${p}.${s}`;
        for (let se = 0; se < 5; se++) {
          for (let i = 0; i < 10; i++) {
            await big.put(
              record({
                patientId: `P${p}`,
                patientName: `NAME${p}^GIVEN`,
                birthDate: `19${String(50 + (p % 50)).padStart(2, '0')}0101`,
                studyUid: study,
                studyDate: `2020${String(1 + (s % 12)).padStart(2, '0')}15`,
                accession: `A${p}-${s}`,
                seriesUid: `${study}.${se}`,
                modality: se % 2 ? 'MR' : 'CT',
                seriesNumber: se,
                sopUid: `${study}.${se}.${i}`,
                instanceNumber: i,
              }),
            );
            n++;
          }
        }
      }
    }
    const t1 = performance.now();
    expect(n).toBe(10_000);
    expect(await big.count()).toEqual({
      patients: 50,
      studies: 200,
      series: 1000,
      instances: 10_000,
    });
    const studies = await collect(
      big.find('STUDY', {
        '0020000D': empty('UI'),
        '00080020': value('DA', '20200201-20200331'),
        '00100010': pn('NAME1*'),
        '00080061': empty('CS'),
        '00201208': empty('IS'),
      }),
    );
    const t2 = performance.now();
    // NAME1, NAME10..NAME19: 11 patients x studies s=1,2 (Feb, Mar).
    expect(studies).toHaveLength(22);
    expect(studies[0]?.['00201208']).toEqual(value('IS', 50));
    const images = await collect(
      big.find(
        'IMAGE',
        { '00080018': empty('UI'), '00200013': value('IS', '7') },
        {
          relational: true,
        },
      ),
    );
    const t3 = performance.now();
    expect(images).toHaveLength(1000);
    const retrieve = await big.instances('PATIENT', { '00100020': value('LO', 'P7') });
    const t4 = performance.now();
    expect(retrieve).toHaveLength(200);
    console.log(
      `10 000 puts (synchronous=NORMAL, one transaction each): ${(t1 - t0).toFixed(0)} ms; ` +
        `STUDY query (date range + PN wild card + computed keys): ${(t2 - t1).toFixed(1)} ms; ` +
        `IMAGE query over all 10 000 (relational, instance number): ${(t3 - t2).toFixed(1)} ms; ` +
        `instances() of one patient: ${(t4 - t3).toFixed(1)} ms`,
    );
    await big.close();
  }, 120_000);
});
