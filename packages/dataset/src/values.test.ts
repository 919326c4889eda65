import { describe, expect, it } from 'vitest';
import { DataSet } from './data-set.js';
import { dumpDataSet } from './dump-data-set.js';
import { InvalidValueError, UnknownKeywordError } from './errors.js';
import {
  formatDate,
  formatPersonName,
  formatTime,
  parseDate,
  parseDateTime,
  parsePersonName,
  parseTime,
  personNameComponents,
} from './values.js';

describe('value access and setters', () => {
  it('splits strings by VM, except the single-valued texts (PS3.5 6.4)', () => {
    const ds = new DataSet();
    ds.setString('ImageType', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
    ds.setString('ImageComments', 'a\\b');
    expect(ds.strings('ImageType')).toEqual(['ORIGINAL', 'PRIMARY', 'AXIAL']);
    expect(ds.strings('ImageComments')).toEqual(['a\\b']);
    expect(ds.string('ImageType', 2)).toBe('AXIAL');
    expect(ds.strings('PatientID')).toEqual([]);
  });

  it('pads to even length with the VR pad byte (PS3.5 7.1.1)', () => {
    const ds = new DataSet();
    ds.setString('SOPInstanceUID', '1.2.3');
    ds.setString('PatientID', 'ABC');
    ds.setBytes('MakerNote', new Uint8Array([1, 2, 3]));
    expect([...ds.bytes('SOPInstanceUID')!]).toEqual([...Buffer.from('1.2.3\0')]);
    expect([...ds.bytes('PatientID')!]).toEqual([...Buffer.from('ABC ')]);
    expect([...ds.bytes('MakerNote')!]).toEqual([1, 2, 3, 0]);
    expect(ds.uid('SOPInstanceUID')).toBe('1.2.3');
  });

  it('encodes numbers of every binary VR and decimal strings', () => {
    const ds = new DataSet();
    ds.setNumber('Rows', 512);
    ds.setNumber('PixelSpacing', [0.1 + 0.2, 1 / 3]);
    ds.setNumber('InstanceNumber', 7);
    ds.setNumber('DimensionIndexPointer', 0x00209157);
    expect(ds.strings('PixelSpacing')).toEqual(['0.3', '0.33333333333333']);
    expect(ds.bytes('PixelSpacing')!.length).toBeLessThanOrEqual(34);
    expect(ds.number('InstanceNumber')).toBe(7);
    expect(ds.number('DimensionIndexPointer')).toBe(0x00209157);
    expect(() => ds.setNumber('Rows', 70000)).toThrow(InvalidValueError);
    expect(() => ds.setNumber('InstanceNumber', 1.5)).toThrow(InvalidValueError);
    expect(() => ds.setString('Rows', 'x')).toThrow(InvalidValueError);
  });

  it('gives 64-bit values as bigints', () => {
    const ds = new DataSet();
    ds.setNumber('SelectorSVValue', [-(2n ** 63n), 2n ** 63n - 1n]);
    expect(ds.bigints('SelectorSVValue')).toEqual([-(2n ** 63n), 2n ** 63n - 1n]);
  });

  it('refuses unknown keywords with a typed error', () => {
    expect(() => new DataSet().get('NoSuchKeyword')).toThrow(UnknownKeywordError);
  });

  it('adds items to sequences', () => {
    const ds = new DataSet();
    ds.addItem('ReferencedImageSequence').setString('ReferencedSOPInstanceUID', '1.2');
    ds.addItem('ReferencedImageSequence').setString('ReferencedSOPInstanceUID', '1.3');
    expect(
      ds.sequence('ReferencedImageSequence').map((i) => i.uid('ReferencedSOPInstanceUID')),
    ).toEqual(['1.2', '1.3']);
  });
});

describe('dumpDataSet', () => {
  it('lists elements like dcmdump', () => {
    const ds = new DataSet();
    ds.setString('PatientName', 'DOE^JOHN');
    ds.setNumber('Rows', 512);
    ds.setBytes('MakerNote', new Uint8Array([1, 0xab]));
    ds.addItem('ReferencedImageSequence').setString('ReferencedSOPInstanceUID', '1.2');
    expect(dumpDataSet(ds).split('\n')).toEqual([
      '(0008,1140) SQ (sequence, 1 items)  # ReferencedImageSequence',
      '  (FFFE,E000) item 1',
      '    (0008,1155) UI [1.2]  # 4 ReferencedSOPInstanceUID',
      '(0010,0010) PN [DOE^JOHN]  # 8 PatientName',
      '(0016,002B) OB 01\\ab  # 2 MakerNote',
      '(0028,0010) US 512  # 2 Rows',
    ]);
  });
});

describe('Person Name (PS3.5 6.2.1)', () => {
  it('parses component groups and components', () => {
    const pn = parsePersonName('Yamada^Tarou=山田^太郎=やまだ^たろう');
    expect(pn).toEqual({
      Alphabetic: 'Yamada^Tarou',
      Ideographic: '山田^太郎',
      Phonetic: 'やまだ^たろう',
    });
    expect(personNameComponents('Adams^John Robert Quincy^^Rev.^B.A. M.Div.')).toEqual({
      familyName: 'Adams',
      givenName: 'John Robert Quincy',
      middleName: '',
      namePrefix: 'Rev.',
      nameSuffix: 'B.A. M.Div.',
    });
    expect(formatPersonName({ Alphabetic: 'A^B' })).toBe('A^B');
    expect(formatPersonName({ Ideographic: 'X' })).toBe('=X');
  });
});

describe('DA, TM, DT (PS3.5 Table 6.2-1)', () => {
  it('parses and formats', () => {
    expect(parseDate('20240229')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseDate('2024.02.29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseDate('20241301')).toBeUndefined();
    expect(parseTime('101112.5')).toEqual({
      hours: 10,
      minutes: 11,
      seconds: 12,
      microseconds: 500000,
    });
    expect(parseTime('10')).toEqual({ hours: 10 });
    expect(parseTime('25')).toBeUndefined();
    expect(parseDateTime('20240229123456.123456+0130')).toEqual({
      year: 2024,
      month: 2,
      day: 29,
      hours: 12,
      minutes: 34,
      seconds: 56,
      microseconds: 123456,
      utcOffsetMinutes: 90,
    });
    expect(parseDateTime('2024')).toEqual({ year: 2024 });
    expect(formatDate(new Date(Date.UTC(2024, 1, 29)))).toBe('20240229');
    expect(formatTime({ hours: 1, minutes: 2, seconds: 3, microseconds: 4 })).toBe('010203.000004');
    const ds = new DataSet();
    ds.setDate('StudyDate', '20240229');
    expect(ds.date('StudyDate')).toEqual({ year: 2024, month: 2, day: 29 });
  });
});
