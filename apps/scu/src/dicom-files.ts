import { type DicomFile, findDicomFiles, InvalidSourceError } from '@dnet/services';
import { UsageError } from './errors.js';
import { writeRecord } from './json-output.js';
import type { CommonValues, Io } from './options.js';

/**
 * The DICOM files among the paths named on the command line (`findDicomFiles`
 * of @dnet/services: folders walked, only the start of each file read); each
 * path skipped is a warning, or a `skipped` record with `--json`.
 *
 * @throws UsageError for a named path that does not exist
 */
export async function dicomFilesOf(
  paths: readonly string[],
  io: Io,
  values: Pick<CommonValues, 'json' | 'quiet'>,
): Promise<DicomFile[]> {
  try {
    return await findDicomFiles(paths, {
      // A command line has nothing else to do meanwhile (see ClientOptions.blockingFileReads).
      blockingFileReads: true,
      onSkip: (path, reason) => {
        if (values.json) writeRecord(io, 'skipped', { path, reason });
        else if (!values.quiet) io.err(`warning: ${path}: skipped, ${reason}`);
      },
    });
  } catch (error) {
    if (error instanceof InvalidSourceError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
