import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import {
  InvalidPathError,
  ObjectNotFoundError,
  StorageFailedError,
  WriterClosedError,
} from './errors.js';
import {
  type CallMode,
  callModeFor,
  closeFile,
  dataSyncFile,
  openFile,
  openFolder,
  renameFile,
  syncFile,
  writeAll,
} from './file-calls.js';
import { GroupSync } from './group-sync.js';
import { assertValidUid } from './validate-uid.js';

/** Tries of mkdir + rename when a concurrent remove() prunes the folder (bounded). */
const PLACE_ATTEMPTS = 10;
/**
 * Most folders {@link LocalStorage} remembers as existing (it forgets them all
 * past this, so memory stays bounded however many series arrive).
 */
const KNOWN_FOLDERS = 4096;
/** The three UIDs that place one composite object in the hierarchy (PS3.3 §C.7.2, §C.7.3, §C.12.1). */
export interface ObjectUids {
  /** Study Instance UID (0020,000D). */
  studyInstanceUid: string;
  /** Series Instance UID (0020,000E). */
  seriesInstanceUid: string;
  /** SOP Instance UID (0008,0018). */
  sopInstanceUid: string;
}

/** A committed object: where it is and how big. */
export interface StoredObject {
  /** Path relative to the storage root, `/`-separated; this is what the index keeps. */
  path: string;
  /** Size in bytes. */
  size: number;
}

/** What {@link ObjectStorage.stat} reports. */
export interface StoredObjectStat {
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  modified: Date;
}

/** Options of {@link ObjectStorage.open}. */
export interface OpenOptions {
  /** First byte to read (inclusive), e.g. to skip the Part 10 header; default 0. */
  start?: number;
  /** Last byte to read (inclusive); default the end of the object. */
  end?: number;
}

/**
 * Receives one incoming object. Written chunks are kept by reference until
 * they reach the file: the caller must not reuse a chunk's memory after
 * handing it to `write`.
 */
export interface ObjectWriter {
  /** Bytes accepted so far. */
  readonly bytesWritten: number;
  /**
   * Queues `chunk`; the promise settles when the writer can take more
   * (backpressure: await it before writing the next chunk). Rejects with
   * `WriterClosedError` after `commit()` or `abort()`, or with the write's error.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Makes the object durable and visible under its final name, atomically:
   * flush, fsync, rename over any object with the same SOP Instance UID,
   * fsync the directory. On failure nothing is left behind and the error is thrown.
   */
  commit(): Promise<StoredObject>;
  /** Discards the object; nothing is left behind. Idempotent; a no-op after `commit()`. */
  abort(): Promise<void>;
}

/**
 * Where received objects are kept. `LocalStorage` is the local-disk
 * implementation; a shared-folder one implements the same interface.
 * Paths are always relative to the storage's root and `/`-separated.
 */
export interface ObjectStorage {
  /** Starts receiving one object; the UIDs decide where it goes (validated first). */
  begin(uids: ObjectUids): Promise<ObjectWriter>;
  /** Reads a stored object; rejects with `ObjectNotFoundError` when there is none. */
  open(path: string, options?: OpenOptions): Promise<Readable>;
  /** Size and time of a stored object, or `undefined` when there is none. */
  stat(path: string): Promise<StoredObjectStat | undefined>;
  /** Deletes a stored object; resolves `false` when there was none. */
  remove(path: string): Promise<boolean>;
  /**
   * Releases what the storage holds between objects (LocalStorage: the file
   * made ahead for the next object); begin() fails afterwards. Optional.
   */
  close?(): Promise<void>;
}

/** A temporary file open for writing (its descriptor), and its path. */
interface TempFile {
  fd: number;
  tempPath: string;
}

