import { join } from 'node:path';
import { openPart10File } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { queryRetrieve, retrieveContexts } from './contexts.js';
import { OperationFailedError } from './errors.js';
import { bytesOf, hierarchy, tempDir, uidsOf } from './instances.test-support.js';
import { MemoryArchive } from './memory-archive.js';
import { archiveWith, CT, moveSetup, setup } from './server.test-support.js';

// The Server's Retrieve services, C-MOVE and C-GET (PS3.4 §C.4.2, §C.4.3).
describe('Retrieve (PS3.4 §C.4.2, §C.4.3)', () => {
  it('C-MOVE sends the study to the destination from the AE table, with progress counts', async () => {
    const archive = await archiveWith();
    const dest = new MemoryArchive();
    const moving = await moveSetup(archive, (i) => dest.store(i));
    const client = await moving.connect([queryRetrieve('study')]);
    const study = uidsOf({ patient: 2, study: 1, series: 1, instance: 1 }).study;
    const progress: number[] = [];
    const result = await client.move(
      { '0020000D': { vr: 'UI', Value: [study] } },
      {
        level: 'STUDY',
        destination: 'DEST',
        onProgress: (p) => progress.push(p.remaining!),
      },
    );
    expect(result).toMatchObject({
      status: 0,
      completed: 4,
      failed: 0,
      warning: 0,
      cancelled: false,
    });
    expect(progress).toEqual([3, 2, 1]);
    expect([...dest.instances.keys()].sort()).toEqual(
      archive
        .retrieve({ '0020000D': { vr: 'UI', Value: [study] } })
        .map((i) => i.sopInstanceUid)
        .sort(),
    );
    for (const [uid, i] of dest.instances)
      expect(i.dataSet).toEqual(archive.instances.get(uid)!.dataSet);
    const unknown = await client
      .move({ '0020000D': { vr: 'UI', Value: [study] } }, { level: 'STUDY', destination: 'NOBODY' })
      .catch((e) => e);
    expect(unknown).toBeInstanceOf(OperationFailedError);
    expect(unknown.status).toBe(0xa801);
    await client.release();
    await moving.close();
  });

  it('C-MOVE reports failed sub-operations and the Failed SOP Instance UID List', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 3));
    const failing = uidsOf({ patient: 1, study: 1, series: 1, instance: 2 }).instance;
    const moving = await moveSetup(archive, async (i) => {
      await bytesOf(i);
      return i.sopInstanceUid === failing ? 0xa700 : 0;
    });
    const client = await moving.connect([queryRetrieve('study')]);
    const result = await client.move(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      { level: 'PATIENT', destination: 'DEST' },
    );
    expect(result).toMatchObject({
      status: 0xb000,
      completed: 2,
      failed: 1,
      failedSopInstanceUids: [failing],
    });
    await client.release();
    await moving.close();
  });

  it('C-MOVE cancelled midway ends with FE00H and fewer completed', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 40));
    const moving = await moveSetup(archive, async (i) => {
      await bytesOf(i);
      await new Promise((r) => setImmediate(r));
    });
    const client = await moving.connect([queryRetrieve('study')]);
    const controller = new AbortController();
    const result = await client.move(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      {
        level: 'PATIENT',
        destination: 'DEST',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.completed === 5) controller.abort();
        },
      },
    );
    expect(result.cancelled).toBe(true);
    expect(result.status).toBe(0xfe00);
    expect(result.completed).toBeGreaterThanOrEqual(5);
    expect(result.completed).toBeLessThan(40);
    expect(result.remaining).toBe(40 - result.completed - result.failed - result.warning);
    await client.release();
    await moving.close();
  });

  it('C-GET delivers sub-operations on the same association to a callback and to a folder', async () => {
    const archive = await archiveWith();
    const { server, connect } = await setup(archive.handlers());
    const client = await connect(retrieveContexts('study', [CT]));
    const study = uidsOf({ patient: 1, study: 2, series: 1, instance: 1 }).study;
    const got = new Map<string, Uint8Array>();
    const progress: number[] = [];
    const result = await client.get(
      { '0020000D': { vr: 'UI', Value: [study] } },
      {
        level: 'STUDY',
        sink: async (i) => void got.set(i.sopInstanceUid, await bytesOf(i)),
        onProgress: (p) => progress.push(p.completed),
      },
    );
    expect(result).toMatchObject({ status: 0, completed: 4, failed: 0 });
    expect(progress).toEqual([1, 2, 3]);
    for (const [uid, bytes] of got) expect(bytes).toEqual(archive.instances.get(uid)!.dataSet);
    await using dir = await tempDir();
    const r2 = await client.get(
      { '0020000D': { vr: 'UI', Value: [study] } },
      { level: 'STUDY', sink: { folder: dir.path } },
    );
    expect(r2.completed).toBe(4);
    for (const uid of got.keys()) {
      const file = await openPart10File(join(dir.path, `${uid}.dcm`));
      expect(file.fileMetaInformation.mediaStorageSopInstanceUid).toBe(uid);
      expect((await file.readDataSet()).string('StudyInstanceUID')).toBe(study);
    }
    await client.release();
    await server.close();
  });

  it('C-GET without the SCP role for the class fails every sub-operation (A702H)', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 2));
    const { server, connect } = await setup(archive.handlers());
    const client = await connect([queryRetrieve('study', { operations: ['get'] })]);
    const error = await client
      .get({ '00100020': { vr: 'LO', Value: ['PID1'] } }, { level: 'PATIENT', sink: () => 0 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0xa702);
    expect((error.result as { failed: number }).failed).toBe(2);
    await client.release();
    await server.close();
  });
});

describe('Sub-operation window', () => {
  it('C-MOVE keeps several C-STOREs outstanding at the destination when subOperationWindow > 1', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 12));
    let active = 0;
    let peak = 0;
    const dest = new MemoryArchive();
    const moving = await moveSetup(
      archive,
      async (i) => {
        active++;
        peak = Math.max(peak, active);
        await dest.store(i);
        for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
        active--;
      },
      { subOperationWindow: 4 },
    );
    const client = await moving.connect([queryRetrieve('study')]);
    const result = await client.move(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      { level: 'PATIENT', destination: 'DEST' },
    );
    expect(result).toMatchObject({ status: 0, completed: 12, failed: 0 });
    expect(dest.instances.size).toBe(12);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    await client.release();
    await moving.close();
  });
});
