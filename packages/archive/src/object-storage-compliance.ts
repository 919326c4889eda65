import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveErrorCode, isDnetError } from './errors.js';
import type { ObjectStorage, ObjectUids } from './storage.js';

/**
 * The behaviour every {@link ObjectStorage} implementation must show, as a
 * vitest suite: atomic commit and replace, abort leaves nothing, hostile UIDs
 * and paths never write or read outside the storage, reads, stat, remove.
 * `LocalStorage` runs it; a shared-folder storage calls
 * `describeObjectStorage('SharedFolder', (dir) => new SharedFolderStorage(...))`.
 * Test code only: it imports vitest.
 */

/** UIDs of the test object. */
export const UIDS: ObjectUids = {
  studyInstanceUid: '1.2.826.0.1.3680043.10.1',
  seriesInstanceUid: '1.2.826.0.1.3680043.10.1.2',
  sopInstanceUid: '1.2.826.0.1.3680043.10.1.2.3',
};

/** Where the test object is stored, relative to the storage root. */
export const FINAL = `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${UIDS.sopInstanceUid}.dcm`;

/** UIDs that must never become path parts (PS3.5 §9.1), by what makes them hostile. */
export const HOSTILE_UIDS: readonly [string, string][] = [
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

/** Every file under `dir` (recursively), relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** `length` bytes of a pattern that depends on `seed`. */
export function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** All chunks of a stream, joined. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Registers the compliance suite for one implementation.
 *
 * @param name - shown in the test names
 * @param create - a storage that keeps everything it writes under `dir` (a fresh, empty folder per test)
 */
export function describeObjectStorage(name: string, create: (dir: string) => ObjectStorage): void {
  let dir: string;
  let storage: ObjectStorage;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-storage-'));
    storage = create(join(dir, 'root'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function store(uids: ObjectUids, data: Uint8Array) {
    const writer = await storage.begin(uids);
    await writer.write(data);
    return writer.commit();
  }

  describe(`${name}: commit`, () => {
    it('makes the object appear complete, only on commit', async () => {
      const writer = await storage.begin(UIDS);
      await writer.write(bytes(1000, 1));
      await writer.write(bytes(3000, 2));
      expect(await storage.stat(FINAL)).toBeUndefined();
      expect(await writer.commit()).toEqual({ path: FINAL, size: 4000 });
      expect(writer.bytesWritten).toBe(4000);
      const read = await readAll(await storage.open(FINAL));
      expect(Buffer.compare(read, Buffer.concat([bytes(1000, 1), bytes(3000, 2)]))).toBe(0);
    });

    it('keeps 300 chunks in order when every write is awaited', async () => {
      const writer = await storage.begin(UIDS);
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) {
        const chunk = bytes(8 * 1024 + i, i);
        chunks.push(chunk);
        await writer.write(chunk);
      }
      const { size } = await writer.commit();
      const expected = Buffer.concat(chunks);
      expect(size).toBe(expected.length);
      expect(Buffer.compare(await readAll(await storage.open(FINAL)), expected)).toBe(0);
    });

    it('keeps the order of writes issued without waiting', async () => {
      const writer = await storage.begin(UIDS);
      const chunks = Array.from({ length: 50 }, (_, i) => bytes(1000 + i, i));
      await Promise.all(chunks.map((c) => writer.write(c)));
      await writer.commit();
      const read = await readAll(await storage.open(FINAL));
      expect(Buffer.compare(read, Buffer.concat(chunks))).toBe(0);
    });

    it('replaces an object with the same SOP Instance UID atomically', async () => {
      await store(UIDS, bytes(5000, 7));
      const second = await storage.begin(UIDS);
      await second.write(bytes(100, 9));
      // Until the second commits, readers see the first, complete.
      expect((await readAll(await storage.open(FINAL))).length).toBe(5000);
      await second.commit();
      const content = await readAll(await storage.open(FINAL));
      expect(Buffer.compare(content, Buffer.from(bytes(100, 9)))).toBe(0);
    });

    it('rejects writes and a second commit after commit; abort is then a no-op', async () => {
      const writer = await storage.begin(UIDS);
      await writer.write(bytes(10, 1));
      await writer.commit();
      await expect(writer.write(bytes(1, 1))).rejects.toMatchObject({
        code: ArchiveErrorCode.WRITER_CLOSED,
      });
      await expect(writer.commit()).rejects.toMatchObject({
        code: ArchiveErrorCode.WRITER_CLOSED,
      });
      await writer.abort();
      expect(await storage.stat(FINAL)).toMatchObject({ size: 10 });
    });

    it('commits an empty object', async () => {
      const writer = await storage.begin(UIDS);
      await writer.write(new Uint8Array(0));
      expect(await writer.commit()).toEqual({ path: FINAL, size: 0 });
    });
  });

  describe(`${name}: abort`, () => {
    it('an object aborted midway leaves no file behind', async () => {
      const writer = await storage.begin(UIDS);
      for (let i = 0; i < 20; i++) await writer.write(bytes(4096, i));
      await writer.abort();
      // What the storage holds for objects to come (a file made ahead) goes on close.
      await storage.close?.();
      expect(await listFiles(dir)).toEqual([]);
      await expect(writer.write(bytes(1, 1))).rejects.toMatchObject({
        code: ArchiveErrorCode.WRITER_CLOSED,
      });
      await expect(writer.commit()).rejects.toMatchObject({
        code: ArchiveErrorCode.WRITER_CLOSED,
      });
      await writer.abort(); // idempotent
    });

    it('an abort racing queued writes cleans up', async () => {
      const writer = await storage.begin(UIDS);
      const pending = writer.write(bytes(1 << 20, 3)).catch((e: unknown) => e);
      await writer.abort();
      const outcome = await pending;
      if (outcome !== undefined) {
        expect(outcome).toMatchObject({ code: ArchiveErrorCode.WRITER_CLOSED });
      }
      await storage.close?.();
      expect(await listFiles(dir)).toEqual([]);
    });

    it('an aborted replacement leaves the committed object untouched', async () => {
      await store(UIDS, bytes(300, 4));
      const second = await storage.begin(UIDS);
      await second.write(bytes(10, 5));
      await second.abort();
      expect((await readAll(await storage.open(FINAL))).length).toBe(300);
    });
  });

  describe(`${name}: hostile UIDs never write anything`, () => {
    for (const field of ['studyInstanceUid', 'seriesInstanceUid', 'sopInstanceUid'] as const) {
      for (const [what, uid] of HOSTILE_UIDS) {
        it(`${field}: ${what}`, async () => {
          const error = await storage.begin({ ...UIDS, [field]: uid }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isDnetError(error)).toBe(true);
          expect(error).toMatchObject({ code: ArchiveErrorCode.INVALID_UID, uid });
          expect(await listFiles(dir)).toEqual([]);
        });
      }
    }

    it('accepts a 64-character UID', async () => {
      const sop = `1.${'2'.repeat(62)}`;
      expect(sop).toHaveLength(64);
      const { path } = await store({ ...UIDS, sopInstanceUid: sop }, bytes(1, 1));
      expect(path).toBe(`${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${sop}.dcm`);
    });

    it('rejects non-string UIDs', async () => {
      await expect(
        storage.begin({ ...UIDS, sopInstanceUid: 12 as unknown as string }),
      ).rejects.toMatchObject({ code: ArchiveErrorCode.INVALID_UID });
    });
  });

  describe(`${name}: open, stat, remove`, () => {
    it('opens a stored object, whole or a byte range', async () => {
      const data = bytes(1000, 8);
      await store(UIDS, data);
      expect(Buffer.compare(await readAll(await storage.open(FINAL)), Buffer.from(data))).toBe(0);
      const part = await readAll(await storage.open(FINAL, { start: 132, end: 139 }));
      expect([...part]).toEqual([...data.subarray(132, 140)]);
    });

    it('stat reports the size; undefined when absent or not an object', async () => {
      await store(UIDS, bytes(77, 1));
      expect(await storage.stat(FINAL)).toMatchObject({ size: 77 });
      expect(await storage.stat('1/2/3.dcm')).toBeUndefined();
      expect(await storage.stat(UIDS.studyInstanceUid)).toBeUndefined();
    });

    it('open of a missing object rejects with ObjectNotFoundError', async () => {
      await expect(storage.open('1/2/3.dcm')).rejects.toMatchObject({
        code: ArchiveErrorCode.OBJECT_NOT_FOUND,
        path: '1/2/3.dcm',
      });
    });

    it('remove deletes the object, keeping its siblings', async () => {
      const sibling = { ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.1` };
      const other = await store(sibling, bytes(5, 1));
      await store(UIDS, bytes(5, 2));
      expect(await storage.remove(FINAL)).toBe(true);
      expect(await storage.remove(FINAL)).toBe(false);
      expect(await storage.stat(FINAL)).toBeUndefined();
      expect(await storage.stat(other.path)).toMatchObject({ size: 5 });
    });

    it('refuses paths that escape the storage, even to files that exist', async () => {
      await writeFile(join(dir, 'secret'), 'x');
      for (const path of [
        '../secret',
        'a/../../secret',
        '/etc/passwd',
        'a\\..\\..\\secret',
        'a/\0',
        '',
        './x',
        'a//b',
        '.incoming/x.part',
        '1.2/.hidden',
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
      expect(existsSync(join(dir, 'secret'))).toBe(true);
    });
  });
}
