/**
 * Errors of dnet-scu. Each extends `DnetError` of `@dnet/errors`: a stable
 * `code` (`DNET_SCU_...`), an optional `cause`, and the brand
 * {@link isDnetError} recognises, for this app's errors and every dnet
 * package's, whichever installed copy threw them.
 */

import { getSystemErrorMap } from 'node:util';
import { DnetError, isDnetError } from '@dnet/errors';

export { isDnetError };

/** Stable error codes of dnet-scu. */
export const ScuErrorCode = {
  /** The command line is wrong: unknown option, missing argument, bad key (exit status 2). */
  USAGE: 'DNET_SCU_USAGE',
  /** A local file could not be read or written (read-only or full disk...): `errno`, `path`. */
  LOCAL_IO: 'DNET_SCU_LOCAL_IO',
  /**
   * The transport connection opened but closed before the association was
   * accepted (no A-ASSOCIATE-AC, PS3.8 §7.1): not a "lost" association.
   */
  NOT_ASSOCIATED: 'DNET_SCU_NOT_ASSOCIATED',
} as const;
/** One of the {@link ScuErrorCode} values. */
export type ScuErrorCode = (typeof ScuErrorCode)[keyof typeof ScuErrorCode];

/** Base class of the errors of dnet-scu. */
export class ScuError extends DnetError {
  /** Stable machine-readable code. */
  declare readonly code: ScuErrorCode;

  /** @param code - stable code; @param message - human text; @param options - `cause` */
  constructor(code: ScuErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** The command line is wrong; the process exits with status 2. */
export class UsageError extends ScuError {
  /** @param message - what is wrong, for one line on stderr; @param options - `cause` */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ScuErrorCode.USAGE, message, options);
  }
}

/**
 * A local file operation failed: the disk is read-only or full, a folder is
 * not writable... Says so as a local failure, with the system's error code
 * (`EROFS`, `ENOSPC`) and the path, never as the peer's fault.
 */
export class LocalIoError extends ScuError {
  /** The system error code: `EROFS`, `ENOSPC`, `EACCES`... (`EIO` when unknown). */
  readonly errno: string;
  /** The file or folder concerned (the final path, not a temporary name). */
  readonly path: string;

  /**
   * @param action - what was being done, `write` or `read`
   * @param path - the file concerned
   * @param cause - the system error (its `code` becomes {@link LocalIoError.errno})
   */
  constructor(action: string, path: string, cause: unknown) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    const errno = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'EIO';
    super(ScuErrorCode.LOCAL_IO, `cannot ${action} ${path}: ${errnoText(errno)} (${errno})`, {
      cause,
    });
    this.errno = errno;
    this.path = path;
  }
}

/** The system's text for an error code (`ENOSPC` → `no space left on device`). */
export function errnoText(errno: string): string {
  for (const [, [name, text]] of getSystemErrorMap())
    if (name === errno) return text.charAt(0).toLowerCase() + text.slice(1);
  return errno;
}
