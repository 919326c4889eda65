import { constants as cryptoConstants, X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import * as nodeTls from 'node:tls';
import {
  ConnectAbortedError,
  type Connection,
  type ConnectionInfo,
  type ConnectOptions,
  ConnectTimeoutError,
  isDnetError,
  type Listener,
  type ListenOptions,
  publishConnection,
  publishFailure,
  type Transport,
} from '@dnet/transport';
import {
  connectSocket,
  listenServer,
  resolveTcpSettings,
  socketConnection,
  type TcpTransportOptions,
} from '@dnet/transport-tcp';
import { TlsCertificateRejectedError, TlsHandshakeError } from './errors.js';
import { toPeerCertificate } from './peer-certificate.js';
import {
  opensslCipherList,
  TlsProfile,
  type TlsProfileDefinition,
  type TlsProfileName,
  tlsProfile,
} from './profiles.js';

/** PEM text or bytes (PEM or, for keys and certificates, whatever node:tls accepts). */
export type PemInput = string | Uint8Array;

/** Certificates and keys; every field may be replaced later without a restart. */
export interface TlsCredentials {
  /** Trusted CA certificates: peers must chain to one of these. Default: Node's root store. */
  ca?: PemInput | readonly PemInput[];
  /** Our certificate chain (required to listen; optional to connect, for mutual authentication). */
  cert?: PemInput | readonly PemInput[];
  /** Our private key(s). */
  key?: PemInput | readonly PemInput[];
  /** Passphrase of an encrypted private key. */
  passphrase?: string;
  /** Certificate revocation lists. */
  crl?: PemInput | readonly PemInput[];
}

/** How a TLS listener treats client certificates (PS3.15 Annex B: mutual authentication). */
export type ClientCertificateMode =
  /** Do not ask for one. */
  | 'none'
  /** Ask; accept clients without one or with one that does not verify (`info.authorized` tells). */
  | 'request'
  /** Ask and require one that verifies against `ca`; refuse the handshake otherwise. */
  | 'require';

/** Options of the {@link tls} transport. */
export interface TlsTransportOptions extends TcpTransportOptions, TlsCredentials {
  /** The PS3.15 Annex B profile (default `bcp195-rfc8996`, Annex B.12). */
  profile?: TlsProfileName;
  /** Listener side: client certificates (default `'none'`). */
  clientCertificate?: ClientCertificateMode;
  /** Dialling side: verify the server's certificate and name (default true). */
  verifyServer?: boolean;
  /** Dialling side: the server name to send (SNI) and check; default the host unless it is an IP address. */
  servername?: string;
  /** Dialling side: replaces Node's host name check of the server certificate. */
  checkServerIdentity?: (host: string, cert: nodeTls.PeerCertificate) => Error | undefined;
  /** Listener side: credentials per server name the client asks for (SNI). */
  sni?: Readonly<Record<string, TlsCredentials>>;
  /** Time for the TLS handshake of an accepted connection, in ms (default 30 000). */
  handshakeTimeoutMs?: number;
  /** Listener side: told about every refused handshake (a plaintext client, a bad certificate). */
  onHandshakeError?: (error: TlsHandshakeError | TlsCertificateRejectedError) => void;
}

/** The default DICOM port over TLS (PS3.15 Annex B.1, IANA "dicom-tls"). */
export const DICOM_TLS_PORT = 2762;

/** Defaults of the {@link tls} transport; LIMITS.md lists them. */
export const TLS_DEFAULTS = {
  /** The PS3.15 Annex B.12 profile. */
  profile: TlsProfile.BCP195_RFC8996,
  /** 30 s for an accepted connection's handshake. */
  handshakeTimeoutMs: 30_000,
} as const;

/** A listener of the {@link tls} transport. */
export interface TlsListener extends Listener {
  /**
   * Replaces the certificates and keys (and SNI credentials) for connections
   * accepted from now on; open connections keep theirs.
   */
  setCredentials(credentials: TlsCredentials, sni?: Readonly<Record<string, TlsCredentials>>): void;
}

/** The {@link tls} transport. */
export interface TlsTransport extends Transport {
  /** The profile in force. */
  readonly profile: TlsProfileDefinition;
  /** Listens; the listener can reload its certificates. */
  listen(
    options: ListenOptions,
    onConnection: (connection: Connection) => void,
  ): Promise<TlsListener>;
  /**
   * Replaces the certificates and keys for connections made from now on, by
   * `connect` and by every listener of this transport (a certificate renewal
   * without a restart).
   */
  setCredentials(credentials: TlsCredentials): void;
}

function buffers(
  value: PemInput | readonly PemInput[] | undefined,
): string | Buffer | (string | Buffer)[] | undefined {
  if (value === undefined) return undefined;
  const one = (v: PemInput) =>
    typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Array.isArray(value) ? value.map(one) : one(value as PemInput);
}

function contextOptions(
  profile: TlsProfileDefinition,
  credentials: TlsCredentials,
  server = false,
): nodeTls.SecureContextOptions {
  const options: nodeTls.SecureContextOptions = {
    // PS3.15 Annex B.9-B.13: TLS 1.2 at least (RFC 8996), the profile's suites.
    minVersion: profile.minVersion,
    maxVersion: profile.maxVersion,
    ciphers: opensslCipherList(profile),
    // BCP 195 (RFC 9325 §4.2): the server picks the strongest suite it supports.
    honorCipherOrder: true,
    dhparam: 'auto',
    // A server refuses client-initiated renegotiation (TLS 1.2; TLS 1.3 has none, RFC 8446):
    // each one costs the server a full handshake, a denial-of-service lever. OpenSSL answers
    // the ClientHello with a no_renegotiation alert; secure renegotiation signalling (RFC 5746,
    // which RFC 9325 §3.5 requires) stays.
    ...(server && { secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION }),
  };
  const ca = buffers(credentials.ca);
  const cert = buffers(credentials.cert);
  const key = buffers(credentials.key);
  const crl = buffers(credentials.crl);
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined) options.cert = cert;
  if (key !== undefined) options.key = key;
  if (crl !== undefined) options.crl = crl;
  if (credentials.passphrase !== undefined) options.passphrase = credentials.passphrase;
  return options;
}

