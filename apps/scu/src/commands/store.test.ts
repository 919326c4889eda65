import { describe, expect, it } from 'vitest';
import type { DicomFile } from '../dicom-files.js';
import { storeBatches, storeContexts } from './store.js';

const ELE = '1.2.840.10008.1.2.1';
const ILE = '1.2.840.10008.1.2';
const JPEG = '1.2.840.10008.1.2.4.50';
const file = (path: string, sopClassUid: string, transferSyntaxUid = ELE): DicomFile => ({
  path,
  size: 1,
  sopClassUid,
  sopInstanceUid: `${path}.1`,
  transferSyntaxUid,
  fileMetaPresent: true,
});

describe('store contexts', () => {
  it('proposes one context per SOP class for uncompressed files and one per compressed syntax', () => {
    const contexts = storeContexts([
      file('a', '1.2.3'),
      file('b', '1.2.3', ILE),
      file('c', '1.2.3', JPEG),
      file('d', '1.2.4', ILE),
    ]);
    expect(contexts).toEqual([
      { abstractSyntax: '1.2.3', transferSyntaxes: [ELE, ILE] },
      { abstractSyntax: '1.2.3', transferSyntaxes: [JPEG] },
      { abstractSyntax: '1.2.4', transferSyntaxes: [ILE, ELE] },
    ]);
  });

  it('splits files needing more than 128 contexts over several associations (PS3.8 §9.3.2.2)', () => {
    const files = Array.from({ length: 300 }, (_, i) => file(`f${i}`, `1.2.${i % 130}`));
    const batches = storeBatches(files);
    expect(batches.map((b) => storeContexts(b).length)).toEqual([128, 2]);
    expect(
      batches
        .flat()
        .map((f) => f.path)
        .sort(),
    ).toEqual(files.map((f) => f.path).sort());
    expect(storeBatches(files, 64).length).toBe(3);
    expect(storeBatches([])).toEqual([]);
  });
});
