/**
 * Errors of the dnet-scp command itself (configuration, start-up). The archive
 * has its own in `@dnet/archive`; both extend `DnetError` of `@dnet/errors`
 * (a stable `code`, a `cause`), so `isDnetError()` recognises them.
 */

import { DnetError } from '@dnet/errors';
import { systemErrorOf } from '@dnet/services';

/** Stable codes of the dnet-scp errors. */
export const ScpErrorCode = {
  /** A command-line option or a config file value is missing or invalid. */
  INVALID_CONFIG: 'DNET_SCP_INVALID_CONFIG',
  /** Another dnet-scp holds the lock of the folder (its storage, or its node's temporary folder). */
  FOLDER_LOCKED: 'DNET_SCP_FOLDER_LOCKED',
  /** A folder, file or database needed at start could not be made or opened; see `cause`. */
  STARTUP_FAILED: 'DNET_SCP_STARTUP_FAILED',
} as const;

/** One of the {@link ScpErrorCode} values. */
export type ScpErrorCode = (typeof ScpErrorCode)[keyof typeof ScpErrorCode];

/** Base class of the dnet-scp errors. */
export class ScpError extends DnetError {
  /** The stable error code. */
  declare readonly code: ScpErrorCode;

  /**
   * @param message - human-readable message
   * @param code - stable code
   * @param options - the cause
   */
  constructor(message: string, code: ScpErrorCode, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'ScpError';
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

/** Another dnet-scp process holds the lock of a folder this one needs. */
export class FolderLockedError extends ScpError {
  /** The locked folder. */
  readonly folder: string;
  /** The pid of the process that holds the lock. */
  readonly pid: number;
  /** The host name written in the lock (another host's process cannot be checked). */
  readonly host: string | undefined;

  /**
   * @param folder - the locked folder
   * @param pid - the holder's pid
   * @param host - the holder's host, when it is another one
   */
  constructor(folder: string, pid: number, host?: string) {
    super(
      `${folder} is in use by another dnet-scp (pid ${pid}${host ? ` on ${host}` : ''}); ` +
        'if that process is gone, delete its .dnet-scp.lock',
      ScpErrorCode.FOLDER_LOCKED,
    );
    this.name = 'FolderLockedError';
    this.folder = folder;
    this.pid = pid;
    this.host = host;
  }
}

/**
 * A folder, file or database dnet-scp needs at start could not be made or
 * opened; the message ends with the system's reason and errno name, and
 * `cause` is the system error itself (with its path and system call).
 */
export class StartupError extends ScpError {
  /**
   * @param message - what could not be done, with the path
   * @param options - the underlying error
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(withReason(message, options.cause), ScpErrorCode.STARTUP_FAILED, options);
    this.name = 'StartupError';
  }
}

/** `message: <the system's text> (<ERRNO>)` when a system error is in `cause`'s chain. */
function withReason(message: string, cause: unknown): string {
  const system = systemErrorOf(cause);
  if (system) return `${message}: ${system.text} (${system.code})`;
  const text = (cause as Error | undefined)?.message;
  return text ? `${message}: ${text}` : message;
}
