import type { Connection } from './connection.js';

/** Where and how to dial. */
export interface ConnectOptions {
  /** Host name or address (`127.0.0.1`, `::1`, `pacs.example`). */
  host: string;
  /** Port (DICOM: 104 or 11112 plain, 2762 over TLS, PS3.15 Annex B.1). */
  port: number;
  /** Cancels the connect; the promise rejects with `ConnectAbortedError`. */
  signal?: AbortSignal;
  /** Gives up after this many ms with `ConnectTimeoutError` (each transport documents its default). */
  timeoutMs?: number;
  /**
   * Local address to bind before connecting (the requestor's own interface);
   * default: chosen by the operating system. Transports without addresses
   * (the in-memory one) report it as their local address.
   */
  localAddress?: string;
  /** Local port to bind before connecting; default (or 0): an ephemeral port. */
  localPort?: number;
}

/** Where to listen. */
export interface ListenOptions {
  /** Address to bind (default `127.0.0.1`; `::` or `0.0.0.0` for all interfaces). */
  host?: string;
  /** Port; 0 picks a free one (read it back from {@link Listener.port}). */
  port: number;
  /** Aborting it closes the listener. */
  signal?: AbortSignal;
}

/** A listening endpoint. */
export interface Listener {
  /** The bound address. */
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops accepting; resolves once no new connection can arrive. Open connections stay open. */
  close(): Promise<void>;
}

/**
 * A way to reach peers: the association layer takes one of these and never
 * a concrete transport (docs/architecture.md, "The transport seam").
 */
export interface Transport {
  /** `'tcp'`, `'tls'`, `'memory'`, ... */
  readonly name: string;
  /** Opens a connection to a listening peer. */
  connect(options: ConnectOptions): Promise<Connection>;
  /** Accepts connections; `onConnection` is called once per accepted connection. */
  listen(options: ListenOptions, onConnection: (connection: Connection) => void): Promise<Listener>;
}
