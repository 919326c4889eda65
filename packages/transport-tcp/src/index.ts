/**
 * @packageDocumentation
 * `@dnet/transport-tcp`: the TCP transport of dnet over node:net. IPv4 and
 * IPv6, a connect timeout and AbortSignal, and socket options that suit DICOM
 * ({@link defaultSocketOptions}: TCP_NODELAY and keep-alive on).
 *
 * @example
 * ```ts
 * import { tcp } from '@dnet/transport-tcp';
 *
 * const transport = tcp();
 * const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, async (conn) => {
 *   for await (const chunk of conn) if (!conn.write(chunk)) await conn.drained();
 *   await conn.close();
 * });
 * const conn = await transport.connect({ host: '127.0.0.1', port: listener.port, timeoutMs: 5_000 });
 * ```
 */

export {
  resetSocket,
  SOCKET_CONNECTION_DEFAULTS,
  type SocketConnectionOptions,
  socketConnection,
} from './socket-connection.js';
export { toTransportError } from './socket-error.js';
export { defaultSocketOptions, type SocketOptions } from './socket-options.js';
export {
  connectSocket,
  listenServer,
  type ResolvedTcpSettings,
  resolveTcpSettings,
  TCP_DEFAULTS,
  type TcpTransportOptions,
  tcp,
} from './tcp.js';

/** The package's name, for diagnostics. */
export const packageName = '@dnet/transport-tcp';
