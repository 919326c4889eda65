import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Association } from '@dnet/association';
import { type UserIdentityRq, UserIdentityType } from '@dnet/pdu';
import { memory } from '@dnet/transport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  allowCertificates,
  hashPassword,
  jwtChecker,
  normalizeFingerprint,
  userIdentityVerifier,
} from './access-control.js';
import { localLimitRejection } from './admission.js';
import { Client } from './client.js';
import { verification } from './contexts.js';
import { isDnetError } from './errors.js';
import { type RejectedAssociation, Server, type ServerOptions } from './server.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const NOW = 1_800_000_000_000;
const b64 = (v: object | Buffer) =>
  Buffer.from(v instanceof Buffer ? v : JSON.stringify(v)).toString('base64url');

function sign(claims: object, how: { alg: string; key: string | KeyObject }): string {
  const head = b64({ alg: how.alg, typ: 'JWT' });
  const input = `${head}.${b64(claims)}`;
  let sig: Buffer;
  if (how.alg === 'HS256')
    sig = createHmac('sha256', how.key as string)
      .update(input)
      .digest();
  else if (how.alg === 'RS256')
    sig = createSign('sha256')
      .update(input)
      .sign(how.key as KeyObject);
  else {
    sig = createSign('sha256')
      .update(input)
      .sign({ key: how.key as KeyObject, dsaEncoding: 'ieee-p1363' });
  }
  return `${input}.${b64(sig)}`;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const jwtIdentity = (token: string): UserIdentityRq => ({
  type: UserIdentityType.JWT,
  positiveResponseRequested: false,
  primaryField: utf8(token),
  secondaryField: new Uint8Array(0),
});
const passwordIdentity = (user: string, pw: string): UserIdentityRq => ({
  type: UserIdentityType.USERNAME_AND_PASSCODE,
  positiveResponseRequested: false,
  primaryField: utf8(user),
  secondaryField: utf8(pw),
});

describe('jwtChecker (RFC 7519, RFC 7515/7518)', () => {
  const exp = NOW / 1000 + 60;
  const hs = { alg: 'HS256', key: SECRET };

  it('HS256: a valid token gives its claims; bad signature, expiry, nbf, issuer and audience are refused', () => {
    const check = jwtChecker({ key: SECRET, issuer: 'idp', audience: 'pacs', now: () => NOW });
    const good = { sub: 'alice', iss: 'idp', aud: ['x', 'pacs'], exp };
    expect(check(sign(good, hs))).toMatchObject({ sub: 'alice' });
    expect(check(sign(good, { alg: 'HS256', key: `${SECRET}x` }))).toBe('bad signature');
    // 30 s of clock skew by default: 29 s past exp passes, 31 s does not.
    expect(typeof check(sign({ ...good, exp: NOW / 1000 - 29 }, hs))).toBe('object');
    expect(check(sign({ ...good, exp: NOW / 1000 - 31 }, hs))).toBe('expired');
    expect(check(sign({ ...good, nbf: NOW / 1000 + 31 }, hs))).toBe('not valid yet (nbf)');
    expect(check(sign({ ...good, iss: 'other' }, hs))).toBe('wrong issuer');
    expect(check(sign({ ...good, aud: 'other' }, hs))).toBe('wrong audience');
    const { exp: _, ...noExp } = good;
    expect(check(sign(noExp, hs))).toBe('no exp claim');
    expect(jwtChecker({ key: SECRET, requireExpiration: false })(sign(noExp, hs))).toMatchObject({
      sub: 'alice',
    });
  });

  it('refuses alg none, another algorithm than the key, crit headers and garbage', () => {
    const check = jwtChecker({ key: SECRET, now: () => NOW });
    const none = `${b64({ alg: 'none' })}.${b64({ exp })}.`;
    expect(check(none)).toMatch(/algorithm none/);
    const crit = `${b64({ alg: 'HS256', crit: ['x'] })}.${b64({ exp })}`;
    const critToken = `${crit}.${b64(createHmac('sha256', SECRET).update(crit).digest())}`;
    expect(check(critToken)).toMatch(/critical/);
    for (const junk of ['', 'a.b', 'a.b.c.d', '!!.??.**', `${b64({ alg: 'HS256' })}.e30.`]) {
      expect(typeof check(junk)).toBe('string');
    }
    expect(check('x'.repeat(70_000))).toBe('token too long');
  });

  it('RS256 and ES256 with a public key; an HS256 token made with the public key as secret is refused', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rs = jwtChecker({ key: rsaPem, now: () => NOW });
    expect(rs(sign({ sub: 'r', exp }, { alg: 'RS256', key: rsa.privateKey }))).toMatchObject({
      sub: 'r',
    });
    // Algorithm confusion (RFC 8725 §2.1): the public PEM used as an HMAC secret.
    expect(rs(sign({ sub: 'r', exp }, { alg: 'HS256', key: rsaPem }))).toMatch(/algorithm HS256/);
    const es = jwtChecker({ key: ec.publicKey, now: () => NOW });
    expect(es(sign({ sub: 'e', exp }, { alg: 'ES256', key: ec.privateKey }))).toMatchObject({
      sub: 'e',
    });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(es(sign({ sub: 'e', exp }, { alg: 'ES256', key: other.privateKey }))).toBe(
      'bad signature',
    );
  });

  it('refuses a short HS256 secret, a private key and an unbounded clock tolerance', () => {
    expect(() => jwtChecker({ key: 'short' })).toThrow(/32 bytes/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => jwtChecker({ key: ec.privateKey })).toThrow(/public/);
    expect(() => jwtChecker({ key: SECRET, clockToleranceS: 3600 })).toThrow(/clockToleranceS/);
    const e = (() => {
      try {
        jwtChecker({ key: 'short' });
      } catch (error) {
        return error;
      }
    })();
    expect(isDnetError(e)).toBe(true);
  });
});

