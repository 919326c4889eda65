import type { RetrieveResult } from '@dnet/services';
import { ExitStatus } from './command.js';
import { statusText } from './describe-error.js';
import type { Io } from './options.js';

/**
 * Reports the end of a C-MOVE or C-GET (PS3.4 §C.4.2.3, §C.4.3.3): the
 * sub-operation counts, one line per failed SOP instance; exit 0 only when
 * no sub-operation failed and nothing was cancelled.
 */
export function reportRetrieve(
  io: Io,
  operation: 'C-MOVE' | 'C-GET',
  result: RetrieveResult,
  options: {
    json?: boolean | undefined;
    quiet?: boolean | undefined;
    verb: string;
    bytes?: number;
    ms: number;
  },
): number {
  const { completed, failed, warning } = result;
  if (options.json) {
    const { remaining: _r, ...fields } = result;
    io.out(
      JSON.stringify({
        operation,
        ...fields,
        ...(options.bytes !== undefined && { bytes: options.bytes }),
        seconds: options.ms / 1000,
      }),
    );
  } else if (!options.quiet) {
    const total = completed + failed + warning;
    const size = options.bytes === undefined ? '' : `, ${(options.bytes / 1e6).toFixed(1)} MB`;
    io.out(
      `${options.verb} ${completed + warning} of ${total} instances (${failed} failed, ${warning} warnings)${size} in ${(options.ms / 1000).toFixed(2)} s`,
    );
  }
  if (result.status !== 0) io.err(`${operation}: ${statusText(result.status, operation)}`);
  if (failed > 0) io.err(`${operation}: ${failed} sub-operation${failed === 1 ? '' : 's'} failed`);
  for (const uid of result.failedSopInstanceUids)
    io.err(`${operation}: failed SOP instance ${uid}`);
  if (result.cancelled) return io.signal?.aborted ? ExitStatus.INTERRUPTED : ExitStatus.FAILED;
  return failed === 0 && result.status === 0 ? ExitStatus.OK : ExitStatus.FAILED;
}
