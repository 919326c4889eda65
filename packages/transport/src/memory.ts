import type { Connection, ConnectionInfo } from './connection.js';
import { publishConnection, publishFailure } from './diagnostics.js';
import {
  AddressInUseError,
  ConnectAbortedError,
  ConnectionAbortedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectionResetError,
  TransportError,
  TransportErrorCode,
} from './errors.js';
import type { ConnectOptions, Listener, ListenOptions, Transport } from './transport.js';

/** Options of the {@link memory} transport. */
export interface MemoryTransportOptions {
  /**
   * Bytes queued at the reading side before `write()` returns false
   * (default {@link MEMORY_DEFAULTS}.highWaterMark, 64 KiB).
   */
  highWaterMark?: number;
  /**
   * Splits every written chunk into pieces of at most this many bytes before
   * delivery, as TCP segments would (default: chunks arrive as written).
   * Useful to exercise incremental decoders.
   */
  maxChunkSize?: number;
  /**
   * How long `close()` waits for the peer to close its direction before the
   * connection is destroyed (default {@link MEMORY_DEFAULTS}.closeTimeoutMs).
   */
  closeTimeoutMs?: number;
}

/** Defaults of the {@link memory} transport. */
export const MEMORY_DEFAULTS = {
  /** 64 KiB, as a Node socket's writable high-water mark. */
  highWaterMark: 64 * 1024,
  /** 30 s for the peer to answer our FIN with its own. */
  closeTimeoutMs: 30_000,
} as const;

/** First port handed out for `port: 0` listeners and for dialling sides. */
const FIRST_EPHEMERAL_PORT = 49_152;

interface Settings {
  highWaterMark: number;
  maxChunkSize: number;
  closeTimeoutMs: number;
}

interface PendingRead {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: Error): void;
}

/** One end of an in-memory connection. */
class MemoryConnection implements Connection {
  readonly info: ConnectionInfo;
  readonly closed: Promise<void>;
  /** The other end; set right after construction. */
  peer!: MemoryConnection;

