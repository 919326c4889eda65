/**
 * DICOM over TLS (PS3.15 Annex B) with DCMTK: `--tls --cert --key --ca
 * --require-client-cert`, certificates made with openssl for 127.0.0.1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syntheticImages } from './synthetic-images.js';
import { type InProcessScp, startInProcess } from './test-support.js';

async function openssl(args: string[], cwd: string) {
  const r = await runTool('openssl', args, { cwd, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, and a server and a client certificate it signs (subjectAltName 127.0.0.1). */
async function makeCertificates(dir: string) {
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=dnet test CA',
    ],
    dir,
  );
  for (const [name, usage] of [
    ['server', 'serverAuth'],
    ['client', 'clientAuth'],
  ] as const) {
    await writeFile(
      join(dir, `${name}.ext`),
      `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`,
    );
    await openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=dnet ${name}`,
      ],
      dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ],
      dir,
    );
  }
}

describePeer(['openssl', 'echoscu', 'storescu'], 'dnet-scp over TLS with DCMTK', () => {
  let dir: string;
  let scp: InProcessScp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-tls-'));
    await makeCertificates(dir);
    scp = await startInProcess([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--storage',
      join(dir, 'storage'),
      '--tls',
      '--cert',
      join(dir, 'server.crt'),
      '--key',
      join(dir, 'server.key'),
      '--ca',
      join(dir, 'ca.crt'),
      '--require-client-cert',
    ]);
  }, 60_000);

  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores over mutually authenticated TLS', async () => {
    const images = await syntheticImages(join(dir, 'images'), { count: 3 });
    const tls = [
      '+tls',
      join(dir, 'client.key'),
      join(dir, 'client.crt'),
      '-pw',
      '+cf',
      join(dir, 'ca.crt'),
    ];
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
