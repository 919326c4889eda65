import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { isDnetError } from '@dnet/transport';
import { readAll } from '@dnet/transport/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TlsProfileName, type TlsTransportOptions, tls } from './index.js';
import {
  makeTestPki,
  type SClientResult,
  sClient,
  sServer,
  type TestPki,
} from './pki.test-support.js';

// Interop at the TLS level with OpenSSL's own client and server: what each
// PS3.15 Annex B profile offers and refuses.
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.warn('[skip] openssl interop: the openssl command is missing');

const GREETING = 'hello-from-dnet';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!hasOpenssl)('openssl s_client against a dnet TLS listener', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki?.remove());

  /** Runs s_client against a listener of `profile`; the listener greets every client. */
  async function probe(
    args: string[],
    options: Partial<TlsTransportOptions> = {},
  ): Promise<SClientResult> {
    const transport = tls({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, ...options });
    const listener = await transport.listen({ port: 0 }, (conn) => {
      conn.write(new TextEncoder().encode(`${GREETING}\n`));
      void conn.close();
      void (async () => {
        for await (const _ of conn) {
          // drain until s_client leaves
        }
      })().catch(() => {});
    });
    try {
      return await sClient(listener.port, ['-CAfile', pki.path('ca.pem'), ...args]);
    } finally {
      await listener.close();
    }
  }

  const accepted = (r: SClientResult) => r.output.includes(GREETING);

  it('BCP 195 RFC 8996 (default) accepts TLS 1.3 with an RFC 9325 suite', async () => {
    const r = await probe(['-tls1_3']);
    expect(r.output).toContain(GREETING);
    expect(r.protocol).toBe('TLSv1.3');
    expect(r.cipher).toBe('TLS_AES_256_GCM_SHA384');
  });

  it('BCP 195 RFC 8996 accepts TLS 1.2 and picks the strongest ECDHE AEAD suite', async () => {
    const r = await probe(['-tls1_2']);
    expect(accepted(r)).toBe(true);
    expect(r.protocol).toBe('TLSv1.2');
    expect(r.cipher).toBe('ECDHE-RSA-AES256-GCM-SHA384');
  });

  it('BCP 195 RFC 8996 refuses TLS 1.1 and TLS 1.0 (RFC 8996)', async () => {
    for (const version of ['-tls1_1', '-tls1']) {
      const r = await probe([version, '-cipher', 'DEFAULT@SECLEVEL=0']);
      expect(accepted(r)).toBe(false);
      expect(r.code).not.toBe(0);
      // Our listener answered the TLS 1.1 ClientHello with a protocol_version alert (70).
      expect(r.output).toMatch(/alert protocol version/);
    }
  });

  it('BCP 195 RFC 8996 refuses suites outside its list', async () => {
    for (const args of [
      ['-tls1_2', '-cipher', 'AES128-SHA'],
      ['-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305'],
      ['-tls1_2', '-cipher', 'DHE-RSA-AES128-GCM-SHA256'],
      ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA256'],
      ['-tls1_3', '-ciphersuites', 'TLS_AES_128_CCM_SHA256'],
    ]) {
      const r = await probe(args);
      expect(accepted(r), args.join(' ')).toBe(false);
      // A handshake_failure alert (40): no suite in common.
      expect(r.output, args.join(' ')).toMatch(/alert handshake failure/);
    }
  });

  it('BCP 195 RFC 8996 accepts each of its TLS 1.2 RSA suites', async () => {
    for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384']) {
      const r = await probe(['-tls1_2', '-cipher', cipher]);
      expect(r.cipher).toBe(cipher);
      expect(accepted(r)).toBe(true);
    }
  });

  const profileCases: [TlsProfileName, string[], boolean][] = [
    ['modified-bcp195-rfc8996', ['-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305'], true],
    ['modified-bcp195-rfc8996', ['-tls1_3', '-ciphersuites', 'TLS_AES_128_CCM_SHA256'], true],
    ['modified-bcp195-rfc8996', ['-tls1_2', '-cipher', 'AES128-SHA'], false],
    ['bcp195', ['-tls1_2', '-cipher', 'AES128-SHA'], true],
    ['bcp195', ['-tls1_2', '-cipher', 'DHE-RSA-AES128-GCM-SHA256'], true],
    ['bcp195', ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], false],
    ['non-downgrading-bcp195', ['-tls1_2', '-cipher', 'DHE-RSA-AES256-GCM-SHA384'], true],
    ['non-downgrading-bcp195', ['-tls1_2', '-cipher', 'AES128-SHA'], false],
    ['extended-bcp195', ['-tls1_2'], true],
    ['extended-bcp195', ['-tls1_3'], false],
  ];
  for (const [profile, args, ok] of profileCases) {
    it(`${profile} ${ok ? 'accepts' : 'refuses'} s_client ${args.join(' ')}`, async () => {
      const r = await probe(args, { profile });
      expect(accepted(r), r.output).toBe(ok);
      if (!ok) expect(r.output).toMatch(/alert (protocol version|handshake failure)/);
    });
  }

  it('mutual authentication: a client certificate from the CA is served, an unknown one is not', async () => {
    const options = { clientCertificate: 'require' as const };
    const good = await probe(
      ['-tls1_3', '-cert', pki.path('client.pem'), '-key', pki.path('client.key')],
      options,
    );
    expect(accepted(good)).toBe(true);
    const rogue = await probe(
      ['-tls1_3', '-cert', pki.path('rogue.pem'), '-key', pki.path('rogue.key')],
      options,
    );
    expect(accepted(rogue)).toBe(false);
    const rogue12 = await probe(
      ['-tls1_2', '-cert', pki.path('rogue.pem'), '-key', pki.path('rogue.key')],
      options,
    );
    expect(accepted(rogue12)).toBe(false);
    const none = await probe(['-tls1_3'], options);
    expect(accepted(none)).toBe(false);
  });
});

