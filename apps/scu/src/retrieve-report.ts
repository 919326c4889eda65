import type { RetrieveProgress, RetrieveResult } from '@dnet/services';
import { ExitStatus } from './command.js';
import { describeError, statusText } from './describe-error.js';
import { errorFields, writeRecord } from './json-output.js';
import type { Io } from './options.js';

/** How a C-MOVE or C-GET ended: its final result, or the error that ended it. */
export type RetrieveOutcome =
  | { result: RetrieveResult; error?: undefined }
  | { result?: undefined; error: unknown; last: RetrieveProgress | undefined };

/** With `--json`: one pending response (PS3.4 §C.4.2.3, §C.4.3.3) with its counts. */
export function writeResponse(io: Io, operation: 'C-MOVE' | 'C-GET', p: RetrieveProgress): void {
  writeRecord(io, 'response', {
    operation,
    remaining: p.remaining,
    completed: p.completed,
    failed: p.failed,
    warning: p.warning,
  });
}

/**
 * Reports the end of a C-MOVE or C-GET (PS3.4 §C.4.2.3, §C.4.3.3): the
 * sub-operation counts, one line per failed SOP instance; exit 0 only when
 * no sub-operation failed and nothing was cancelled, 130 when the user
 * interrupted. `localFailures` are sub-operations that failed here (a
 * C-GET's files not written): they are said first, as ours, so the peer's
 * final status that follows from them is not read as its fault.
 */
export function reportRetrieve(
  io: Io,
  operation: 'C-MOVE' | 'C-GET',
  outcome: RetrieveOutcome,
  options: {
    json?: boolean | undefined;
    quiet?: boolean | undefined;
    /** The command, for the error line (`dnet-scu get: ...`). */
    command: string;
    verb: string;
    bytes?: number;
    ms: number;
    localFailures?: readonly string[];
  },
): number {
  const interrupted = io.signal?.aborted ?? false;
  const local = options.localFailures ?? [];
  if (!options.json) for (const line of local) io.err(line);
  const counts = outcome.result ?? outcome.last;
  const failedOut = outcome.error !== undefined && !interrupted;
  if (options.json) {
    if (failedOut) writeRecord(io, 'error', errorFields(outcome.error));
    const { remaining: _r, ...fields }: Partial<RetrieveResult> = outcome.result ??
      outcome.last ?? { completed: 0, failed: 0, warning: 0 };
    writeRecord(io, 'summary', {
      operation,
      ...fields,
      ...(options.bytes !== undefined && { bytes: options.bytes }),
      seconds: options.ms / 1000,
      interrupted,
    });
  } else if (!options.quiet && counts) {
    const { completed, failed, warning } = counts;
    const total = completed + failed + warning;
    const size = options.bytes === undefined ? '' : `, ${(options.bytes / 1e6).toFixed(1)} MB`;
    io.out(
      `${options.verb} ${completed + warning} of ${total} instances (${failed} failed, ${warning} warnings)${size} in ${(options.ms / 1000).toFixed(2)} s`,
    );
  }
  const blame = local.length > 0 ? ' (the sub-operations failed here: see above)' : '';
  if (outcome.error !== undefined) {
    if (interrupted) {
      if (!options.json) io.err(`${operation} interrupted (association aborted)`);
      return ExitStatus.INTERRUPTED;
    }
    if (!options.json)
      io.err(`dnet-scu ${options.command}: ${describeError(outcome.error)}${blame}`);
    return ExitStatus.FAILED;
  }
  const result = outcome.result as RetrieveResult;
  if (!options.json) {
    if (result.status !== 0)
      io.err(`${operation}: ${statusText(result.status, operation)}${blame}`);
    if (result.failed > 0)
      io.err(
        `${operation}: ${result.failed} sub-operation${result.failed === 1 ? '' : 's'} failed`,
      );
    for (const uid of result.failedSopInstanceUids)
      io.err(`${operation}: failed SOP instance ${uid}`);
  }
  if (interrupted) {
    if (!options.json) io.err(`${operation} cancelled (association aborted)`);
    return ExitStatus.INTERRUPTED;
  }
  if (result.cancelled) return ExitStatus.FAILED;
  return result.failed === 0 && result.status === 0 && local.length === 0
    ? ExitStatus.OK
    : ExitStatus.FAILED;
}
