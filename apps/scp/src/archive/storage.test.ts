import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveErrorCode, isDnetError } from './errors.js';
import { INCOMING_FOLDER, LocalStorage, type ObjectUids } from './storage.js';

const UIDS: ObjectUids = {
  studyInstanceUid: '1.2.826.0.1.3680043.10.1',
  seriesInstanceUid: '1.2.826.0.1.3680043.10.1.2',
  sopInstanceUid: '1.2.826.0.1.3680043.10.1.2.3',
};
const FINAL = `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${UIDS.sopInstanceUid}.dcm`;

let parent: string;
let root: string;

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'dnet-scp-storage-'));
  root = join(parent, 'root');
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

describe('LocalStorage: commit', () => {
  it('writes to a temp file in the root, then renames to study/series/sop.dcm', async () => {
    const storage = new LocalStorage(root);
    const writer = await storage.begin(UIDS);
    await writer.write(bytes(1000, 1));
    await writer.write(bytes(3000, 2));
    // Before commit: only the temp file, inside the root.
    const before = await listFiles(root);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatch(new RegExp(`^\\${INCOMING_FOLDER}/[0-9a-f-]+\\.part$`));
    expect(existsSync(join(root, FINAL))).toBe(false);

    const stored = await writer.commit();
    expect(stored).toEqual({ path: FINAL, size: 4000 });
    expect(await listFiles(root)).toEqual([FINAL]);
    const content = await readFile(join(root, FINAL));
    expect(Buffer.compare(content, Buffer.concat([bytes(1000, 1), bytes(3000, 2)]))).toBe(0);
  });

  it('makes a large object appear complete, honouring backpressure', async () => {
    const storage = new LocalStorage(root, { highWaterMark: 64 * 1024, fsync: false });
    const writer = await storage.begin(UIDS);
    const chunks: Uint8Array[] = [];
    let waited = 0;
    for (let i = 0; i < 200; i++) {
      const chunk = bytes(16 * 1024 + i, i);
      chunks.push(chunk);
      const p = writer.write(chunk);
      let settled = false;
      void p.then(() => {
        settled = true;
      });
      await Promise.resolve();
      if (!settled) waited++;
      await p;
    }
    expect(waited).toBeGreaterThan(0); // the writer did push back
    const { size } = await writer.commit();
    const expected = Buffer.concat(chunks);
    expect(size).toBe(expected.length);
    const read = await readAll(await storage.open(FINAL));
    expect(Buffer.compare(read, expected)).toBe(0);
  });

  it('replaces an object with the same SOP Instance UID atomically', async () => {
    const storage = new LocalStorage(root);
    const first = await storage.begin(UIDS);
    await first.write(bytes(5000, 7));
    await first.commit();
    const second = await storage.begin(UIDS);
    await second.write(bytes(100, 9));
    // Until the second commits, readers see the first, complete.
    expect((await readFile(join(root, FINAL))).length).toBe(5000);
    await second.commit();
    const content = await readFile(join(root, FINAL));
    expect(Buffer.compare(content, Buffer.from(bytes(100, 9)))).toBe(0);
    expect(await listFiles(root)).toEqual([FINAL]);
  });

  it('rejects writes and a second commit after commit; abort is then a no-op', async () => {
    const storage = new LocalStorage(root);
    const writer = await storage.begin(UIDS);
    await writer.write(bytes(10, 1));
    await writer.commit();
    await expect(writer.write(bytes(1, 1))).rejects.toMatchObject({
      code: ArchiveErrorCode.WRITER_CLOSED,
    });
    await expect(writer.commit()).rejects.toMatchObject({ code: ArchiveErrorCode.WRITER_CLOSED });
    await writer.abort();
    expect(await listFiles(root)).toEqual([FINAL]);
  });

  it('commits an empty object', async () => {
    const storage = new LocalStorage(root);
    const writer = await storage.begin(UIDS);
    await writer.write(new Uint8Array(0));
    expect(await writer.commit()).toEqual({ path: FINAL, size: 0 });
  });
});

describe('LocalStorage: abort', () => {
  it('an object aborted midway leaves no file behind', async () => {
    const storage = new LocalStorage(root, { highWaterMark: 1024 });
    const writer = await storage.begin(UIDS);
    for (let i = 0; i < 20; i++) await writer.write(bytes(4096, i));
    await writer.abort();
    expect(await listFiles(root)).toEqual([]);
    await expect(writer.write(bytes(1, 1))).rejects.toMatchObject({
      code: ArchiveErrorCode.WRITER_CLOSED,
    });
    await expect(writer.commit()).rejects.toMatchObject({ code: ArchiveErrorCode.WRITER_CLOSED });
    await writer.abort(); // idempotent
  });

  it('abort while writes are still queued rejects the waiting writer and cleans up', async () => {
    const storage = new LocalStorage(root, { highWaterMark: 1 });
    const writer = await storage.begin(UIDS);
    const pending = writer.write(bytes(1 << 20, 3));
    const aborting = writer.abort();
    await expect(pending).rejects.toMatchObject({ code: ArchiveErrorCode.WRITER_CLOSED });
    await aborting;
    expect(await listFiles(root)).toEqual([]);
  });

  it('an aborted replacement leaves the committed object untouched', async () => {
    const storage = new LocalStorage(root);
    const first = await storage.begin(UIDS);
    await first.write(bytes(300, 4));
    await first.commit();
    const second = await storage.begin(UIDS);
    await second.write(bytes(10, 5));
    await second.abort();
    expect(await listFiles(root)).toEqual([FINAL]);
    expect((await readFile(join(root, FINAL))).length).toBe(300);
  });

  it('a commit that cannot rename leaves no temp file and rejects', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    // A non-empty folder squats on the final path: rename() must fail.
    await mkdir(join(root, FINAL, 'x'), { recursive: true });
    const writer = await storage.begin(UIDS);
    await writer.write(bytes(100, 1));
    await expect(writer.commit()).rejects.toMatchObject({ code: ArchiveErrorCode.STORAGE_FAILED });
    expect(await readdir(join(root, INCOMING_FOLDER))).toEqual([]);
    await expect(writer.write(bytes(1, 1))).rejects.toMatchObject({
      code: ArchiveErrorCode.WRITER_CLOSED,
    });
  });

  it('removeTemporaryFiles() deletes what a crashed writer left', async () => {
    const storage = new LocalStorage(root);
    const writer = await storage.begin(UIDS);
    await writer.write(bytes(10, 1)); // never committed nor aborted: a "crash"
    expect(await storage.removeTemporaryFiles()).toBe(1);
    expect(await listFiles(root)).toEqual([]);
    expect(await new LocalStorage(join(parent, 'none')).removeTemporaryFiles()).toBe(0);
    await writer.abort();
  });
});

