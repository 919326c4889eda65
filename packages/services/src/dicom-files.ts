/**
 * Finding DICOM files on disk and reading what C-STORE needs from each (PS3.4
 * Annex B): its SOP Class and Instance UIDs and its transfer syntax, from the
 * start of the file only.
 */

import type { Stats } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { dataSetIdentity, IDENTITY_HEAD_BYTES, readPart10Header, readSopUids } from '@dnet/dataset';
import { InvalidSourceError } from './errors.js';
import { type FileIo, fileIo, readFully } from './file-io.js';

/**
 * A DICOM file found on disk: a Part 10 file (PS3.10 §7.1) or a bare data set
 * without meta header, its start read, the rest of its data set not.
 */
export interface DicomFile {
  /** The path. */
  path: string;
  /** Size in bytes. */
  size: number;
  /** SOP Class UID (0008,0016) of the data set (the meta header's only when the data set has none). */
  sopClassUid: string;
  /** SOP Instance UID (0008,0018) of the data set (likewise). */
  sopInstanceUid: string;
  /** Transfer Syntax UID (0002,0010), or the one inferred for a bare data set. */
  transferSyntaxUid: string;
  /** False for a bare data set (no preamble, `DICM` prefix or meta group). */
  fileMetaPresent: boolean;
}

/** Folder depth followed at most. */
const MAX_DEPTH = 64;
/** Bytes read first from the start of each file: a meta header and the data set's first elements. */
const FIRST_READ = 8 * 1024;
/** Bytes read when those are not enough: the largest meta header taken, and the data set's SOP UIDs after it. */
const HEAD_BYTES = 4096 + IDENTITY_HEAD_BYTES;

/** The errno code of a failed file system call, for the user (`EACCES`, `ELOOP`...). */
function errno(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * Reads the start of a file and what C-STORE needs from it: the Part 10
 * header, or the transfer syntax of a bare data set inferred from its first
 * element (as DCMTK does), and the SOP UIDs from the data set.
 *
 * @returns the file, or the reason it is not one to send
 */
async function readDicomFile(path: string, size: number, io: FileIo): Promise<DicomFile | string> {
  let want = Math.min(size, FIRST_READ);
  for (;;) {
    const head = new Uint8Array(want);
    let n = 0;
    try {
      const fd = await io.open(path);
      try {
        n = await readFully(io, fd, head, 0, head.length);
      } finally {
        io.close(fd);
      }
    } catch (error) {
      return `cannot be read (${errno(error)})`;
    }
    let header: ReturnType<typeof readPart10Header>;
    try {
      header = readPart10Header(head.subarray(0, n), { allowRawDataSet: true });
    } catch {
      if (n < size && want < HEAD_BYTES) {
        want = Math.min(size, HEAD_BYTES); // a meta header longer than the first read
        continue;
      }
      return 'not a DICOM file';
    }
    const start = head.subarray(header.dataSetOffset, n);
    const uids = readSopUids(start, header.transferSyntaxUid);
    if ((!uids.sopClassUid || !uids.sopInstanceUid) && n < size && want < HEAD_BYTES) {
      want = Math.min(size, HEAD_BYTES); // the data set's UIDs further on
      continue;
    }
    const identity = dataSetIdentity(header, start);
    if (!identity.sopClassUid || !identity.sopInstanceUid) {
      return header.fileMetaPresent
        ? 'no SOP Class or Instance UID'
        : 'not a DICOM file (no Part 10 header, and no SOP Class and Instance UIDs when read as a data set)';
    }
    return {
      path,
      size,
      sopClassUid: identity.sopClassUid,
      sopInstanceUid: identity.sopInstanceUid,
      transferSyntaxUid: header.transferSyntaxUid,
      fileMetaPresent: header.fileMetaPresent,
    };
  }
}

/** Options of {@link findDicomFiles}. */
export interface FindDicomFilesOptions {
  /**
   * Called for each path not taken, with the reason: not DICOM, or unreadable
   * with its errno (`EACCES`, a dangling link's `ENOENT`, `ELOOP`...).
   */
  onSkip?: (path: string, reason: string) => void;
  /**
   * Read with blocking system calls on the event loop instead of Node's
   * thread pool (as `ClientOptions.blockingFileReads`): a command-line tool
   * that has nothing else to do meanwhile saves a thread-pool round trip per
   * call, three per file; a server should leave it off.
   */
  blockingFileReads?: boolean;
}

/**
 * The DICOM files among `paths`: Part 10 files (PS3.10 §7.1) and bare data
 * sets (no meta header, their transfer syntax inferred as DCMTK does),
 * folders walked recursively in name order. Symbolic links are followed, to
 * files and to folders; a folder already walked (the same real path, a link
 * loop) is not walked again. Only the start of each file is read. What is not
 * taken is passed to `options.onSkip` with the reason.
 *
 * @example
 * ```ts
 * const files = await findDicomFiles(['./studies'], { onSkip: (path, why) => console.warn(path, why) });
 * files[0]; // { path, size, sopClassUid, sopInstanceUid, transferSyntaxUid, fileMetaPresent }
 * ```
 *
 * @throws InvalidSourceError for a path given that does not exist
 */
export async function findDicomFiles(
  paths: Iterable<string>,
  options: FindDicomFilesOptions = {},
): Promise<DicomFile[]> {
  const skip = (path: string, reason: string): void => options.onSkip?.(path, reason);
  const found: DicomFile[] = [];
  const walked = new Set<string>();
  const io = fileIo(options.blockingFileReads);
  const visit = async (path: string, depth: number, named: boolean): Promise<void> => {
    let info: Stats;
    try {
      info = await io.stat(path); // follows symbolic links
    } catch (cause) {
      if (named && errno(cause) === 'ENOENT')
        throw new InvalidSourceError(`${path}: no such file or folder`, { cause });
      return skip(path, `cannot be read (${errno(cause)})`);
    }
    if (info.isDirectory()) {
      if (depth >= MAX_DEPTH) return skip(path, `folder deeper than ${MAX_DEPTH} levels`);
      let names: string[];
      try {
        const real = await realpath(path);
        if (walked.has(real)) return skip(path, `folder ${real} already walked (a link loop)`);
        walked.add(real);
        names = await readdir(path);
      } catch (cause) {
        return skip(path, `folder cannot be read (${errno(cause)})`);
      }
      names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const name of names) await visit(join(path, name), depth + 1, false);
      return;
    }
    if (!info.isFile()) return skip(path, 'not a regular file');
    const file = await readDicomFile(path, info.size, io);
    if (typeof file === 'string') skip(path, file);
    else found.push(file);
  };
  for (const p of paths) await visit(p, 0, true);
  return found;
}
