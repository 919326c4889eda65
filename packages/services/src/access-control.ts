import {
  createHmac,
  createPublicKey,
  type KeyObject,
  randomBytes,
  scrypt,
  timingSafeEqual,
  verify as verifySignature,
} from 'node:crypto';
import type { AcceptorPolicy, UserIdentityVerdict } from '@dnet/association';
import { type UserIdentityRq, UserIdentityType } from '@dnet/pdu';
import type { PeerCertificate } from '@dnet/transport';
import { InvalidArgumentError } from './errors.js';

/** A ready-made `policy.verifyUserIdentity` (PS3.7 Annex D.3.3.7). */
export type UserIdentityVerifier = NonNullable<AcceptorPolicy['verifyUserIdentity']>;

/** Largest clock skew a {@link JwtVerifierOptions} may allow, in seconds. */
export const MAX_JWT_CLOCK_TOLERANCE_S = 300;
/** Default clock skew allowed on `exp` and `nbf`, in seconds. */
export const DEFAULT_JWT_CLOCK_TOLERANCE_S = 30;
/** Longest JWT read, in bytes (the user identity primary field holds at most 65535). */
const MAX_JWT_LENGTH = 65_535;

/** Options of {@link jwtVerifier}. */
export interface JwtVerifierOptions {
  /**
   * The key: a shared secret (bytes, or a string of at least 32 bytes) for
   * HS256, or a public key (PEM string, `KeyObject`) for RS256 (RSA) or ES256
   * (EC P-256). The algorithm follows from the key: a token naming another
   * is refused (no algorithm confusion, RFC 8725 §3.1).
   */
  key: string | Uint8Array | KeyObject;
  /** Required `iss` (RFC 7519 §4.1.1). */
  issuer?: string;
  /** Required `aud`: the token's `aud` must be or contain it (RFC 7519 §4.1.3). */
  audience?: string;
  /** Clock skew allowed on `exp` / `nbf`, seconds (default 30, at most 300). */
  clockToleranceS?: number;
  /** Refuse a token without `exp` (default true). */
  requireExpiration?: boolean;
  /** The clock, ms since the epoch (tests). */
  now?: () => number;
}

/** What a verified JWT says. */
export interface JwtClaims {
  /** Subject. */
  sub?: string;
  /** Issuer. */
  iss?: string;
  /** Audience. */
  aud?: string | string[];
  /** Expiry, seconds since the epoch. */
  exp?: number;
  /** Not before, seconds since the epoch. */
  nbf?: number;
  /** Any other claim. */
  [claim: string]: unknown;
}

type Algorithm = 'HS256' | 'RS256' | 'ES256';

function keyOf(key: JwtVerifierOptions['key']): { alg: Algorithm; key: KeyObject | Buffer } {
  if (typeof key === 'string' && key.includes('-----BEGIN')) key = createPublicKey(key);
  if (typeof key === 'string' || key instanceof Uint8Array) {
    const secret = Buffer.from(key);
    // RFC 7518 §3.2: an HS256 key shall be at least as long as the hash (32 bytes).
    if (secret.length < 32) {
      throw new InvalidArgumentError(
        'an HS256 JWT secret must be at least 32 bytes (RFC 7518 §3.2)',
      );
    }
    return { alg: 'HS256', key: secret };
  }
  if (key.type !== 'public')
    throw new InvalidArgumentError('a JWT verification key must be public');
  if (key.asymmetricKeyType === 'rsa') return { alg: 'RS256', key };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { alg: 'ES256', key };
  }
  throw new InvalidArgumentError(
    `unsupported JWT key type ${key.asymmetricKeyType} (RSA for RS256, EC P-256 for ES256)`,
  );
}

