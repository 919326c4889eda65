import { describe, expect, it } from 'vitest';
import {
  dictionarySize,
  keywordOf,
  lookupKeyword,
  lookupPrivateTag,
  lookupTag,
} from './dictionary.js';
import { UnsupportedTransferSyntaxError } from './errors.js';
import {
  formatTag,
  isPrivateCreatorTag,
  isPrivateTag,
  makeTag,
  parseTag,
  privateCreatorTagOf,
  tagToHex,
} from './tag.js';
import { lookupUid, lookupUidKeyword, transferSyntaxInfo, uidEntries } from './uid.js';
import { byteSwapUnit, hasLongHeader, padByte, VR } from './vr.js';

describe('tags (PS3.5 7.1)', () => {
  it('formats and parses', () => {
    expect(formatTag(makeTag(0x7fe0, 0x0010))).toBe('(7FE0,0010)');
    expect(tagToHex(0x00100010)).toBe('00100010');
    expect(parseTag('(0010,0010)')).toBe(0x00100010);
    expect(parseTag('0020000D')).toBe(0x0020000d);
    expect(parseTag('nope')).toBeUndefined();
  });

  it('knows private groups and creators (PS3.5 7.8.1)', () => {
    expect(isPrivateTag(0x00091001)).toBe(true);
    expect(isPrivateTag(0x00100010)).toBe(false);
    expect(isPrivateCreatorTag(0x00090010)).toBe(true);
    expect(privateCreatorTagOf(0x00091a01)).toBe(0x0009001a);
  });
});

describe('VRs (PS3.5 6.2)', () => {
  it('has all 34 VRs, header sizes, pad bytes and swap units', () => {
    expect(Object.keys(VR)).toHaveLength(34);
    expect(hasLongHeader('OV')).toBe(true);
    expect(hasLongHeader('UC')).toBe(true);
    expect(hasLongHeader('SV')).toBe(true);
    expect(hasLongHeader('LO')).toBe(false);
    expect(padByte('UI')).toBe(0);
    expect(padByte('LO')).toBe(0x20);
    expect(padByte('OB')).toBe(0);
    expect([
      byteSwapUnit('AT'),
      byteSwapUnit('OL'),
      byteSwapUnit('UV'),
      byteSwapUnit('OB'),
    ]).toEqual([2, 4, 8, 1]);
  });
});

describe('data dictionary (PS3.6 6), generated from dcmjs', () => {
  it('has the standard elements with keyword, name, VR, VM and retired flag', () => {
    expect(dictionarySize()).toBeGreaterThan(4000);
    expect(lookupTag(0x00100010)).toMatchObject({
      keyword: 'PatientName',
      name: "Patient's Name",
      vr: 'PN',
      vm: '1',
      retired: false,
    });
    expect(lookupKeyword('PixelData')).toMatchObject({ tag: 0x7fe00010, vrs: ['OB', 'OW'] });
    expect(lookupTag(0x00080040)?.retired).toBe(true);
    expect(lookupKeyword('SelectorOVValue')?.vr).toBe('OV');
  });

  it('resolves repeating groups, group lengths and private creators', () => {
    expect(lookupTag(0x60023000)?.keyword).toBe('OverlayData');
    expect(lookupTag(0x60000010)?.keyword).toBe('OverlayRows');
    expect(lookupTag(0x00090000)?.vr).toBe('UL');
    expect(lookupTag(0x00090010)?.vr).toBe('LO');
    expect(lookupTag(0x00091001)).toBeUndefined();
    expect(keywordOf(0x00091001)).toBe('(0009,1001)');
  });

  it('has the private dictionary keyed by creator', () => {
    expect(lookupPrivateTag('SIEMENS CSA HEADER', 0x00291008)?.vr).toBe('CS');
    expect(lookupPrivateTag('SIEMENS CSA HEADER', 0x00291108)?.vr).toBe('CS');
    expect(lookupPrivateTag('NOBODY', 0x00291008)).toBeUndefined();
  });
});

describe('UID registry (PS3.6 Annex A)', () => {
  it('names SOP classes and transfer syntaxes', () => {
    expect(uidEntries().length).toBeGreaterThan(300);
    expect(lookupUid('1.2.840.10008.1.1')).toMatchObject({
      keyword: 'Verification',
      type: 'SOP Class',
    });
    expect(lookupUid('1.2.840.10008.1.2.4.50')).toMatchObject({ type: 'Transfer Syntax' });
    expect(lookupUid('1.2.840.10008.1.2.2')?.retired).toBe(true);
    expect(lookupUidKeyword('CTImageStorage')?.uid).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.2\0')?.name).toBe('CT Image Storage');
  });

  it('knows UIDs added to PS3.6 after 2014 (snapshot of DICOM 2022a)', () => {
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.104.3')).toMatchObject({
      keyword: 'EncapsulatedSTLStorage',
      name: 'Encapsulated STL Storage',
      type: 'SOP Class',
      retired: false,
    });
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.77.1.7')?.keyword).toBe(
      'DermoscopicPhotographyImageStorage',
    );
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.481.22')?.name).toBe(
      'RT Treatment Preparation Storage',
    );
    expect(lookupUid('1.2.840.10008.1.2.4.108')).toMatchObject({
      keyword: 'HEVCM10P51',
      type: 'Transfer Syntax',
    });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.108')).toMatchObject({ encapsulated: true });
    // PS3.6 keywords as the standard spells them, retired twins apart.
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.13.1.4')?.keyword).toBe(
      'BreastProjectionXRayImageStorageForPresentation',
    );
    expect(lookupUidKeyword('UltrasoundMultiFrameImageStorage')?.uid).toBe(
      '1.2.840.10008.5.1.4.1.1.3.1',
    );
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.3')).toMatchObject({
      keyword: 'UltrasoundMultiFrameImageStorageRetired',
      retired: true,
    });
    // Newer than the snapshot, named by dcmjs.
    expect(lookupUid('1.2.840.10008.5.1.4.1.1.66.7')?.type).toBe('SOP Class');
  });

  it('describes how each transfer syntax encodes (PS3.5 10)', () => {
    expect(transferSyntaxInfo('1.2.840.10008.1.2')).toMatchObject({
      explicitVr: false,
      littleEndian: true,
    });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.2')).toMatchObject({
      explicitVr: true,
      littleEndian: false,
    });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.1.99')).toMatchObject({ deflated: true });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.70')).toMatchObject({ encapsulated: true });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.201')).toMatchObject({ encapsulated: true });
    expect(() => transferSyntaxInfo('1.2.840.10008.5.1.4.1.1.2')).toThrow(
      UnsupportedTransferSyntaxError,
    );
  });
});
