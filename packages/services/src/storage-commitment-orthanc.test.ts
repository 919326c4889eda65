/**
 * Interop: Storage Commitment Push Model (PS3.4 Annex J) of our SCU against
 * Orthanc 1.10.1 on 127.0.0.1 (its SCP side), for instances stored there
 * first; the report comes on whichever association Orthanc chooses, a new one
 * reaching our listener Server.
 */
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describePeer, freePort, type RunningPeer, startPeer } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { storage, storageCommitment } from './contexts.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';
import { CommitmentListener } from './storage-commitment.js';
import { makeInstance, tempDir, uidsOf } from './test-support.js';

const CT = SopClass.CT_IMAGE_STORAGE;
let dir: AsyncDisposable & { path: string };
let orthanc: RunningPeer;
let listenerServer: Server;
const listener = new CommitmentListener();
const associations: boolean[] = [];

describePeer(['Orthanc'], 'Storage Commitment against Orthanc', () => {
  beforeAll(async () => {
    dir = await tempDir();
    listenerServer = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETSCU',
      handlers: { nServices: [listener.service] },
    });
    listenerServer.on('association', () => associations.push(true));
    const httpPort = await freePort();
    const config = join(dir.path, 'orthanc.json');
    await mkdir(join(dir.path, 'logs'));
    orthanc = await startPeer({
      command: 'Orthanc',
      args: (port) => {
        writeFileSync(
          config,
          JSON.stringify({
            Name: 'dnet-commitment',
            StorageDirectory: join(dir.path, 'storage'),
            IndexDirectory: join(dir.path, 'index'),
            HttpPort: httpPort,
            RemoteAccessAllowed: false,
            AuthenticationEnabled: false,
            DicomAet: 'ORTHANC',
            DicomPort: port,
            Plugins: [],
            DicomModalities: {
              dnetscu: { AET: 'DNETSCU', Host: '127.0.0.1', Port: listenerServer.port },
            },
          }),
        );
        return [`--logdir=${join(dir.path, 'logs')}`, config];
      },
      startTimeoutMs: 30_000,
    });
  });

  afterAll(async () => {
    await orthanc?.stop();
    await listenerServer?.close({ timeoutMs: 1000 });
    await dir?.[Symbol.asyncDispose]();
  });

  it('commits the stored instance and reports the missing one as failed', async () => {
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: orthanc.port,
      callingAeTitle: 'DNETSCU',
      calledAeTitle: 'ORTHANC',
      contexts: [storage(CT), storageCommitment({ role: 'both' })],
    });
    const spec = { patient: 1, study: 1, series: 1, instance: 1 };
    await client.store(makeInstance(spec));
    const stored = { sopClassUid: CT, sopInstanceUid: uidsOf(spec).instance };
    const missing = { sopClassUid: CT, sopInstanceUid: '1.2.826.0.1.3680043.2.1125.999999' };
    const report = await client.commit([stored, missing], { listener, timeoutMs: 20_000 });
    await client.release();
    expect(report).toMatchObject({
      eventTypeId: 2,
      committed: [stored],
      failed: [{ ...missing, reason: 0x0112 }],
    });
    // Orthanc 1.10.1 reports on a new association to the AE of DicomModalities,
    // with reason 0112H no such object instance for what it does not hold.
    expect(report.sameAssociation).toBe(false);
    expect(report.failed[0]?.reason).toBe(0x0112);
    expect(associations).toHaveLength(1);
  });
});
