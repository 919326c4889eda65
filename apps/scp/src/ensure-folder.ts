import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { StartupError } from './errors.js';

/**
 * `mkdir -p dir`, failing with a {@link StartupError} that names the real
 * cause. Node's recursive mkdir reports ENOENT when a missing folder cannot
 * be made (a read-only file system, a folder we may not write to): the
 * first missing folder is then made on its own, which fails with the
 * system's own errno (EROFS, EACCES...), and that error becomes the cause.
 *
 * @example
 * ```ts
 * await ensureFolder('/mnt/ro/dicom'); // StartupError: cannot create /mnt/ro/dicom: read-only file system (EROFS)
 * ```
 */
export async function ensureFolder(dir: string): Promise<void> {
  const absolute = resolve(dir);
  try {
    await mkdir(absolute, { recursive: true });
    return;
  } catch (cause) {
    if ((cause as { code?: unknown }).code !== 'ENOENT') {
      throw new StartupError(`cannot create ${absolute}`, { cause });
    }
    throw new StartupError(`cannot create ${absolute}`, {
      cause: (await firstMissingFailure(absolute)) ?? cause,
    });
  }
}

/** The error of making, on its own, the first missing folder on the way to `dir`. */
async function firstMissingFailure(dir: string): Promise<unknown> {
  let missing = dir;
  // Bounded by the path's depth: each step goes one folder up.
  for (let parent = dirname(missing); parent !== missing; parent = dirname(missing)) {
    const exists = await stat(parent).then(
      () => true,
      () => false,
    );
    if (exists) break;
    missing = parent;
  }
  try {
    await mkdir(missing);
    return undefined;
  } catch (error) {
    return error;
  }
}
