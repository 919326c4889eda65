/**
 * Interop with Orthanc 1.10.1: Orthanc as the C-MOVE destination of
 * dnet-scp, and as a C-FIND and C-MOVE client of it (through its REST API),
 * on 127.0.0.1, and as a Storage Commitment SCU. Orthanc 1.10.1 has no C-GET client (`/modalities/{id}/get`
 * answers 404), so C-GET is tested with DCMTK getscu only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, queryRetrieve, storage as storageContexts } from '@dnet/services';
import { describePeer, freePort } from '@dnet/testkit';
import { type RunningOrthanc, startOrthanc } from '@dnet/testkit/orthanc';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, type InProcessScp, startOnLoopback } from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, type SyntheticImage, syntheticImages } from './synthetic-images.js';

describePeer(['Orthanc'], 'dnet-scp with Orthanc', () => {
  let dir: string;
  let images: SyntheticImage[];
  let scp: InProcessScp;
  let orthanc: RunningOrthanc;

  const rest = (path: string, body?: unknown) => orthanc.rest(path, body);
  const instanceCount = async () => (await rest('/statistics')).CountInstances as number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-orthanc-'));
    images = await syntheticImages(join(dir, 'images'), { count: 12, perSeries: 3, size: 32 });
    const orthancPort = await freePort();
    scp = await startOnLoopback([
      join(dir, 'storage'),
      '--peer',
      `ORTHANC=127.0.0.1:${orthancPort}`,
    ]);
    orthanc = await startOrthanc({
      dir: join(dir, 'orthanc'),
      port: orthancPort,
      modalities: {
        dnetscp: { aeTitle: 'DNETSCP', port: scp.port },
        dnetscu: { aeTitle: 'DNETSCU', port: scp.port },
      },
    });
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'DNETSCU',
      calledAeTitle: 'DNETSCP',
      contexts: [storageContexts(CT_IMAGE_STORAGE)],
    });
    const stored = await client.storeMany(images.map((i) => i.path));
    await client.release();
    expect(stored).toMatchObject({ stored: images.length, failed: 0 });
  }, 60_000);

  afterAll(async () => {
    await scp?.stop();
    await orthanc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves a study to Orthanc (C-MOVE destination)', async () => {
    const study = images[0]!.studyInstanceUid;
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'DNETSCU',
      calledAeTitle: 'DNETSCP',
      contexts: [queryRetrieve('study')],
    });
    const result = await client.move(
      { '0020000D': { vr: 'UI', Value: [study] } },
      { level: 'STUDY', destination: 'ORTHANC' },
    );
    await client.release();
    const inStudy = images.filter((i) => i.studyInstanceUid === study).length;
    expect(result).toMatchObject({ status: 0, completed: inStudy, failed: 0 });
    expect(await instanceCount()).toBe(inStudy);
  }, 60_000);

  it('answers Orthanc as a C-FIND client, and moves what Orthanc asks for to Orthanc', async () => {
    const query = await rest('/modalities/dnetscp/query', {
      Level: 'Study',
      Query: { PatientID: 'DNET2', StudyInstanceUID: '', StudyDescription: '' },
    });
    const answers = (await rest(`/queries/${query.ID}/answers?expand`)) as Record<
      string,
      { Value: string }
    >[];
    const expected = new Set(
      images.filter((i) => i.patientId === 'DNET2').map((i) => i.studyInstanceUid),
    );
    expect(answers).toHaveLength(expected.size);
    const found = answers.map((a) => a['0020,000d']!.Value);
    expect(new Set(found)).toEqual(expected);
    const before = await instanceCount();
    await rest(`/queries/${query.ID}/retrieve`, { TargetAet: 'ORTHANC', Synchronous: true });
    const moved = images.filter((i) => i.patientId === 'DNET2').length;
    expect(await instanceCount()).toBe(before + moved);
  }, 60_000);

  it('answers the storage commitment requests of Orthanc, reporting on a new association', async () => {
    const held = images.slice(0, 2).map((i) => ({
      SOPClassUID: CT_IMAGE_STORAGE,
      SOPInstanceUID: i.sopInstanceUid,
    }));
    const missing = { SOPClassUID: CT_IMAGE_STORAGE, SOPInstanceUID: '1.2.826.0.1.999' };
    const ok = await rest('/modalities/dnetscp/storage-commitment', { DicomInstances: held });
    let report: { Status: string; Success?: unknown[]; Failures?: unknown[] } = { Status: '' };
    await eventually(async () => {
      report = await rest(`/storage-commitment/${ok.ID}`);
      return report.Status !== 'Pending';
    }, 20_000);
    expect(report.Status).toBe('Success');
    const failing = await rest('/modalities/dnetscp/storage-commitment', {
      DicomInstances: [...held, missing],
    });
    await eventually(async () => {
      report = await rest(`/storage-commitment/${failing.ID}`);
      return report.Status !== 'Pending';
    }, 20_000);
    expect(report.Status).toBe('Failure');
    expect(JSON.stringify(report.Failures)).toContain('1.2.826.0.1.999');
    // dnet-scp logs the N-ACTION once the report's association is released,
    // which may be after Orthanc already shows the result.
    const reported = () =>
      scp.logs.filter((l) => l.op === 'N-ACTION' && l.report === 'new association').length;
    await eventually(async () => reported() >= 2, 20_000);
    expect(reported()).toBe(2);
  }, 60_000);
});
