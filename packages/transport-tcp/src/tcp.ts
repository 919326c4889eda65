import * as net from 'node:net';
import { isIP } from 'node:net';
import {
  ConnectAbortedError,
  type Connection,
  type ConnectOptions,
  ConnectTimeoutError,
  type Listener,
  type ListenOptions,
  publishConnection,
  publishFailure,
  type Transport,
} from '@dnet/transport';
import { SOCKET_CONNECTION_DEFAULTS, socketConnection } from './socket-connection.js';
import { toTransportError } from './socket-error.js';
import { defaultSocketOptions, type SocketOptions } from './socket-options.js';

/** Options of the {@link tcp} transport. */
export interface TcpTransportOptions {
  /** Socket options; missing fields come from `defaultSocketOptions()`. */
  socket?: Partial<SocketOptions>;
  /** Default connect timeout in ms when `connect()` is given none (default 30 000). */
  connectTimeoutMs?: number;
  /** How long `close()` waits for the peer's FIN before destroying, in ms (default 30 000). */
  closeTimeoutMs?: number;
  /** Unread bytes held before the socket is paused (default 64 KiB). */
  readHighWaterMark?: number;
  /** Bytes queued for writing before `write()` returns false (default 64 KiB). */
  writeHighWaterMark?: number;
  /** Pending-connection queue of a listener (default 511, Node's). */
  backlog?: number;
}

/** Defaults of the {@link tcp} transport; LIMITS.md lists them. */
export const TCP_DEFAULTS = {
  /** 30 s to establish the TCP connection. */
  connectTimeoutMs: 30_000,
  /** 30 s for the peer's FIN after ours. */
  closeTimeoutMs: SOCKET_CONNECTION_DEFAULTS.closeTimeoutMs,
  /** 64 KiB unread before the socket pauses. */
  readHighWaterMark: SOCKET_CONNECTION_DEFAULTS.readHighWaterMark,
  /** 64 KiB queued before `write()` asks the caller to wait. */
  writeHighWaterMark: 64 * 1024,
  /** Node's default listen backlog. */
  backlog: 511,
} as const;

/** Settings a TCP (or TLS-over-TCP) transport resolved from its options. */
export interface ResolvedTcpSettings {
  /** Socket options. */
  socket: SocketOptions;
  /** Default connect timeout (ms). */
  connectTimeoutMs: number;
  /** Close timeout (ms). */
  closeTimeoutMs: number;
  /** Read high-water mark (bytes). */
  readHighWaterMark: number;
  /** Write high-water mark (bytes). */
  writeHighWaterMark: number;
  /** Listen backlog. */
  backlog: number;
}

/** Fills {@link TcpTransportOptions} with the defaults and checks them. */
export function resolveTcpSettings(options: TcpTransportOptions = {}): ResolvedTcpSettings {
  const check = (name: string, value: number | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    if (!(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`${name} must be a positive number, got ${value}`);
    }
    return value;
  };
  return {
    socket: { ...defaultSocketOptions(), ...options.socket },
    connectTimeoutMs: check(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      TCP_DEFAULTS.connectTimeoutMs,
    ),
    closeTimeoutMs: check('closeTimeoutMs', options.closeTimeoutMs, TCP_DEFAULTS.closeTimeoutMs),
    readHighWaterMark: check(
      'readHighWaterMark',
      options.readHighWaterMark,
      TCP_DEFAULTS.readHighWaterMark,
    ),
    writeHighWaterMark: check(
      'writeHighWaterMark',
      options.writeHighWaterMark,
      TCP_DEFAULTS.writeHighWaterMark,
    ),
    backlog: check('backlog', options.backlog, TCP_DEFAULTS.backlog),
  };
}

function applySocketOptions(socket: net.Socket, options: SocketOptions): void {
  socket.setNoDelay(options.noDelay);
  socket.setKeepAlive(options.keepAlive, options.keepAliveInitialDelayMs);
}

/**
 * Opens a TCP socket with the settings' options, bounded by a timeout and an
 * AbortSignal. Resolves once connected (the `connect` event).
 *
 * @param options - host, port, signal, timeout
 * @param settings - resolved transport settings
 */
