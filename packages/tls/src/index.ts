/**
 * @packageDocumentation
 * `@dnet/tls`: the TLS transport of dnet over node:tls, configured by the
 * secure transport connection profiles of PS3.15 Annex B (default: BCP 195
 * RFC 8996, Annex B.12; TLS 1.2 and 1.3 only). Server and client
 * certificates, mutual authentication, SNI, certificate reloading without a
 * restart, and the peer certificate exposed in `connection.info` so an
 * association policy can authorize on it.
 *
 * @example
 * ```ts
 * import { DICOM_TLS_PORT, tls } from '@dnet/tls';
 *
 * const server = tls({ ca, cert: serverCert, key: serverKey, clientCertificate: 'require' });
 * await server.listen({ host: '0.0.0.0', port: DICOM_TLS_PORT }, (conn) => {
 *   console.log(conn.info.protocol, conn.info.peerCertificate?.subject.CN);
 * });
 * const client = tls({ ca, cert: clientCert, key: clientKey });
 * const conn = await client.connect({ host: 'pacs.example', port: DICOM_TLS_PORT });
 * ```
 */

export {
  TlsCertificateRejectedError,
  TlsErrorCode,
  type TlsErrorOptions,
  TlsHandshakeError,
} from './errors.js';
export { toPeerCertificate } from './peer-certificate.js';
export {
  OPENSSL_CIPHER_NAMES,
  opensslCipherList,
  TLS_PROFILES,
  TlsProfile,
  type TlsProfileDefinition,
  type TlsProfileName,
  tlsProfile,
} from './profiles.js';
export {
  type ClientCertificateMode,
  DICOM_TLS_PORT,
  type PemInput,
  TLS_DEFAULTS,
  type TlsCredentials,
  type TlsListener,
  type TlsTransport,
  type TlsTransportOptions,
  tls,
} from './tls.js';

/** The package's name, for diagnostics. */
export const packageName = '@dnet/tls';
