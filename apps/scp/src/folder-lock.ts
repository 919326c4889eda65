import { randomUUID } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { FolderLockedError, StartupError } from './errors.js';

/** The lock file dnet-scp keeps in a folder it owns: its pid, then its host name. */
export const LOCK_FILE = '.dnet-scp.lock';

/** Tries to take a lock whose holder is gone before giving up (bounded). */
const TAKE_ATTEMPTS = 5;

/** Lock files this process holds, so a second lock of one folder in one process is refused too. */
const held = new Set<string>();

/** A folder locked by {@link lockFolder}; `release()` deletes the lock file. */
export interface FolderLock {
  /** The lock file's absolute path. */
  readonly path: string;
  /** Deletes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Who holds a lock file, as written in it. */
interface Holder {
  pid: number;
  host: string;
}

/** Options of {@link lockFolder} (tests inject another process table). */
export interface LockOptions {
  /** Whether a process with this pid runs on this host (default: `process.kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
}

/**
 * Takes an exclusive lock on `folder`: a file `.dnet-scp.lock` holding our pid
 * and host name, created atomically (written under a unique name, then
 * hard-linked to the lock's name, which fails when the name exists: no two
 * processes can both succeed). A lock whose holder is gone (its pid runs no
 * more on this host, or it is this very pid after a restart in a container)
 * is taken over; a lock of a live process, or of another host (whose
 * processes we cannot see), is not: {@link FolderLockedError} names the
 * folder and the holder's pid. The folder must exist.
 *
 * @example
 * ```ts
 * const lock = await lockFolder('/var/lib/dnet-scp'); // FolderLockedError if another dnet-scp has it
 * await lock.release();
 * ```
 */
export async function lockFolder(folder: string, options: LockOptions = {}): Promise<FolderLock> {
  const isAlive = options.isAlive ?? processIsAlive;
  const path = join(resolve(folder), LOCK_FILE);
  if (held.has(path)) throw new FolderLockedError(resolve(folder), process.pid);
  const ours: Holder = { pid: process.pid, host: hostname() };
  // Written whole under a unique name first: the lock never exists half-written.
  const draft = `${path}.${process.pid}.${randomUUID()}`;
  try {
    await writeFile(draft, `${ours.pid}\n${ours.host}\n`, { flag: 'wx' });
  } catch (cause) {
    throw new StartupError(`cannot lock ${resolve(folder)}`, { cause });
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(draft, path);
        // At once: a concurrent lockFolder() in this process must see the lock as held.
        held.add(path);
        break;
      } catch (cause) {
        if ((cause as { code?: unknown }).code !== 'EEXIST') {
          throw new StartupError(`cannot lock ${resolve(folder)}`, { cause });
        }
      }
      const holder = await readHolder(path);
      if (holder === undefined) continue; // released meanwhile: try again
      const stale =
        holder.host === ours.host &&
        (holder.pid === process.pid ? !held.has(path) : !isAlive(holder.pid));
      if (!stale || attempt >= TAKE_ATTEMPTS) {
        const elsewhere = holder.host === ours.host ? undefined : holder.host;
        throw new FolderLockedError(resolve(folder), holder.pid, elsewhere);
      }
      // The holder is gone: its lock goes, unless another starter replaced it meanwhile.
      const again = await readHolder(path);
      if (again && again.pid === holder.pid && again.host === holder.host) {
        await unlink(path).catch(() => undefined);
      }
    }
  } finally {
    await unlink(draft).catch(() => undefined);
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      held.delete(path);
      const holder = await readHolder(path);
      if (holder?.pid === ours.pid && holder.host === ours.host) {
        await unlink(path).catch(() => undefined);
      }
    },
  };
}

/** The pid and host of a lock file; undefined when there is none. */
async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new StartupError(`cannot read ${path}`, { cause });
  }
  const [pid = '', host = ''] = text.split('\n');
  const n = Number.parseInt(pid, 10);
  // A file we cannot read as ours is treated as held by nobody we can see: pid 0.
  return { pid: Number.isInteger(n) && n > 0 ? n : 0, host: host.trim() };
}

/** Whether a process with `pid` runs here (EPERM: it runs, as another user). */
function processIsAlive(pid: number): boolean {
  if (pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM';
  }
}
