/**
 * @packageDocumentation
 * `@dnet/transport`: the dnet transport seam. The association layer talks to
 * a {@link Transport} and its {@link Connection}s and never to a concrete
 * transport; TCP (`@dnet/transport-tcp`), TLS (`@dnet/tls`) and the in-memory
 * transport here implement it. The compliance suite is on the
 * `@dnet/transport/testing` subpath.
 *
 * @example
 * ```ts
 * import { memory } from '@dnet/transport';
 *
 * const net = memory();
 * const listener = await net.listen({ port: 0 }, async (conn) => {
 *   for await (const chunk of conn) if (!conn.write(chunk)) await conn.drained();
 *   await conn.close();
 * });
 * const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
 * conn.write([new Uint8Array([1, 2]), new Uint8Array([3])]); // one gathered write
 * await conn.close();
 * ```
 */

export type { Connection, ConnectionInfo, PeerCertificate } from './connection.js';
export {
  type ConnectionMessage,
  type FailureMessage,
  publishConnection,
  publishFailure,
  TransportChannel,
} from './diagnostics.js';
export {
  AddressInUseError,
  ConnectAbortedError,
  ConnectionAbortedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  ConnectTimeoutError,
  DnetError,
  isDnetError,
  TransportError,
  TransportErrorCode,
  type TransportErrorOptions,
} from './errors.js';
export { MEMORY_DEFAULTS, type MemoryTransportOptions, memory } from './memory.js';
export type { ConnectOptions, Listener, ListenOptions, Transport } from './transport.js';

/** The package's name, for diagnostics. */
export const packageName = '@dnet/transport';
