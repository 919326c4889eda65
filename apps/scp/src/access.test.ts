/**
 * dnet-scp access control: user identity (PS3.7 Annex D.3.3.7) checked with
 * --users (scrypt hashes) and --jwt-key, against DCMTK storescu (--user /
 * --password / --jwt) and our Client; per-AE limits; every refusal logged (warn).
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, hashPassword, verification } from '@dnet/services';
import { describePeer, runTool } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';
import { eventually, type InProcessScp, startOnLoopback } from './in-process-scp.test-support.js';
import { type SyntheticImage, syntheticImages } from './synthetic-images.js';

/** User identity types of PS3.7 Annex D.3.3.7.1 (the app does not depend on @dnet/pdu). */
const UserIdentityType = { USERNAME_AND_PASSCODE: 2, JWT: 5 } as const;
type UserIdentityRq = NonNullable<Parameters<typeof Client.connect>[0]['userIdentity']>;

const SECRET = 'dnet-scp-test-secret-of-32-bytes-or-more';

function jwt(claims: object, key = SECRET): string {
  const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
  const input = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(createHmac('sha256', key).update(input).digest())}`;
}

const rejections = (scp: InProcessScp) =>
  scp.logs.filter((l) => l.status === 'rejected' && l.event === 'association');

let dir: string;
let scp: InProcessScp;
let images: SyntheticImage[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnet-scp-access-'));
  const users = join(dir, 'users.json');
  await writeFile(users, JSON.stringify({ alice: await hashPassword('wonderland') }));
  const key = join(dir, 'jwt.key');
  await writeFile(key, `${SECRET}\n`);
  images = await syntheticImages(join(dir, 'images'), { count: 1, perSeries: 1, size: 8 });
  scp = await startOnLoopback([
    join(dir, 'storage'),
    '--users',
    users,
    '--jwt-key',
    key,
    '--jwt-issuer',
    'https://idp.test',
    '--max-associations-per-ae',
    '1',
  ]);
});

afterAll(async () => {
  await scp?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('dnet-scp --users / --jwt-key with our Client', () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const connect = (userIdentity?: UserIdentityRq, callingAeTitle = 'MOD') =>
    Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle,
      calledAeTitle: 'DNETSCP',
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

  it('accepts the right password or a valid JWT; refuses the rest (permanent, provider ACSE) and logs each refusal', async () => {
    const before = rejections(scp).length;
    const good = jwt({ sub: 'alice', iss: 'https://idp.test', exp: Date.now() / 1000 + 60 });
    for (const id of [password('alice', 'wonderland'), token(good)]) {
      const c = await connect(id);
      expect(await c.echo()).toBe(0);
      await c.release();
    }
    for (const id of [
      undefined,
      password('alice', 'queen'),
      token(jwt({ sub: 'alice', iss: 'https://other', exp: Date.now() / 1000 + 60 })),
      token(
        jwt({ sub: 'alice', iss: 'https://idp.test', exp: Date.now() / 1000 + 60 }, 'x'.repeat(40)),
      ),
    ]) {
      await expect(connect(id)).rejects.toMatchObject({ result: 1, source: 2, reason: 1 });
    }
    await eventually(() => rejections(scp).length === before + 4);
    expect(rejections(scp).slice(before)).toMatchObject([
      { level: 40, peer: 'MOD', result: 1, source: 2, reason: 1, cause: /no user identity/ },
      { level: 40, cause: /wrong user or password \(alice\)/ },
      { level: 40, cause: /JWT wrong issuer/ },
      { level: 40, cause: /JWT bad signature/ },
    ]);
  });

  it('--max-associations-per-ae 1: a second association of the same AE is rejected transient (presentation, local-limit-exceeded) and logged', async () => {
    const first = await connect(password('alice', 'wonderland'), 'ONE');
    try {
      await expect(connect(password('alice', 'wonderland'), 'ONE')).rejects.toMatchObject({
        result: 2,
        source: 3,
        reason: 2,
      });
      const other = await connect(password('alice', 'wonderland'), 'TWO');
      await other.release();
      await eventually(() => rejections(scp).some((l) => l.peer === 'ONE'));
      expect(rejections(scp).find((l) => l.peer === 'ONE')).toMatchObject({
        result: 2,
        source: 3,
        reason: 2,
        cause: '1 associations of ONE already open, at most 1',
      });
    } finally {
      await first.release();
    }
  });
});

describePeer(['storescu'], 'dnet-scp --users / --jwt-key with DCMTK storescu', () => {
  const store = (extra: string[]) =>
    runTool(
      'storescu',
      [
        '-aet',
        'DCMTK',
        '-aec',
        'DNETSCP',
        ...extra,
        '127.0.0.1',
        String(scp.port),
        images[0]!.path,
      ],
      { timeoutMs: 30_000 },
    );

  it('storescu --user/--password: stored with the right password, refused with a wrong one', async () => {
    const ok = await store(['--user', 'alice', '--password', 'wonderland']);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await store(['--user', 'alice', '--password', 'queen']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Rejected Permanent|rejected/i);
  });

  it('storescu --jwt: a valid token is stored, an expired one refused', async () => {
    const good = join(dir, 'good.jwt');
    const expired = join(dir, 'expired.jwt');
    await writeFile(
      good,
      jwt({ sub: 'alice', iss: 'https://idp.test', exp: Date.now() / 1000 + 60 }),
    );
    await writeFile(expired, jwt({ sub: 'alice', iss: 'https://idp.test', exp: 1 }));
    const ok = await store(['--jwt', good]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await store(['--jwt', expired]);
    expect(bad.code).not.toBe(0);
    await eventually(() => rejections(scp).some((l) => /JWT expired/.test(String(l.cause))));
  });
});

describe('dnet-scp access options', () => {
  it('parses the access-control flags and refuses inconsistent ones', () => {
    const c = resolveConfig({
      tls: true,
      cert: 'c',
      key: 'k',
      ca: 'ca',
      'allow-cert-subject': ['modality-1'],
      'allow-cert-fingerprint': [`sha256 Fingerprint=${'ab:'.repeat(31)}ab`],
      'max-associations-per-ae': '4',
      'jwt-key': 'k.pem',
      'jwt-audience': 'pacs',
    });
    expect(c.tls).toMatchObject({
      allowCertSubjects: ['modality-1'],
      allowCertFingerprints: [`${'AB:'.repeat(31)}AB`],
    });
    expect(c.maxAssociationsPerAe).toBe(4);
    expect(c.userIdentity).toMatchObject({ jwtAudience: 'pacs' });
    expect(() => resolveConfig({ 'allow-cert-subject': ['x'] })).toThrow(/need --tls/);
    expect(() =>
      resolveConfig({ tls: true, cert: 'c', key: 'k', 'allow-cert-subject': ['x'] }),
    ).toThrow(/need --ca/);
    expect(() => resolveConfig({ 'jwt-issuer': 'x' })).toThrow(/need --jwt-key/);
    expect(() =>
      resolveConfig({ tls: true, cert: 'c', key: 'k', ca: 'a', 'allow-cert-fingerprint': ['zz'] }),
    ).toThrow(/SHA-256/);
    expect(() => resolveConfig({ 'max-associations-per-ae': '0' })).toThrow(/per-ae/);
  });
});
