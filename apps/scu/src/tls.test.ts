/**
 * End to end: `dnet-scu --tls` against DCMTK storescp over TLS (PS3.15
 * Annex B) with mutual authentication; certificates from a throw-away test CA
 * made with openssl.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describePeer, type RunningPeer, startPeer } from '@dnet/testkit';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scu, tempDir, useBuiltCli, writeCtFiles } from './scu-cli.test-support.js';

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
let storescp: RunningPeer;
let files: string[];
let pki: TestPki;
const pem = (name: string) => pki.path(name);

describePeer(['storescp', 'openssl'], 'dnet-scu --tls against DCMTK storescp +tls', () => {
  beforeAll(async () => {
    dir = await tempDir();
    cli = await useBuiltCli();
    pki = makeTestPki();
    await mkdir(join(dir.path, 'source'));
    await mkdir(join(dir.path, 'recv'));
    files = await writeCtFiles(join(dir.path, 'source'), 1, 1, 3);
    storescp = await startPeer({
      command: 'storescp',
      args: (p) => [...pki.dcmtkArgs('server'), '-od', join(dir.path, 'recv'), String(p)],
    });
  });

  afterAll(async () => {
    await storescp?.stop();
    await dir?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
    pki?.remove();
  });

  it('echo and store over TLS with our certificate', async () => {
    const tls = [
      '--tls',
      '--cert',
      pem('client.pem'),
      '--key',
      pem('client.key'),
      '--ca',
      pem('ca.pem'),
    ];
    const echo = await scu(['echo', '127.0.0.1', String(storescp.port), ...tls]);
    expect(echo.code, echo.stderr + storescp.log()).toBe(0);
    const store = await scu(['store', '127.0.0.1', String(storescp.port), ...tls, ...files]);
    expect(store.code, store.stderr).toBe(0);
    expect(store.stdout).toMatch(/^stored 3 of 3 files/);
    expect(await readdir(join(dir.path, 'recv'))).toHaveLength(3);
  });

  it('fails with one line when the server is not trusted, and when TLS meets plain TCP', async () => {
    const untrusted = await scu([
      'echo',
      '127.0.0.1',
      String(storescp.port),
      '--tls',
      '--cert',
      pem('client.pem'),
      '--key',
      pem('client.key'),
    ]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr.trim().split('\n')).toHaveLength(1);
    expect(untrusted.stderr).toMatch(/^dnet-scu echo: .*(certificate|self.signed|issuer)/i);
    const plain = await scu(['echo', '127.0.0.1', String(storescp.port), '--timeout', '5']);
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toMatch(/^dnet-scu echo: /);
  });

  it('--tls against a plaintext DICOM port is one line naming the TLS handshake', async () => {
    const plaintext = await startPeer({ command: 'storescp', args: (p) => [String(p)] });
    try {
      const r = await scu([
        'echo',
        '127.0.0.1',
        String(plaintext.port),
        '--tls',
        '--ca',
        pem('ca.pem'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^dnet-scu echo: cannot connect to 127\\.0\\.0\\.1:${plaintext.port}: TLS handshake failed: `,
        ),
      );
    } finally {
      await plaintext.stop();
    }
  });
});
