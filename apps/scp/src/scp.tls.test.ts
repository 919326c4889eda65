/**
 * DICOM over TLS (PS3.15 Annex B) with DCMTK: `--tls --cert --key --ca
 * --require-client-cert`, certificates made with openssl for 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool } from '@dnet/testkit';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InProcessScp, startOnLoopback } from './in-process-scp.test-support.js';
import { syntheticImages } from './synthetic-images.js';

describePeer(['openssl', 'echoscu', 'storescu'], 'dnet-scp over TLS with DCMTK', () => {
  let dir: string;
  let pki: TestPki;
  let scp: InProcessScp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-tls-'));
    pki = makeTestPki();
    scp = await startOnLoopback([
      join(dir, 'storage'),
      '--tls',
      '--cert',
      pki.path('server.pem'),
      '--key',
      pki.path('server.key'),
      '--ca',
      pki.path('ca.pem'),
      '--require-client-cert',
    ]);
  }, 60_000);

  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    pki?.remove();
  });

  it('stores over mutually authenticated TLS', async () => {
    const images = await syntheticImages(join(dir, 'images'), { count: 3 });
    const tls = pki.dcmtkArgs('client');
    const r = await runTool('storescu', [
      ...tls,
      '-aec',
      'DNETSCP',
      '127.0.0.1',
      String(scp.port),
      ...images.map((i) => i.path),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await scp.scp.index.count()).toMatchObject({ instances: 3 });
    expect(scp.logs.find((l) => l.event === 'association')).toMatchObject({ encrypted: true });
  }, 30_000);

  it('refuses a client without a certificate', async () => {
    const r = await runTool('echoscu', [
      '+tla',
      '-ic',
      '-aec',
      'DNETSCP',
      '127.0.0.1',
      String(scp.port),
    ]);
    expect(r.code).not.toBe(0);
  }, 30_000);
});
