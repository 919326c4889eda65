/**
 * DICOM over TLS (PS3.15 Annex B): DCMTK `storescu +tls` against our Server
 * with mutual authentication, and our Client over TLS to DCMTK `storescp +tls`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPart10Header } from '@dnet/dataset';
import { describePeer, runTool, startPeer } from '@dnet/testkit';
import { tls } from '@dnet/tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { storage, verification } from './contexts.js';
import type { RequestContext } from './server.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';
import { hierarchy, tempDir, writeInstances } from './test-support.js';

let dir: AsyncDisposable & { path: string };
let files: string[];
const pem: Record<string, string> = {};

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe', timeout: 30_000 });
}

/** A throw-away CA with a server and a client certificate (SAN IP:127.0.0.1). */
async function makePki(cwd: string): Promise<void> {
  openssl(cwd, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=dnet services test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  for (const [name, usage] of [
    ['server', 'serverAuth'],
    ['client', 'clientAuth'],
  ] as const) {
    openssl(cwd, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=dnet-${name}`,
    ]);
    await writeFile(
      join(cwd, `${name}.ext`),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${usage}\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`,
    );
    openssl(cwd, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
    ]);
  }
  for (const f of ['ca.pem', 'server.pem', 'server.key', 'client.pem', 'client.key']) {
    pem[f] = await readFile(join(cwd, f), 'utf8');
  }
}

describePeer(['storescu', 'storescp', 'openssl'], 'DICOM over TLS with DCMTK', () => {
  beforeAll(async () => {
    dir = await tempDir();
    await makePki(dir.path);
    const source = join(dir.path, 'source');
    await mkdir(source);
    files = await writeInstances(source, hierarchy(1, 1, 1, 3, 4096));
  });

  afterAll(async () => {
    await dir?.[Symbol.asyncDispose]();
  });

  it('storescu +tls stores to our Server; the handler sees the client certificate', async () => {
    const seen: RequestContext[] = [];
    const stored = new Map<string, Buffer>();
    const server = await Server.listen({
      transport: tls({
        ca: pem['ca.pem'],
        cert: pem['server.pem'],
        key: pem['server.key'],
        clientCertificate: 'require',
      }),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETTLS',
      handlers: {
        store: async (instance, ctx) => {
          seen.push(ctx);
          const parts: Uint8Array[] = [];
          for await (const c of instance.dataSet) parts.push(c.slice());
          stored.set(instance.sopInstanceUid, Buffer.concat(parts));
        },
      },
    });
    try {
      const p = (f: string) => join(dir.path, f);
      const r = await runTool(
        'storescu',
        [
          '+tls',
          p('client.key'),
          p('client.pem'),
          '-pw',
          '+cf',
          p('ca.pem'),
          '-aec',
          'DNETTLS',
          '127.0.0.1',
          String(server.port),
          ...files,
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(stored.size).toBe(3);
      expect(seen[0]!.encrypted).toBe(true);
      expect(seen[0]!.peerCertificate?.subject.CN).toBe('dnet-client');
      for (const f of files) {
        const bytes = await readFile(f);
        const header = readPart10Header(bytes);
        const got = stored.get(header.fileMetaInformation.mediaStorageSopInstanceUid);
        expect(got?.equals(bytes.subarray(header.dataSetOffset))).toBe(true);
      }
    } finally {
      await server.close({ timeoutMs: 1000 });
    }
  });

  it('our Client over TLS to storescp +tls: echo and store', async () => {
    const out = join(dir.path, 'storescp');
    await mkdir(out);
    const p = (f: string) => join(dir.path, f);
    await using scp = await startPeer({
      command: 'storescp',
      args: (port) => [
        '+tls',
        p('server.key'),
        p('server.pem'),
        '-pw',
        '+cf',
        p('ca.pem'),
        '-od',
        out,
        '+B',
        String(port),
      ],
    });
    const client = await Client.connect({
      transport: tls({ ca: pem['ca.pem'], cert: pem['client.pem'], key: pem['client.key'] }),
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'DNETSCU',
      calledAeTitle: 'STORESCP',
      contexts: [verification(), storage(SopClass.CT_IMAGE_STORAGE)],
    });
    expect(client.association.info.encrypted).toBe(true);
    expect(await client.echo()).toBe(0);
    expect((await client.storeMany(files)).stored).toBe(3);
    await client.release();
    expect(await readdir(out)).toHaveLength(3);
  });
});
