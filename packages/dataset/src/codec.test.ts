import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, hex } from './canonical.test-support.js';
import { convertTransferSyntax } from './convert.js';
import { DataSet } from './data-set.js';
import { decodeDataSet } from './decode.js';
import { deflateDataSet, encodeDataSet, encodeDataSetChunks, encodedLength } from './encode.js';
import {
  InflatedTooLargeError,
  LengthExceedsDataError,
  MalformedDataSetError,
  NestingTooDeepError,
  UnsupportedTransferSyntaxError,
} from './errors.js';
import { TransferSyntax } from './uid.js';
import type { Vr } from './vr.js';

const SYNTAXES = Object.values(TransferSyntax);
const ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-_^'.split('');

const text = (max: number, chars = ASCII) =>
  fc.array(fc.constantFrom(...chars), { maxLength: max }).map((a) => a.join('').trim());

/** Keyword and a value generator per VR (every keyword has exactly that VR in PS3.6). */
const SCALARS: [string, Vr, fc.Arbitrary<(ds: DataSet, key: string) => void>][] = [
  ['PatientID', 'LO', text(64).map((v) => (ds, k) => ds.setString(k, v))],
  ['AccessionNumber', 'SH', text(16).map((v) => (ds, k) => ds.setString(k, v))],
  [
    'Modality',
    'CS',
    text(16, 'ABCDEFGHIJ_0123'.split('')).map((v) => (ds, k) => ds.setString(k, v)),
  ],
  ['ReferringPhysicianName', 'PN', text(40).map((v) => (ds, k) => ds.setString(k, v))],
  [
    'StudyDate',
    'DA',
    fc
      .date({ min: new Date(1900, 0, 1), max: new Date(2100, 0, 1), noInvalidDate: true })
      .map((d) => (ds, k) => ds.setString(k, d.toISOString().slice(0, 10).replaceAll('-', ''))),
  ],
  [
    'StudyTime',
    'TM',
    fc
      .integer({ min: 0, max: 235959 })
      .map((n) => (ds, k) => ds.setString(k, String(n).padStart(6, '0'))),
  ],
  [
    'AcquisitionDateTime',
    'DT',
    fc.constant((ds: DataSet, k: string) => ds.setString(k, '20240229123456.123456+0100')),
  ],
  [
    'StudyInstanceUID',
    'UI',
    fc
      .array(fc.integer({ min: 0, max: 99999 }), { minLength: 1, maxLength: 8 })
      .map((a) => (ds, k) => ds.setString(k, `1.2.${a.join('.')}`)),
  ],
  ['InstitutionAddress', 'ST', text(200).map((v) => (ds, k) => ds.setString(k, v))],
  ['AdditionalPatientHistory', 'LT', text(300).map((v) => (ds, k) => ds.setString(k, v))],
  ['StrainAdditionalInformation', 'UT', text(300).map((v) => (ds, k) => ds.setString(k, v))],
  ['LongCodeValue', 'UC', text(100).map((v) => (ds, k) => ds.setString(k, v))],
  ['CodingSchemeURL', 'UR', fc.webUrl().map((v) => (ds, k) => ds.setString(k, v))],
  ['StationAETitle', 'AE', text(16).map((v) => (ds, k) => ds.setString(k, v))],
  [
    'PatientAge',
    'AS',
    fc
      .integer({ min: 0, max: 999 })
      .map((n) => (ds, k) => ds.setString(k, `${String(n).padStart(3, '0')}Y`)),
  ],
  [
    'PatientWeight',
    'DS',
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((n) => (ds, k) => ds.setNumber(k, n)),
  ],
  [
    'ReferencedFrameNumber',
    'IS',
    fc
      .array(fc.integer({ min: -1000, max: 100000 }), { maxLength: 5 })
      .map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  ['Rows', 'US', fc.integer({ min: 0, max: 0xffff }).map((n) => (ds, k) => ds.setNumber(k, n))],
  [
    'TagAngleSecondAxis',
    'SS',
    fc.integer({ min: -0x8000, max: 0x7fff }).map((n) => (ds, k) => ds.setNumber(k, n)),
  ],
  [
    'ReferencePixelX0',
    'SL',
    fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((n) => (ds, k) => ds.setNumber(k, n)),
  ],
  [
    'PrivateDataElementValueMultiplicity',
    'UL',
    fc.array(fc.nat(), { maxLength: 3 }).map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  [
    'ExaminedBodyThickness',
    'FL',
    fc.float({ noNaN: true }).map((n) => (ds, k) => ds.setNumber(k, n)),
  ],
  ['EventTimeOffset', 'FD', fc.double({ noNaN: true }).map((n) => (ds, k) => ds.setNumber(k, n))],
  [
    'FileOffsetInContainer',
    'UV',
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((n) => (ds, k) => ds.setNumber(k, n)),
  ],
  [
    'SelectorSVValue',
    'SV',
    fc
      .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 3 })
      .map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  [
    'DimensionIndexPointer',
    'AT',
    fc.nat({ max: 0xffffffff }).map((n) => (ds, k) => ds.setNumber(k, n)),
  ],
  [
    'RedPaletteColorLookupTableData',
    'OW',
    fc
      .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 64 })
      .map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  [
    'VectorGridData',
    'OF',
    fc
      .array(fc.float({ noNaN: true }), { maxLength: 16 })
      .map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  [
    'FilterLookupTableData',
    'OD',
    fc
      .array(fc.double({ noNaN: true }), { maxLength: 8 })
      .map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  [
    'TrackPointIndexList',
    'OL',
    fc.array(fc.nat(), { maxLength: 8 }).map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  [
    'SelectorOVValue',
    'OV',
    fc
      .array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 4 })
      .map((a) => (ds, k) => ds.setNumber(k, a)),
  ],
  ['MakerNote', 'OB', fc.uint8Array({ maxLength: 100 }).map((b) => (ds, k) => ds.setBytes(k, b))],
];

const SEQUENCES = ['ReferencedImageSequence', 'ProcedureCodeSequence', 'AnatomicRegionSequence'];

type Build = (ds: DataSet) => void;

/** A data set builder: scalars, a private block, sequences nested up to `depth`. */
function dataSetArb(depth: number): fc.Arbitrary<Build> {
  const scalars = fc
    .subarray(SCALARS, { maxLength: 12 })
    .chain((picked) =>
      fc.tuple(...picked.map(([kw, , arb]) => arb.map((set) => (ds: DataSet) => set(ds, kw)))),
    );
  const privateBlock = fc.option(
    fc
      .tuple(text(16, 'ABCXYZ '.split('')), fc.uint8Array({ maxLength: 40 }))
      .map(([creator, bytes]) => (ds: DataSet) => {
        ds.setString(0x00410010, creator || 'DNET', 'LO');
        ds.setBytes(0x00411001, bytes, 'UN');
      }),
  );
  const seqs =
    depth <= 0
      ? fc.constant([] as Build[])
      : fc.subarray(SEQUENCES, { maxLength: 2 }).chain((names) =>
          fc.tuple(
            ...names.map((name) =>
              fc
                .tuple(
                  fc.array(fc.tuple(dataSetArb(depth - 1), fc.boolean()), { maxLength: 3 }),
                  fc.boolean(),
                )
                .map(([items, undefinedSeq]) => (ds: DataSet) => {
                  const built = items.map(([b, undefinedItem]) => {
                    const item = new DataSet();
                    b(item);
                    item.undefinedLength = undefinedItem;
                    return item;
                  });
                  ds.setSequence(name, built);
                  ds.set({ ...ds.get(name)!, undefinedLength: undefinedSeq });
                }),
            ),
          ),
        );
  return fc.tuple(scalars, privateBlock, seqs).map(([s, p, q]) => (ds: DataSet) => {
    for (const f of s) f(ds);
    if (p) p(ds);
    for (const f of q) f(ds);
  });
}

const arbitraryDataSet = dataSetArb(2).map((build) => {
  const ds = new DataSet();
  build(ds);
  return ds;
});

describe('element codec round trips (PS3.5 A.1, A.2, A.3, A.5)', () => {
  it('decode(encode(ds)) has the same elements in every uncompressed syntax', () => {
    fc.assert(
      fc.property(arbitraryDataSet, fc.constantFrom(...SYNTAXES), (ds, ts) => {
        const back = decodeDataSet(encodeDataSet(ds, ts), ts);
        expect(canonical(back)).toEqual(canonical(ds));
      }),
      { numRuns: 150 },
    );
  });

  it('is bit-preserving: encode(decode(bytes)) gives the same bytes', () => {
    fc.assert(
      fc.property(arbitraryDataSet, fc.constantFrom(...SYNTAXES), (ds, ts) => {
        const bytes = encodeDataSet(ds, ts);
        expect(hex(encodeDataSet(decodeDataSet(bytes, ts), ts))).toBe(hex(bytes));
      }),
      { numRuns: 150 },
    );
  });

  it('converts between every pair of syntaxes as a direct encoding would', () => {
    fc.assert(
      fc.property(
        arbitraryDataSet,
        fc.constantFrom(...SYNTAXES),
        fc.constantFrom(...SYNTAXES),
        (ds, from, to) => {
          const converted = convertTransferSyntax(encodeDataSet(ds, from), from, to);
          if (to === TransferSyntax.DeflatedExplicitVRLittleEndian) {
            expect(canonical(decodeDataSet(converted, to))).toEqual(canonical(ds));
          } else {
            expect(hex(converted)).toBe(hex(encodeDataSet(ds, to)));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('computes the encoded length without encoding', () => {
    fc.assert(
      fc.property(arbitraryDataSet, fc.constantFrom(...SYNTAXES.slice(0, 2)), (ds, ts) => {
        expect(encodedLength(ds, ts)).toBe(encodeDataSet(ds, ts).length);
      }),
      { numRuns: 50 },
    );
  });
});

/** Explicit VR LE bytes of one element, for hand-made inputs. */
function explicitLE(group: number, element: number, vr: string, value: number[]): number[] {
  const long = [
    'OB',
    'OW',
    'SQ',
    'UN',
    'UT',
    'UC',
    'UR',
    'OF',
    'OD',
    'OL',
    'OV',
    'SV',
    'UV',
  ].includes(vr);
  const head = [
    group & 0xff,
    group >> 8,
    element & 0xff,
    element >> 8,
    vr.charCodeAt(0),
    vr.charCodeAt(1),
  ];
  const n = value.length;
  return long
    ? [...head, 0, 0, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, ...value]
    : [...head, n & 0xff, n >> 8, ...value];
}

const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
const tagLE = (g: number, e: number) => [g & 0xff, g >> 8, e & 0xff, e >> 8];

describe('element codec details', () => {
  it('reads explicit VR LE exactly as laid out in PS3.5 7.1.2', () => {
    const bytes = new Uint8Array([
      ...explicitLE(0x0010, 0x0010, 'PN', [...Buffer.from('DOE^JOHN')]),
      ...explicitLE(0x0028, 0x0010, 'US', [0x00, 0x02]),
    ]);
    const ds = decodeDataSet(bytes, TransferSyntax.ExplicitVRLittleEndian);
    expect(ds.string('PatientName')).toBe('DOE^JOHN');
    expect(ds.number('Rows')).toBe(512);
    expect(ds.get('Rows')?.vr).toBe('US');
  });

  it('reads a VR code outside PS3.5 Table 6.2-1 as UN, its length form guessed as DCMTK does', () => {
    const bytes = new Uint8Array(
      Buffer.from(
        // (0010,0010) "??" 16-bit length 4 "AB^C"; (0010,0020) "pn" 16-bit length 2 "ID";
        // (0011,1000) "ZZ" reserved + 32-bit length 2 [01 02]; (0040,0280) ST 2 "ok".
        '100010003f3f0400' +
          '41425e43' +
          '10002000706e0200' +
          '4944' +
          '110000105a5a000002000000' +
          '0102' +
          '4000800253540200' +
          '6f6b',
        'hex',
      ),
    );
    const ts = TransferSyntax.ExplicitVRLittleEndian;
    const ds = decodeDataSet(bytes, ts);
    expect(ds.get(0x00100010)).toMatchObject({ vr: 'UN' });
    expect(hex(ds.bytes(0x00100010)!)).toBe('41425e43');
    expect(hex(ds.bytes(0x00100020)!)).toBe('4944');
    expect(ds.get(0x00111000)).toMatchObject({ vr: 'UN' });
    expect(hex(ds.bytes(0x00111000)!)).toBe('0102');
    expect(ds.string('CommentsOnThePerformedProcedureStep')).toBe('ok');
    // Written back as UN, the 32-bit length form (PS3.5 7.1.2).
    expect(hex(encodeDataSet(ds, ts).subarray(0, 16))).toBe('10001000554e00000400000041425e43');
  });

  it('passes encapsulated pixel data fragments through (PS3.5 A.4)', () => {
    const bytes = new Uint8Array([
      ...tagLE(0x7fe0, 0x0010),
      0x4f,
      0x42,
      0,
      0,
      ...u32(0xffffffff),
      ...tagLE(0xfffe, 0xe000),
      ...u32(4),
      0,
      0,
      0,
      0, // basic offset table
      ...tagLE(0xfffe, 0xe000),
      ...u32(6),
      0xff,
      0xd8,
      1,
      2,
      0xff,
      0xd9,
      ...tagLE(0xfffe, 0xe0dd),
      ...u32(0),
    ]);
    const jpeg = '1.2.840.10008.1.2.4.50';
    const ds = decodeDataSet(bytes, jpeg);
    const pixel = ds.get('PixelData')!;
    expect(pixel.fragments?.map(hex)).toEqual(['00000000', 'ffd80102ffd9']);
    expect(hex(encodeDataSet(ds, jpeg))).toBe(hex(bytes));
  });

  it('keeps private elements with their creator; unknown implicit elements become UN', () => {
    const ds = new DataSet();
    ds.setString(0x00090010, 'ACME 1.0', 'LO');
    ds.setBytes(0x00091001, new Uint8Array([1, 2, 3, 4]), 'UN');
    const back = decodeDataSet(
      encodeDataSet(ds, TransferSyntax.ImplicitVRLittleEndian),
      TransferSyntax.ImplicitVRLittleEndian,
    );
    expect(back.get(0x00090010)?.vr).toBe('LO');
    expect(back.string(0x00090010)).toBe('ACME 1.0');
    expect(back.get(0x00091001)?.vr).toBe('UN');
    expect(hex(back.bytes(0x00091001)!)).toBe('01020304');
  });

  it('takes the VR of known private elements from the private dictionary in implicit VR', () => {
    const ds = new DataSet();
    ds.setString(0x00290010, 'SIEMENS CSA HEADER', 'LO');
    ds.setString(0x00291008, 'IMAGE NUM 4', 'CS');
    const back = decodeDataSet(
      encodeDataSet(ds, TransferSyntax.ImplicitVRLittleEndian),
      TransferSyntax.ImplicitVRLittleEndian,
    );
    expect(back.get(0x00291008)?.vr).toBe('CS');
  });

  it('reads a UN of undefined length as an implicit VR LE sequence (PS3.5 6.2.2)', () => {
    const item = [...tagLE(0x0008, 0x0100), ...u32(4), ...Buffer.from('ABC ')];
    const bytes = new Uint8Array([
      ...tagLE(0x0011, 0x1010),
      0x55,
      0x4e,
      0,
      0,
      ...u32(0xffffffff),
      ...tagLE(0xfffe, 0xe000),
      ...u32(item.length),
      ...item,
      ...tagLE(0xfffe, 0xe0dd),
      ...u32(0),
    ]);
    const ds = decodeDataSet(bytes, TransferSyntax.ExplicitVRLittleEndian);
    expect(ds.sequence(0x00111010)[0]?.string('CodeValue')).toBe('ABC');
    expect(hex(encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian))).toBe(hex(bytes));
  });

  it('writes a short-VR value longer than 65535 bytes as UN in explicit VR (PS3.5 6.2.2)', () => {
    const ds = new DataSet();
    ds.setString('InstitutionName', 'A'.repeat(70000));
    const bytes = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
    expect(String.fromCharCode(bytes[4]!, bytes[5]!)).toBe('UN');
  });

  it('swaps binary values between little and big endian per VR (PS3.5 7.3)', () => {
    const ds = new DataSet();
    ds.setNumber('Rows', 0x0102);
    ds.setNumber('EventTimeOffset', 1.5);
    ds.setString('PatientID', 'AB');
    const be = encodeDataSet(ds, TransferSyntax.ExplicitVRBigEndian);
    // (0008,2134) FD: group 0x0008 big endian, value 1.5 = 3FF8000000000000.
    expect(hex(be.subarray(0, 16))).toBe('00082134464400083ff8000000000000');
    const back = decodeDataSet(be, TransferSyntax.ExplicitVRBigEndian);
    expect(back.number('Rows')).toBe(0x0102);
    expect(back.number('EventTimeOffset')).toBe(1.5);
    expect(back.string('PatientID')).toBe('AB');
  });

  it('hands large values on as views of the data set (no copy)', () => {
    const ds = new DataSet();
    const big = new Uint8Array(100_000);
    ds.setBytes('PixelData', big, 'OB');
    const chunks = encodeDataSetChunks(ds, TransferSyntax.ExplicitVRLittleEndian);
    expect(chunks.some((c) => c === ds.get('PixelData')?.value)).toBe(true);
  });

  it('keeps group lengths right across syntaxes (PS3.5 7.2)', () => {
    const ds = new DataSet();
    ds.setNumber(0x00100000, 0, 'UL');
    ds.setString('PatientName', 'DOE^JOHN');
    ds.setString('PatientID', '1');
    for (const ts of SYNTAXES.filter((t) => t !== TransferSyntax.DeflatedExplicitVRLittleEndian)) {
      const bytes = encodeDataSet(ds, ts);
      // Group length value: everything after its own 12 bytes (tag, VR or length, UL).
      const back = decodeDataSet(bytes, ts);
      expect(back.number(0x00100000)).toBe(bytes.length - 12);
      expect(hex(encodeDataSet(back, ts))).toBe(hex(bytes));
    }
  });

  it('refuses transfer syntaxes that are not UIDs of the registry', () => {
    expect(() => decodeDataSet(new Uint8Array(0), '1.2.3')).toThrow(UnsupportedTransferSyntaxError);
  });
});

describe('limits with typed errors', () => {
  const nested = (depth: number) => {
    let inner = new DataSet();
    inner.setString('CodeValue', 'X');
    for (let i = 0; i < depth; i++) {
      const outer = new DataSet();
      outer.setSequence('ProcedureCodeSequence', [inner]);
      inner = outer;
    }
    return inner;
  };

  it('rejects sequences nested deeper than maxDepth', () => {
    const bytes = encodeDataSet(nested(10), TransferSyntax.ExplicitVRLittleEndian);
    expect(() =>
      decodeDataSet(bytes, TransferSyntax.ExplicitVRLittleEndian, { maxDepth: 9 }),
    ).toThrow(NestingTooDeepError);
    expect(decodeDataSet(bytes, TransferSyntax.ExplicitVRLittleEndian, { maxDepth: 10 }).size).toBe(
      1,
    );
  });

  it('rejects an element length larger than what remains', () => {
    const bytes = new Uint8Array(explicitLE(0x0010, 0x0010, 'PN', [...Buffer.from('DOE^JOHN')]));
    const cut = bytes.subarray(0, bytes.length - 2);
    const err = (() => {
      try {
        decodeDataSet(cut, TransferSyntax.ExplicitVRLittleEndian);
      } catch (e) {
        return e;
      }
    })() as LengthExceedsDataError;
    expect(err).toBeInstanceOf(LengthExceedsDataError);
    expect(err.code).toBe('DNET_DATASET_LENGTH_EXCEEDS_DATA');
    expect(err.tag).toBe(0x00100010);
    expect([err.length, err.remaining]).toEqual([8, 6]);
  });

  it('rejects truncated input at any cut point with a typed error', () => {
    const ds = nested(3);
    ds.setString('PatientID', 'ID');
    for (const ts of SYNTAXES.filter((t) => t !== TransferSyntax.DeflatedExplicitVRLittleEndian)) {
      const bytes = encodeDataSet(ds, ts);
      for (let cut = 1; cut < bytes.length; cut++) {
        const part = bytes.subarray(0, cut);
        try {
          // A cut between two top-level elements is itself a valid data set.
          expect(hex(encodeDataSet(decodeDataSet(part, ts), ts))).toBe(hex(part));
        } catch (e) {
          expect((e as { code?: string }).code).toMatch(/^DNET_DATASET_(MALFORMED|LENGTH)/);
        }
      }
    }
  });

  it('caps the inflated size of a deflated data set (PS3.5 A.5)', () => {
    const ds = new DataSet();
    ds.setBytes('PixelData', new Uint8Array(1 << 20), 'OB');
    const deflated = encodeDataSet(ds, TransferSyntax.DeflatedExplicitVRLittleEndian);
    expect(deflated.length).toBeLessThan(10_000);
    expect(() =>
      decodeDataSet(deflated, TransferSyntax.DeflatedExplicitVRLittleEndian, {
        maxInflatedSize: 64 * 1024,
      }),
    ).toThrow(InflatedTooLargeError);
    expect(
      decodeDataSet(deflated, TransferSyntax.DeflatedExplicitVRLittleEndian).bytes('PixelData')
        ?.length,
    ).toBe(1 << 20);
  });

  it('rejects bytes that are not a deflate stream', () => {
    expect(() =>
      decodeDataSet(new Uint8Array([1, 2, 3, 4]), TransferSyntax.DeflatedExplicitVRLittleEndian),
    ).toThrow(MalformedDataSetError);
  });

  it('pads deflated output to even length and reads it back', () => {
    for (let n = 0; n < 8; n++) {
      const d = deflateDataSet(new Uint8Array(n).fill(7));
      expect(d.length % 2).toBe(0);
    }
  });

  it('never throws anything but a dataset error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...SYNTAXES), (bytes, ts) => {
        try {
          decodeDataSet(bytes, ts);
        } catch (e) {
          expect((e as { code?: string }).code).toMatch(/^DNET_DATASET_/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