describe('LocalStorage: hostile UIDs never write outside the root', () => {
  const hostile: [string, string][] = [
    ['parent traversal', '../x'],
    ['dot-dot', '..'],
    ['slash', '1.2/3'],
    ['backslash', '1.2\\3'],
    ['NUL', '1.2\0'],
    ['65 digits', '1'.repeat(65)],
    ['empty', ''],
    ['empty component', '1..2'],
    ['leading dot', '.1.2'],
    ['trailing dot', '1.2.'],
    ['absolute path', '/etc/passwd'],
    ['space padding', '1.2 '],
    ['letters', '1.2.abc'],
  ];
  for (const field of ['studyInstanceUid', 'seriesInstanceUid', 'sopInstanceUid'] as const) {
    for (const [name, uid] of hostile) {
      it(`${field}: ${name}`, async () => {
        const storage = new LocalStorage(root);
        const error = await storage.begin({ ...UIDS, [field]: uid }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isDnetError(error)).toBe(true);
        expect(error).toMatchObject({ code: ArchiveErrorCode.INVALID_UID, uid });
        expect(await listFiles(parent)).toEqual([]);
      });
    }
  }

  it('accepts a 64-character UID', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    const sop = `1.${'2'.repeat(62)}`;
    expect(sop).toHaveLength(64);
    const writer = await storage.begin({ ...UIDS, sopInstanceUid: sop });
    expect((await writer.commit()).path).toBe(
      `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${sop}.dcm`,
    );
  });

  it('rejects non-string UIDs', async () => {
    const storage = new LocalStorage(root);
    await expect(
      storage.begin({ ...UIDS, sopInstanceUid: 12 as unknown as string }),
    ).rejects.toMatchObject({ code: ArchiveErrorCode.INVALID_UID });
  });
});

describe('LocalStorage: open, stat, remove', () => {
  async function store(storage: LocalStorage, uids: ObjectUids, data: Uint8Array) {
    const writer = await storage.begin(uids);
    await writer.write(data);
    return writer.commit();
  }

  it('opens a stored object, whole or a byte range', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    const data = bytes(1000, 8);
    await store(storage, UIDS, data);
    expect(Buffer.compare(await readAll(await storage.open(FINAL)), Buffer.from(data))).toBe(0);
    const part = await readAll(await storage.open(FINAL, { start: 132, end: 139 }));
    expect([...part]).toEqual([...data.subarray(132, 140)]);
  });

  it('stat reports the size; undefined when absent', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    await store(storage, UIDS, bytes(77, 1));
    expect(await storage.stat(FINAL)).toMatchObject({ size: 77 });
    expect(await storage.stat('1/2/3.dcm')).toBeUndefined();
    expect(await storage.stat(UIDS.studyInstanceUid)).toBeUndefined(); // a folder, not an object
  });

  it('open of a missing object rejects with ObjectNotFoundError', async () => {
    const storage = new LocalStorage(root);
    await expect(storage.open('1/2/3.dcm')).rejects.toMatchObject({
      code: ArchiveErrorCode.OBJECT_NOT_FOUND,
      path: '1/2/3.dcm',
    });
  });

  it('remove deletes the object and prunes empty folders, keeping siblings', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    const sibling = { ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.1` };
    const other = await store(storage, sibling, bytes(5, 1));
    await store(storage, UIDS, bytes(5, 2));
    expect(await storage.remove(FINAL)).toBe(true);
    expect(await storage.remove(FINAL)).toBe(false);
    expect(await listFiles(root)).toEqual([other.path]);
    expect(await storage.remove(other.path)).toBe(true);
    expect(await readdir(root)).toEqual([INCOMING_FOLDER]); // study and series folders pruned
  });

  it('refuses paths that escape the root, even to files that exist', async () => {
    const storage = new LocalStorage(root);
    await writeFile(join(parent, 'secret'), 'x');
    for (const path of [
      '../secret',
      'a/../../secret',
      '/etc/passwd',
      'a\\..\\..\\secret',
      'a/\0',
      '',
      './x',
      'a//b',
    ]) {
      await expect(storage.open(path), path).rejects.toMatchObject({
        code: ArchiveErrorCode.INVALID_PATH,
      });
      await expect(storage.stat(path), path).rejects.toMatchObject({
        code: ArchiveErrorCode.INVALID_PATH,
      });
      await expect(storage.remove(path), path).rejects.toMatchObject({
        code: ArchiveErrorCode.INVALID_PATH,
      });
    }
    expect(existsSync(join(parent, 'secret'))).toBe(true);
  });
});
