import type { DetailedPeerCertificate, PeerCertificate as NodePeerCertificate } from 'node:tls';
import type { PeerCertificate } from '@dnet/transport';

type Names = Readonly<Record<string, string | readonly string[]>>;

function names(value: unknown): Names {
  const out: Record<string, string | readonly string[]> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === 'string') out[k] = v;
      else if (Array.isArray(v)) out[k] = v.map(String);
    }
  }
  return out;
}

/**
 * The transport-neutral `PeerCertificate` (`@dnet/transport`) of a node:tls peer
 * certificate, or undefined when the peer sent none.
 *
 * @param cert - what `TLSSocket.getPeerCertificate()` returned
 */
export function toPeerCertificate(
  cert: NodePeerCertificate | DetailedPeerCertificate | Record<string, never> | null | undefined,
): PeerCertificate | undefined {
  if (!cert || !('raw' in cert) || !cert.raw) return undefined;
  const raw = cert.raw;
  return {
    subject: names(cert.subject),
    issuer: names(cert.issuer),
    ...(cert.subjectaltname ? { subjectAltName: cert.subjectaltname } : {}),
    serialNumber: cert.serialNumber,
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    fingerprint256: cert.fingerprint256,
    raw: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
  };
}
