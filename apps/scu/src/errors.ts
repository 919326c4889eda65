/**
 * Errors of dnet-scu. Each has a stable `code` (`DNET_SCU_...`) and an
 * optional `cause`, and carries the `Symbol.for('dnet.error')` brand so
 * {@link isDnetError} recognises it and the errors of every dnet package,
 * whichever installed copy threw them (the idea of undici's lib/core/errors.js).
 */

import { getSystemErrorMap } from 'node:util';

const DNET_ERROR = Symbol.for('dnet.error');

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

/**
 * True for any dnet error (of this app or any dnet package, from any copy):
 * checks the `Symbol.for('dnet.error')` brand, not the class.
 */
export function isDnetError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[DNET_ERROR] === true;
}

/** Base class of the errors of dnet-scu. */
export class ScuError extends Error {
  /** Stable machine-readable code. */
  readonly code: ScuErrorCode;

  /** @param code - stable code; @param message - human text; @param options - `cause` */
  constructor(code: ScuErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** Brand checked by {@link isDnetError}. */
  get [DNET_ERROR](): true {
    return true;
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
