/**
 * Interop: Storage Commitment Push Model (PS3.4 Annex J) of our SCU against
 * Orthanc 1.10.1 on 127.0.0.1 (its SCP side), for instances stored there
 * first; the report comes on whichever association Orthanc chooses, a new one
 * reaching our listener Server.
 */
import { describePeer, freePort } from '@dnet/testkit';
import { type RunningOrthanc, startOrthanc } from '@dnet/testkit/orthanc';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { storage, storageCommitment } from './contexts.js';
import { makeInstance, uidsOf } from './instances.test-support.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';
import { CommitmentListener } from './storage-commitment.js';

const CT = SopClass.CT_IMAGE_STORAGE;
let orthanc: RunningOrthanc;
let listenerServer: Server;
const listener = new CommitmentListener();
const associations: boolean[] = [];
const held = new Set<string>();
const asked: string[][] = [];

describePeer(['Orthanc'], 'Storage Commitment against Orthanc', () => {
  beforeAll(async () => {
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
    orthanc = await startOrthanc({
      port: orthancPort,
      modalities: { dnetscu: { aeTitle: 'DNETSCU', port: listenerServer.port } },
    });
  });

  afterAll(async () => {
    await orthanc?.stop();
    await listenerServer?.close({ timeoutMs: 1000 });
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
    const job = await orthanc.rest('/modalities/dnetscu/storage-commitment', {
      DicomInstances: instances,
    });
    let report: { Status: string; Success?: unknown[]; Failures?: unknown[] } = { Status: '' };
    for (let i = 0; i < 100; i++) {
      report = await orthanc.rest(`/storage-commitment/${job.ID}`);
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
