/**
 * Errors of the dnet-scp command itself (configuration, start-up). The archive
 * layer has its own in `archive/errors.ts`; both carry a stable `code` and the
 * `Symbol.for('dnet.error')` brand, so `isDnetError()` recognises them.
 */

const kDnetError = Symbol.for('dnet.error');

/** Stable codes of the dnet-scp errors. */
export const ScpErrorCode = {
  /** A command-line option or a config file value is missing or invalid. */
  INVALID_CONFIG: 'DNET_SCP_INVALID_CONFIG',
  /** The header of a received data set could not be read (PS3.5 §7). */
  UNREADABLE_DATA_SET: 'DNET_SCP_UNREADABLE_DATA_SET',
} as const;

/** One of the {@link ScpErrorCode} values. */
export type ScpErrorCode = (typeof ScpErrorCode)[keyof typeof ScpErrorCode];

/** Base class of the dnet-scp errors. */
export class ScpError extends Error {
  /** The stable error code. */
  readonly code: ScpErrorCode;

  /**
   * @param message - human-readable message
   * @param code - stable code
   * @param options - the cause
   */
  constructor(message: string, code: ScpErrorCode, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ScpError';
    this.code = code;
  }

  /** The dnet brand, shared by every copy of every dnet package. */
  get [kDnetError](): true {
    return true;
  }
}

/** An invalid option or config file value; the command exits with code 2. */
export class ConfigError extends ScpError {
  /** The option at fault (`--port`, `peers`...), when one is. */
  readonly option: string | undefined;

  /**
   * @param message - what is wrong
   * @param option - the option at fault
   */
  constructor(message: string, option?: string) {
    super(message, ScpErrorCode.INVALID_CONFIG);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/**
 * A received data set whose beginning cannot be decoded, or that lacks the
 * attributes the archive files it under (PS3.4 §B.2.3: the SCP answers C000H).
 */
export class UnreadableDataSetError extends ScpError {
  /**
   * @param message - what is wrong
   * @param options - the decoder's error
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, ScpErrorCode.UNREADABLE_DATA_SET, options);
    this.name = 'UnreadableDataSetError';
  }
}
