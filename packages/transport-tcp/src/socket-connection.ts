import type { Socket } from 'node:net';
import {
  type Connection,
  ConnectionAbortedError,
  ConnectionClosedError,
  type ConnectionInfo,
  type TransportError,
} from '@dnet/transport';
import { toTransportError } from './socket-error.js';

/** Options of {@link socketConnection}. */
export interface SocketConnectionOptions {
  /** Extra or replacing fields of the `ConnectionInfo` of `@dnet/transport` (TLS adds its own). */
  info?: Partial<ConnectionInfo>;
  /** How long `close()` waits for the peer's FIN before destroying (ms). */
  closeTimeoutMs?: number;
  /** Bytes held for a reader that is not pulling before the socket is paused. */
  readHighWaterMark?: number;
  /**
   * Tears the connection down with a reset (TCP RST). Default: the socket's
   * `resetAndDestroy()` when it sits on a TCP handle, else `destroy()`.
   */
  reset?: () => void;
}

/** Defaults of {@link socketConnection}. */
export const SOCKET_CONNECTION_DEFAULTS = {
  /** 30 s for the peer to answer our FIN (DCMTK's ARTIM default is 30 s too). */
  closeTimeoutMs: 30_000,
  /** 64 KiB unread before the socket is paused. */
  readHighWaterMark: 64 * 1024,
} as const;

interface PendingRead {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: Error): void;
}

const DONE: IteratorResult<Uint8Array> = { done: true, value: undefined };

/** A `Connection` (`@dnet/transport`) over a connected node:net (or node:tls) socket. */
class SocketConnection implements Connection {
  readonly info: ConnectionInfo;
  readonly closed: Promise<void>;

