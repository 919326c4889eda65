import fs, { existsSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ArchiveErrorCode } from './errors.js';
import {
  bytes,
  describeObjectStorage,
  FINAL,
  listFiles,
  readAll,
  UIDS,
} from './object-storage-compliance.js';
import { INCOMING_FOLDER, LocalStorage } from './storage.js';

describeObjectStorage('LocalStorage', (root) => new LocalStorage(root));
describeObjectStorage(
  'LocalStorage (next file made ahead)',
  (root) => new LocalStorage(root, { prepareNext: true }),
);
describeObjectStorage('LocalStorage (on tmpfs: every call of a commit inline)', (root) => {
  onFileSystem(TMPFS);
  return new LocalStorage(root, { prepareNext: true });
});
describeObjectStorage(
  'LocalStorage (1-byte high-water mark)',
  (root) => new LocalStorage(root, { highWaterMark: 1, fsync: false }),
);

let parent: string;
let root: string;

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'dnet-scp-storage-'));
  root = join(parent, 'root');
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(parent, { recursive: true, force: true });
});

/** `statfs` types (linux/magic.h) of a disk and of a file system in memory. */
const EXT4 = 0xef53;
const TMPFS = 0x01021994;
const NFS = 0x6969;

/**
 * Makes the storage see its folders on a file system of `type` (whatever the
 * test machine's temporary folder is on): it decides which calls run inline.
 */
function onFileSystem(type: number): void {
  vi.spyOn(fs, 'statfs').mockImplementation(((_path: string, done: StatfsDone) =>
    setImmediate(() => done(null, { type } as fs.StatsFs))) as never);
}

