/**
 * The byte-stream half of the transport seam: a {@link Connection} is a duplex
 * stream of `Uint8Array` between two DICOM application entities. The PS3.8
 * upper layer (§9.1.1, "TCP/IP" in PS3.8 §9.1) needs exactly this from its
 * transport: an ordered, reliable byte stream with a graceful close (FIN) and
 * an abort.
 */

/**
 * The certificate a TLS peer presented, in a transport-neutral shape so an
 * association policy can authorize on it (PS3.15 Annex B: the peer's identity
 * is carried by its X.509 certificate).
 */
export interface PeerCertificate {
  /** Subject distinguished name fields (`CN`, `O`, ...). */
  readonly subject: Readonly<Record<string, string | readonly string[]>>;
  /** Issuer distinguished name fields. */
  readonly issuer: Readonly<Record<string, string | readonly string[]>>;
  /** The subjectAltName extension as text (`IP Address:127.0.0.1, DNS:localhost`), if present. */
  readonly subjectAltName?: string;
  /** Serial number, upper-case hex. */
  readonly serialNumber: string;
  /** Start of validity, as printed by OpenSSL (`Nov 25 07:00:00 2026 GMT`). */
  readonly validFrom: string;
  /** End of validity, as printed by OpenSSL. */
  readonly validTo: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex. */
  readonly fingerprint256: string;
  /** The certificate, DER-encoded (parse it with `new X509Certificate(raw)` from node:crypto). */
  readonly raw: Uint8Array;
}

/** Who is at both ends of a connection, and how it is protected. */
export interface ConnectionInfo {
  /** The peer's address (`127.0.0.1`, `::1`, or a memory transport's host). */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** This side's address. */
  readonly localAddress: string;
  /** This side's port. */
  readonly localPort: number;
  /** True over TLS. */
  readonly encrypted: boolean;
  /** The negotiated protocol, e.g. `TLSv1.3`, when encrypted. */
  readonly protocol?: string;
  /** The negotiated cipher suite by its IANA name (`TLS_AES_256_GCM_SHA384`), when encrypted. */
  readonly cipher?: string;
  /** The server name the client asked for (SNI), when encrypted and one was sent. */
  readonly servername?: string;
  /** True when the peer's certificate verified against the trusted CAs. */
  readonly authorized?: boolean;
  /** Why the peer's certificate did not verify (OpenSSL's code), when it did not. */
  readonly authorizationError?: string;
  /** The peer's certificate, when the peer sent one (TLS). */
  readonly peerCertificate?: PeerCertificate;
}

/**
 * A duplex byte stream. Reads are `for await (const chunk of connection)`;
 * writes are gathered and report backpressure.
 *
 * Lifecycle: reads end at the peer's FIN. This side's {@link Connection.close}
 * sends our FIN (half-close): reads continue until the peer closes too, and
 * `close()` resolves when both directions are done. After the reads end the
 * owner should call `close()` (or `abort()`) to finish its own direction.
 */
export interface Connection extends AsyncIterable<Uint8Array> {
  /**
   * Queues the chunks as one gathered write (no concatenation); returns false
   * when the caller should await {@link Connection.drained} before writing more.
   * The chunks must not be modified until the write has drained.
   * @throws ConnectionClosedError after `close()` or `abort()`, or once the connection failed.
   */
  write(chunks: Uint8Array | readonly Uint8Array[]): boolean;
  /** Resolves when the write buffer has drained (at once if it is not full); rejects if the connection fails. */
  drained(): Promise<void>;
  /**
   * Optional: true when every chunk passed to {@link Connection.write} so far
   * has been handed to the operating system (copied out), so the caller may
   * reuse that memory. A transport that keeps references to written chunks
   * (the in-memory transport hands them to the peer) leaves it out.
   */
  flushed?(): boolean;
  /**
   * Optional: bytes passed to {@link Connection.write} that the transport has
   * not yet handed on (to the operating system, or to the peer's reader for
   * the in-memory transport). A caller that waits for {@link Connection.drained}
   * watches it fall to tell a slow peer from one that accepts nothing at all
   * (the association's send deadline). A transport that cannot tell leaves it out.
   */
  queuedBytes?(): number;
  /**
   * Graceful: flush what is queued, send FIN; resolves when the connection is
   * fully closed (the peer closed its direction too, or the transport's close
   * timeout expired and the connection was destroyed). Never rejects. When no
   * reader was ever started, data arriving from then on is discarded, so the
   * close can complete.
   */
  close(): Promise<void>;
  /** Immediate: drop queued data and destroy the connection (TCP: sends RST). */
  abort(reason?: Error): void;
  /**
   * Reads: `for await (const chunk of connection)`; ends at the peer's FIN,
   * throws on error. A reader that stops pulling pauses the socket
   * (backpressure). Only one reader at a time; leaving the loop early (break)
   * stops reading: later data is discarded so the connection can still close.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /** Settles once the connection is closed, for whatever reason (never rejects). */
  readonly closed: Promise<void>;
  /** Addresses and security of the connection. */
  readonly info: ConnectionInfo;
}
