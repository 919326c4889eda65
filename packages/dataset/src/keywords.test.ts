import { describe, expect, expectTypeOf, it } from 'vitest';
import { DataSet } from './data-set.js';
import { fromDicomJson, toDicomJson } from './dicom-json.js';
import { lookupKeyword } from './dictionary.js';
import {
  DatasetErrorCode,
  InvalidDicomJsonError,
  InvalidValueError,
  MixedKeysError,
  UnknownKeywordError,
} from './errors.js';
import { decodeDataSet, encodeDataSet } from './index.js';
import {
  fromKeywords,
  type Keyword,
  type KeywordAttributes,
  type KeywordDataSet,
  keyFormOf,
  toKeywords,
} from './keywords.js';
import { TransferSyntax } from './uid.js';

describe('fromKeywords', () => {
  it('writes a C-FIND identifier with universal matching as attributes without Value', () => {
    expect(
      fromKeywords({ PatientName: 'DOE^*', StudyInstanceUID: '', StudyDate: null, Rows: [] }),
    ).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] },
      '0020000D': { vr: 'UI' },
      '00080020': { vr: 'DA' },
      '00280010': { vr: 'US' },
    });
  });

  it('takes the VR from the dictionary for text, numbers and several values', () => {
    expect(
      fromKeywords({
        ModalitiesInStudy: ['CT', 'MR'],
        Rows: 512,
        PixelSpacing: ['0.5', 0.25],
        InstanceNumber: 3,
        WindowCenter: [40, null],
        ImagerPixelSpacing: '1.5',
      }),
    ).toEqual({
      '00080061': { vr: 'CS', Value: ['CT', 'MR'] },
      '00280010': { vr: 'US', Value: [512] },
      '00280030': { vr: 'DS', Value: [0.5, 0.25] },
      '00200013': { vr: 'IS', Value: [3] },
      '00281050': { vr: 'DS', Value: [40, null] },
      '00181164': { vr: 'DS', Value: [1.5] },
    });
  });

  it('splits a PN string into its component groups (PS3.5 §6.2.1) and keeps objects', () => {
    expect(
      fromKeywords({
        PatientName: 'Yamada^Tarou=山田^太郎',
        ReferringPhysicianName: { Alphabetic: 'SMITH^J' },
      }),
    ).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      '00080090': { vr: 'PN', Value: [{ Alphabetic: 'SMITH^J' }] },
    });
  });

  it('nests sequences: an item alone, an array of items, or empty for universal matching', () => {
    expect(
      fromKeywords({
        ScheduledProcedureStepSequence: { Modality: 'CT', ScheduledStationAETitle: '' },
        ReferencedSeriesSequence: [{ SeriesInstanceUID: '1.2' }, { SeriesInstanceUID: '1.3' }],
        ReferencedStudySequence: '',
      }),
    ).toEqual({
      '00400100': {
        vr: 'SQ',
        Value: [{ '00080060': { vr: 'CS', Value: ['CT'] }, '00400001': { vr: 'AE' } }],
      },
      '00081115': {
        vr: 'SQ',
        Value: [
          { '0020000E': { vr: 'UI', Value: ['1.2'] } },
          { '0020000E': { vr: 'UI', Value: ['1.3'] } },
        ],
      },
      '00081110': { vr: 'SQ' },
    });
  });

  it('writes AT from a keyword or a tag, 64-bit integers and bytes as PS3.18 §F.2 says', () => {
    expect(
      fromKeywords({
        OffendingElement: ['PatientID', '00100010'],
        SelectorSVValue: [1n, 2n ** 60n],
        EncapsulatedPixelDataValueTotalLength: 7,
        PixelData: new Uint8Array([1, 2, 3]),
      }),
    ).toEqual({
      '00000901': { vr: 'AT', Value: ['00100020', '00100010'] },
      '00720082': { vr: 'SV', Value: [1, (2n ** 60n).toString()] },
      '7FE00003': { vr: 'UV', Value: [7] },
      '7FE00010': { vr: 'OB', InlineBinary: 'AQID' },
    });
  });

  it('throws UnknownKeywordError for a keyword not in the dictionary, at any depth', () => {
    const e = (() => {
      try {
        fromKeywords({ PatientNmae: 'x' } as unknown as KeywordDataSet);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(UnknownKeywordError);
    expect((e as UnknownKeywordError).code).toBe(DatasetErrorCode.UNKNOWN_KEYWORD);
    expect((e as UnknownKeywordError).keyword).toBe('PatientNmae');
    expect(() =>
      fromKeywords({ ReferencedSeriesSequence: [{ Nope: '1' }] } as unknown as KeywordDataSet),
    ).toThrow(UnknownKeywordError);
    expect(() => fromKeywords({ OffendingElement: 'Nope' })).toThrow(UnknownKeywordError);
    expect(() => fromKeywords({ GroupLength: 1 } as unknown as KeywordDataSet)).toThrow(
      UnknownKeywordError,
    );
  });

  it('refuses keywords mixed with DICOM JSON tags with MixedKeysError', () => {
    const mixed = { PatientName: 'x', '0020000D': { vr: 'UI' } } as unknown as KeywordDataSet;
    expect(() => fromKeywords(mixed)).toThrow(MixedKeysError);
    try {
      fromKeywords(mixed);
    } catch (e) {
      expect((e as MixedKeysError).code).toBe('DNET_DATASET_MIXED_KEYS');
      expect((e as Error).message).toMatch(/"PatientName" is a keyword, "0020000D" a tag/);
    }
  });

  it('refuses a value that does not fit the VR with InvalidValueError naming the keyword', () => {
    const bad = [
      { Rows: 'x' },
      { Rows: Number.NaN },
      { PatientID: 5 },
      { PixelData: 'abc' },
      { ReferencedSeriesSequence: ['x'] },
      { InstanceNumber: 'one' },
      { SelectorSVValue: 1.5 },
    ] as unknown as KeywordDataSet[];
    for (const b of bad) {
      expect(() => fromKeywords(b), JSON.stringify(b)).toThrow(InvalidValueError);
    }
    expect(() => fromKeywords({ Rows: 'x' } as unknown as KeywordDataSet)).toThrow(
      /Rows \(US\) takes numbers, not "x"/,
    );
  });
});

describe('toKeywords', () => {
  it('reads DICOM JSON by keyword: one value alone, several as an array, none as null', () => {
    expect(
      toKeywords({
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] },
        '00280010': { vr: 'US', Value: [512] },
        '00080061': { vr: 'CS', Value: ['CT', 'MR'] },
        '0020000D': { vr: 'UI' },
        '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2'] } }] },
        '00081110': { vr: 'SQ' },
        '00091010': { vr: 'LO', Value: ['private'] },
        '00090010': { vr: 'LO', Value: ['ACME'] },
      }),
    ).toEqual({
      PatientName: 'DOE^JANE',
      Rows: 512,
      ModalitiesInStudy: ['CT', 'MR'],
      StudyInstanceUID: null,
      ReferencedSeriesSequence: [{ SeriesInstanceUID: '1.2' }],
      ReferencedStudySequence: [],
    });
  });

  it('reads a DataSet, and refuses an object already by keyword', () => {
    const ds = new DataSet()
      .setString('SpecificCharacterSet', 'ISO_IR 192')
      .setPersonName('PatientName', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' })
      .setString('PixelSpacing', ['0.5', '0.25'], 'DS');
    expect(toKeywords(ds)).toEqual({
      SpecificCharacterSet: 'ISO_IR 192',
      PatientName: 'Yamada^Tarou=山田^太郎',
      PixelSpacing: [0.5, 0.25],
    });
    expect(() => toKeywords({ PatientName: 'x' } as never)).toThrow(InvalidDicomJsonError);
  });

  it('round-trips keyword form -> DICOM JSON -> bytes -> DICOM JSON -> keyword form', () => {
    const keywords = {
      PatientName: 'Yamada^Tarou=山田^太郎',
      PatientID: 'P1',
      ModalitiesInStudy: ['CT', 'MR'],
      Rows: 512,
      PixelSpacing: [0.5, 0.25],
      OffendingElement: '00100010',
      ReferencedSeriesSequence: [
        {
          SeriesInstanceUID: '1.2',
          ReferencedInstanceSequence: [{ ReferencedSOPInstanceUID: '3' }],
        },
      ],
      PixelData: new Uint8Array([1, 2, 3, 4]),
    } satisfies KeywordDataSet;
    const bytes = encodeDataSet(
      fromDicomJson(fromKeywords(keywords)),
      TransferSyntax.ExplicitVRLittleEndian,
    );
    const back = toKeywords(
      toDicomJson(decodeDataSet(bytes, TransferSyntax.ExplicitVRLittleEndian)),
    );
    expect(back).toEqual({ ...keywords, SpecificCharacterSet: 'ISO_IR 192' });
  });
});

