/**
 * Socket options that suit DICOM, and the function that returns them (as
 * LEADTOOLS' `GetDefaultSocketOptions` does).
 */

/** Options applied to every TCP socket the transport opens or accepts. */
export interface SocketOptions {
  /**
   * TCP_NODELAY: send small PDUs (A-ASSOCIATE, C-ECHO, a C-MOVE's pending
   * responses) at once. With Nagle's algorithm on, a request/response
   * protocol like DIMSE stalls on delayed ACKs (DCMTK over loopback crawls).
   */
  noDelay: boolean;
  /** SO_KEEPALIVE: notice a peer that vanished during a long idle association. */
  keepAlive: boolean;
  /** Idle time before the first keep-alive probe, in ms. */
  keepAliveInitialDelayMs: number;
}

/**
 * The default socket options: TCP_NODELAY on, keep-alive on after 60 s idle.
 *
 * @example
 * ```ts
 * const transport = tcp({ socket: { ...defaultSocketOptions(), keepAliveInitialDelayMs: 10_000 } });
 * ```
 */
export function defaultSocketOptions(): SocketOptions {
  return { noDelay: true, keepAlive: true, keepAliveInitialDelayMs: 60_000 };
}
