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
let httpPort: number;
const held = new Set<string>();
const asked: string[][] = [];

async function rest(path: string, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${text}`);
  return JSON.parse(text);
}

describePeer(['Orthanc'], 'Storage Commitment against Orthanc', () => {
  beforeAll(async () => {
    dir = await tempDir();
    const orthancPort = await freePort();
    // One Server is both our commitment SCU's report listener and a commitment SCP for Orthanc.
    listenerServer = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETSCU',
      handlers: {
        nServices: [listener.service],
        storageCommitment: (rq) => {
          asked.push(rq.references.map((r) => r.sopInstanceUid));
          return {
            committed: rq.references.filter((r) => held.has(r.sopInstanceUid)),
            failed: rq.references
              .filter((r) => !held.has(r.sopInstanceUid))
              .map((r) => ({ ...r, reason: 0x0112 })),
          };
        },
      },
      aeTable: { ORTHANC: { host: '127.0.0.1', port: orthancPort } },
    });
    listenerServer.on('association', () => associations.push(true));
    httpPort = await freePort();
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
      port: orthancPort,
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

  it('our SCP answers the storage commitment requests of Orthanc (handlers.storageCommitment)', async () => {
    held.add('1.2.826.0.1.3680043.2.1125.1');
    const ct = '1.2.840.10008.5.1.4.1.1.2';
    const instances = [
      { SOPClassUID: ct, SOPInstanceUID: '1.2.826.0.1.3680043.2.1125.1' },
      { SOPClassUID: ct, SOPInstanceUID: '1.2.826.0.1.3680043.2.1125.2' },
    ];
    const job = await rest('/modalities/dnetscu/storage-commitment', { DicomInstances: instances });
    let report: { Status: string; Success?: unknown[]; Failures?: unknown[] } = { Status: '' };
    for (let i = 0; i < 100; i++) {
      report = await rest(`/storage-commitment/${job.ID}`);
      if (report.Status !== 'Pending') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(asked).toEqual([instances.map((x) => x.SOPInstanceUID)]);
    expect(report.Status).toBe('Failure');
    expect(JSON.stringify(report.Success)).toContain('1.2.826.0.1.3680043.2.1125.1');
    expect(JSON.stringify(report.Failures)).toContain('1.2.826.0.1.3680043.2.1125.2');
    expect(JSON.stringify(report.Failures)).not.toContain('1.2.826.0.1.3680043.2.1125.1"');
  }, 30_000);
});