function json(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes a JWT checker (RFC 7519, JWS compact serialization of RFC 7515):
 * signature by the configured key (HS256, RS256 or ES256), then `exp` and
 * `nbf` within the clock tolerance, then `iss` and `aud` when configured.
 * The checker returns the claims, or a string saying why the token is refused.
 */
export function jwtChecker(options: JwtVerifierOptions): (token: string) => JwtClaims | string {
  const { alg, key } = keyOf(options.key);
  const tolerance = options.clockToleranceS ?? DEFAULT_JWT_CLOCK_TOLERANCE_S;
  if (!(tolerance >= 0 && tolerance <= MAX_JWT_CLOCK_TOLERANCE_S)) {
    throw new InvalidArgumentError(
      `clockToleranceS must be 0 to ${MAX_JWT_CLOCK_TOLERANCE_S} seconds, got ${tolerance}`,
    );
  }
  const now = options.now ?? Date.now;
  const requireExp = options.requireExpiration ?? true;
  return (token) => {
    if (token.length > MAX_JWT_LENGTH) return 'token too long';
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
      return 'not a JWS compact serialization';
    }
    const [head, body, sig] = parts as [string, string, string];
    const header = json(head);
    if (!header) return 'unreadable header';
    if (header.alg !== alg) return `algorithm ${String(header.alg)} is not the key's ${alg}`;
    // RFC 7515 §4.1.11: extensions we do not understand make the token invalid.
    if (header.crit !== undefined) return 'critical header extensions are not supported';
    const signed = Buffer.from(`${head}.${body}`);
    const signature = Buffer.from(sig, 'base64url');
    let valid: boolean;
    if (alg === 'HS256') {
      const expected = createHmac('sha256', key as Buffer)
        .update(signed)
        .digest();
      valid = signature.length === expected.length && timingSafeEqual(signature, expected);
    } else {
      // RFC 7518 §3.4: ES256 signatures are R || S (IEEE P1363), 64 bytes.
      valid = verifySignature(
        'sha256',
        signed,
        alg === 'ES256' ? { key: key as KeyObject, dsaEncoding: 'ieee-p1363' } : (key as KeyObject),
        signature,
      );
    }
    if (!valid) return 'bad signature';
    const claims = json(body) as JwtClaims | undefined;
    if (!claims) return 'unreadable claims';
    const t = now() / 1000;
    if (claims.exp !== undefined) {
      if (typeof claims.exp !== 'number') return 'exp is not a number';
      if (t > claims.exp + tolerance) return 'expired';
    } else if (requireExp) return 'no exp claim';
    if (claims.nbf !== undefined) {
      if (typeof claims.nbf !== 'number') return 'nbf is not a number';
      if (t < claims.nbf - tolerance) return 'not valid yet (nbf)';
    }
    if (options.issuer !== undefined && claims.iss !== options.issuer) return 'wrong issuer';
    if (options.audience !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(options.audience)) return 'wrong audience';
    }
    return claims;
  };
}

/**
 * A user identity verifier for JSON Web Tokens (user identity type 5,
 * PS3.7 Annex D.3.3.7): the primary field is the token, checked by
 * `jwtChecker`. Other identity types are refused.
 *
 * @example
 * ```ts
 * Server.listen({ ..., policy: { requireUserIdentity: true,
 *   verifyUserIdentity: jwtVerifier({ key: readFileSync('issuer.pub.pem', 'utf8'), issuer: 'https://idp' }) } });
 * ```
 */
export function jwtVerifier(options: JwtVerifierOptions): UserIdentityVerifier {
  return userIdentityVerifier({ jwt: options });
}

/** Options of {@link userIdentityVerifier}. */
export interface UserIdentityVerifierOptions {
  /** Accept JWTs (type 5) checked with these options. */
  jwt?: JwtVerifierOptions;
  /**
   * Accept usernames with passcodes (type 2): user name to a hash made by
   * {@link hashPassword} (`scrypt$...`).
   */
  users?: Readonly<Record<string, string>>;
}

/**
 * A user identity verifier (PS3.7 Annex D.3.3.7) for JWTs (type 5) and
 * username/passcode (type 2), as configured; other types, and a username
 * without a passcode (type 1), are refused.
 */
