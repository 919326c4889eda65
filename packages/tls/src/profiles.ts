/**
 * The secure transport connection profiles of PS3.15 Annex B, as TLS
 * settings: protocol versions and cipher suites. Nothing below TLS 1.2 is
 * ever offered or accepted (RFC 8996 deprecates TLS 1.0 and 1.1).
 */

/** Names of the PS3.15 Annex B profiles dnet implements. */
export const TlsProfile = {
  /** PS3.15 Annex B.12, BCP 195 RFC 8996 TLS Secure Transport Connection Profile: the default. */
  BCP195_RFC8996: 'bcp195-rfc8996',
  /** PS3.15 Annex B.13, Modified BCP 195 RFC 8996 TLS Secure Transport Connection Profile. */
  MODIFIED_BCP195_RFC8996: 'modified-bcp195-rfc8996',
  /** PS3.15 Annex B.9, BCP 195 TLS Secure Transport Connection Profile (retired), for old peers. */
  BCP195: 'bcp195',
  /** PS3.15 Annex B.10, Non-Downgrading BCP 195 TLS Secure Transport Connection Profile (retired). */
  NON_DOWNGRADING_BCP195: 'non-downgrading-bcp195',
  /** PS3.15 Annex B.11, Extended BCP 195 TLS Secure Transport Connection Profile (retired). */
  EXTENDED_BCP195: 'extended-bcp195',
} as const;

/** One of the {@link TlsProfile} names. */
export type TlsProfileName = (typeof TlsProfile)[keyof typeof TlsProfile];

/** What a profile allows. Cipher suites carry their IANA (RFC) names. */
export interface TlsProfileDefinition {
  /** The profile's name. */
  readonly name: TlsProfileName;
  /** Where PS3.15 defines it. */
  readonly section: string;
  /** True for the profiles PS3.15 has retired. */
  readonly retired: boolean;
  /** Lowest protocol version accepted. */
  readonly minVersion: 'TLSv1.2';
  /** Highest protocol version offered. */
  readonly maxVersion: 'TLSv1.2' | 'TLSv1.3';
  /** TLS 1.2 cipher suites, most preferred first. */
  readonly tls12CipherSuites: readonly string[];
  /** TLS 1.3 cipher suites, most preferred first (empty when TLS 1.3 is off). */
  readonly tls13CipherSuites: readonly string[];
  /** Smallest RSA key a peer certificate may carry, in bits (0: no check beyond OpenSSL's). */
  readonly minRsaKeyBits: number;
  /** Smallest EC key a peer certificate may carry, in bits (0: no check beyond OpenSSL's). */
  readonly minEcKeyBits: number;
}

/** The TLS 1.3 suites RFC 9325 §4.2 recommends, as OpenSSL enables them by default. */
const TLS13_DEFAULT = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
] as const;

/** The four ECDHE AEAD suites RFC 9325 §4.2 recommends for TLS 1.2. */
const RFC9325_TLS12 = [
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
] as const;

/** The suites of the retired BCP 195 profiles (RFC 7525 §4.2). */
const RFC7525_TLS12 = [
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
] as const;

/** The profiles by name. */
export const TLS_PROFILES: Readonly<Record<TlsProfileName, TlsProfileDefinition>> = {
  // PS3.15 Annex B.12: TLS 1.2 or later per BCP 195 (RFC 8996, RFC 9325); the
  // RFC 9325 §4.2 suites, as DCMTK's default profile offers them.
  'bcp195-rfc8996': {
    name: 'bcp195-rfc8996',
    section: 'PS3.15 Annex B.12',
    retired: false,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12CipherSuites: RFC9325_TLS12,
    tls13CipherSuites: TLS13_DEFAULT,
    minRsaKeyBits: 0,
    minEcKeyBits: 0,
  },
  // PS3.15 Annex B.13: the profile's own list of TLS 1.2 and TLS 1.3 suites,
  // and peer keys of at least 2048 bits (RSA) or 256 bits (EC).
  'modified-bcp195-rfc8996': {
    name: 'modified-bcp195-rfc8996',
    section: 'PS3.15 Annex B.13',
    retired: false,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12CipherSuites: [
      'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_ECDSA_WITH_AES_256_CCM',
      'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8',
      'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
      'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
      'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    ],
    tls13CipherSuites: [
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
      'TLS_AES_128_GCM_SHA256',
      'TLS_AES_128_CCM_SHA256',
      'TLS_AES_128_CCM_8_SHA256',
    ],
    minRsaKeyBits: 2048,
    minEcKeyBits: 256,
  },
  // PS3.15 Annex B.9 (retired): RFC 7525's suites plus the backward-compatible
  // TLS_RSA_WITH_AES_128_CBC_SHA; dnet still refuses anything below TLS 1.2.
  bcp195: {
    name: 'bcp195',
    section: 'PS3.15 Annex B.9',
    retired: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12CipherSuites: [...RFC7525_TLS12, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
    tls13CipherSuites: TLS13_DEFAULT,
    minRsaKeyBits: 0,
    minEcKeyBits: 0,
  },
  // PS3.15 Annex B.10 (retired): RFC 7525's suites, no fallback below TLS 1.2.
  'non-downgrading-bcp195': {
    name: 'non-downgrading-bcp195',
    section: 'PS3.15 Annex B.10',
    retired: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12CipherSuites: RFC7525_TLS12,
    tls13CipherSuites: TLS13_DEFAULT,
    minRsaKeyBits: 0,
    minEcKeyBits: 0,
  },
  // PS3.15 Annex B.11 (retired): TLS 1.2 only, RFC 7525's suites plus the ECDSA ones.
  'extended-bcp195': {
    name: 'extended-bcp195',
    section: 'PS3.15 Annex B.11',
    retired: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    tls12CipherSuites: [
      ...RFC7525_TLS12,
      'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    ],
    tls13CipherSuites: [],
    minRsaKeyBits: 0,
    minEcKeyBits: 0,
  },
};

/** IANA cipher suite names and the names OpenSSL (and so node:tls) knows them by. */
export const OPENSSL_CIPHER_NAMES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CCM: 'ECDHE-ECDSA-AES256-CCM',
  TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8: 'ECDHE-ECDSA-AES256-CCM8',
  TLS_ECDHE_ECDSA_WITH_AES_128_CCM: 'ECDHE-ECDSA-AES128-CCM',
  TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8: 'ECDHE-ECDSA-AES128-CCM8',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

/**
 * The `ciphers` string node:tls takes for a profile: OpenSSL names of the
 * TLS 1.2 suites, then the TLS 1.3 suites (which keep their IANA names).
 *
 * @param profile - the profile
 */
export function opensslCipherList(profile: TlsProfileDefinition): string {
  const tls12 = profile.tls12CipherSuites.map((suite) => {
    const name = OPENSSL_CIPHER_NAMES[suite];
    if (!name) throw new Error(`No OpenSSL name for ${suite}`);
    return name;
  });
  return [...tls12, ...profile.tls13CipherSuites].join(':');
}

/** The profile of that name; throws a RangeError for an unknown name. */
export function tlsProfile(name: TlsProfileName): TlsProfileDefinition {
  const profile = (TLS_PROFILES as Record<string, TlsProfileDefinition | undefined>)[name];
  if (!profile) {
    throw new RangeError(
      `Unknown TLS profile '${name}'; known: ${Object.keys(TLS_PROFILES).join(', ')}`,
    );
  }
  return profile;
}