describe('keyFormOf', () => {
  it('tells DICOM JSON (eight hex digits) from keywords, and refuses a mix', () => {
    expect(keyFormOf({ '00100010': { vr: 'PN' } })).toBe('json');
    expect(keyFormOf({})).toBe('json');
    expect(keyFormOf({ PatientName: '' })).toBe('keywords');
    expect(() => keyFormOf({ '00100010': {}, Rows: 1 })).toThrow(MixedKeysError);
  });
});

describe('keyword types, from the dictionary', () => {
  it('completes dictionary keywords, retired ones included, and types values by VR', () => {
    expectTypeOf<'PatientName'>().toExtend<Keyword>();
    expectTypeOf<'StudyInstanceUID'>().toExtend<Keyword>();
    // Retired (PS3.6 lists it as RET); kept, as the dictionary keeps it.
    expect(lookupKeyword('StudyComments')?.retired).toBe(true);
    expectTypeOf<'StudyComments'>().toExtend<Keyword>();
    expectTypeOf<'PatientNmae'>().not.toExtend<Keyword>();
    expectTypeOf<KeywordAttributes['Rows']>().toEqualTypeOf<number | number[] | null | undefined>();
    expectTypeOf<KeywordAttributes['PatientName']>().toEqualTypeOf<
      string | string[] | null | undefined
    >();
  });

  it('rejects misspelt keywords and values of the wrong kind at compile time', () => {
    // Each line below must fail to compile: `tsc --noEmit` (pnpm typecheck)
    // reports an unused @ts-expect-error otherwise.
    const typo = (q: KeywordDataSet) => q;
    // @ts-expect-error PatientNmae is not a keyword
    typo({ PatientNmae: 'x' });
    // @ts-expect-error a keyword misspelt beside a right one
    typo({ PatientName: 'x', PatientNmae: 'y' });
    // @ts-expect-error Rows (US) takes numbers
    typo({ Rows: 'x' });
    // @ts-expect-error a misspelt keyword inside a sequence item
    typo({ ReferencedSeriesSequence: [{ SeriesInstanceUD: '1' }] });
    expect(typo({ PatientName: 'DOE^*', StudyInstanceUID: '', Rows: 1 })).toBeDefined();
  });
});