export function userIdentityVerifier(options: UserIdentityVerifierOptions): UserIdentityVerifier {
  const checkJwt = options.jwt && jwtChecker(options.jwt);
  const users = options.users && new Map(Object.entries(options.users));
  if (users) for (const [name, hash] of users) parseHash(hash, name);
  const text = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: false }).decode(b);
  return async (identity: UserIdentityRq): Promise<UserIdentityVerdict> => {
    if (identity.type === UserIdentityType.JWT && checkJwt) {
      const r = checkJwt(text(identity.primaryField));
      return typeof r === 'string' ? { accepted: false, cause: `JWT ${r}` } : { accepted: true };
    }
    if (identity.type === UserIdentityType.USERNAME_AND_PASSCODE && users) {
      const name = text(identity.primaryField);
      const hash = users.get(name);
      const ok = await checkPassword(identity.secondaryField, hash);
      return ok
        ? { accepted: true }
        : { accepted: false, cause: `wrong user or password (${name.slice(0, 64)})` };
    }
    return { accepted: false, cause: `identity type ${identity.type} is not accepted` };
  };
}

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;
/** A hash checked when the user is unknown, so the time taken does not tell. */
let dummyHash: string | undefined;

function scryptAsync(password: Uint8Array, salt: Buffer, n: number, r: number, p: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, 32, { N: n, r, p, maxmem: 128 * n * r * 2 }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

function parseHash(hash: string, user: string) {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  const n = Number(m?.[1]);
  const r = Number(m?.[2]);
  const p = Number(m?.[3]);
  // Bounded cost: a hash file must not make each association allocate without limit.
  if (!m || n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new InvalidArgumentError(
      `the password hash of ${JSON.stringify(user)} is not scrypt$N$r$p$salt$hash (see hashPassword)`,
    );
  }
  return { n, r, p, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

/** Hashes a password with scrypt (RFC 7914) into `scrypt$N$r$p$salt$hash` for {@link userIdentityVerifier}. */
export async function hashPassword(password: string | Uint8Array): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(Buffer.from(password), salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

async function checkPassword(password: Uint8Array, hash: string | undefined): Promise<boolean> {
  dummyHash ??= await hashPassword(randomBytes(16));
  const h = parseHash(hash ?? dummyHash, '');
  const key = await scryptAsync(password, h.salt, h.n, h.r, h.p);
  return hash !== undefined && key.length === h.key.length && timingSafeEqual(key, h.key);
}

/** What a {@link CertificateAuthorizer} answers. */
export type CertificateVerdict = boolean | { accepted: boolean; cause?: string };

/**
 * Decides at association time whether a TLS peer may associate, from its
 * certificate (undefined: no TLS, or no client certificate) and the calling
 * AE title. A refusal is an A-ASSOCIATE-RJ rejected-permanent, service-provider
 * (ACSE related), no-reason-given (PS3.7 Annex D.3.3.7, PS3.8 Table 9-21).
 */
export type CertificateAuthorizer = (
  certificate: PeerCertificate | undefined,
  request: { callingAeTitle: string; calledAeTitle: string },
) => CertificateVerdict | Promise<CertificateVerdict>;

/** Normalises a SHA-256 fingerprint: upper-case hex with colons. */
export function normalizeFingerprint(value: string): string {
  const hex = value.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? '';
}

/**
 * A {@link CertificateAuthorizer} that lets in peers whose certificate has
 * one of the subject common names (`CN`) or SHA-256 fingerprints given; no
 * certificate is refused.
 */
export function allowCertificates(allowed: {
  subjects?: readonly string[];
  fingerprints?: readonly string[];
}): CertificateAuthorizer {
  const subjects = new Set(allowed.subjects ?? []);
  const fingerprints = new Set((allowed.fingerprints ?? []).map(normalizeFingerprint));
  return (cert) => {
    if (!cert) return { accepted: false, cause: 'no client certificate' };
    const cn = cert.subject.CN;
    const names = cn === undefined ? [] : typeof cn === 'string' ? [cn] : [...cn];
    if (names.some((n) => subjects.has(n))) return true;
    if (fingerprints.has(normalizeFingerprint(cert.fingerprint256))) return true;
    return { accepted: false, cause: `certificate CN=${names.join(',')} is not allowed` };
  };
}
