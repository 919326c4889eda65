/**
 * NUL and other control characters on the wire, through the whole app, with
 * either index: a C-FIND key holding one fails with A900H (not a PostgreSQL
 * error turned into C000H, not a crash), a C-STORE whose data set holds NUL
 * inside a value fails with C000H and leaves no file nor row, and the SCP goes
 * on serving. PS3.5 Table 6.2-1: no string VR holds control characters but
 * ESC (and TAB, LF, FF, CR in the text VRs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { DataSet } from '@dnet/dataset';
import { type Client, queryRetrieve, storage } from '@dnet/services';
import { describePostgres } from '@dnet/testkit';
import { startPostgres, type TestPostgres } from '@dnet/testkit/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  type InProcessScp,
  startOnLoopback,
} from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE } from './synthetic-images.js';

function image(sop: string, description: string): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT_IMAGE_STORAGE, 'UI');
  ds.setString('SOPInstanceUID', sop, 'UI');
  ds.setString('StudyDescription', description, 'LO');
  ds.setString('PatientName', 'CONTROL^CHARS', 'PN');
  ds.setString('PatientID', 'CC1', 'LO');
  ds.setString('StudyInstanceUID', '1.2.826.0.1.77', 'UI');
  ds.setString('SeriesInstanceUID', '1.2.826.0.1.77.1', 'UI');
  ds.setBytes('PixelData', new Uint8Array(64).fill(1), 'OW');
  return ds;
}

async function find(client: Client, query: DicomJsonDataSet): Promise<DicomJsonDataSet[]> {
  const out: DicomJsonDataSet[] = [];
  for await (const r of client.find(query, { level: 'STUDY' })) out.push(r);
  return out;
}

function suite(name: string, dbArgs: () => Promise<string[]>): void {
  describe(name, () => {
    let dir: string;
    let scp: InProcessScp;
    let client: Client;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-control-'));
      scp = await startOnLoopback([join(dir, 'storage'), ...(await dbArgs())]);
      client = await connectClient(scp.port, [
        storage(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
        queryRetrieve('study'),
      ]);
      expect((await client.store(image('1.2.826.0.1.77.1.1', 'CLEAN'))).status).toBe(0);
    }, 60_000);

    afterAll(async () => {
      await client?.release().catch(() => client.abort());
      await scp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('C-FIND with NUL or another control character in a key: A900H; the SCP goes on', async () => {
      // A trailing NUL is padding (stripped on decoding); inside a value it is not.
      for (const bad of ['CC\u00001', 'C\u0000*', 'C\u0007*']) {
        const error = await find(client, {
          '00100020': { vr: 'LO', Value: [bad] },
          '0020000D': { vr: 'UI' },
        }).catch((e: unknown) => e);
        expect(error, JSON.stringify(bad)).toMatchObject({ status: 0xa900 });
      }
      const found = await find(client, {
        '00100020': { vr: 'LO', Value: ['CC1'] },
        '0020000D': { vr: 'UI' },
      });
      expect(found).toHaveLength(1);
    });

    it('C-STORE with NUL inside a value: C000H, no file, no row; the SCP goes on', async () => {
      const error = await client
        .store(image('1.2.826.0.1.77.1.2', 'HEAD\u0000NECK'))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 0xc000 });
      expect(await scp.scp.index.get('1.2.826.0.1.77.1.2')).toBeUndefined();
      const path = '1.2.826.0.1.77/1.2.826.0.1.77.1/1.2.826.0.1.77.1.2.dcm';
      expect(await scp.scp.storage.stat(path)).toBeUndefined();
      expect((await client.store(image('1.2.826.0.1.77.1.3', 'OK'))).status).toBe(0);
      expect(await scp.scp.index.count()).toMatchObject({ instances: 2 });
    });
  });
}

suite('control characters, SQLite index', async () => []);

describePostgres('control characters, PostgreSQL index', () => {
  let server: TestPostgres | undefined;
  afterAll(async () => {
    await server?.stop();
  }, 30_000);
  suite('PostgresIndex', async () => {
    server = await startPostgres();
    return ['--db', await server.createDatabase('control'), '--node-id', 'node-1'];
  });
});
