/**
 * Interop: our Client against Orthanc 1.10.1 on 127.0.0.1 (echo, store,
 * find, move to our Server, get), checked through Orthanc's REST API.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPart10Header } from '@dnet/dataset';
import { describePeer } from '@dnet/testkit';
import { type RunningOrthanc, startOrthanc } from '@dnet/testkit/orthanc';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, retrieveContexts, storage, verification } from './contexts.js';
import {
  bytesOf,
  dataSetBytes,
  hierarchy,
  tempDir,
  uidsOf,
  writeInstances,
} from './instances.test-support.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';

const CT = SopClass.CT_IMAGE_STORAGE;
let dir: AsyncDisposable & { path: string };
let files: string[];
let orthanc: RunningOrthanc;
let dest: Server;
const received = new Map<string, Uint8Array>();

function connect(contexts: Parameters<typeof Client.connect>[0]['contexts']) {
  return Client.connect({
    transport: tcp(),
    host: '127.0.0.1',
    port: orthanc.port,
    callingAeTitle: 'DNETSCU',
    calledAeTitle: 'ORTHANC',
    contexts,
  });
}

describePeer(['Orthanc'], 'our Client against Orthanc', () => {
  beforeAll(async () => {
    dir = await tempDir();
    const source = join(dir.path, 'source');
    await mkdir(source);
    files = await writeInstances(source, hierarchy(1, 2, 2, 2, 2048));
    dest = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETDEST',
      handlers: {
        store: async (instance) => {
          received.set(instance.sopInstanceUid, await bytesOf(instance));
        },
      },
    });
    orthanc = await startOrthanc({
      modalities: {
        dnetscu: { aeTitle: 'DNETSCU', port: dest.port },
        dnetdest: { aeTitle: 'DNETDEST', port: dest.port },
      },
      config: { DicomCheckCalledAet: true },
    });
  });

  afterAll(async () => {
    await orthanc?.stop();
    await dest?.close({ timeoutMs: 1000 });
    await dir?.[Symbol.asyncDispose]();
  });

  it('echo and store; Orthanc holds every instance', async () => {
    const client = await connect([verification(), storage(CT)]);
    expect(await client.echo()).toBe(0);
    const result = await client.storeMany(files);
    expect(result).toMatchObject({ stored: files.length, failed: 0 });
    await client.release();
    const stats = await orthanc.rest('/statistics');
    expect(stats).toMatchObject({ CountInstances: 8, CountStudies: 2 });
  });

  it('find at the STUDY, SERIES and IMAGE levels', async () => {
    const client = await connect([queryRetrieve('study'), queryRetrieve('patient')]);
    const studies = [];
    for await (const s of client.find(
      {
        '00100020': { vr: 'LO', Value: ['PID1'] },
        '0020000D': { vr: 'UI' },
        '00080020': { vr: 'DA' },
      },
      { level: 'STUDY' },
    ))
      studies.push(s);
    expect(studies).toHaveLength(2);
    const u = uidsOf({ patient: 1, study: 1, series: 2, instance: 1 });
    const series = [];
    for await (const s of client.find(
      {
        '0020000D': { vr: 'UI', Value: [u.study] },
        '0020000E': { vr: 'UI' },
        '00080060': { vr: 'CS', Value: ['MR'] },
      },
      { level: 'SERIES' },
    ))
      series.push(s['0020000E']?.Value?.[0]);
    expect(series).toEqual([u.series]);
    const images = [];
    for await (const i of client.find(
      {
        '0020000D': { vr: 'UI', Value: [u.study] },
        '0020000E': { vr: 'UI', Value: [u.series] },
        '00080018': { vr: 'UI' },
      },
      { level: 'IMAGE', as: 'dataset' },
    ))
      images.push(i.string('SOPInstanceUID'));
    expect(images.sort()).toEqual([`${u.series}.1`, `${u.series}.2`]);
    const patients = [];
    for await (const p of client.find(
      { '00100020': { vr: 'LO' } },
      { model: 'patient', level: 'PATIENT' },
    ))
      patients.push(p['00100020']?.Value?.[0]);
    expect(patients).toEqual(['PID1']);
    await client.release();
  });

  it('find, move and get by keyword', async () => {
    const client = await connect([queryRetrieve('study'), ...retrieveContexts('study', [CT])]);
    const u = uidsOf({ patient: 1, study: 1, series: 2, instance: 1 });
    const studies = [];
    for await (const s of client.find(
      { PatientID: 'PID1', PatientName: 'DOE^*', StudyInstanceUID: '', StudyDate: '' },
      { level: 'STUDY', as: 'keywords' },
    ))
      studies.push(s);
    expect(studies.map((s) => s.StudyInstanceUID).sort()).toEqual([
      u.study,
      uidsOf({ patient: 1, study: 2, series: 1, instance: 1 }).study,
    ]);
    expect(studies[0]).toMatchObject({ PatientName: 'DOE^PATIENT1', QueryRetrieveLevel: 'STUDY' });
    received.clear();
    const moved = await client.move(
      { StudyInstanceUID: u.study, SeriesInstanceUID: u.series },
      { level: 'SERIES', destination: 'DNETDEST' },
    );
    expect(moved).toMatchObject({ status: 0, completed: 2, failed: 0 });
    expect([...received.keys()].sort()).toEqual([`${u.series}.1`, `${u.series}.2`]);
    const got: string[] = [];
    const result = await client.get(
      { StudyInstanceUID: u.study, SeriesInstanceUID: u.series, SOPInstanceUID: `${u.series}.2` },
      { level: 'IMAGE', sink: (i) => void got.push(i.sopInstanceUid) },
    );
    expect(result).toMatchObject({ status: 0, completed: 1, failed: 0 });
    expect(got).toEqual([`${u.series}.2`]);
    await client.release();
  });

  it('move a study to our Server; the data sets arrive unchanged', async () => {
    const client = await connect([queryRetrieve('study')]);
    const u = uidsOf({ patient: 1, study: 2, series: 1, instance: 1 });
    const result = await client.move(
      { '0020000D': { vr: 'UI', Value: [u.study] } },
      {
        level: 'STUDY',
        destination: 'DNETDEST',
      },
    );
    expect(result).toMatchObject({ status: 0, completed: 4, failed: 0 });
    const expected = files.filter((f) => f.includes(`${u.study}.`));
    expect(expected).toHaveLength(4);
    for (const f of expected) {
      const uid = readPart10Header(await readFile(f)).fileMetaInformation
        .mediaStorageSopInstanceUid;
      expect(Buffer.from(received.get(uid)!).equals(await dataSetBytes(f)), uid).toBe(true);
    }
    await client.release();
  });

  it('get a series on our association', async () => {
    const client = await connect(retrieveContexts('study', [CT]));
    const u = uidsOf({ patient: 1, study: 1, series: 1, instance: 1 });
    const got = new Map<string, Uint8Array>();
    const result = await client.get(
      { '0020000D': { vr: 'UI', Value: [u.study] }, '0020000E': { vr: 'UI', Value: [u.series] } },
      { level: 'SERIES', sink: async (i) => void got.set(i.sopInstanceUid, await bytesOf(i)) },
    );
    expect(result).toMatchObject({ status: 0, completed: 2, failed: 0 });
    expect([...got.keys()].sort()).toEqual([`${u.series}.1`, `${u.series}.2`]);
    await client.release();
  });
});
