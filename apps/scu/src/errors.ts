/**
 * Errors of dnet-scu. Each has a stable `code` (`DNET_SCU_...`) and an
 * optional `cause`, and carries the `Symbol.for('dnet.error')` brand so
 * {@link isDnetError} recognises it and the errors of every dnet package,
 * whichever installed copy threw them (the idea of undici's lib/core/errors.js).
 */

const DNET_ERROR = Symbol.for('dnet.error');

/** Stable error codes of dnet-scu. */
export const ScuErrorCode = {
  /** The command line is wrong: unknown option, missing argument, bad key (exit status 2). */
  USAGE: 'DNET_SCU_USAGE',
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
