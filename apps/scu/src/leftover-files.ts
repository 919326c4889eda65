import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The temporary name `writePart10File` of @dnet/dataset writes a file under
 * before renaming it into place: `<name>.dcm.<pid>.<base-36 time>.tmp`.
 */
const TEMPORARY = /^.+\.dcm\.(\d+)\.[0-9a-z]+\.tmp$/;

/** True when a process with this id is running (ours included). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

/**
 * Removes from `folder` the temporary files of runs that were killed before
 * they could clean up (their process is gone); the files of a run still
 * going (another `get` into the same folder) are left alone. Best effort:
 * resolves with the names removed, whatever could not be read or removed
 * is left.
 */
export async function removeLeftovers(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMPORARY.exec(name)?.[1] ?? Number.NaN);
    if (!Number.isInteger(pid) || running(pid)) continue;
    try {
      await rm(join(folder, name), { force: true });
      removed.push(name);
    } catch {
      // read-only or gone: the writes that follow say what is wrong
    }
  }
  return removed;
}

/**
 * Removes this process's temporary files for `fileName` in `folder` (after
 * a write that failed past the point where it could clean up itself, such
 * as a failed rename). Best effort, never throws.
 */
export async function removeOwnTemporary(folder: string, fileName: string): Promise<void> {
  const prefix = `${fileName}.${process.pid}.`;
  try {
    for (const name of await readdir(folder))
      if (name.startsWith(prefix) && name.endsWith('.tmp'))
        await rm(join(folder, name), { force: true });
  } catch {
    // nothing more can be done here
  }
}
