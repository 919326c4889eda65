import { TransportError, type TransportErrorOptions } from '@dnet/transport';

/** Stable codes of the TLS errors. */
export const TlsErrorCode = {
  /** The TLS handshake failed: no common version or cipher suite, a bad certificate, a timeout. */
  HANDSHAKE_FAILED: 'DNET_TLS_HANDSHAKE_FAILED',
  /** The peer's certificate breaks the profile (a key too small for PS3.15 Annex B.13, say). */
  CERTIFICATE_REJECTED: 'DNET_TLS_CERTIFICATE_REJECTED',
} as const;

/** Options of a TLS error. */
export interface TlsErrorOptions extends TransportErrorOptions {
  /** OpenSSL's or Node's code for the failure (`ERR_SSL_...`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`). */
  reason?: string;
}

/** The TLS handshake with the peer failed. */
export class TlsHandshakeError extends TransportError {
  /** OpenSSL's or Node's code for the failure, when known. */
  readonly reason: string | undefined;
  /** @param message - what failed; @param options - cause, reason and address */
  constructor(message: string, options: TlsErrorOptions = {}) {
    super(message, TlsErrorCode.HANDSHAKE_FAILED, options);
    this.name = 'TlsHandshakeError';
    this.reason = options.reason;
  }
}

/** The peer's certificate is not acceptable under the profile. */
export class TlsCertificateRejectedError extends TransportError {
  /** @param message - why; @param options - cause and address */
  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, TlsErrorCode.CERTIFICATE_REJECTED, options);
    this.name = 'TlsCertificateRejectedError';
  }
}
