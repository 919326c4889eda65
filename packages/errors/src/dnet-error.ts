/**
 * The one error base of dnet. Every error of every dnet package extends
 * {@link DnetError}: a stable machine-readable `code` (`DNET_<PACKAGE>_...`),
 * an optional `cause`, and the `Symbol.for('dnet.error')` brand, so
 * {@link isDnetError} and `instanceof DnetError` recognise dnet errors even
 * when two copies of dnet are installed (the idea of undici's
 * lib/core/errors.js: a registry-wide symbol instead of class identity).
 */

/** The brand shared by every copy of `@dnet/errors` (a registry-wide symbol). */
const brand: unique symbol = Symbol.for('dnet.error') as never;

/** Options every dnet error accepts. */
export interface DnetErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * Whether `e` is an error thrown by any dnet package, from any installed copy:
 * it checks the `Symbol.for('dnet.error')` brand and a string `code`, not the
 * class.
 *
 * @param e - anything caught
 * @example
 * ```ts
 * try { await client.echo(); } catch (e) { if (isDnetError(e)) console.log(e.code); }
 * ```
 */
export function isDnetError(e: unknown): e is DnetError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as Record<symbol, unknown>)[brand] === true &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}

/**
 * Base class of every dnet error. Package errors extend it (directly or
 * through their package base) and narrow `code` to their package's codes.
 */
export class DnetError extends Error {
  /**
   * `x instanceof DnetError` holds for an error of any copy of dnet (the
   * brand); `instanceof` a subclass keeps the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`, DnetError or a subclass.
    if (this === DnetError) return isDnetError(value);
    // biome-ignore lint/complexity/noThisInStatic: the ordinary prototype check for that class.
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** Stable machine-readable code, e.g. `DNET_PDU_TOO_LARGE`. */
  readonly code: string;

  /**
   * @param code - the stable code (`DNET_<PACKAGE>_...`)
   * @param message - a human-readable explanation
   * @param options - `cause`
   */
  constructor(code: string, message: string, options: DnetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }

  /** The dnet brand checked by {@link isDnetError}. */
  get [brand](): true {
    return true;
  }
}