export function connectSocket(
  { host, port, signal, timeoutMs, localAddress, localPort }: ConnectOptions,
  settings: ResolvedTcpSettings,
): Promise<net.Socket> {
  const limit = timeoutMs ?? settings.connectTimeoutMs;
  if (signal?.aborted) {
    return Promise.reject(new ConnectAbortedError({ cause: signal.reason, address: host, port }));
  }
  return new Promise((resolve, reject) => {
    // highWaterMark reaches the socket's stream options (missing from @types/node's NetConnectOpts).
    const connectOptions: net.NetConnectOpts & { highWaterMark: number } = {
      host,
      port,
      allowHalfOpen: true,
      highWaterMark: settings.writeHighWaterMark,
      noDelay: settings.socket.noDelay,
      keepAlive: settings.socket.keepAlive,
      keepAliveInitialDelay: settings.socket.keepAliveInitialDelayMs,
      // The requestor's own address and port, bound before connecting.
      ...(localAddress !== undefined && { localAddress }),
      ...(localPort !== undefined && localPort > 0 && { localPort }),
    };
    const socket = net.connect(connectOptions);
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
    };
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onConnect = () => {
      cleanup();
      applySocketOptions(socket, settings.socket);
      resolve(socket);
    };
    const onError = (error: Error) => fail(toTransportError(error, host, port));
    const onAbort = () =>
      fail(new ConnectAbortedError({ cause: signal?.reason, address: host, port }));
    const timer = setTimeout(
      () => fail(new ConnectTimeoutError(limit, { address: host, port })),
      limit,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Starts a server and resolves once it listens. `createServer` gets the
 * listener options; the TCP transport passes a node:net server, TLS a node:tls one.
 *
 * @param server - a server not yet listening
 * @param options - host, port, signal
 * @param backlog - pending-connection queue length
 */
export async function listenServer(
  server: net.Server,
  { host = '127.0.0.1', port, signal }: ListenOptions,
  backlog: number,
): Promise<Listener> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(toTransportError(error, host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, backlog, ipv6Only: isIP(host) === 6 && host !== '::' });
  });
  const address = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    signal?.removeEventListener('abort', onAbort);
    closing ??= new Promise<void>((resolve) => {
      // server.close() stops accepting at once; its callback would wait for
      // every open connection, which stay open by contract.
      server.close(() => {});
      setImmediate(resolve);
    });
    return closing;
  };
  const onAbort = () => {
    void close();
  };
  server.on('error', () => {
    // Errors after listening (accept failures) are not fatal to the listener.
  });
  if (signal?.aborted) await close();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { host: address.address, port: address.port, close };
}

/**
 * The TCP transport over node:net, with socket options that suit DICOM
 * ({@link defaultSocketOptions}: TCP_NODELAY and keep-alive on). IPv4 and
 * IPv6; `port: 0` listens on a free port.
 *
 * @example
 * ```ts
 * const transport = tcp();
 * const conn = await transport.connect({ host: '127.0.0.1', port: 11112, timeoutMs: 5_000 });
 * ```
 */
export function tcp(options: TcpTransportOptions = {}): Transport {
  const settings = resolveTcpSettings(options);
  const wrap = (socket: net.Socket): Connection =>
    socketConnection(socket, {
      closeTimeoutMs: settings.closeTimeoutMs,
      readHighWaterMark: settings.readHighWaterMark,
    });
  return {
    name: 'tcp',
    async connect(connectOptions: ConnectOptions): Promise<Connection> {
      let socket: net.Socket;
      try {
        socket = await connectSocket(connectOptions, settings);
      } catch (error) {
        publishFailure('tcp', 'connect', error);
        throw error;
      }
      const connection = wrap(socket);
      publishConnection('tcp', 'dialled', connection);
      return connection;
    },
    listen(listenOptions: ListenOptions, onConnection: (c: Connection) => void) {
      const server = net.createServer(
        {
          allowHalfOpen: true,
          noDelay: settings.socket.noDelay,
          keepAlive: settings.socket.keepAlive,
          keepAliveInitialDelay: settings.socket.keepAliveInitialDelayMs,
          highWaterMark: settings.writeHighWaterMark,
        },
        (socket) => {
          applySocketOptions(socket, settings.socket);
          const connection = wrap(socket);
          publishConnection('tcp', 'accepted', connection);
          onConnection(connection);
        },
      );
      return listenServer(server, listenOptions, settings.backlog);
    },
  };
}
