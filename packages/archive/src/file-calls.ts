import fs from 'node:fs';

/**
 * The file-system calls of a commit, on raw file descriptors, split by
 * whether they may wait for the device.
 *
 * Each asynchronous call is a round trip to libuv's thread pool: the main
 * thread hands the call to a pool thread and is woken when it ends, two
 * thread switches that cost more than the call itself when it completes in
 * memory, and that a sender waiting for each C-STORE response waits for in
 * turn. So the calls that only change the kernel's in-memory state of a local
 * file system (closing a file, renaming it, opening a known folder) run
 * synchronously ({@link CallMode} `inline`); those that wait for the device
 * (fsync, fdatasync, writes of the data) stay on the thread pool, so that a
 * slow disk never stalls the other associations. On a network file system
 * (a root shared by several nodes) every metadata call is a network round
 * trip: there everything stays on the thread pool (`pool`). The one write
 * that runs inline is an object's last batch, just before its fsync
 * ({@link writeAllInline}).
 *
 * The calls go through the `node:fs` module object at call time (never a
 * destructured copy), so that tests can inject failures with `vi.spyOn(fs, ...)`.
 */
export type CallMode = 'inline' | 'pool';

/** Opens `path` with `flags` on the thread pool (creating a file may wait for the journal). */
export function openFile(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(path, flags, 0o666, (error, fd) => (error ? reject(error) : resolve(fd)));
  });
}

/** One `writev` of `chunks` at the file's position; resolves the bytes written (may be short). */
export function writeChunks(fd: number, chunks: Uint8Array[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, chunks as NodeJS.ArrayBufferView[], (error, bytes) =>
      error ? reject(error) : resolve(bytes),
    );
  });
}

/** fsync: waits for the device, so always on the thread pool. */
export function syncFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** fdatasync: waits for the device, so always on the thread pool. */
export function dataSyncFile(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/** Closes `fd`: inline, a local close releases kernel memory and never waits for the device. */
export function closeFile(fd: number, mode: CallMode): Promise<void> {
  if (mode === 'inline') {
    try {
      fs.closeSync(fd);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    fs.close(fd, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Renames `from` to `to`: inline, a rename within one local file system
 * changes directory entries in memory (the journal writes them later; the
 * folder's fsync makes them durable).
 */
export function renameFile(from: string, to: string, mode: CallMode): Promise<void> {
  if (mode === 'inline') {
    try {
      fs.renameSync(from, to);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return new Promise((resolve, reject) => {
    fs.rename(from, to, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Opens a folder for reading (to fsync it): inline, the folder was just
 * written to (a rename into it), so the lookup is served from memory.
 */
export function openFolder(dir: string, mode: CallMode): Promise<number> {
  if (mode === 'inline') {
    try {
      return Promise.resolve(fs.openSync(dir, 'r'));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return openFile(dir, 'r');
}

/** Writes every byte of `chunks` on the thread pool, resuming after short writes. */
export async function writeAll(fd: number, chunks: Uint8Array[]): Promise<void> {
  let pending = chunks;
  for (let guard = 0; pending.length > 0; guard++) {
    const written = await writeChunks(fd, pending);
    pending = unwritten(pending, written, guard);
  }
}

/**
 * Writes every byte of `chunks` synchronously, resuming after short writes:
 * for the last batch of an object, which its commit fsyncs at once (see
 * `LocalObjectWriter.commit` in storage.ts for why it runs inline).
 */
export function writeAllInline(fd: number, chunks: Uint8Array[]): void {
  let pending = chunks;
  for (let guard = 0; pending.length > 0; guard++) {
    const written = fs.writevSync(fd, pending as NodeJS.ArrayBufferView[]);
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
