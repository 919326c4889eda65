/**
 * Where the archive writes its log lines: one object of fields and a message
 * per line, at three levels. A pino `Logger` is one; so is a thin wrapper
 * around any other logger.
 *
 * @example
 * ```ts
 * import { pino } from 'pino';
 * const archive = openArchive({ storage, index, aeTitle: 'ARCHIVE', logger: pino() });
 * ```
 */
export interface ArchiveLogger {
  /** One operation done, or a state reached. */
  info(fields: Record<string, unknown>, message: string): void;
  /** A request refused for what it is, an operation aborted. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** The archive's own failure (a full disk, an index that cannot write). */
  error(fields: Record<string, unknown>, message: string): void;
}

/** An {@link ArchiveLogger} that writes nothing: the default of `openArchive`. */
export const silentLogger: ArchiveLogger = {
  info() {},
  warn() {},
  error() {},
};