/** Options of {@link LocalStorage}. */
export interface LocalStorageOptions {
  /**
   * Bytes a writer holds (queued or being written) before `write()` makes the
   * caller wait (default 2 MiB). Memory per incoming object is bounded by this
   * plus one chunk.
   */
  highWaterMark?: number;
  /**
   * Bytes a writer gathers before it hands them to one `writev` (default
   * 1 MiB, at most `highWaterMark`); `commit()` writes what is left. Each
   * call costs the event loop about as much whatever its size, so received
   * chunks (64 KiB socket reads) are written a batch at a time.
   */
  writeBatch?: number;
  /** Whether to fsync files and directories on commit (default true; tests may turn it off). */
  fsync?: boolean;
  /**
   * Bytes written to a file between two early data syncs (`fdatasync`) that a
   * writer starts in the background while the object still arrives (default
   * 8 MiB; 0: none; none either without `fsync`). The disk then writes the
   * object while the rest of it is received, and the fsync of `commit()` has
   * little left to flush. Durability still rests on that fsync alone; an early
   * sync that fails fails the writer (the error is not left for the fsync,
   * which on Linux might not report it again).
   */
  syncEvery?: number;
  /**
   * Whether to create the next object's temporary file ahead, while the
   * current object is received (default false; dnet-scp turns it on). Creating
   * a file in `.incoming` just after a commit's fsyncs waits for the file
   * system's journal (figures in BENCHMARKS.md, "Temporary file made ahead"),
   * and a sender at window 1 waits for that on every object; made ahead, it
   * overlaps the transfer. At most one such file exists at a time, empty until
   * a writer takes it; {@link LocalStorage.close} deletes it, and
   * {@link LocalStorage.removeTemporaryFiles} one that a crash left. If
   * `.incoming` is removed by hand, the object that takes a file made before
   * fails to commit (a failure status, never a success), and the next one
   * makes the folder again.
   */
  prepareNext?: boolean;
  /**
   * This node's name when several nodes (processes, machines) share the root
   * folder: 1-64 letters, digits, `_` or `-`, distinct per node and stable
   * across restarts. Temporary files are then written to the node's own
   * folder, `.incoming/<nodeId>/`, and {@link LocalStorage.removeTemporaryFiles}
   * deletes only that folder's files, never another node's transfer in
   * progress. Without it (the default) the root belongs to one process
   * (dnet-scp locks it) and its temporary files are in `.incoming/` itself.
   */
  nodeId?: string;
}

/** A valid node id: it becomes part of a file name. */
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The folder, inside the root, where incoming objects are written before commit. */
export const INCOMING_FOLDER = '.incoming';

/** Most chunks handed to one `writev` call (well under IOV_MAX, 1024 on Linux). */
const MAX_IOVECS = 256;

/** Default {@link LocalStorageOptions.highWaterMark}: 2 MiB. */
export const DEFAULT_WRITER_HIGH_WATER_MARK = 2 * 1024 * 1024;
/** Default {@link LocalStorageOptions.writeBatch}: 1 MiB. */
export const DEFAULT_WRITE_BATCH = 1024 * 1024;

/** Default {@link LocalStorageOptions.syncEvery}: 8 MiB. */
export const DEFAULT_SYNC_EVERY = 8 * 1024 * 1024;

/**
 * Stores objects on a local file system as
 * `<root>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm`.
 * Incoming objects are written to `<root>/.incoming/` (same file system, so
 * the final rename is atomic) and renamed into place on commit. UIDs are
 * validated (PS3.5 §9.1) before they become path parts, and every path is
 * checked to resolve inside the root. The calls of a commit that cannot wait
 * for a device run synchronously rather than as round trips to the thread
 * pool, told by the root's file system: the close, the rename and the
 * folder's open on a local disk (writes and fsyncs stay on the pool, so a
 * slow disk never stalls the event loop); every call, fsyncs included, on
 * tmpfs; none on a network file system (file-calls.ts).
 *
 * @example
 * ```ts
 * const storage = new LocalStorage('/var/lib/dnet-scp/objects');
 * const writer = await storage.begin({ studyInstanceUid, seriesInstanceUid, sopInstanceUid });
 * for await (const chunk of dataSet) await writer.write(chunk);
 * const { path, size } = await writer.commit(); // '1.2.3/1.2.3.4/1.2.3.4.5.dcm'
 * ```
 */