  #settings: Settings;
  #inbox: Uint8Array[] = [];
  #inboxHead = 0;
  #inboxBytes = 0;
  /** The peer sent FIN (after the data in the inbox). */
  #finReceived = false;
  /** Our reader saw the end (or reading was abandoned and FIN arrived). */
  #readDone = false;
  /** We sent FIN. */
  #writeEnded = false;
  #destroyed = false;
  /** The error reads report, once destroyed. */
  #readError: Error | undefined;
  #readErrorReported = false;
  #iterating = false;
  #discarding = false;
  #pendingRead: PendingRead | undefined;
  #drainWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  #resolveClosed!: () => void;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(info: ConnectionInfo, settings: Settings) {
    this.info = info;
    this.#settings = settings;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  write(chunks: Uint8Array | readonly Uint8Array[]): boolean {
    if (this.#writeEnded || this.#destroyed) {
      throw this.#destroyed && this.#readError instanceof ConnectionResetError
        ? new ConnectionClosedError('Connection was reset by the peer', { cause: this.#readError })
        : new ConnectionClosedError();
    }
    const list = chunks instanceof Uint8Array ? [chunks] : chunks;
    const max = this.#settings.maxChunkSize;
    for (const chunk of list) {
      if (chunk.byteLength === 0) continue;
      // A copy: what was written is on the wire, as with a socket.
      const copy = chunk.slice();
      if (copy.byteLength <= max) {
        this.peer.#deliver(copy);
      } else {
        for (let offset = 0; offset < copy.byteLength; offset += max) {
          this.peer.#deliver(copy.subarray(offset, offset + max));
        }
      }
    }
    return this.peer.#inboxBytes < this.#settings.highWaterMark;
  }

  queuedBytes(): number {
    // Written bytes stay in the peer's inbox until its reader takes them.
    return this.#destroyed ? 0 : this.peer.#inboxBytes;
  }

  drained(): Promise<void> {
    if (this.#destroyed) {
      return Promise.reject(this.#readError ?? new ConnectionClosedError());
    }
    if (this.peer.#inboxBytes < this.#settings.highWaterMark) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#drainWaiters.push({ resolve, reject });
    });
  }

  close(): Promise<void> {
    if (this.#destroyed || this.#writeEnded) return this.closed;
    this.#writeEnded = true;
    if (!this.#iterating) this.#discard();
    this.peer.#receiveFin();
    this.#closeTimer = setTimeout(() => {
      this.#destroy(new ConnectionClosedError('Close timed out waiting for the peer'), true);
    }, this.#settings.closeTimeoutMs);
    this.#maybeFinish();
    return this.closed;
  }

  abort(reason?: Error): void {
    if (this.#destroyed) return;
    this.#destroy(
      new ConnectionAbortedError(reason?.message ?? 'Connection was aborted', { cause: reason }),
      true,
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#iterating) throw new TypeError('Connection already has a reader');
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.#discard();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#inboxHead < this.#inbox.length) {
      return Promise.resolve({ done: false, value: this.#shift() });
    }
    if (this.#destroyed) {
      if (this.#readError && !this.#readErrorReported) {
        this.#readErrorReported = true;
        return Promise.reject(this.#readError);
      }
      return Promise.resolve({ done: true, value: undefined });
    }
    if (this.#finReceived) {
      this.#readDone = true;
      this.#maybeFinish();
      return Promise.resolve({ done: true, value: undefined });
    }
    if (this.#pendingRead) return Promise.reject(new TypeError('Concurrent next() calls'));
    return new Promise((resolve, reject) => {
      this.#pendingRead = { resolve, reject };
    });
  }

  #shift(): Uint8Array {
    const chunk = this.#inbox[this.#inboxHead]!;
    this.#inbox[this.#inboxHead] = EMPTY;
    this.#inboxHead += 1;
    if (this.#inboxHead === this.#inbox.length) {
      this.#inbox = [];
      this.#inboxHead = 0;
    }
    this.#inboxBytes -= chunk.byteLength;
    this.peer.#onPeerConsumed();
    return chunk;
  }

  /** The peer wrote `chunk` to us. */
  #deliver(chunk: Uint8Array): void {
    if (this.#destroyed || this.#discarding) return;
    const pending = this.#pendingRead;
    if (pending && this.#inboxHead === this.#inbox.length) {
      this.#pendingRead = undefined;
      pending.resolve({ done: false, value: chunk });
      return;
    }
    this.#inbox.push(chunk);
    this.#inboxBytes += chunk.byteLength;
  }

  /** The peer sent FIN. */
  #receiveFin(): void {
    if (this.#destroyed) return;
    this.#finReceived = true;
    // As TCP's 'end': our direction of reading is over once FIN is in, even
    // if the reader has not pulled the queued data yet (it still can).
    this.#readDone = true;
    if (this.#pendingRead && this.#inboxHead === this.#inbox.length) {
      const pending = this.#pendingRead;
      this.#pendingRead = undefined;
      pending.resolve({ done: true, value: undefined });
    }
    this.#maybeFinish();
  }

  /** Our reader consumed data the other end wrote: release its drain waiters. */
  #onPeerConsumed(): void {
    if (this.#drainWaiters.length === 0) return;
    if (this.peer.#inboxBytes >= this.#settings.highWaterMark) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Stop reading: drop what is queued and what arrives later. */
  #discard(): void {
    this.#discarding = true;
    this.#inbox = [];
    this.#inboxHead = 0;
    this.#inboxBytes = 0;
    this.peer.#onPeerConsumed();
    if (this.#finReceived) this.#readDone = true;
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#destroyed || !this.#writeEnded || !this.#readDone) return;
    this.#destroy(undefined, false);
  }

  /** Tears this end down; `resetPeer` makes the other end see a reset. */
  #destroy(error: Error | undefined, resetPeer: boolean): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#readError = error;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    if (error) {
      // A failed connection drops what was not read; a closed one keeps it readable.
      this.#inbox = [];
      this.#inboxHead = 0;
      this.#inboxBytes = 0;
    }
    const pending = this.#pendingRead;
    this.#pendingRead = undefined;
    if (pending) {
      if (error) {
        this.#readErrorReported = true;
        pending.reject(error);
      } else {
        pending.resolve({ done: true, value: undefined });
      }
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w.reject(error ?? new ConnectionClosedError());
    this.#resolveClosed();
    if (resetPeer && !this.peer.#destroyed) {
      this.peer.#destroy(
        new ConnectionResetError('Connection reset by peer', {
          address: this.peer.info.remoteAddress,
          port: this.peer.info.remotePort,
        }),
        false,
      );
    }
  }
}

const EMPTY = new Uint8Array(0);

interface MemoryListenerEntry {
  host: string;
  port: number;
  onConnection: (connection: Connection) => void;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason;
}

/**
 * An in-process transport: connections are pairs of queues, deterministic and
 * fast, with the same semantics as TCP (ordering, backpressure, half-close,
 * abort as a reset). Each call returns an independent network: both sides of
 * a test must use the same instance.
 *
 * @example
 * ```ts
 * const net = memory();
 * await net.listen({ port: 104 }, async (conn) => {
 *   for await (const chunk of conn) conn.write(chunk); // echo
 *   await conn.close();
 * });
 * const conn = await net.connect({ host: '127.0.0.1', port: 104 });
 * ```
 */
export function memory(options: MemoryTransportOptions = {}): Transport {
  const settings: Settings = {
    highWaterMark: positive(options.highWaterMark, MEMORY_DEFAULTS.highWaterMark, 'highWaterMark'),
    maxChunkSize: positive(options.maxChunkSize, Number.POSITIVE_INFINITY, 'maxChunkSize'),
    closeTimeoutMs: positive(
      options.closeTimeoutMs,
      MEMORY_DEFAULTS.closeTimeoutMs,
      'closeTimeoutMs',
    ),
  };
  const listeners = new Map<string, MemoryListenerEntry>();
  let nextPort = FIRST_EPHEMERAL_PORT;
  const key = (host: string, port: number) => `${host}|${port}`;
  const allocatePort = (host: string) => {
    for (let i = 0; i < 16_384; i++) {
      const port = nextPort;
      nextPort = nextPort >= 65_535 ? FIRST_EPHEMERAL_PORT : nextPort + 1;
      if (!listeners.has(key(host, port))) return port;
    }
    throw new TransportError('No free memory port', TransportErrorCode.TRANSPORT_FAILED);
  };

  return {
    name: 'memory',

    async connect({
      host,
      port,
      signal,
      localAddress = 'memory',
      localPort: askedPort,
    }: ConnectOptions): Promise<Connection> {
      if (signal?.aborted) {
        throw new ConnectAbortedError({ cause: abortReason(signal), address: host, port });
      }
      // One macrotask, as a real connect takes at least one turn of the loop.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) {
        throw new ConnectAbortedError({ cause: abortReason(signal), address: host, port });
      }
      const entry = listeners.get(key(host, port));
      if (!entry) {
        const error = new ConnectionRefusedError(undefined, { address: host, port });
        publishFailure('memory', 'connect', error);
        throw error;
      }
      const localPort = askedPort || allocatePort('client');
      const client = new MemoryConnection(
        {
          remoteAddress: host,
          remotePort: port,
          localAddress,
          localPort,
          encrypted: false,
        },
        settings,
      );
      const server = new MemoryConnection(
        {
          remoteAddress: localAddress,
          remotePort: localPort,
          localAddress: host,
          localPort: port,
          encrypted: false,
        },
        settings,
      );
      client.peer = server;
      server.peer = client;
      publishConnection('memory', 'accepted', server);
      entry.onConnection(server);
      publishConnection('memory', 'dialled', client);
      return client;
    },

    async listen(
      { host = '127.0.0.1', port, signal }: ListenOptions,
      onConnection: (connection: Connection) => void,
    ): Promise<Listener> {
      const bound = port === 0 ? allocatePort(host) : port;
      const k = key(host, bound);
      if (listeners.has(k)) throw new AddressInUseError({ address: host, port: bound });
      const entry: MemoryListenerEntry = { host, port: bound, onConnection };
      listeners.set(k, entry);
      const close = async () => {
        if (listeners.get(k) === entry) listeners.delete(k);
        signal?.removeEventListener('abort', close);
      };
      if (signal?.aborted) await close();
      else signal?.addEventListener('abort', close, { once: true });
      return { host, port: bound, close };
    },
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) throw new RangeError(`${name} must be positive, got ${value}`);
  return value;
}
