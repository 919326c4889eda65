/**
 * DICOM over TLS (PS3.15 Annex B): DCMTK `storescu +tls` against our Server
 * with mutual authentication, and our Client over TLS to DCMTK `storescp +tls`.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPart10Header } from '@dnet/dataset';
import { describePeer, runTool, startPeer } from '@dnet/testkit';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { tls } from '@dnet/tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { storage, verification } from './contexts.js';
import { hierarchy, tempDir, writeInstances } from './instances.test-support.js';
import type { RequestContext } from './server.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';

let dir: AsyncDisposable & { path: string };
let files: string[];
let pki: TestPki;

describePeer(['storescu', 'storescp', 'openssl'], 'DICOM over TLS with DCMTK', () => {
  beforeAll(async () => {
    dir = await tempDir();
    pki = makeTestPki();
    const source = join(dir.path, 'source');
    await mkdir(source);
    files = await writeInstances(source, hierarchy(1, 1, 1, 3, 4096));
  });

  afterAll(async () => {
    await dir?.[Symbol.asyncDispose]();
    pki?.remove();
  });

  it('storescu +tls stores to our Server; the handler sees the client certificate', async () => {
    const seen: RequestContext[] = [];
    const stored = new Map<string, Buffer>();
    const server = await Server.listen({
      transport: tls({
        ca: pki.ca,
        cert: pki.serverCert,
        key: pki.serverKey,
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
      const r = await runTool(
        'storescu',
        [...pki.dcmtkArgs('client'), '-aec', 'DNETTLS', '127.0.0.1', String(server.port), ...files],
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
    await using scp = await startPeer({
      command: 'storescp',
      args: (port) => [...pki.dcmtkArgs('server'), '-od', out, '+B', String(port)],
    });
    const client = await Client.connect({
      transport: tls({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }),
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
