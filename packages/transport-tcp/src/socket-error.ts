import {
  AddressInUseError,
  ConnectionRefusedError,
  ConnectionResetError,
  TransportError,
  TransportErrorCode,
} from '@dnet/transport';

/** Node system error codes that mean "the peer reset the connection". */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Turns a node:net error into the matching transport error (the original is
 * its `cause`); dnet errors pass through unchanged.
 *
 * @param error - what node:net reported
 * @param address - the remote (or bound) address, for the message
 * @param port - the remote (or bound) port
 */
export function toTransportError(error: unknown, address?: string, port?: number): TransportError {
  if (error instanceof TransportError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const options = { cause: error, address, port };
  if (code === 'ECONNREFUSED') {
    return new ConnectionRefusedError(`Connection refused by ${address}:${port}`, options);
  }
  if (typeof code === 'string' && RESET_CODES.has(code)) {
    return new ConnectionResetError(undefined, options);
  }
  if (code === 'EADDRINUSE') return new AddressInUseError(options);
  const message = error instanceof Error ? error.message : String(error);
  return new TransportError(message, TransportErrorCode.TRANSPORT_FAILED, options);
}
