import { CommitmentFailureReason } from '@dnet/services';
import { describe, expect, it } from 'vitest';
import type { ArchiveIndex, InstanceRecord } from './archive-index.js';
import { silentLogger } from './logger.js';
import type { ObjectStorage } from './storage.js';
import { DEFAULT_MAX_COMMITMENT_REFERENCES, StorageCommitment } from './storage-commitment.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';

/** An index holding `records` by SOP Instance UID and a storage holding `files` (path -> size). */
function commitment(records: Record<string, InstanceRecord>, files: Record<string, number>) {
  const index = { get: async (uid: string) => records[uid] } as unknown as ArchiveIndex;
  const storage = {
    stat: async (path: string) => (path in files ? { size: files[path] } : undefined),
  } as unknown as ObjectStorage;
  return new StorageCommitment({
    index,
    storage,
    aeTitle: 'ARCHIVE',
    peers: {},
    logger: silentLogger,
  });
}

const record = (sop: string, sopClass: string, size: number): InstanceRecord => ({
  path: `${sop}.dcm`,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  size,
  attributes: { '00080016': { vr: 'UI', Value: [sopClass] } },
});

describe('StorageCommitment.check (PS3.4 §J.3.2.2, Failure Reasons of PS3.3 §C.14.1.1)', () => {
  it('commits what is held whole, with its SOP Class; says why for the rest', async () => {
    const sc = commitment(
      { '1.1': record('1.1', CT, 10), '1.2': record('1.2', CT, 10), '1.3': record('1.3', CT, 10) },
      { '1.1.dcm': 10, '1.3.dcm': 9 },
    );
    const result = await sc.check([
      { sopClassUid: CT, sopInstanceUid: '1.1' },
      { sopClassUid: CT, sopInstanceUid: '1.2' }, // file missing
      { sopClassUid: CT, sopInstanceUid: '1.3' }, // file of another size
      { sopClassUid: CT, sopInstanceUid: '1.4' }, // not held
      { sopClassUid: MR, sopInstanceUid: '1.1' }, // held with another SOP Class
    ]);
    expect(result).toEqual({
      committed: [{ sopClassUid: CT, sopInstanceUid: '1.1' }],
      failed: [
        { sopClassUid: CT, sopInstanceUid: '1.2', reason: 0x0110 },
        { sopClassUid: CT, sopInstanceUid: '1.3', reason: 0x0110 },
        { sopClassUid: CT, sopInstanceUid: '1.4', reason: 0x0112 },
        { sopClassUid: MR, sopInstanceUid: '1.1', reason: 0x0119 },
      ],
      retrieveAeTitle: 'ARCHIVE',
    });
    expect(CommitmentFailureReason.CLASS_INSTANCE_CONFLICT).toBe(0x0119);
  });

  it('names no Retrieve AE Title when nothing is committed', async () => {
    const result = await commitment({}, {}).check([{ sopClassUid: CT, sopInstanceUid: '9' }]);
    expect(result).toEqual({
      committed: [],
      failed: [{ sopClassUid: CT, sopInstanceUid: '9', reason: 0x0112 }],
    });
  });

  it('serves the Storage Commitment Push Model class as an N-service', () => {
    const sc = commitment({}, {});
    expect(sc.service.sopClasses).toEqual(['1.2.840.10008.1.20.1']);
    expect(sc.service.nAction).toBeTypeOf('function');
    expect(DEFAULT_MAX_COMMITMENT_REFERENCES).toBe(10_000);
  });
});