  #socket: Socket;
  #closeTimeoutMs: number;
  #readHighWaterMark: number;
  #reset: () => void;
  #queue: Uint8Array[] = [];
  #queueHead = 0;
  #queueBytes = 0;
  #paused = false;
  #finReceived = false;
  #closing = false;
  #destroyed = false;
  #error: TransportError | undefined;
  #errorReported = false;
  #iterating = false;
  #discarding = false;
  /** The socket is corked until the end of this tick (see {@link write}). */
  #corked = false;
  #pendingRead: PendingRead | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: Socket, options: SocketConnectionOptions) {
    this.#socket = socket;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? SOCKET_CONNECTION_DEFAULTS.closeTimeoutMs;
    this.#readHighWaterMark =
      options.readHighWaterMark ?? SOCKET_CONNECTION_DEFAULTS.readHighWaterMark;
    this.#reset = options.reset ?? (() => resetSocket(socket));
    this.info = {
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
      encrypted: false,
      ...options.info,
    };
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#onClose();
        resolve();
      });
    });
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error: Error) => {
      this.#error ??= toTransportError(error, this.info.remoteAddress, this.info.remotePort);
    });
    if (socket.destroyed) this.#onClose();
  }

  write(chunks: Uint8Array | readonly Uint8Array[]): boolean {
    if (this.#closing || this.#destroyed || this.#socket.destroyed) {
      throw new ConnectionClosedError(
        this.#error ? `Connection failed: ${this.#error.message}` : undefined,
        { cause: this.#error },
      );
    }
    const socket = this.#socket;
    // Every write of this tick is gathered into one writev (never concatenated):
    // the socket is corked at the first write and uncorked once the current
    // callbacks and their promise jobs are done (process.nextTick). Messages
    // produced together (responses to the PDUs of one read, the requests of an
    // asynchronous operations window) then cost one system call, not one each.
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(this.#uncork);
    }
    if (chunks instanceof Uint8Array) return socket.write(chunks);
    let ok = true;
    for (const chunk of chunks) ok = socket.write(chunk);
    return ok;
  }

  /** Ends this tick's gathering (see {@link write}); end() and destroy() flush or drop on their own. */
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  flushed(): boolean {
    // Node's Writable counts a chunk until the OS has taken all of it (TLS: until it is encrypted).
    return this.#socket.writableLength === 0;
  }

  queuedBytes(): number {
    // A chunk leaves Node's Writable buffer once the OS has taken all of it.
    return this.#socket.writableLength;
  }

  drained(): Promise<void> {
    if (this.#destroyed) return Promise.reject(this.#error ?? new ConnectionClosedError());
    const socket = this.#socket;
    if (!socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(this.#error ?? new ConnectionClosedError());
      };
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }

  close(): Promise<void> {
    if (this.#closing || this.#destroyed) return this.closed;
    this.#closing = true;
    if (!this.#iterating) this.#discard();
    this.#socket.end();
    this.#closeTimer = setTimeout(() => {
      this.#error ??= new ConnectionClosedError('Close timed out waiting for the peer');
      this.#destroyNow();
    }, this.#closeTimeoutMs);
    this.#closeTimer.unref?.();
    return this.closed;
  }

  abort(reason?: Error): void {
    if (this.#destroyed) return;
    this.#error = new ConnectionAbortedError(reason?.message ?? 'Connection was aborted', {
      cause: reason,
    });
    this.#destroyNow(true);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterating) throw new TypeError('Connection already has a reader');
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#discard();
        return Promise.resolve(DONE);
      },
    };
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#queueHead < this.#queue.length) {
      return Promise.resolve({ done: false, value: this.#shift() });
    }
    if (this.#error && !this.#errorReported) {
      this.#errorReported = true;
      return Promise.reject(this.#error);
    }
    if (this.#finReceived || this.#destroyed) return Promise.resolve(DONE);
    if (this.#pendingRead) return Promise.reject(new TypeError('Concurrent next() calls'));
    return new Promise((resolve, reject) => {
      this.#pendingRead = { resolve, reject };
    });
  }

  #shift(): Uint8Array {
    const chunk = this.#queue[this.#queueHead]!;
    this.#queue[this.#queueHead] = EMPTY;
    this.#queueHead += 1;
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    }
    this.#queueBytes -= chunk.byteLength;
    if (this.#paused && this.#queueBytes < this.#readHighWaterMark && !this.#destroyed) {
      this.#paused = false;
      this.#socket.resume();
    }
    return chunk;
  }

  #onData(data: Buffer): void {
    if (this.#discarding || this.#destroyed) return;
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const pending = this.#pendingRead;
    if (pending && this.#queueHead === this.#queue.length) {
      this.#pendingRead = undefined;
      pending.resolve({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#queueBytes += chunk.byteLength;
    if (this.#queueBytes >= this.#readHighWaterMark && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #onEnd(): void {
    this.#finReceived = true;
    const pending = this.#pendingRead;
    if (pending && this.#queueHead === this.#queue.length) {
      this.#pendingRead = undefined;
      pending.resolve(DONE);
    }
  }

  #onClose(): void {
    this.#destroyed = true;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    const pending = this.#pendingRead;
    if (!pending) return;
    this.#pendingRead = undefined;
    if (this.#error && !this.#errorReported) {
      this.#errorReported = true;
      pending.reject(this.#error);
    } else {
      pending.resolve(DONE);
    }
  }

  /** Stop reading: drop what is queued and what arrives later, keep the socket flowing. */
  #discard(): void {
    this.#discarding = true;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queueBytes = 0;
    if (this.#paused && !this.#destroyed) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  #destroyNow(reset = false): void {
    this.#destroyed = true;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queueBytes = 0;
    const pending = this.#pendingRead;
    if (pending && this.#error) {
      this.#pendingRead = undefined;
      this.#errorReported = true;
      pending.reject(this.#error);
    }
    if (reset) this.#reset();
    else this.#socket.destroy();
  }
}

const EMPTY = new Uint8Array(0);

/** Resets a socket (RST) when it sits on a TCP handle; destroys it otherwise. */
export function resetSocket(socket: Socket): void {
  try {
    if (!socket.destroyed) socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/**
 * Adapts a connected node:net socket (or a node:tls socket after its
 * handshake) to a `Connection` of `@dnet/transport`. The socket must have been created with
 * `allowHalfOpen: true` so a peer's FIN ends our reads without ending our
 * writes (half-close).
 *
 * @param socket - a connected socket
 * @param options - info overrides, limits and the reset hook
 */
export function socketConnection(
  socket: Socket,
  options: SocketConnectionOptions = {},
): Connection {
  return new SocketConnection(socket, options);
}