describe("LocalStorage: the next object's temporary file made ahead (prepareNext)", () => {
  const sop = (n: number) => ({ ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.${n}` });
  const incoming = async () => (await readdir(join(root, INCOMING_FOLDER))).sort();
  const ahead = () => new LocalStorage(root, { prepareNext: true, fsync: false });
  /** Object `n` begun, `size` bytes written, once the file for the next object is made too. */
  const begun = async (storage: LocalStorage, n: number, size: number) => {
    const writer = await storage.begin(sop(n));
    await writer.write(bytes(size, n));
    await vi.waitFor(async () => expect(await incoming()).toHaveLength(2), { timeout: 5000 });
    return writer;
  };

  it('makes one file ahead at each begin, which the next begin takes', async () => {
    const storage = ahead();
    await (await begun(storage, 1, 100)).commit();
    const [made] = await incoming();
    expect(made).toMatch(/^[0-9a-f-]+\.part$/);
    // The second object is written into the file made ahead; a new one is made.
    const second = await begun(storage, 2, 200);
    expect(await incoming()).toContain(made);
    await second.commit();
    const left = await incoming();
    expect(left).toHaveLength(1);
    expect(left).not.toContain(made);
    const placed = (n: number) =>
      readFile(
        join(
          root,
          UIDS.studyInstanceUid,
          UIDS.seriesInstanceUid,
          `${UIDS.sopInstanceUid}.${n}.dcm`,
        ),
      );
    expect(await placed(1)).toEqual(Buffer.from(bytes(100, 1)));
    expect(await placed(2)).toEqual(Buffer.from(bytes(200, 2)));
    await storage.close();
  });

  it("abort deletes the object's file and leaves the empty one made ahead", async () => {
    const storage = ahead();
    await (await begun(storage, 1, 4096)).abort();
    const left = await incoming();
    expect(left).toHaveLength(1);
    expect((await readFile(join(root, INCOMING_FOLDER, left[0]!))).length).toBe(0);
    await storage.close();
  });

  it('close() deletes the file made ahead; begin() is refused afterwards', async () => {
    const storage = ahead();
    await (await storage.begin(sop(1))).commit();
    await storage.close();
    expect(await incoming()).toEqual([]);
    await expect(storage.begin(sop(2))).rejects.toMatchObject({
      code: ArchiveErrorCode.STORAGE_FAILED,
    });
  });

  it('a file made ahead and left by a crash is removed at the next start', async () => {
    const crashed = new LocalStorage(root, { prepareNext: true, fsync: false, nodeId: 'a' });
    await (await crashed.begin(sop(1))).commit();
    const own = () => readdir(crashed.incoming);
    await vi.waitFor(async () => expect(await own()).toHaveLength(1), { timeout: 5000 });
    const restarted = new LocalStorage(root, { prepareNext: true, nodeId: 'a' });
    expect(await restarted.removeTemporaryFiles()).toBe(1);
    expect(await own()).toEqual([]);
  });

  it('after .incoming is removed by hand, fails the object that took an older file, then makes the folder again', async () => {
    const storage = ahead();
    await (await storage.begin(sop(1))).commit();
    await vi.waitFor(async () => expect(await incoming()).toHaveLength(1), { timeout: 5000 });
    await rm(join(root, INCOMING_FOLDER), { recursive: true });
    const doomed = await storage.begin(sop(2));
    await doomed.write(bytes(10, 2));
    await expect(doomed.commit()).rejects.toMatchObject({ code: ArchiveErrorCode.STORAGE_FAILED });
    const next = await storage.begin(sop(3));
    await next.write(bytes(10, 3));
    await next.commit();
    expect(await listFiles(root)).toContain(
      `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${UIDS.sopInstanceUid}.3.dcm`,
    );
    await storage.close();
    expect(await incoming()).toEqual([]);
  });
});

describe('LocalStorage: layout and durability', () => {
  // The syncs and writes spied on below run on the thread pool: a disk's calls.
  beforeEach(() => onFileSystem(EXT4));

  it('writes to <root>/.incoming, then renames to <root>/study/series/sop.dcm', async () => {
    const storage = new LocalStorage(root);
    const writer = await storage.begin(UIDS);
    await writer.write(bytes(1000, 1));
    const before = await listFiles(root);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatch(new RegExp(`^\\${INCOMING_FOLDER}/[0-9a-f-]+\\.part$`));
    await writer.commit();
    expect(await listFiles(root)).toEqual([FINAL]);
    expect((await readFile(join(root, FINAL))).length).toBe(1000);
  });

  it('pushes back when more than highWaterMark bytes are queued', async () => {
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
    expect(waited).toBeGreaterThan(0);
    await writer.commit();
    const read = await readAll(await storage.open(FINAL));
    expect(Buffer.compare(read, Buffer.concat(chunks))).toBe(0);
  });

  it.each([
    ['a disk', EXT4, {}],
    ['a disk, with a node id (a worker of its own)', EXT4, { nodeId: 'w1' }],
    ['NFS: every call on the thread pool', NFS, { nodeId: 'node-1' }],
  ] as const)(
    'gathers received chunks into batches: one writev per batch, the rest at commit (%s)',
    async (_, type, shared) => {
      onFileSystem(type);
      const writev = vi.spyOn(fs, 'writev');
      const writevSync = vi.spyOn(fs, 'writevSync');
      const rename = vi.spyOn(fs, 'rename');
      const renameSync = vi.spyOn(fs, 'renameSync');
      const storage = new LocalStorage(root, {
        fsync: false,
        highWaterMark: 256 * 1024,
        writeBatch: 128 * 1024,
        ...shared,
      });
      const writer = await storage.begin(UIDS);
      const chunks: Uint8Array[] = [];
      // Less than a batch: nothing is written yet.
      for (let i = 0; i < 7; i++) {
        chunks.push(bytes(16 * 1024, i));
        await writer.write(chunks.at(-1)!);
      }
      expect(writev).not.toHaveBeenCalled();
      for (let i = 7; i < 64 + 3; i++) {
        chunks.push(bytes(16 * 1024, i));
        await writer.write(chunks.at(-1)!);
      }
      await writer.commit();
      // 67 chunks of 16 KiB: 8 batches of 128 KiB, then the 3 left at commit (a writev
      // may also take more than a batch when chunks queue up while one is written).
      expect(writev.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(writev.mock.calls.length).toBeLessThanOrEqual(9);
      for (const [, batch] of writev.mock.calls.slice(0, -1)) {
        expect(size(batch)).toBeGreaterThanOrEqual(128 * 1024);
      }
      // Writes may wait for the device (pages under writeback): never inline on a disk.
      expect(writevSync).not.toHaveBeenCalled();
      // The rename waits for no device on a local disk (inline), for a server on NFS.
      expect([renameSync.mock.calls.length, rename.mock.calls.length]).toEqual(
        type === NFS ? [0, 1] : [1, 0],
      );
      const read = await readAll(await storage.open(FINAL));
      expect(Buffer.compare(read, Buffer.concat(chunks))).toBe(0);
    },
  );

  it('on tmpfs writes every batch inline: no round trip to the thread pool', async () => {
    onFileSystem(TMPFS);
    const writev = vi.spyOn(fs, 'writev');
    const writevSync = vi.spyOn(fs, 'writevSync');
    const storage = new LocalStorage(root, {
      fsync: false,
      highWaterMark: 256 * 1024,
      writeBatch: 128 * 1024,
    });
    const writer = await storage.begin(UIDS);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < 7; i++) {
      chunks.push(bytes(16 * 1024, i));
      await writer.write(chunks.at(-1)!);
    }
    // Still gathered: less than a batch is not written yet.
    expect(writevSync).not.toHaveBeenCalled();
    for (let i = 7; i < 64 + 3; i++) {
      chunks.push(bytes(16 * 1024, i));
      await writer.write(chunks.at(-1)!);
    }
    await writer.commit();
    expect(writev).not.toHaveBeenCalled();
    const written = writevSync.mock.calls.map(([, batch]) => size(batch));
    expect(written.reduce((t, n) => t + n, 0)).toBe(67 * 16 * 1024);
    expect(written.slice(0, -1).every((n) => n >= 128 * 1024)).toBe(true);
    const read = await readAll(await storage.open(FINAL));
    expect(Buffer.compare(read, Buffer.concat(chunks))).toBe(0);
  });

  it('starts early data syncs while writing, then fsyncs before the object is in place', async () => {
    const datasync = vi.spyOn(fs, 'fdatasync');
    let placedAtSync: boolean | undefined;
    const sync = vi.spyOn(fs, 'fsync').mockImplementation(((_fd: number, done: Done) => {
      placedAtSync ??= existsSync(join(root, FINAL));
      setImmediate(() => done(null));
    }) as never);
    try {
      const storage = new LocalStorage(root, { highWaterMark: 32 * 1024, syncEvery: 64 * 1024 });
      const writer = await storage.begin(UIDS);
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < 64; i++) {
        chunks.push(bytes(16 * 1024, i));
        await writer.write(chunks[i]!);
      }
      // 1 MiB written in steps of at least 64 KiB: some early syncs, never more than one at a time.
      expect(datasync.mock.calls.length).toBeGreaterThan(0);
      expect(datasync.mock.calls.length).toBeLessThanOrEqual(16);
      const calledBeforeCommit = sync.mock.calls.length;
      await writer.commit();
      // The commit's own fsync of the file (then the folders'), before the rename.
      expect(sync.mock.calls.length).toBeGreaterThan(calledBeforeCommit);
      expect(placedAtSync).toBe(false);
      const read = await readAll(await storage.open(FINAL));
      expect(Buffer.compare(read, Buffer.concat(chunks))).toBe(0);
    } finally {
      datasync.mockRestore();
      sync.mockRestore();
    }
  });

  it('an early data sync that fails fails the object: commit rejects, nothing is left', async () => {
    const datasync = vi
      .spyOn(fs, 'fdatasync')
      .mockImplementation(((_fd: number, done: Done) =>
        setImmediate(() => done(ioError('fdatasync')))) as never);
    try {
      const storage = new LocalStorage(root, { syncEvery: 1024, writeBatch: 1024 });
      const writer = await storage.begin(UIDS);
      let failed: unknown;
      for (let i = 0; i < 16 && !failed; i++) {
        await writer.write(bytes(4096, i)).catch((e: unknown) => {
          failed = e;
        });
        // Let the flush and its sync run.
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(datasync).toHaveBeenCalled();
      await expect(writer.commit()).rejects.toMatchObject({
        code: ArchiveErrorCode.STORAGE_FAILED,
      });
      expect(await listFiles(root)).toEqual([]);
    } finally {
      datasync.mockRestore();
    }
  });

  it('starts no early sync without fsync', async () => {
    const datasync = vi.spyOn(fs, 'fdatasync');
    try {
      const storage = new LocalStorage(root, { fsync: false, syncEvery: 1024 });
      const writer = await storage.begin(UIDS);
      for (let i = 0; i < 8; i++) await writer.write(bytes(4096, i));
      await writer.commit();
      expect(datasync).not.toHaveBeenCalled();
    } finally {
      datasync.mockRestore();
    }
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

  it('remove prunes empty series and study folders, never the root', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    for (const sop of [UIDS.sopInstanceUid, `${UIDS.sopInstanceUid}.1`]) {
      const writer = await storage.begin({ ...UIDS, sopInstanceUid: sop });
      await writer.commit();
    }
    await storage.remove(FINAL);
    expect(existsSync(join(root, UIDS.studyInstanceUid, UIDS.seriesInstanceUid))).toBe(true);
    await storage.remove(
      `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${UIDS.sopInstanceUid}.1.dcm`,
    );
    expect(await readdir(root)).toEqual([INCOMING_FOLDER]);
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

  it('commits into one folder at the same time share its fsync (group commit)', async () => {
    const synced: string[] = [];
    const sync = vi.spyOn(fs, 'fsync').mockImplementation(((fd: number, done: Done) => {
      synced.push(readlinkSync(`/proc/self/fd/${fd}`));
      setTimeout(() => done(null), 20);
    }) as never);
    try {
      const storage = new LocalStorage(root);
      const series = join(root, UIDS.studyInstanceUid, UIDS.seriesInstanceUid);
      const first = await storage.begin(UIDS);
      await first.commit(); // makes the folders
      synced.length = 0;
      const writers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          storage.begin({ ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.${i + 1}` }),
        ),
      );
      for (const [i, w] of writers.entries()) await w.write(bytes(100, i));
      await Promise.all(writers.map((w) => w.commit()));
      const folderSyncs = synced.filter((p) => p === series).length;
      // Each file is fsynced; the folder once per group, not once per object (8 before).
      expect(synced.length - folderSyncs).toBe(8);
      expect(folderSyncs).toBeGreaterThanOrEqual(1);
      expect(folderSyncs).toBeLessThanOrEqual(3);
      expect(synced.filter((p) => p !== series && !p.endsWith('.part'))).toEqual([]);
      expect(await readdir(series)).toHaveLength(9);
    } finally {
      sync.mockRestore();
    }
  });

  it('no commit into a new folder returns before the new entries are fsynced', async () => {
    const synced: string[] = [];
    const sync = vi.spyOn(fs, 'fsync').mockImplementation(((fd: number, done: Done) => {
      const path = readlinkSync(`/proc/self/fd/${fd}`);
      setTimeout(() => {
        synced.push(path);
        done(null);
      }, 20);
    }) as never);
    try {
      const storage = new LocalStorage(root);
      const writers = await Promise.all(
        [1, 2, 3].map((i) =>
          storage.begin({ ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.${i}` }),
        ),
      );
      const study = join(root, UIDS.studyInstanceUid);
      const series = join(study, UIDS.seriesInstanceUid);
      // Whichever commit made the folders, each one returns after the root's and the
      // study folder's fsync (they hold the new entries) and after the series folder's.
      await Promise.all(
        writers.map(async (w) => {
          await w.commit();
          expect(synced).toContain(root);
          expect(synced).toContain(study);
          expect(synced).toContain(series);
        }),
      );
    } finally {
      sync.mockRestore();
    }
  });

  it('makes the incoming and series folders again when they were removed behind its back', async () => {
    const storage = new LocalStorage(root, { fsync: false });
    const first = await storage.begin(UIDS);
    await first.commit();
    await rm(join(root, UIDS.studyInstanceUid), { recursive: true });
    await rm(join(root, INCOMING_FOLDER), { recursive: true });
    const second = await storage.begin({ ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.2` });
    await second.write(bytes(10, 2));
    await rm(join(root, UIDS.studyInstanceUid), { recursive: true, force: true });
    await second.commit();
    expect(await listFiles(root)).toEqual([
      `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${UIDS.sopInstanceUid}.2.dcm`,
    ]);
    // remove() prunes the folders; the storage then makes them again.
    await storage.remove(
      `${UIDS.studyInstanceUid}/${UIDS.seriesInstanceUid}/${UIDS.sopInstanceUid}.2.dcm`,
    );
    const third = await storage.begin(UIDS);
    await third.commit();
    expect(await listFiles(root)).toEqual([FINAL]);
  });

  it('pathFor validates and places', () => {
    const storage = new LocalStorage(root);
    expect(storage.pathFor(UIDS)).toBe(FINAL);
    expect(() => storage.pathFor({ ...UIDS, seriesInstanceUid: '../..' })).toThrow(
      expect.objectContaining({
        code: ArchiveErrorCode.INVALID_UID,
        attribute: 'SeriesInstanceUID',
      }),
    );
  });
});

describe('LocalStorage: a call that fails at each step of a commit', () => {
  type Call = 'fsync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'openSync' | 'writevSync';
  /** Fails the `nth` call (from 1) of `fs[name]` with EIO, passing the others through. */
  const failing = (name: Call, nth: number) => {
    const real = fs[name] as (...args: unknown[]) => unknown;
    let calls = 0;
    vi.spyOn(fs, name).mockImplementation(((...args: unknown[]) => {
      calls++;
      if (calls !== nth) return real.apply(fs, args);
      if (name === 'fsync') return setImmediate(() => (args[1] as Done)(ioError(name)));
      // A close that fails still releases the descriptor (as close(2) does on Linux).
      if (name === 'closeSync') real.apply(fs, args);
      throw ioError(name);
    }) as never);
  };
  // Before the rename nothing is in place: the temporary file goes too. After it, the
  // object is in place but the commit still fails: nothing is acknowledged.
  it.each([
    ['a disk', EXT4, "the file's fsync, on the thread pool", 'fsync', 1, true],
    ['a disk', EXT4, 'the close, inline', 'closeSync', 1, true],
    ['a disk', EXT4, 'the rename, inline', 'renameSync', 1, true],
    ['a disk', EXT4, "the folder's open, inline", 'openSync', 1, false],
    ['a disk', EXT4, "the folder's fsync, on the thread pool", 'fsync', 2, false],
    ['tmpfs', TMPFS, 'the last batch, inline', 'writevSync', 1, true],
    ['tmpfs', TMPFS, "the file's fsync, inline", 'fsyncSync', 1, true],
    ['tmpfs', TMPFS, 'the close, inline', 'closeSync', 1, true],
    ['tmpfs', TMPFS, 'the rename, inline', 'renameSync', 1, true],
    ['tmpfs', TMPFS, "the folder's open, inline", 'openSync', 1, false],
    ['tmpfs', TMPFS, "the folder's fsync, inline", 'fsyncSync', 2, false],
  ] as const)('on %s, %s: the commit rejects', async (_, type, _step, name, nth, nothingLeft) => {
    onFileSystem(type);
    const storage = new LocalStorage(root);
    // The folders exist and are known: the commit's calls are the ones counted.
    await (await storage.begin({ ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.1` })).commit();
    const writer = await storage.begin(UIDS);
    await writer.write(bytes(1000, 1));
    failing(name, nth);
    await expect(writer.commit()).rejects.toMatchObject({
      code: ArchiveErrorCode.STORAGE_FAILED,
      cause: expect.objectContaining({ code: 'EIO' }),
    });
    vi.mocked(fs[name]).mockRestore();
    const left = (await listFiles(root)).filter((f) => !f.endsWith(`${UIDS.sopInstanceUid}.1.dcm`));
    expect(left).toEqual(nothingLeft ? [] : [FINAL]);
    // The storage goes on: the next object commits.
    const next = await storage.begin(UIDS);
    await next.write(bytes(10, 2));
    await next.commit();
    expect(await readFile(join(root, FINAL))).toEqual(Buffer.from(bytes(10, 2)));
  });
});

/** The callback of a `node:fs` call. */
type Done = (error: NodeJS.ErrnoException | null) => void;
/** The callback of `fs.statfs`. */
type StatfsDone = (error: NodeJS.ErrnoException | null, stats: fs.StatsFs) => void;

/** The bytes of a `writev` call's chunks. */
function size(batch: unknown): number {
  return (batch as Uint8Array[]).reduce((t, c) => t + c.byteLength, 0);
}

/** An EIO error as `node:fs` reports it. */
function ioError(syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, ${syscall}`), { code: 'EIO', syscall });
}