describe('userIdentityVerifier (PS3.7 Annex D.3.3.7)', () => {
  it('checks scrypt passwords and JWTs; other identity types are refused', async () => {
    const hash = await hashPassword('s3cret');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    const verify = userIdentityVerifier({ users: { alice: hash }, jwt: { key: SECRET } });
    const rq = undefined as never;
    expect(await verify(passwordIdentity('alice', 's3cret'), rq)).toEqual({ accepted: true });
    expect(await verify(passwordIdentity('alice', 'wrong'), rq)).toMatchObject({ accepted: false });
    expect(await verify(passwordIdentity('bob', 's3cret'), rq)).toMatchObject({ accepted: false });
    const token = sign(
      { sub: 'alice', exp: Date.now() / 1000 + 60 },
      { alg: 'HS256', key: SECRET },
    );
    expect(await verify(jwtIdentity(token), rq)).toEqual({ accepted: true });
    expect(await verify(jwtIdentity(`${token}x`), rq)).toMatchObject({
      accepted: false,
      cause: 'JWT bad signature',
    });
    expect(
      await verify({ ...passwordIdentity('alice', ''), type: UserIdentityType.USERNAME }, rq),
    ).toMatchObject({ accepted: false });
    expect(() => userIdentityVerifier({ users: { alice: 'plain-text' } })).toThrow(/scrypt/);
  });
});

describe('allowCertificates', () => {
  const cert = {
    subject: { CN: 'modality-1' },
    issuer: { CN: 'ca' },
    serialNumber: '01',
    validFrom: '',
    validTo: '',
    fingerprint256: 'AB:CD:EF',
    raw: new Uint8Array(0),
  };
  const who = { callingAeTitle: 'MOD', calledAeTitle: 'SCP' };
  it('lets in an allowed CN or fingerprint (any spelling), refuses others and no certificate', () => {
    expect(allowCertificates({ subjects: ['modality-1'] })(cert, who)).toBe(true);
    expect(allowCertificates({ fingerprints: ['abcdef'] })(cert, who)).toBe(true);
    expect(allowCertificates({ subjects: ['x'] })(cert, who)).toMatchObject({ accepted: false });
    expect(allowCertificates({ subjects: ['x'] })(undefined, who)).toMatchObject({
      accepted: false,
    });
    expect(normalizeFingerprint('ab cd-ef')).toBe('AB:CD:EF');
  });
});

