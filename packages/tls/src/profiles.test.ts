import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  OPENSSL_CIPHER_NAMES,
  opensslCipherList,
  TLS_PROFILES,
  TlsProfile,
  tlsProfile,
} from './index.js';

describe('PS3.15 Annex B profiles', () => {
  it('names five profiles, the BCP 195 RFC 8996 one first', () => {
    expect(Object.values(TlsProfile)).toEqual([
      'bcp195-rfc8996',
      'modified-bcp195-rfc8996',
      'bcp195',
      'non-downgrading-bcp195',
      'extended-bcp195',
    ]);
    expect(tlsProfile('bcp195-rfc8996').section).toBe('PS3.15 Annex B.12');
  });

  it('never allow anything below TLS 1.2 (RFC 8996)', () => {
    for (const profile of Object.values(TLS_PROFILES)) expect(profile.minVersion).toBe('TLSv1.2');
  });

  it('offer only AEAD ECDHE suites in the current profiles', () => {
    for (const name of ['bcp195-rfc8996', 'modified-bcp195-rfc8996'] as const) {
      for (const suite of TLS_PROFILES[name].tls12CipherSuites) {
        expect(suite).toMatch(/^TLS_ECDHE_(RSA|ECDSA)_WITH_.*(GCM|CCM|CHACHA20_POLY1305)/);
      }
    }
  });

  it('the retired profiles are marked so', () => {
    expect(
      Object.values(TLS_PROFILES)
        .filter((p) => p.retired)
        .map((p) => p.name),
    ).toEqual(['bcp195', 'non-downgrading-bcp195', 'extended-bcp195']);
  });

  it('every suite has an OpenSSL name this Node knows, and every profile builds a context', () => {
    for (const profile of Object.values(TLS_PROFILES)) {
      for (const suite of profile.tls12CipherSuites) {
        const name = OPENSSL_CIPHER_NAMES[suite];
        expect(name, suite).toBeDefined();
        // OpenSSL refuses a cipher string with no suite it knows ("no cipher match").
        expect(
          () => createSecureContext({ maxVersion: 'TLSv1.2', ciphers: name! }),
          name,
        ).not.toThrow();
      }
      expect(() =>
        createSecureContext({
          minVersion: profile.minVersion,
          maxVersion: profile.maxVersion,
          ciphers: opensslCipherList(profile),
        }),
      ).not.toThrow();
    }
  });

  it('lists TLS 1.2 suites by OpenSSL name, then TLS 1.3 suites by IANA name', () => {
    expect(opensslCipherList(TLS_PROFILES['bcp195-rfc8996'])).toBe(
      'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:' +
        'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:' +
        'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    );
  });
});
