/**
 * Errors of the transport layer. Every error extends `DnetError` of
 * `@dnet/errors`: a stable `code` (`DNET_TRANSPORT_...`), a `cause`, and the
 * brand {@link isDnetError} recognises across duplicated installs.
 */

import { DnetError, isDnetError } from '@dnet/errors';

export { DnetError, isDnetError };

/** Stable codes of the transport errors. */
export const TransportErrorCode = {
  /** The connection was closed by this side; no more writes are possible. */
  CONNECTION_CLOSED: 'DNET_TRANSPORT_CONNECTION_CLOSED',
  /** The connection was aborted by this side (`abort()`). */
  CONNECTION_ABORTED: 'DNET_TRANSPORT_CONNECTION_ABORTED',
  /** The peer reset the connection (TCP RST, or the peer's `abort()` in memory). */
  CONNECTION_RESET: 'DNET_TRANSPORT_CONNECTION_RESET',
  /** Nobody listens at the address dialled. */
  CONNECTION_REFUSED: 'DNET_TRANSPORT_CONNECTION_REFUSED',
  /** `connect` did not complete within `timeoutMs`. */
  CONNECT_TIMEOUT: 'DNET_TRANSPORT_CONNECT_TIMEOUT',
  /** `connect` was cancelled through its AbortSignal. */
  CONNECT_ABORTED: 'DNET_TRANSPORT_CONNECT_ABORTED',
  /** `listen` asked for an address already in use. */
  ADDRESS_IN_USE: 'DNET_TRANSPORT_ADDRESS_IN_USE',
  /** Any other failure of the underlying transport; see `cause`. */
  TRANSPORT_FAILED: 'DNET_TRANSPORT_FAILED',
} as const;

/** One of the `TransportErrorCode` values. */
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

/** Options every transport error accepts. */
export interface TransportErrorOptions {
  /** The underlying error (a Node system error, say). */
  cause?: unknown;
  /** The remote address involved, when known. */
  address?: string;
  /** The remote port involved, when known. */
  port?: number;
}

/** Base class of every transport error. */
export class TransportError extends DnetError {
  /** The remote address involved, when known. */
  readonly address: string | undefined;
  /** The remote port involved, when known. */
  readonly port: number | undefined;

  /**
   * @param message - human-readable message
   * @param code - stable code
   * @param options - cause and address
   */
  constructor(message: string, code: string, options: TransportErrorOptions = {}) {
    super(code, message, options);
    this.name = 'TransportError';
    this.address = options.address;
    this.port = options.port;
  }
}

/** Writing to, or closing, a connection that this side already closed. */
export class ConnectionClosedError extends TransportError {
  /** @param message - why; @param options - cause */
  constructor(message = 'Connection is closed', options?: TransportErrorOptions) {
    super(message, TransportErrorCode.CONNECTION_CLOSED, options);
    this.name = 'ConnectionClosedError';
  }
}

/** The connection was aborted by this side. */
export class ConnectionAbortedError extends TransportError {
  /** @param message - why; @param options - cause (the abort reason) */
  constructor(message = 'Connection was aborted', options?: TransportErrorOptions) {
    super(message, TransportErrorCode.CONNECTION_ABORTED, options);
    this.name = 'ConnectionAbortedError';
  }
}

/** The peer reset (aborted) the connection. */
export class ConnectionResetError extends TransportError {
  /** @param message - why; @param options - cause and address */
  constructor(message = 'Connection reset by peer', options?: TransportErrorOptions) {
    super(message, TransportErrorCode.CONNECTION_RESET, options);
    this.name = 'ConnectionResetError';
  }
}

/** Nobody listens at the address dialled. */
export class ConnectionRefusedError extends TransportError {
  /** @param message - why; @param options - cause and address */
  constructor(message = 'Connection refused', options?: TransportErrorOptions) {
    super(message, TransportErrorCode.CONNECTION_REFUSED, options);
    this.name = 'ConnectionRefusedError';
  }
}

/** `connect` did not complete in time. */
export class ConnectTimeoutError extends TransportError {
  /** How long the connect was allowed to take, in ms. */
  readonly timeoutMs: number;
  /** @param timeoutMs - the limit; @param options - cause and address */
  constructor(timeoutMs: number, options?: TransportErrorOptions) {
    super(`Connect timed out after ${timeoutMs} ms`, TransportErrorCode.CONNECT_TIMEOUT, options);
    this.name = 'ConnectTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** `connect` was cancelled through its AbortSignal; `cause` is the signal's reason. */
export class ConnectAbortedError extends TransportError {
  /** @param options - cause (the signal's reason) and address */
  constructor(options?: TransportErrorOptions) {
    super('Connect was aborted', TransportErrorCode.CONNECT_ABORTED, options);
    this.name = 'ConnectAbortedError';
  }
}

/** `listen` asked for an address already in use. */
export class AddressInUseError extends TransportError {
  /** @param options - cause and address */
  constructor(options?: TransportErrorOptions) {
    super(
      `Address in use: ${options?.address ?? '?'}:${options?.port ?? '?'}`,
      TransportErrorCode.ADDRESS_IN_USE,
      options,
    );
    this.name = 'AddressInUseError';
  }
}
