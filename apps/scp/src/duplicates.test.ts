import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuplicatePolicy } from '@dnet/archive';
import { DataSet, encodeDataSet, readPart10Header } from '@dnet/dataset';
import { type Client, queryRetrieve, storage as storageContexts } from '@dnet/services';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  type InProcessScp,
  startOnLoopback,
  storeRaw,
} from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE } from './synthetic-images.js';

interface Uids {
  study: string;
  series: string;
  sop: string;
}

/** A small CT image whose description and pixel value tell copies apart. */
function image(uids: Uids, description: string, pixel: number): Uint8Array {
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT_IMAGE_STORAGE, 'UI');
  ds.setString('SOPInstanceUID', uids.sop, 'UI');
  ds.setString('StudyDescription', description, 'LO');
  ds.setString('PatientName', 'TEST^DUPLICATE', 'PN');
  ds.setString('PatientID', 'DUP1', 'LO');
  ds.setString('StudyInstanceUID', uids.study, 'UI');
  ds.setString('SeriesInstanceUID', uids.series, 'UI');
  ds.setBytes('PixelData', new Uint8Array(4096).fill(pixel), 'OW');
  return encodeDataSet(ds, EXPLICIT_VR_LE);
}

describe('dnet-scp --on-duplicate (over TCP)', () => {
  let dir: string | undefined;
  let scp: InProcessScp | undefined;
  let client: Client | undefined;

  afterEach(async () => {
    await client?.release().catch(() => client?.abort());
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    client = undefined;
    scp = undefined;
    dir = undefined;
  });

  async function start(policy?: DuplicatePolicy) {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-dup-'));
    const storage = join(dir, 'storage');
    scp = await startOnLoopback([storage, ...(policy ? ['--on-duplicate', policy] : [])]);
    client = await connectClient(scp.port, [
      storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
      queryRetrieve('study'),
    ]);
    return { storage, scp, client };
  }

  /** The data set bytes of the archived file at the UIDs' place. */
  async function archived(storage: string, uids: Uids): Promise<Uint8Array> {
    const bytes = await readFile(join(storage, uids.study, uids.series, `${uids.sop}.dcm`));
    return bytes.subarray(readPart10Header(bytes).dataSetOffset);
  }

  const uids: Uids = {
    study: '1.2.826.0.1.30',
    series: '1.2.826.0.1.30.1',
    sop: '1.2.826.0.1.30.1.1',
  };
  const first = image(uids, 'first', 1);
  const second = image(uids, 'second', 2);
  // The second copy cut inside Pixel Data (an interrupted copy of a file).
  const truncated = second.subarray(0, second.length - 1000);

  for (const policy of ['keep', 'replace', 'reject'] as const) {
    it(`${policy}: a truncated re-send never replaces the archived copy; a complete one is ${policy === 'keep' ? 'kept out' : policy === 'replace' ? 'swapped in' : 'refused'}`, async () => {
      const { storage, scp, client } = await start(policy === 'keep' ? undefined : policy);
      expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, first)).status).toBe(0);
      expect(Buffer.compare(await archived(storage, uids), first)).toBe(0);

      const cut = await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, truncated);
      expect(cut.status).toBe(0xc000);
      expect(cut.errorComment).toMatch(/^data set ends inside \(7FE0,0010\)/);
      expect(Buffer.compare(await archived(storage, uids), first)).toBe(0);
      expect((await scp.scp.index.get(uids.sop))?.size).toBeGreaterThan(first.length);

      const again = await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, second);
      const expected = policy === 'replace' ? second : first;
      expect(again.status).toBe(policy === 'reject' ? 0xa701 : 0);
      expect(Buffer.compare(await archived(storage, uids), expected)).toBe(0);
      const row = await scp.scp.index.get(uids.sop);
      const file = await readFile(join(storage, row!.path));
      expect(row!.size).toBe(file.length);
      expect(await scp.scp.index.count()).toMatchObject({ instances: 1 });

      const lines = scp.logs.filter((l) => l.op === 'C-STORE' && l.sopInstanceUid === uids.sop);
      expect(lines.map((l) => l.status)).toEqual([
        '0x0000',
        '0xc000',
        policy === 'reject' ? '0xa701' : '0x0000',
      ]);
      expect(lines[2]).toMatchObject({
        duplicate: { keep: 'kept', replace: 'replaced', reject: 'rejected' }[policy],
      });
      // No temporary file of the dropped copies is left (only the empty one made ahead).
      const parts = await readdir(join(storage, '.incoming'));
      expect(parts.length).toBeLessThanOrEqual(1);
      for (const p of parts) expect((await stat(join(storage, '.incoming', p))).size).toBe(0);
    });
  }

  it('keep is the default, also for a copy that names another series (the archived one stays where it is)', async () => {
    const { storage, scp, client } = await start();
    expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, first)).status).toBe(0);
    const moved = { ...uids, series: '1.2.826.0.1.30.2' };
    expect(
      (await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, image(moved, 'moved', 3))).status,
    ).toBe(0);
    expect(Buffer.compare(await archived(storage, uids), first)).toBe(0);
    await expect(
      readFile(join(storage, moved.study, moved.series, `${uids.sop}.dcm`)),
    ).rejects.toThrow(/ENOENT/);
    expect(scp.logs.filter((l) => l.duplicate === 'kept')).toHaveLength(1);
  });

  it('keep stores a copy again when the archived file is gone (indexed, but not held whole)', async () => {
    const { storage, scp, client } = await start('keep');
    expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, first)).status).toBe(0);
    await rm(join(storage, uids.study, uids.series, `${uids.sop}.dcm`));
    expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, second)).status).toBe(0);
    expect(Buffer.compare(await archived(storage, uids), second)).toBe(0);
    expect(scp.logs.filter((l) => l.duplicate === 'kept')).toHaveLength(0);
  });

  it('replace: a copy that moved to another series replaces the first, whose file goes (one row)', async () => {
    const { storage, scp, client } = await start('replace');
    expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, first)).status).toBe(0);
    expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, second)).status).toBe(0);
    expect(Buffer.compare(await archived(storage, uids), second)).toBe(0);
    const found = [];
    for await (const r of client.find(
      { '0020000D': { vr: 'UI', Value: [uids.study] }, '00081030': { vr: 'LO' } },
      { level: 'STUDY' },
    )) {
      found.push(r);
    }
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ '00081030': { Value: ['second'] } });
    const moved = { ...uids, series: '1.2.826.0.1.30.2' };
    const third = image(moved, 'third', 3);
    expect((await storeRaw(client, CT_IMAGE_STORAGE, uids.sop, third)).status).toBe(0);
    await expect(archived(storage, uids)).rejects.toThrow(/ENOENT/);
    expect(Buffer.compare(await archived(storage, moved), third)).toBe(0);
    expect(await scp.scp.index.count()).toMatchObject({ instances: 1, series: 1 });
  });

  it('concurrent copies of one instance under keep: the first committed stays, every copy gets Success', async () => {
    const { storage, scp } = await start('keep');
    const clients = await Promise.all(
      [0, 1, 2].map(() =>
        connectClient(scp.port, [storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE])]),
      ),
    );
    try {
      const copies = [1, 2, 3].map((p) => image(uids, `copy ${p}`, p));
      const results = await Promise.all(
        clients.map((c, i) => storeRaw(c, CT_IMAGE_STORAGE, uids.sop, copies[i]!)),
      );
      expect(results.map((r) => r.status)).toEqual([0, 0, 0]);
      const onDisk = await archived(storage, uids);
      const stored = scp.logs.filter((l) => l.op === 'C-STORE' && l.duplicate === undefined);
      const kept = scp.logs.filter((l) => l.duplicate === 'kept');
      expect(stored).toHaveLength(1);
      expect(kept).toHaveLength(2);
      expect(copies.some((c) => Buffer.compare(c, onDisk) === 0)).toBe(true);
      const row = await scp.scp.index.get(uids.sop);
      expect(row!.size).toBe((await readFile(join(storage, row!.path))).length);
    } finally {
      await Promise.all(clients.map((c) => c.release().catch(() => c.abort())));
    }
  });
});
