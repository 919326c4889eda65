import { createHmac, timingSafeEqual } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { type UserIdentityRq, UserIdentityType } from '@dnet/pdu';
import { Client, Server, verification } from '@dnet/services';
import { memory } from '@dnet/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'reliability-secret';
const utf8 = (s: string) => new TextEncoder().encode(s);
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** An HS256 JWT (RFC 7519) signed with KEY. */
function jwt(claims: object, key = KEY): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  return `${head}.${body}.${b64url(createHmac('sha256', key).update(`${head}.${body}`).digest())}`;
}

/** Checks a JWT's HS256 signature against KEY and its expiry (what a verifier hook must do today). */
function jwtValid(token: string): boolean {
  const [head, body, sig] = token.split('.');
  if (!head || !body || !sig) return false;
  const expected = createHmac('sha256', KEY).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { exp?: number };
  return claims.exp === undefined || claims.exp * 1000 > Date.now();
}

function verify(identity: UserIdentityRq): boolean {
  const primary = new TextDecoder().decode(identity.primaryField);
  if (identity.type === UserIdentityType.USERNAME_AND_PASSCODE) {
    return primary === 'alice' && new TextDecoder().decode(identity.secondaryField) === 'pw';
  }
  if (identity.type === UserIdentityType.JWT) return jwtValid(primary);
  return false;
}

describe('access control of a Server (PS3.8 §9.3.4 Table 9-21 results)', () => {
  const transport = memory();
  let server: Server;
  beforeAll(async () => {
    server = await Server.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'SCP',
      handlers: { echo: () => 0 },
      maxAssociations: 2,
      policy: { callingAeTitles: ['GOOD'], requireUserIdentity: true, verifyUserIdentity: verify },
    });
  });
  afterAll(async () => {
    await server.close({ timeoutMs: 1000 });
  });

  const connect = (calling: string, userIdentity?: UserIdentityRq, called = 'SCP') =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: calling,
      calledAeTitle: called,
      contexts: [verification()],
      ...(userIdentity && { userIdentity }),
    });
  const password = (user: string, pw: string): UserIdentityRq => ({
    type: UserIdentityType.USERNAME_AND_PASSCODE,
    positiveResponseRequested: false,
    primaryField: utf8(user),
    secondaryField: utf8(pw),
  });
  const token = (t: string): UserIdentityRq => ({
    type: UserIdentityType.JWT,
    positiveResponseRequested: false,
    primaryField: utf8(t),
    secondaryField: new Uint8Array(0),
  });
  const rejection = async (p: Promise<Client>) => {
    const e = (await p.then(
      (c) => {
        c.abort();
        return { accepted: true };
      },
      (error: unknown) => error,
    )) as { code?: string; result?: number; source?: number; reason?: number };
    return { code: e.code, result: e.result, source: e.source, reason: e.reason };
  };

  it('a calling AE title not on the allow-list: rejected-permanent, service-user, calling-AE-title-not-recognized', async () => {
    expect(await rejection(connect('BAD', password('alice', 'pw')))).toMatchObject({
      result: 1,
      source: 1,
      reason: 3,
    });
  });

  it('a called AE title that is not ours: rejected-permanent, service-user, called-AE-title-not-recognized', async () => {
    expect(await rejection(connect('GOOD', password('alice', 'pw'), 'OTHER'))).toMatchObject({
      result: 1,
      source: 1,
      reason: 7,
    });
  });

  it('no user identity, a wrong password, a JWT with a bad signature or expired: rejected-permanent, service-provider (ACSE), no-reason-given', async () => {
    for (const identity of [
      undefined,
      password('alice', 'wrong'),
      token(jwt({ sub: 'alice' }, 'other-key')),
      token(jwt({ sub: 'alice', exp: 1 })),
      token('not.a.jwt'),
    ]) {
      // PS3.7 Annex D.3.3.7: an authorization failure is rejected-permanent with the source
      // "DICOM UL service-provider (ACSE related function)", here no-reason-given.
      expect(await rejection(connect('GOOD', identity))).toMatchObject({
        result: 1,
        source: 2,
        reason: 1,
      });
    }
  });

  it('the right password or a valid JWT is accepted', async () => {
    for (const identity of [
      password('alice', 'pw'),
      token(jwt({ sub: 'alice', exp: Date.now() / 1000 + 60 })),
    ]) {
      const client = await connect('GOOD', identity);
      expect(await client.echo()).toBe(0);
      await client.release();
    }
  });

  it('each refusal is published on dnet:association:rejected by the acceptor, with result, source and reason', async () => {
    const seen: { role: string; result: number; source: number; reason: number }[] = [];
    const listener = (message: unknown) => {
      const { association, error } = message as {
        association: { role: string };
        error: { result: number; source: number; reason: number };
      };
      seen.push({
        role: association.role,
        result: error.result,
        source: error.source,
        reason: error.reason,
      });
    };
    diagnosticsChannel.subscribe('dnet:association:rejected', listener);
    try {
      await rejection(connect('BAD', password('alice', 'pw')));
      await rejection(connect('GOOD', password('alice', 'wrong')));
    } finally {
      diagnosticsChannel.unsubscribe('dnet:association:rejected', listener);
    }
    expect(seen.filter((s) => s.role === 'acceptor')).toEqual([
      { role: 'acceptor', result: 1, source: 1, reason: 3 },
      { role: 'acceptor', result: 1, source: 2, reason: 1 },
    ]);
  });

  it('past maxAssociations: rejected-transient, service-provider (presentation), local-limit-exceeded', async () => {
    const held = [
      await connect('GOOD', password('alice', 'pw')),
      await connect('GOOD', password('alice', 'pw')),
    ];
    expect(await rejection(connect('GOOD', password('alice', 'pw')))).toMatchObject({
      result: 2,
      source: 3,
      reason: 2,
    });
    for (const c of held) await c.release();
  });
});
