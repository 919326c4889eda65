import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet } from '@dnet/dataset';
import {
  Client,
  QUERY_MODELS,
  queryRetrieve,
  Server,
  SopClass,
  STORAGE_COMMITMENT_PUSH_MODEL,
  storage as storageContexts,
} from '@dnet/services';
import { memory } from '@dnet/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveErrorCode } from './errors.js';
import { type Archive, openArchive } from './open-archive.js';
import { SqliteIndex } from './sqlite-index.js';
import { LocalStorage } from './storage.js';
import { FolderWorklist } from './worklist.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';

function ctImage(sop: string): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT, 'UI');
  ds.setString('SOPInstanceUID', sop, 'UI');
  ds.setString('PatientName', 'DOE^JANE', 'PN');
  ds.setString('PatientID', 'P1', 'LO');
  ds.setString('StudyInstanceUID', '1.2.826.0.1.3680043.10.1', 'UI');
  ds.setString('SeriesInstanceUID', '1.2.826.0.1.3680043.10.1.1', 'UI');
  ds.setString('Modality', 'CT', 'CS');
  return ds;
}

describe('openArchive: an archive embedded in a Server', () => {
  let dir: string;
  let archive: Archive;
  let server: Server;
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const transport = memory();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-archive-'));
    lines.length = 0;
    const log = (fields: Record<string, unknown>, message: string) =>
      lines.push({ fields, message });
    archive = openArchive({
      storage: new LocalStorage(join(dir, 'objects'), { fsync: false }),
      index: new SqliteIndex(join(dir, 'index.sqlite')),
      aeTitle: 'ARCHIVE',
      logger: { info: log, warn: log, error: log },
    });
    server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'ARCHIVE',
      handlers: archive.handlers,
      extendedNegotiation: archive.extendedNegotiation,
      policy: { contexts: archive.contexts },
    });
  });

  afterEach(async () => {
    await server.close({ timeoutMs: 1000 });
    await archive.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores an instance, then finds it at STUDY level with the AE title to retrieve from', async () => {
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'MODALITY',
      calledAeTitle: 'ARCHIVE',
      contexts: [...storageContexts([CT]), ...queryRetrieve('study')],
    });
    try {
      const stored = await client.store(ctImage('1.2.826.0.1.3680043.10.1.1.1'));
      expect(stored.status).toBe(0);
      const studies = [];
      for await (const s of client.find(
        { '0020000D': { vr: 'UI' }, '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE*' }] } },
        { level: 'STUDY' },
      )) {
        studies.push(s);
      }
      expect(studies).toHaveLength(1);
      expect(studies[0]?.['0020000D']?.Value).toEqual(['1.2.826.0.1.3680043.10.1']);
      expect(studies[0]?.['00080054']?.Value).toEqual(['ARCHIVE']);
    } finally {
      await client.release();
    }
    expect(await archive.index.count()).toMatchObject({ instances: 1 });
    // The logger given gets the same lines dnet-scp writes.
    expect(lines.map((l) => l.message)).toEqual(['C-STORE', 'C-FIND']);
    expect(lines[0]?.fields).toMatchObject({ op: 'C-STORE', peer: 'MODALITY', status: '0x0000' });
  });

  it('serves Storage Commitment, not the retired Patient/Study Only model, no worklist without one', () => {
    const served = new Set(archive.contexts.map((c) => c.abstractSyntax));
    expect(served.has(SopClass.VERIFICATION)).toBe(true);
    expect(served.has(CT)).toBe(true);
    expect(served.has(SopClass.STUDY_ROOT_FIND)).toBe(true);
    expect(served.has(STORAGE_COMMITMENT_PUSH_MODEL)).toBe(true);
    expect(served.has(SopClass.MODALITY_WORKLIST_FIND)).toBe(false);
    for (const uid of Object.values(QUERY_MODELS['patient-study-only'])) {
      expect(served.has(uid)).toBe(false);
    }
    const withWorklist = openArchive({
      storage: archive.storage,
      index: archive.index,
      aeTitle: 'ARCHIVE',
      worklist: new FolderWorklist(dir),
    });
    expect(withWorklist.contexts.map((c) => c.abstractSyntax)).toContain(
      SopClass.MODALITY_WORKLIST_FIND,
    );
  });

  it('close() closes the index and the storage, once', async () => {
    await archive.close();
    await archive.close();
    await expect(archive.index.count()).rejects.toMatchObject({
      code: ArchiveErrorCode.INDEX_CLOSED,
    });
  });
});
