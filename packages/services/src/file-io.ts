/**
 * How files to send are read: through Node's thread pool, or with blocking
 * calls on the event loop (`ClientOptions.blockingFileReads`). Both the
 * search for files (`findDicomFiles`) and the C-STORE sources read this way.
 */
import * as fs from 'node:fs';

/** A node:fs callback call as a promise. */
function fsCall<T>(call: (done: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value)));
  });
}

/**
 * The system calls that read files to send: a file's status by path, then
 * open, size, read and close; one way or the other (see {@link fileIo}).
 */
export interface FileIo {
  /** The status of `path`, symbolic links followed. */
  stat(path: string): fs.Stats | Promise<fs.Stats>;
  open(path: string): number | Promise<number>;
  size(fd: number): number | Promise<number>;
  /** Reads at most `length` bytes from file offset `position` to the start of `into`. */
  read(fd: number, into: Uint8Array, position: number, length: number): number | Promise<number>;
  /** Not waited for: the bytes are read; a failing close loses nothing. */
  close(fd: number): void;
}

/**
 * Node's thread pool, through node:fs callbacks (not fs/promises: no
 * FileHandle and no promise per call, and the close is not waited for), which
 * costs less CPU per file (BENCHMARKS.md, "Blocking file reads").
 */
const CALLBACK_IO: FileIo = {
  stat: (path) => fsCall<fs.Stats>((done) => fs.stat(path, done)),
  open: (path) => fsCall<number>((done) => fs.open(path, 'r', done)),
  size: (fd) => fsCall<fs.Stats>((done) => fs.fstat(fd, done)).then((st) => st.size),
  read: (fd, into, position, length) =>
    fsCall<number>((done) => fs.read(fd, into, 0, length, position, done)),
  close: (fd) =>
    fs.close(fd, () => {
      // Nothing to do (see FileIo.close).
    }),
};

/**
 * Blocking calls on the event loop: no thread-pool round trip (four per
 * file otherwise, each waking a pool thread and then the loop); figures
 * against {@link CALLBACK_IO} in BENCHMARKS.md, "Blocking file reads".
 */
const BLOCKING_IO: FileIo = {
  stat: (path) => fs.statSync(path),
  open: (path) => fs.openSync(path, 'r'),
  size: (fd) => fs.fstatSync(fd).size,
  read: (fd, into, position, length) => fs.readSync(fd, into, 0, length, position),
  close: (fd) => {
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing to do (see FileIo.close).
    }
  },
};

/**
 * Reads up to `length` bytes of `fd` from file offset `position` into `into`
 * (from its start), resuming after short reads; stops early at the end of
 * the file. Resolves the bytes read.
 */
export async function readFully(
  io: FileIo,
  fd: number,
  into: Uint8Array,
  position: number,
  length: number,
): Promise<number> {
  let at = 0;
  while (at < length) {
    const n = await io.read(fd, into.subarray(at), position + at, length - at);
    if (n === 0) break;
    at += n;
  }
  return at;
}

/** The calls of `blocking` or thread-pool reads. */
export function fileIo(blocking = false): FileIo {
  return blocking ? BLOCKING_IO : CALLBACK_IO;
}