describe('Server access control (PS3.8 §9.3.4 Table 9-21)', () => {
  const transport = memory();
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close({ timeoutMs: 1000 });
  });
  const start = async (options: Partial<ServerOptions>) => {
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: { echo: () => 0 },
      ...options,
    });
    servers.push(server);
    const rejected: RejectedAssociation[] = [];
    server.on('rejected', (r) => rejected.push(r));
    return { server, rejected };
  };
  const connect = (server: Server, calling = 'MOD', userIdentity?: UserIdentityRq) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: calling,
      calledAeTitle: 'SCP',
      contexts: [verification()],
      ...(userIdentity && { userIdentity }),
    });
  const refusal = (p: Promise<Client>) =>
    p.then(
      (c) => {
        c.abort();
        throw new Error('accepted');
      },
      (e: { result: number; source: number; reason: number }) => ({
        result: e.result,
        source: e.source,
        reason: e.reason,
      }),
    );

  it("emits 'rejected' with the AE titles, address, result/source/reason and a cause", async () => {
    const { server, rejected } = await start({ policy: { callingAeTitles: ['GOOD'] } });
    expect(await refusal(connect(server, 'BAD'))).toEqual({ result: 1, source: 1, reason: 3 });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      callingAeTitle: 'BAD',
      calledAeTitle: 'SCP',
      remoteAddress: 'memory',
      encrypted: false,
      result: 1,
      source: 1,
      reason: 3,
      cause: 'calling AE title "BAD" is not allowed',
    });
  });

  it('refuses a user identity by the built-in verifier: permanent, provider ACSE, no-reason-given (PS3.7 D.3.3.7)', async () => {
    const { server, rejected } = await start({
      policy: {
        requireUserIdentity: true,
        verifyUserIdentity: userIdentityVerifier({
          users: { alice: await hashPassword('pw') },
          jwt: { key: SECRET },
        }),
      },
    });
    expect(await refusal(connect(server, 'MOD', passwordIdentity('alice', 'no')))).toEqual({
      result: 1,
      source: 2,
      reason: 1,
    });
    expect(await refusal(connect(server, 'MOD'))).toEqual({ result: 1, source: 2, reason: 1 });
    const expired = sign({ sub: 'a', exp: 1 }, { alg: 'HS256', key: SECRET });
    expect(await refusal(connect(server, 'MOD', jwtIdentity(expired)))).toEqual({
      result: 1,
      source: 2,
      reason: 1,
    });
    expect(rejected.map((r) => r.cause)).toEqual([
      'user identity (type 2) refused: wrong user or password (alice)',
      'no user identity given, one is required',
      'user identity (type 5) refused: JWT expired',
    ]);
    const token = sign({ sub: 'a', exp: Date.now() / 1000 + 60 }, { alg: 'HS256', key: SECRET });
    for (const id of [passwordIdentity('alice', 'pw'), jwtIdentity(token)]) {
      const client = await connect(server, 'MOD', id);
      expect(await client.echo()).toBe(0);
      await client.release();
    }
  });

  it('maxAssociationsPerAe: the next association of that AE is rejected transient, presentation, local-limit-exceeded; others pass; a slot frees on release', async () => {
    const { server, rejected } = await start({ maxAssociationsPerAe: 2 });
    const a1 = await connect(server, 'MOD');
    const a2 = await connect(server, 'MOD');
    expect(await refusal(connect(server, 'MOD'))).toEqual({ result: 2, source: 3, reason: 2 });
    expect(rejected.at(-1)?.cause).toBe('2 associations of MOD already open, at most 2');
    const other = await connect(server, 'OTHER');
    await other.release();
    await a1.release();
    const a3 = await connect(server, 'MOD');
    expect(await a3.echo()).toBe(0);
    await Promise.all([a2.release(), a3.release()]);
    // Rejected and failed attempts do not hold a slot.
    const again = await Promise.all([connect(server, 'MOD'), connect(server, 'MOD')]);
    await Promise.all(again.map((c) => c.release()));
  });

  it('admitAssociation: asked after the access checks, its refusal is the A-ASSOCIATE-RJ sent, each admitted association released once when it ends', async () => {
    const asked: string[] = [];
    let open = 0;
    let released = 0;
    const { server, rejected } = await start({
      policy: { callingAeTitles: ['MOD', 'LIMIT'] },
      admitAssociation: (rq) => {
        asked.push(rq.callingAeTitle);
        if (rq.callingAeTitle === 'LIMIT' || open >= 1) {
          return { admitted: false, rejection: localLimitRejection('shared limit reached') };
        }
        open++;
        return {
          admitted: true,
          release: () => {
            open--;
            released++;
          },
        };
      },
    });
    const a1 = await connect(server, 'MOD');
    // The second MOD and LIMIT are refused by the hook: transient, presentation, local-limit-exceeded.
    expect(await refusal(connect(server, 'MOD'))).toEqual({ result: 2, source: 3, reason: 2 });
    expect(await refusal(connect(server, 'LIMIT'))).toEqual({ result: 2, source: 3, reason: 2 });
    // An AE the policy refuses never reaches the hook.
    expect(await refusal(connect(server, 'EVIL'))).toMatchObject({ result: 1 });
    expect(rejected.at(-2)?.cause).toBe('shared limit reached');
    await a1.release();
    await vi.waitFor(() => expect(released).toBe(1), { timeout: 5_000 });
    const a2 = await connect(server, 'MOD');
    expect(await a2.echo()).toBe(0);
    await a2.release();
    await vi.waitFor(() => expect(released).toBe(2), { timeout: 5_000 });
    expect(asked).toEqual(['MOD', 'MOD', 'LIMIT', 'MOD']);
    expect(open).toBe(0);
  });

  it('tlsOnly: a plaintext association is rejected (permanent, provider ACSE, no-reason-given)', async () => {
    const { server, rejected } = await start({ tlsOnly: true });
    expect(await refusal(connect(server))).toEqual({ result: 1, source: 2, reason: 1 });
    expect(rejected[0]?.cause).toMatch(/TLS is required/);
  });

  it('authorizePeerCertificate runs at association time; a hook failure rejects and is reported', async () => {
    const seen: unknown[] = [];
    const { server, rejected } = await start({
      authorizePeerCertificate: (cert, rq) => {
        seen.push([cert, rq.callingAeTitle]);
        if (rq.callingAeTitle === 'THROW') throw new Error('directory down');
        return rq.callingAeTitle === 'MOD' ? true : { accepted: false, cause: 'not on the list' };
      },
    });
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const ok = await connect(server, 'MOD');
    await ok.release();
    expect(await refusal(connect(server, 'EVIL'))).toEqual({ result: 1, source: 2, reason: 1 });
    expect(await refusal(connect(server, 'THROW'))).toEqual({ result: 1, source: 2, reason: 1 });
    expect(seen).toEqual([
      [undefined, 'MOD'],
      [undefined, 'EVIL'],
      [undefined, 'THROW'],
    ]);
    expect(rejected.map((r) => r.cause)).toEqual([
      'peer certificate not authorized: not on the list',
      'access check failed: directory down',
    ]);
    expect(errors.map((e) => e.message)).toEqual(['directory down']);
  });

  it('a C-STORE-RQ on a context where role selection left the requestor only SCP: 0124H Refused: Not Authorized (PS3.7 D.3.3.4)', async () => {
    const CT = '1.2.840.10008.5.1.4.1.1.2';
    const stored: string[] = [];
    const { server } = await start({
      handlers: {
        store: (i) => {
          stored.push(i.sopInstanceUid);
          return 0;
        },
        get: () => [],
      },
    });
    const a = await Association.request({
      transport,
      host: '127.0.0.1',
      port: server.port,
      proposal: {
        callingAeTitle: 'MOD',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: CT, transferSyntaxes: ['1.2.840.10008.1.2'] }],
        roleSelections: [{ sopClassUid: CT, scuRole: false, scpRole: true }],
      },
    });
    try {
      expect(a.negotiation?.contexts[0]).toMatchObject({ accepted: true, requestorScu: false });
      const rsp = await a.cStore(
        {
          commandField: 0x0001,
          affectedSopClassUid: CT,
          affectedSopInstanceUid: '1.2.3',
          hasDataSet: true,
          priority: 0,
        },
        new Uint8Array([0x08, 0x00, 0x16, 0x00, 2, 0, 0, 0, 0x31, 0]),
        // Our own Association would not pick a context without the SCU role: force it.
        { contextId: a.negotiation!.contexts[0]!.id },
      );
      expect(rsp.message.status).toBe(0x0124);
      expect(stored).toEqual([]);
    } finally {
      await a.release();
    }
  });
});