export class LocalStorage implements ObjectStorage {
  /** The absolute root folder. */
  readonly root: string;
  readonly #highWaterMark: number;
  readonly #writeBatch: number;
  readonly #fsync: boolean;
  readonly #syncEvery: number;
  /**
   * The folder of this storage's temporary files: `<root>/.incoming`, or
   * `<root>/.incoming/<nodeId>` when the root is shared.
   */
  readonly incoming: string;
  /** The node id, when the root is shared. */
  readonly #nodeId: string | undefined;
  /**
   * Folders this storage made or saw made, so that an object into a known
   * series folder skips `mkdir -p` (each call is a thread-pool round trip).
   * Only a hint: a folder pruned since, here or by another node sharing the
   * root, makes the open or rename fail with ENOENT, and the folder is made again.
   */
  readonly #knownFolders = new Set<string>();
  /** Folders being made now, so concurrent objects into a new folder wait for the same mkdir. */
  readonly #makingFolders = new Map<string, Promise<void>>();
  /** One folder fsync at a time per folder, shared by the commits that wait for it. */
  readonly #folderSyncs = new GroupSync((dir) => syncDirectory(dir, this.#calls));
  /**
   * Which calls of a commit run synchronously (file-calls.ts): on a network
   * file system (a root shared by nodes) none; on a local disk those that
   * never wait for the device; in memory (tmpfs) all. Told by the file system
   * of the temporary folder, once it exists; none until then.
   */
  #calls: CallMode;
  /** Whether the file system of the temporary folder was looked at (see #calls). */
  #callsKnown = false;
  readonly #prepareNext: boolean;
  /** The next object's temporary file, being made or made ({@link LocalStorageOptions.prepareNext}). */
  #next: Promise<TempFile | undefined> | undefined;
  #closed = false;

  /**
   * @param root - the storage folder (created on first use)
   * @param options - backpressure, fsync and shared-folder settings
   */
  constructor(root: string, options: LocalStorageOptions = {}) {
    this.root = resolve(root);
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_WRITER_HIGH_WATER_MARK;
    // Never above the high-water mark: a writer waiting for room always has a batch to write.
    this.#writeBatch = Math.max(
      1,
      Math.min(options.writeBatch ?? DEFAULT_WRITE_BATCH, this.#highWaterMark),
    );
    this.#fsync = options.fsync ?? true;
    this.#syncEvery = this.#fsync ? (options.syncEvery ?? DEFAULT_SYNC_EVERY) : 0;
    if (options.nodeId !== undefined && !NODE_ID.test(options.nodeId)) {
      throw new InvalidPathError(options.nodeId, 'a node id is 1-64 letters, digits, _ or -');
    }
    this.#nodeId = options.nodeId;
    // One folder per node: a node lists, cleans and fsyncs only its own temporary files.
    this.incoming =
      options.nodeId === undefined
        ? join(this.root, INCOMING_FOLDER)
        : join(this.root, INCOMING_FOLDER, options.nodeId);
    this.#prepareNext = options.prepareNext ?? false;
    this.#calls = 'pool';
  }

  /**
   * The relative path an object with these UIDs is stored at; throws
   * {@link InvalidUidError} when a UID is not valid (PS3.5 §9.1).
   */
  pathFor(uids: ObjectUids): string {
    assertValidUid(uids.studyInstanceUid, 'StudyInstanceUID');
    assertValidUid(uids.seriesInstanceUid, 'SeriesInstanceUID');
    assertValidUid(uids.sopInstanceUid, 'SOPInstanceUID');
    const path = `${uids.studyInstanceUid}/${uids.seriesInstanceUid}/${uids.sopInstanceUid}.dcm`;
    this.#absolute(path); // defence in depth: must resolve inside the root
    return path;
  }