function credentialsOf(options: TlsTransportOptions): TlsCredentials {
  const { ca, cert, key, passphrase, crl } = options;
  return { ca, cert, key, passphrase, crl };
}

/** Checks a peer certificate's key size against the profile (PS3.15 Annex B.13). */
function keySizeProblem(
  profile: TlsProfileDefinition,
  raw: Uint8Array | undefined,
): string | undefined {
  if (!raw || (profile.minRsaKeyBits === 0 && profile.minEcKeyBits === 0)) return undefined;
  const key = new X509Certificate(raw).publicKey;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    const bits = details?.modulusLength ?? 0;
    if (bits < profile.minRsaKeyBits) {
      return `RSA key of ${bits} bits; ${profile.section} requires ${profile.minRsaKeyBits}`;
    }
  } else if (key.asymmetricKeyType === 'ec') {
    const curve = details?.namedCurve ?? '';
    const bits = Number(/(\d{3})/.exec(curve)?.[1] ?? 0);
    if (bits < profile.minEcKeyBits) {
      return `EC key on ${curve}; ${profile.section} requires ${profile.minEcKeyBits} bits`;
    }
  }
  return undefined;
}

function tlsInfo(socket: nodeTls.TLSSocket): Partial<ConnectionInfo> {
  const cipher = socket.getCipher();
  const peerCertificate = toPeerCertificate(socket.getPeerCertificate());
  const servername = (socket as { servername?: unknown }).servername;
  return {
    encrypted: true,
    protocol: socket.getProtocol() ?? undefined,
    cipher: cipher?.standardName ?? cipher?.name,
    ...(typeof servername === 'string' && servername ? { servername } : {}),
    authorized: socket.authorized,
    ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
    ...(peerCertificate ? { peerCertificate } : {}),
  };
}

