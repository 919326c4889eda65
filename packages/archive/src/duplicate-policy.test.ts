import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { archivedCopy, isDuplicatePolicy } from './duplicate-policy.js';
import { SqliteIndex } from './sqlite-index.js';
import { LocalStorage } from './storage.js';

const UIDS = {
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: '1.2.3.4',
  sopInstanceUid: '1.2.3.4.5',
};

describe('isDuplicatePolicy', () => {
  it('knows the three policies', () => {
    expect(['keep', 'replace', 'reject'].every(isDuplicatePolicy)).toBe(true);
    expect(isDuplicatePolicy('overwrite')).toBe(false);
    expect(isDuplicatePolicy(undefined)).toBe(false);
  });
});

describe('archivedCopy', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function archive() {
    dir = await mkdtemp(join(tmpdir(), 'dnet-dup-'));
    const storage = new LocalStorage(dir, { fsync: false });
    const index = new SqliteIndex(':memory:');
    const writer = await storage.begin(UIDS);
    await writer.write(new Uint8Array(100).fill(1));
    const stored = await writer.commit();
    await index.put({
      ...stored,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      attributes: {
        '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
        '00080018': { vr: 'UI', Value: [UIDS.sopInstanceUid] },
        '0020000D': { vr: 'UI', Value: [UIDS.studyInstanceUid] },
        '0020000E': { vr: 'UI', Value: [UIDS.seriesInstanceUid] },
      },
    });
    return { storage, index, root: dir, path: stored.path };
  }

  it('is the record of an instance indexed with its whole file', async () => {
    const { storage, index, path } = await archive();
    expect(await archivedCopy(index, storage, UIDS.sopInstanceUid)).toMatchObject({
      path,
      size: 100,
    });
    expect(await archivedCopy(index, storage, '1.2.3.4.6')).toBeUndefined();
    await index.close();
  });

  it('is undefined when the file is gone or its size differs from the index', async () => {
    const { storage, index, root, path } = await archive();
    await writeFile(join(root, path), new Uint8Array(99));
    expect(await archivedCopy(index, storage, UIDS.sopInstanceUid)).toBeUndefined();
    await rm(join(root, path));
    expect(await archivedCopy(index, storage, UIDS.sopInstanceUid)).toBeUndefined();
    await index.close();
  });
});
