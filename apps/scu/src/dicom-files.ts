import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openPart10File } from '@dnet/dataset';
import { UsageError } from './errors.js';

/** A Part 10 file found on disk, its meta header read (PS3.10 §7.1), its data set not. */
export interface DicomFile {
  /** The path. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** Media Storage SOP Class UID (0002,0002). */
  sopClassUid: string;
  /** Media Storage SOP Instance UID (0002,0003). */
  sopInstanceUid: string;
  /** Transfer Syntax UID (0002,0010). */
  transferSyntaxUid: string;
}

/** Folder depth followed at most; symbolic links to folders are not followed. */
const MAX_DEPTH = 64;

/**
 * The DICOM Part 10 files among `paths`, folders walked recursively in name
 * order. Only each file's meta header is read; a file that is not Part 10
 * (no `DICM` prefix, PS3.10 §7.1) is passed to `skip` with the reason.
 *
 * @throws UsageError for a path that does not exist
 */
export async function findDicomFiles(
  paths: readonly string[],
  skip: (path: string, reason: string) => void,
): Promise<DicomFile[]> {
  const found: DicomFile[] = [];
  const visit = async (path: string, depth: number, named: boolean): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (cause) {
      if (named) throw new UsageError(`${path}: no such file or folder`, { cause });
      return skip(path, 'cannot be read');
    }
    if (info.isDirectory()) {
      if (depth >= MAX_DEPTH) return skip(path, `folder deeper than ${MAX_DEPTH} levels`);
      const entries = await readdir(path, { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        if (e.isDirectory() || e.isFile()) await visit(join(path, e.name), depth + 1, false);
      }
      return;
    }
    try {
      const file = await openPart10File(path);
      found.push({
        path,
        size: file.size,
        sopClassUid: file.fileMetaInformation.mediaStorageSopClassUid,
        sopInstanceUid: file.fileMetaInformation.mediaStorageSopInstanceUid,
        transferSyntaxUid: file.transferSyntaxUid,
      });
    } catch {
      skip(path, 'not a DICOM Part 10 file');
    }
  };
  for (const p of paths) await visit(p, 0, true);
  return found;
}