function handshakeError(
  error: unknown,
  host?: string,
  port?: number,
): TlsHandshakeError | TlsCertificateRejectedError {
  if (error instanceof TlsHandshakeError || error instanceof TlsCertificateRejectedError) {
    return error;
  }
  const reason = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new TlsHandshakeError(`TLS handshake failed: ${message}`, {
    cause: error,
    reason: typeof reason === 'string' ? reason : undefined,
    address: host,
    port,
  });
}

function isIpAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/**
 * The TLS transport: node:tls over the TCP transport's sockets, configured by
 * a PS3.15 Annex B profile (default: BCP 195 RFC 8996, Annex B.12; TLS 1.2
 * and 1.3 only). Server and client certificates, mutual authentication,
 * SNI, certificate reloading, and the peer certificate in `info`.
 *
 * @example
 * ```ts
 * const transport = tls({ ca, cert, key, clientCertificate: 'require' });
 * const listener = await transport.listen({ port: DICOM_TLS_PORT }, onConnection);
 * // later, after renewal:
 * transport.setCredentials({ ca, cert: renewedCert, key: renewedKey });
 * ```
 */
export function tls(options: TlsTransportOptions = {}): TlsTransport {
  const settings = resolveTcpSettings(options);
  const profile = tlsProfile(options.profile ?? TLS_DEFAULTS.profile);
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? TLS_DEFAULTS.handshakeTimeoutMs;
  if (!(handshakeTimeoutMs > 0)) {
    throw new RangeError(`handshakeTimeoutMs must be positive, got ${handshakeTimeoutMs}`);
  }
  const clientCertificate = options.clientCertificate ?? 'none';
  let credentials = credentialsOf(options);
  let clientContext = nodeTls.createSecureContext(contextOptions(profile, credentials));
  const listeners = new Set<TlsListener>();

  const wrap = (socket: nodeTls.TLSSocket, reset: () => void): Connection =>
    socketConnection(socket, {
      info: tlsInfo(socket),
      closeTimeoutMs: settings.closeTimeoutMs,
      readHighWaterMark: settings.readHighWaterMark,
      reset,
    });

  async function connect(connectOptions: ConnectOptions): Promise<Connection> {
    const { host, port, signal } = connectOptions;
    const limit = connectOptions.timeoutMs ?? settings.connectTimeoutMs;
    const started = Date.now();
    const raw = await connectSocket({ ...connectOptions, timeoutMs: limit }, settings);
    const servername = options.servername ?? (isIpAddress(host) ? undefined : host);
    const socket = nodeTls.connect({
      socket: raw,
      secureContext: clientContext,
      host,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: options.verifyServer ?? true,
      ...(options.checkServerIdentity ? { checkServerIdentity: options.checkServerIdentity } : {}),
    });
    // Resetting the raw TCP handle under a live TLS wrap crashes Node
    // (SIGSEGV), so a TLS abort destroys the TLS socket (FIN, no close_notify).
    const reset = () => {
      socket.destroy();
      raw.destroy();
    };
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('secureConnect', onSecure);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const fail = (error: Error) => {
        cleanup();
        reset();
        reject(error);
      };
      const onSecure = () => {
        const problem = keySizeProblem(
          profile,
          toPeerCertificate(socket.getPeerCertificate())?.raw,
        );
        if (problem) {
          fail(new TlsCertificateRejectedError(problem, { address: host, port }));
          return;
        }
        cleanup();
        resolve();
      };
      const onError = (error: Error) => fail(handshakeError(error, host, port));
      const onClose = () =>
        fail(handshakeError(new Error('connection closed during handshake'), host, port));
      const onAbort = () =>
        fail(new ConnectAbortedError({ cause: signal?.reason, address: host, port }));
      const remaining = Math.max(1, limit - (Date.now() - started));
      const timer = setTimeout(
        () => fail(new ConnectTimeoutError(limit, { address: host, port })),
        remaining,
      );
      socket.once('secureConnect', onSecure);
      socket.once('error', onError);
      socket.once('close', onClose);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    return wrap(socket, reset);
  }

  async function listen(
    listenOptions: ListenOptions,
    onConnection: (connection: Connection) => void,
  ): Promise<TlsListener> {
    if ((credentials.cert === undefined || credentials.key === undefined) && !options.sni) {
      throw new TypeError('A TLS listener needs a certificate and a private key (cert, key)');
    }
    let sni = options.sni;
    let sniContexts = new Map<string, nodeTls.SecureContext>();
    const buildSni = () => {
      sniContexts = new Map(
        Object.entries(sni ?? {}).map(([name, creds]) => [
          name.toLowerCase(),
          nodeTls.createSecureContext(contextOptions(profile, { ...credentials, ...creds }, true)),
        ]),
      );
    };
    buildSni();
    const server = nodeTls.createServer({
      ...contextOptions(profile, credentials, true),
      allowHalfOpen: true,
      highWaterMark: settings.writeHighWaterMark,
      noDelay: settings.socket.noDelay,
      keepAlive: settings.socket.keepAlive,
      keepAliveInitialDelay: settings.socket.keepAliveInitialDelayMs,
      handshakeTimeout: handshakeTimeoutMs,
      // PS3.15 Annex B: mutual authentication when the client's certificate is
      // requested. Verification is checked on 'secureConnection' below, so a
      // refused client is reported through onHandshakeError.
      requestCert: clientCertificate !== 'none',
      rejectUnauthorized: false,
      SNICallback: (servername, callback) => {
        callback(null, sniContexts.get(servername.toLowerCase()));
      },
    } as nodeTls.TlsOptions);
    server.on('connection', (raw: Socket) => {
      raw.setNoDelay(settings.socket.noDelay);
      raw.setKeepAlive(settings.socket.keepAlive, settings.socket.keepAliveInitialDelayMs);
    });
    /** Drops a connection that may not be served, and says why. */
    const refuse = (socket: Socket, error: TlsHandshakeError | TlsCertificateRejectedError) => {
      socket.destroy();
      options.onHandshakeError?.(error);
      publishFailure('tls', 'accept', error);
    };
    server.on('tlsClientError', (error, socket) => {
      // A listener here keeps Node from destroying the socket (a handshake timeout, say).
      refuse(socket, handshakeError(error, socket.remoteAddress, socket.remotePort));
    });
    server.on('secureConnection', (socket: nodeTls.TLSSocket) => {
      // Node's own guard too, should a renegotiation get past OpenSSL: the socket fails.
      socket.disableRenegotiation();
      const where = { address: socket.remoteAddress, port: socket.remotePort };
      if (clientCertificate === 'require' && !socket.authorized) {
        // Node reports a client that sent no certificate as an issuer it cannot find: say what happened.
        const sent = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
        const reason = sent
          ? String(socket.authorizationError ?? 'not authorized')
          : 'the client sent no certificate';
        refuse(
          socket,
          new TlsCertificateRejectedError(`Client certificate refused: ${reason}`, where),
        );
        return;
      }
      const problem = keySizeProblem(profile, toPeerCertificate(socket.getPeerCertificate())?.raw);
      if (problem) {
        refuse(socket, new TlsCertificateRejectedError(problem, where));
        return;
      }
      const connection = wrap(socket, () => socket.destroy());
      publishConnection('tls', 'accepted', connection);
      onConnection(connection);
    });
    const base = await listenServer(server, listenOptions, settings.backlog);
    const listener: TlsListener = {
      host: base.host,
      port: base.port,
      close: async () => {
        listeners.delete(listener);
        await base.close();
      },
      setCredentials(next, nextSni) {
        if (nextSni !== undefined) sni = nextSni;
        const merged = { ...credentials, ...next };
        server.setSecureContext(contextOptions(profile, merged, true));
        credentials = merged;
        buildSni();
      },
    };
    listeners.add(listener);
    return listener;
  }

  return {
    name: 'tls',
    profile,
    connect: async (connectOptions) => {
      try {
        return await connect(connectOptions);
      } catch (error) {
        throw isDnetError(error)
          ? error
          : handshakeError(error, connectOptions.host, connectOptions.port);
      }
    },
    listen,
    setCredentials(next) {
      credentials = { ...credentials, ...next };
      clientContext = nodeTls.createSecureContext(contextOptions(profile, credentials));
      for (const listener of listeners) listener.setCredentials(credentials);
    },
  };
}
