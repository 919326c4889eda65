import fs from 'node:fs';

/**
 * The file-system calls of a commit, on raw file descriptors, by whether
 * they may wait for a device.
 *
 * Each asynchronous call is a round trip to libuv's thread pool: the main
 * thread hands the call to a pool thread and is woken when it ends, two
 * thread switches that cost more than the call itself when it completes in
 * memory, and that a sender waiting for each C-STORE response waits for in
 * turn. So a call runs synchronously where it cannot wait for a device, and
 * on the thread pool where it can (a slow disk must never stall the other
 * associations):
 *
 * - `pool`: every call on the thread pool: a network file system (NFS, SMB,
 *   CephFS..., where even a rename is a network round trip, as on a root
 *   shared by several nodes), or one that cannot be told.
 * - `inline`: a local disk file system. Closing a file, renaming it and
 *   opening a folder just written to change the kernel's in-memory state
 *   (the journal writes them later; the folder's fsync waits for that), so
 *   they run synchronously; fsyncs, data syncs, creating a file (which may
 *   wait for the journal) and writing data (which may wait for pages under
 *   writeback) stay on the thread pool.
 * - `memory`: a file system in memory (tmpfs, ramfs): no call waits for a
 *   device, so every call of a commit runs synchronously, its fsyncs too
 *   (still issued: the durability rule does not depend on the file system).
 *
 * The calls go through the `node:fs` module object at call time (never a
 * destructured copy), so that tests can inject failures with `vi.spyOn(fs, ...)`.
 */
export type CallMode = 'pool' | 'inline' | 'memory';

/** `statfs` types of the file systems kept in memory (Linux, `linux/magic.h`). */
const MEMORY_FILE_SYSTEMS: ReadonlySet<number> = new Set([
  0x01021994, // TMPFS_MAGIC
  0x858458f6, // RAMFS_MAGIC
]);

/**
 * `statfs` types of network and cluster file systems, and of FUSE (sshfs,
 * object-store mounts...), whose metadata calls may wait for a server.
 */
const NETWORK_FILE_SYSTEMS: ReadonlySet<number> = new Set([
  0x6969, // NFS_SUPER_MAGIC
  0x517b, // SMB_SUPER_MAGIC
  0xff534d42, // CIFS_SUPER_MAGIC
  0xfe534d42, // SMB2_SUPER_MAGIC
  0x00c36400, // CEPH_SUPER_MAGIC
  0x65735546, // FUSE_SUPER_MAGIC
  0x01021997, // V9FS_MAGIC
  0x5346414f, // AFS_FS_MAGIC
  0x6b414653, // AFS_SUPER_MAGIC
  0x01161970, // GFS2_MAGIC
  0x7461636f, // OCFS2_SUPER_MAGIC
  0x0bd00bd0, // Lustre
  0x47504653, // GPFS
  0x19830326, // BeeGFS
]);

/**
 * The {@link CallMode} for files in `folder` (which must exist), told by its
 * file system (Linux `statfs`): `memory` on tmpfs or ramfs, `pool` on a
 * network file system, `inline` on any other (a local disk). Elsewhere than
 * on Linux, or when the file system cannot be told, `pool`.
 */
export function callModeFor(folder: string): Promise<CallMode> {
  if (process.platform !== 'linux') return Promise.resolve('pool');
  return new Promise((resolve) => {
    try {
      fs.statfs(folder, (error, stats) => {
        const type = error ? undefined : Number(stats.type);
        if (type === undefined || NETWORK_FILE_SYSTEMS.has(type)) resolve('pool');
        else resolve(MEMORY_FILE_SYSTEMS.has(type) ? 'memory' : 'inline');
      });
    } catch {
      resolve('pool');
    }
  });
}

/** Whether `mode` runs the calls that may wait for the device synchronously (only in memory). */
function deviceFree(mode: CallMode): boolean {
  return mode === 'memory';
}

/** Whether `mode` runs the metadata calls (close, rename, opening a folder) synchronously. */
function metadataInline(mode: CallMode): boolean {
  return mode !== 'pool';
}

/** Runs `call` now, as a settled promise. */
function now<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Opens `path` with `flags` (creating a file may wait for the journal: inline only in memory). */
export function openFile(path: string, flags: string, mode: CallMode): Promise<number> {
  if (deviceFree(mode)) return now(() => fs.openSync(path, flags, 0o666));
  return new Promise((resolve, reject) => {
    fs.open(path, flags, 0o666, (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}

/** One `writev` of `chunks` on the thread pool; resolves the bytes written (may be short). */
function writeChunks(fd: number, chunks: Uint8Array[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, chunks as NodeJS.ArrayBufferView[], (error, bytes) =>
      error ? reject(error) : resolve(bytes),
    );
  });
}

/** fsync (waits for the device: inline only in memory). */
export function syncFile(fd: number, mode: CallMode): Promise<void> {
  if (deviceFree(mode)) return now(() => fs.fsyncSync(fd));
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** fdatasync (waits for the device: inline only in memory). */
export function dataSyncFile(fd: number, mode: CallMode): Promise<void> {
  if (deviceFree(mode)) return now(() => fs.fdatasyncSync(fd));
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** Closes `fd` (a local close releases kernel memory and never waits for the device). */
export function closeFile(fd: number, mode: CallMode): Promise<void> {
  if (metadataInline(mode)) return now(() => fs.closeSync(fd));
  return new Promise((resolve, reject) => {
    fs.close(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Renames `from` to `to` (within one local file system, a change of
 * directory entries in memory; the folder's fsync makes it durable).
 */
export function renameFile(from: string, to: string, mode: CallMode): Promise<void> {
  if (metadataInline(mode)) return now(() => fs.renameSync(from, to));
  return new Promise((resolve, reject) => {
    fs.rename(from, to, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Opens a folder for reading, to fsync it (locally, the folder was just
 * written to, a rename into it: the lookup is served from memory).
 */
export function openFolder(dir: string, mode: CallMode): Promise<number> {
  if (metadataInline(mode)) return now(() => fs.openSync(dir, 'r'));
  return openFile(dir, 'r', mode);
}

/**
 * Writes every byte of `chunks`, resuming after short writes: on the thread
 * pool, or synchronously in memory (`inline`: the batch goes to the pool too,
 * since a write into the page cache may wait for pages under writeback).
 */
export async function writeAll(fd: number, chunks: Uint8Array[], mode: CallMode): Promise<void> {
  let pending = chunks;
  for (let guard = 0; pending.length > 0; guard++) {
    const written = deviceFree(mode)
      ? fs.writevSync(fd, pending as NodeJS.ArrayBufferView[])
      : await writeChunks(fd, pending);
    pending = unwritten(pending, written, guard);
  }
}

/** What is left of `chunks` after a write of `written` bytes (the `guard`-th for them). */
function unwritten(chunks: Uint8Array[], written: number, guard: number): Uint8Array[] {
  if (written === 0 && guard > 16) throw new Error('the file system accepts no more bytes');
  let skip = written;
  const rest: Uint8Array[] = [];
  for (const c of chunks) {
    if (skip >= c.byteLength) {
      skip -= c.byteLength;
      continue;
    }
    rest.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return rest;
}