describe.skipIf(!hasOpenssl)('a dnet TLS client against openssl s_server', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki?.remove());

  async function dial(serverArgs: string[], options: Partial<TlsTransportOptions> = {}) {
    const port = await freePort();
    const server = await sServer(port, [
      '-cert',
      pki.path('server.pem'),
      '-key',
      pki.path('server.key'),
      ...serverArgs,
    ]);
    try {
      const conn = await tls({ ca: pki.ca, ...options }).connect({
        host: '127.0.0.1',
        port,
        timeoutMs: 5_000,
      });
      const info = conn.info;
      conn.write(new TextEncoder().encode('hello-from-client\n'));
      // s_server echoes nothing back; close our side and let it go.
      conn.abort();
      return { info, error: undefined as unknown, output: server.output() };
    } catch (error) {
      return { info: undefined, error, output: server.output() };
    } finally {
      await server.stop();
    }
  }

  it('connects over TLS 1.3 and TLS 1.2', async () => {
    const v13 = await dial(['-tls1_3']);
    expect(v13.error).toBeUndefined();
    expect(v13.info?.protocol).toBe('TLSv1.3');
    const v12 = await dial(['-tls1_2']);
    expect(v12.error).toBeUndefined();
    expect(v12.info?.protocol).toBe('TLSv1.2');
    expect(v12.info?.cipher).toMatch(/^TLS_ECDHE_RSA_WITH_AES_(128|256)_GCM_SHA(256|384)$/);
  });

  it('refuses a server that only speaks TLS 1.1', async () => {
    const r = await dial(['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    expect(isDnetError(r.error)).toBe(true);
  });

  it('refuses a server that only offers a suite outside the profile', async () => {
    const r = await dial(['-tls1_2', '-cipher', 'AES128-SHA']);
    expect(isDnetError(r.error)).toBe(true);
    const chacha = await dial(['-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305'], {
      profile: 'modified-bcp195-rfc8996',
    });
    expect(chacha.error).toBeUndefined();
    expect(chacha.info?.cipher).toBe('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256');
  });

  it('presents its client certificate when the server requires one', async () => {
    const r = await dial(['-tls1_3', '-Verify', '1', '-CAfile', pki.path('ca.pem')], {
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    expect(r.error).toBeUndefined();
    expect(r.info?.peerCertificate?.subject.CN).toBe('localhost');
  });

  it('reads what s_server sends', async () => {
    const port = await freePort();
    const server = await sServer(port, [
      '-cert',
      pki.path('server.pem'),
      '-key',
      pki.path('server.key'),
      '-www',
    ]);
    try {
      const conn = await tls({ ca: pki.ca }).connect({ host: '127.0.0.1', port, timeoutMs: 5_000 });
      conn.write(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
      const page = new TextDecoder().decode(await readAll(conn));
      await conn.close();
      expect(page).toContain('HTTP/1.0 200 ok');
      expect(page).toContain('TLSv1.3');
    } finally {
      await server.stop();
    }
  });
});