  /** {@inheritDoc ObjectStorage.begin} */
  async begin(uids: ObjectUids): Promise<ObjectWriter> {
    const path = this.pathFor(uids);
    if (this.#closed) throw new StorageFailedError('the storage is closed');
    const incoming = this.incoming;
    const next = this.#next;
    this.#next = undefined;
    const { fd, tempPath } = (await next) ?? (await this.#createTempFile(incoming));
    if (this.#prepareNext && !this.#next && !this.#closed) {
      // A failure here is not this object's: the next begin() makes its own file.
      this.#next = this.#createTempFile(incoming).catch(() => undefined);
    }
    return new LocalObjectWriter(fd, tempPath, path, {
      highWaterMark: this.#highWaterMark,
      writeBatch: this.#writeBatch,
      fsync: this.#fsync,
      syncEvery: this.#syncEvery,
      calls: this.#calls,
      place: () => this.#place(tempPath, path),
    });
  }

  /** A new, empty temporary file in `incoming` (made again if it was removed). */
  async #createTempFile(incoming: string): Promise<TempFile> {
    // Unique per object: `wx` below refuses to reuse a name.
    const tempPath = join(incoming, `${randomUUID()}.part`);
    try {
      try {
        if (!this.#knownFolders.has(incoming)) await this.#makeFolder(incoming, false);
        if (!this.#callsKnown) {
          this.#calls = await callModeFor(incoming);
          this.#callsKnown = true;
        }
        return { fd: await openFile(tempPath, 'wx', this.#calls), tempPath };
      } catch (cause) {
        if (!isCode(cause, 'ENOENT')) throw cause;
        // The folder was removed since it was made (by hand, or a clean-up): make it again.
        this.#knownFolders.delete(incoming);
        await this.#makeFolder(incoming, false);
        return { fd: await openFile(tempPath, 'wx', this.#calls), tempPath };
      }
    } catch (cause) {
      this.#knownFolders.delete(incoming);
      throw new StorageFailedError(`cannot create a temporary file in ${incoming}`, { cause });
    }
  }

  /**
   * Deletes the temporary file made ahead for the next object, if any
   * ({@link LocalStorageOptions.prepareNext}); begin() fails afterwards.
   * Writers already begun are not affected.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#discardNext();
  }

  /** Closes and deletes the next object's temporary file, if one is made or being made. */
  async #discardNext(): Promise<void> {
    // Taken before the await: a file a begin() makes meanwhile is left to it.
    const pending = this.#next;
    this.#next = undefined;
    const next = await pending;
    if (!next) return;
    await closeFile(next.fd, this.#calls).catch(() => undefined);
    await unlink(next.tempPath).catch(() => undefined);
  }

  /** {@inheritDoc ObjectStorage.open} */
  async open(path: string, options: OpenOptions = {}): Promise<Readable> {
    const absolute = this.#absolute(path);
    let handle: FileHandle;
    try {
      handle = await open(absolute, 'r');
    } catch (cause) {
      if (isCode(cause, 'ENOENT')) throw new ObjectNotFoundError(path, { cause });
      throw new StorageFailedError(`cannot open ${path}`, { cause });
    }
    return handle.createReadStream({
      start: options.start,
      end: options.end,
      highWaterMark: 64 * 1024,
    });
  }

  /** {@inheritDoc ObjectStorage.stat} */
  async stat(path: string): Promise<StoredObjectStat | undefined> {
    const absolute = this.#absolute(path);
    try {
      const s = await stat(absolute);
      if (!s.isFile()) return undefined;
      return { size: s.size, modified: s.mtime };
    } catch (cause) {
      if (isCode(cause, 'ENOENT') || isCode(cause, 'ENOTDIR')) return undefined;
      throw new StorageFailedError(`cannot stat ${path}`, { cause });
    }
  }

  /** Deletes a stored object; resolves `false` when there was none. Empty series and study folders are removed too. */
  async remove(path: string): Promise<boolean> {
    const absolute = this.#absolute(path);
    try {
      await unlink(absolute);
    } catch (cause) {
      if (isCode(cause, 'ENOENT') || isCode(cause, 'ENOTDIR')) return false;
      throw new StorageFailedError(`cannot remove ${path}`, { cause });
    }
    // Prune now-empty parent folders up to (never including) the root.
    let dir = resolve(absolute, '..');
    while (dir !== this.root && isInside(this.root, dir)) {
      try {
        await rmdir(dir);
      } catch {
        break; // not empty (or gone): stop
      }
      this.#knownFolders.delete(dir);
      dir = resolve(dir, '..');
    }
    return true;
  }

  /**
   * Deletes the temporary files that writers left behind when the process
   * died mid-transfer. Call it at start-up, before any writer exists, and
   * only while no other process uses the same temporary folder (dnet-scp
   * locks it first). With a `nodeId` only this node's folder is cleaned
   * (other nodes sharing the root may be receiving), together with the
   * `<nodeId>~*.part` files that versions before the per-node folders left
   * in `.incoming/`. Resolves the number of files removed.
   */
  async removeTemporaryFiles(): Promise<number> {
    let removed = await removePartFiles(this.incoming, '');
    if (this.#nodeId !== undefined) {
      removed += await removePartFiles(join(this.root, INCOMING_FOLDER), `${this.#nodeId}~`);
    }
    return removed;
  }

  /**
   * Renames a writer's temp file to `path`, creating its folders (mkdir -p)
   * unless they are known to exist, then fsyncs the folder: one fsync shared
   * by the commits into that folder waiting at the time (group commit).
   */
  async #place(tempPath: string, path: string): Promise<void> {
    const target = this.#absolute(path);
    const dir = resolve(target, '..');
    // mkdir -p, then rename; retry (a few times: on a shared root several nodes may prune)
    // if a concurrent remove() pruned the folder in between.
    // mkdir itself can meet ENOENT when a parent it has just made is pruned under it.
    for (let attempt = 0; ; attempt++) {
      try {
        if (attempt > 0 || !this.#knownFolders.has(dir)) await this.#makeFolder(dir, true);
        await renameFile(tempPath, target, this.#calls);
        break;
      } catch (cause) {
        this.#knownFolders.delete(dir);
        if (attempt < PLACE_ATTEMPTS && isCode(cause, 'ENOENT')) continue;
        if (isCode(cause, 'ENOENT')) {
          // The temporary file itself is gone (`.incoming` removed by hand): so
          // is the next object's, made in the same folder. Both are made again.
          this.#knownFolders.delete(resolve(tempPath, '..'));
          await this.#discardNext();
        }
        throw cause;
      }
    }
    if (this.#fsync) await this.#folderSyncs.sync(dir);
  }

  /**
   * mkdir -p `dir` and remembers it. With `durable`, new folders have their
   * parents' entries fsynced too: they must reach the disk before an object
   * inside them counts. Concurrent calls for one folder share one creation,
   * so none returns before the parents' fsync of the one that made it.
   */
  #makeFolder(dir: string, durable: boolean): Promise<void> {
    let making = this.#makingFolders.get(dir);
    if (!making) {
      making = this.#createFolder(dir, durable).finally(() => this.#makingFolders.delete(dir));
      this.#makingFolders.set(dir, making);
    }
    return making;
  }

  async #createFolder(dir: string, durable: boolean): Promise<void> {
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined && durable && this.#fsync) {
      await this.#folderSyncs.sync(this.root);
      await this.#folderSyncs.sync(resolve(dir, '..'));
    }
    if (this.#knownFolders.size >= KNOWN_FOLDERS) this.#knownFolders.clear();
    this.#knownFolders.add(dir);
  }

  /** Validates a relative path and resolves it inside the root. */
  #absolute(path: string): string {
    if (typeof path !== 'string' || path.length === 0) throw new InvalidPathError(path, 'empty');
    if (path.includes('\0')) throw new InvalidPathError(path, 'contains NUL');
    if (path.includes('\\')) throw new InvalidPathError(path, 'contains a backslash');
    if (isAbsolute(path)) throw new InvalidPathError(path, 'not relative to the storage root');
    for (const part of path.split('/')) {
      if (part === '' || part === '.' || part === '..') {
        throw new InvalidPathError(path, `has a '${part}' segment`);
      }
      // Stored objects are named by UIDs; dot-names (.incoming) are the storage's own.
      if (part.startsWith('.')) throw new InvalidPathError(path, 'has a hidden segment');
    }
    const absolute = resolve(this.root, path);
    if (!isInside(this.root, absolute)) {
      throw new InvalidPathError(path, 'resolves outside the storage root');
    }
    return absolute;
  }
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';

interface WriterSettings {
  highWaterMark: number;
  /** Bytes gathered before a `writev` (at most highWaterMark). */
  writeBatch: number;
  fsync: boolean;
  /** Bytes between early background data syncs (0: none). */
  syncEvery: number;
  /** Which calls run synchronously (file-calls.ts). */
  calls: CallMode;
  /** Moves the synced, closed temp file to its final place. */
  place: () => Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The writer {@link LocalStorage.begin} returns. */
class LocalObjectWriter implements ObjectWriter {
  bytesWritten = 0;
  #state: WriterState = 'open';
  #queue: Uint8Array[] = [];
  /** Bytes queued or being written. */
  #queued = 0;
  /** Bytes queued and not yet handed to a `writev`. */
  #pending = 0;
  /** Set by commit: write the last, partial batch too. */
  #draining = false;
  #flushing: Promise<void> | undefined;
  #error: unknown;
  #waiters: Waiter[] = [];
  #closed = false;
  /** Bytes the file holds (written, not only queued). */
  #written = 0;
  /** Bytes covered by the last early data sync started. */
  #syncStartedAt = 0;
  /** The early data sync in flight, if any (never more than one). */
  #syncing: Promise<void> | undefined;
  readonly #fd: number;
  readonly #tempPath: string;
  readonly #path: string;
  readonly #settings: WriterSettings;

  constructor(fd: number, tempPath: string, path: string, settings: WriterSettings) {
    this.#fd = fd;
    this.#tempPath = tempPath;
    this.#path = path;
    this.#settings = settings;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new WriterClosedError(this.#state));
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (chunk.byteLength === 0) return Promise.resolve();
    this.#queue.push(chunk);
    this.#queued += chunk.byteLength;
    this.#pending += chunk.byteLength;
    this.bytesWritten += chunk.byteLength;
    this.#startFlush();
    if (this.#queued <= this.#settings.highWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async commit(): Promise<StoredObject> {
    if (this.#state !== 'open') throw new WriterClosedError(this.#state);
    this.#state = 'committing';
    try {
      this.#draining = true;
      this.#startFlush();
      while (this.#flushing) await this.#flushing;
      await this.#syncing;
      if (this.#error !== undefined) throw this.#error;
      // Durability: success only after this fsync, the rename and the folder's fsync.
      if (this.#settings.fsync) await syncFile(this.#fd, this.#settings.calls);
      // Closed before the rename: a close that fails leaves nothing in place.
      await this.#close();
      await this.#settings.place();
    } catch (cause) {
      this.#state = 'aborted';
      await this.#discard();
      throw cause instanceof StorageFailedError
        ? cause
        : new StorageFailedError(`cannot commit ${this.#path}`, { cause, path: this.#tempPath });
    }
    this.#state = 'committed';
    return { path: this.#path, size: this.bytesWritten };
  }

  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    this.#fail(new WriterClosedError('aborted'));
    while (this.#flushing) await this.#flushing;
    await this.#syncing;
    await this.#discard();
  }

  /** Whether a `writev` is due: a whole batch is queued, or commit wants the rest. */
  #flushDue(): boolean {
    return (
      this.#queue.length > 0 &&
      this.#error === undefined &&
      (this.#draining || this.#pending >= this.#settings.writeBatch)
    );
  }

  #startFlush(): void {
    // #flush awaits before it ends (it only starts when a write is due), so this
    // assignment happens before its `finally` clears the field.
    if (!this.#flushing && this.#flushDue()) this.#flushing = this.#flush();
  }

  /** Writes the queue out in batches (one `writev` per batch), waking waiters as it drains. */
  async #flush(): Promise<void> {
    try {
      while (this.#flushDue()) {
        const batch = this.#queue.splice(0, MAX_IOVECS);
        let bytes = 0;
        for (const c of batch) bytes += c.byteLength;
        this.#pending -= bytes;
        try {
          await writeAll(this.#fd, batch, this.#settings.calls);
        } catch (cause) {
          this.#fail(
            new StorageFailedError(`cannot write ${this.#path}`, { cause, path: this.#tempPath }),
          );
          return;
        }
        this.#queued -= bytes;
        this.#written += bytes;
        this.#startEarlySync();
        if (this.#queued <= this.#settings.highWaterMark) this.#wake();
      }
    } finally {
      // Same synchronous step as the last queue check: no chunk can slip in between.
      this.#flushing = undefined;
    }
  }

  /**
   * Starts a background `fdatasync` once `syncEvery` more bytes reached the
   * file since the last one started, at most one at a time, while the writer
   * is open: the disk writes the object while the rest arrives.
   */
  #startEarlySync(): void {
    const every = this.#settings.syncEvery;
    if (every <= 0 || this.#syncing || this.#state !== 'open' || this.#error !== undefined) return;
    if (this.#written - this.#syncStartedAt < every) return;
    this.#syncStartedAt = this.#written;
    this.#syncing = dataSyncFile(this.#fd, this.#settings.calls).then(
      () => {
        this.#syncing = undefined;
        this.#startEarlySync();
      },
      (cause: unknown) => {
        this.#syncing = undefined;
        this.#fail(
          new StorageFailedError(`cannot sync ${this.#path}`, { cause, path: this.#tempPath }),
        );
      },
    );
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #fail(error: unknown): void {
    this.#error ??= error;
    this.#queue = [];
    this.#queued = 0;
    this.#pending = 0;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(this.#error);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeFile(this.#fd, this.#settings.calls);
  }

  /** Closes and unlinks the temp file, ignoring errors: nothing is left behind. */
  async #discard(): Promise<void> {
    await this.#close().catch(() => undefined);
    await unlink(this.#tempPath).catch(() => undefined);
  }
}

/**
 * Deletes the `*.part` files directly in `folder` whose names start with
 * `prefix` (never a subfolder: another node's). Resolves how many went.
 */
async function removePartFiles(folder: string, prefix: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (cause) {
    if (isCode(cause, 'ENOENT')) return 0;
    throw new StorageFailedError(`cannot list ${folder}`, { cause });
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.part') || !name.startsWith(prefix)) continue;
    await unlink(join(folder, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/**
 * fsyncs a directory so that a rename or a new entry in it survives a crash.
 * Where a directory cannot be fsynced (EISDIR, EPERM, EINVAL: Windows, some
 * file systems) there is nothing more to do, and it resolves.
 *
 * @param dir - the folder
 * @param calls - which calls run synchronously (file-calls.ts): `inline` opens
 *   and closes the folder so, `memory` fsyncs it so too; default `pool`: none
 */
export async function syncDirectory(dir: string, calls: CallMode = 'pool'): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await openFolder(dir, calls);
    await syncFile(fd, calls);
  } catch (cause) {
    // Some platforms cannot fsync a directory (EISDIR/EPERM/EINVAL); the rename is still atomic.
    if (!isCode(cause, 'EISDIR') && !isCode(cause, 'EPERM') && !isCode(cause, 'EINVAL')) {
      throw cause;
    }
  } finally {
    if (fd !== undefined) await closeFile(fd, calls);
  }
}

function isInside(root: string, absolute: string): boolean {
  const rel = relative(root, absolute);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function isCode(error: unknown, code: string): boolean {
  return (error as { code?: unknown } | null)?.code === code;
}
