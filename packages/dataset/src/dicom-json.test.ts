import { describe, expect, it } from 'vitest';
import { canonical } from './canonical.test-support.js';
import { DataSet } from './data-set.js';
import { decodeDataSet } from './decode.js';
import { type DicomJsonDataSet, fromDicomJson, toDicomJson } from './dicom-json.js';
import { lookupKeyword } from './dictionary.js';
import { encodeDataSet } from './encode.js';
import { InvalidDicomJsonError } from './errors.js';
import { tagToHex } from './tag.js';
import { TransferSyntax } from './uid.js';

/** In the shape of the examples of PS3.18 F.4. */
const EXAMPLE: DicomJsonDataSet = {
  '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
  '00080020': { vr: 'DA', Value: ['20130409'] },
  '00080061': { vr: 'CS', Value: ['CT', 'PET'] },
  '00080090': {
    vr: 'PN',
    Value: [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }],
  },
  '00081032': {
    vr: 'SQ',
    Value: [
      {
        '00080100': { vr: 'SH', Value: ['IMG100'] },
        '00080104': { vr: 'LO', Value: ['CT Chest'] },
      },
    ],
  },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Bugs^Bunny' }] },
  '00100020': { vr: 'LO' },
  '00101030': { vr: 'DS', Value: [72.5] },
  '00180088': { vr: 'DS', Value: [null, 1.25] },
  '00201208': { vr: 'IS', Value: [3] },
  '00209165': { vr: 'AT', Value: ['00100010', '0020000D'] },
  '00280010': { vr: 'US', Value: [512] },
  '00286100': { vr: 'SQ' },
  '00291001': { vr: 'UN', InlineBinary: 'AQIDBA==' },
  '7FE00010': { vr: 'OW', InlineBinary: 'AQACAA==' },
};

describe('DICOM JSON Model (PS3.18 Annex F)', () => {
  it('round trips JSON -> data set -> JSON', () => {
    const ds = fromDicomJson(EXAMPLE);
    expect(toDicomJson(ds)).toEqual({
      ...EXAMPLE,
      '00209165': { vr: 'AT', Value: ['00100010', '0020000D'] },
    });
  });

  it('builds data sets that encode and decode in every syntax', () => {
    const ds = fromDicomJson(EXAMPLE);
    for (const ts of Object.values(TransferSyntax)) {
      const back = decodeDataSet(encodeDataSet(ds, ts), ts);
      expect(toDicomJson(back)).toEqual(toDicomJson(ds));
    }
    expect(ds.personName('ReferringPhysicianName')).toEqual({
      Alphabetic: 'Wang^XiaoDong',
      Ideographic: '王^小東',
    });
    expect(ds.numbers('SpacingBetweenSlices')).toEqual([1.25]);
    expect(ds.numbers(0x7fe00010)).toEqual([1, 2]);
  });

  it('turns non-ASCII text into UTF-8 and declares ISO_IR 192', () => {
    const ds = fromDicomJson({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Zoë' }] } });
    expect(ds.strings('SpecificCharacterSet')).toEqual(['ISO_IR 192']);
    expect(ds.personName('PatientName')).toEqual({ Alphabetic: 'Zoë' });
  });

  it('gives binary data big endian as little endian InlineBinary', () => {
    const ds = new DataSet();
    ds.setNumber(0x7fe00010, [1, 2], 'OW');
    const be = decodeDataSet(
      encodeDataSet(ds, TransferSyntax.ExplicitVRBigEndian),
      TransferSyntax.ExplicitVRBigEndian,
    );
    expect(toDicomJson(be)['7FE00010']).toEqual({ vr: 'OW', InlineBinary: 'AQACAA==' });
  });

  it('writes large integers of SV and UV as strings (PS3.18 F.2.3.1)', () => {
    const ds = new DataSet();
    ds.setNumber('SelectorSVValue', [-(2n ** 62n), 5n]);
    const json = toDicomJson(ds);
    expect(json[tagToHex(lookupKeyword('SelectorSVValue')!.tag)]).toEqual({
      vr: 'SV',
      Value: ['-4611686018427387904', 5],
    });
    expect(canonical(fromDicomJson(json))).toEqual(canonical(ds));
  });

  it('uses BulkDataURI when asked, and resolves it when reading', () => {
    const ds = new DataSet();
    ds.setBytes('PixelData', new Uint8Array([9, 8]), 'OB');
    const json = toDicomJson(ds, { bulkDataUri: () => 'https://example.test/bulk/1' });
    expect(json['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: 'https://example.test/bulk/1' });
    const back = fromDicomJson(json, { bulkData: () => new Uint8Array([9, 8]) });
    expect([...back.bytes('PixelData')!]).toEqual([9, 8]);
  });

  it('refuses JSON nested deeper than maxDepth', () => {
    let json: DicomJsonDataSet = { '00080100': { vr: 'SH', Value: ['X'] } };
    for (let i = 0; i < 100; i++) json = { '00081032': { vr: 'SQ', Value: [json] } };
    expect(() => fromDicomJson(json)).toThrow(InvalidDicomJsonError);
    expect(fromDicomJson(json, { maxDepth: 200 }).size).toBe(1);
  });

  it.each([
    ['a non-object', []],
    ['a bad key', { '0010': { vr: 'PN' } }],
    ['a missing vr', { '00100010': { Value: ['x'] } }],
    ['a bad vr', { '00100010': { vr: 'XX' } }],
    ['a non-array Value', { '00100010': { vr: 'PN', Value: 'x' } }],
    ['a non-number US', { '00280010': { vr: 'US', Value: ['x'] } }],
    ['a bad AT', { '00209165': { vr: 'AT', Value: ['xyz'] } }],
  ])('refuses %s with a typed error', (_name, json) => {
    expect(() => fromDicomJson(json)).toThrow(InvalidDicomJsonError);
  });
});
