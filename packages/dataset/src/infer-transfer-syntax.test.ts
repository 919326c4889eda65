import { describe, expect, it } from 'vitest';
import { DataSet } from './data-set.js';
import { dataSetIdentity, readSopUids } from './data-set-identity.js';
import { encodeDataSet, encodeDataSetChunks } from './encode.js';
import { InvalidPart10Error } from './errors.js';
import { inferTransferSyntax } from './infer-transfer-syntax.js';
import { encodePart10, readPart10Header } from './part10.js';
import { TransferSyntax } from './uid.js';

function instance(sopInstanceUid = '1.2.3.4.5'): DataSet {
  const ds = new DataSet();
  ds.setString('SpecificCharacterSet', 'ISO_IR 100');
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  ds.setString('SOPInstanceUID', sopInstanceUid);
  ds.setString('PatientID', 'P1');
  return ds;
}

describe('inferTransferSyntax (a bare data set, as DCMTK reads one)', () => {
  it('reads the three uncompressed syntaxes from the first element', () => {
    for (const ts of [
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
    ]) {
      expect(inferTransferSyntax(encodeDataSet(instance(), ts)).transferSyntaxUid).toBe(ts);
    }
  });

  it('takes the byte order whose reading of the tag is in the dictionary', () => {
    // (0010,0020) LO in big endian: read little endian it is (1000,2000), not in the dictionary.
    const be = new Uint8Array([0x00, 0x10, 0x00, 0x20, 0x4c, 0x4f, 0x00, 0x02, 0x50, 0x31]);
    expect(inferTransferSyntax(be).transferSyntaxUid).toBe(TransferSyntax.ExplicitVRBigEndian);
  });

  it('falls back on the group when both readings are group lengths', () => {
    // (0008,0000) UL big endian; (0800,0000) is a group length too: group 0800 > 00FF -> big endian.
    const be = new Uint8Array([0x00, 0x08, 0x00, 0x00, 0x55, 0x4c, 0x00, 0x04, 0, 0, 0, 0]);
    expect(inferTransferSyntax(be).transferSyntaxUid).toBe(TransferSyntax.ExplicitVRBigEndian);
    const le = new Uint8Array([0x08, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00, 0, 0, 0, 0]);
    expect(inferTransferSyntax(le).transferSyntaxUid).toBe(TransferSyntax.ExplicitVRLittleEndian);
  });

  it('refuses Implicit VR Big Endian, meta elements without preamble and too few bytes', () => {
    const implicitBe = new Uint8Array([0x00, 0x10, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x50, 0x31]);
    expect(() => inferTransferSyntax(implicitBe)).toThrow(/Implicit VR Big Endian/);
    const meta = new Uint8Array([0x02, 0x00, 0x10, 0x00, 0x55, 0x49, 0x02, 0x00, 0x31, 0x00]);
    expect(() => inferTransferSyntax(meta)).toThrow(/group 0002/);
    expect(() => inferTransferSyntax(new Uint8Array(5))).toThrow(InvalidPart10Error);
  });

  it('marks the meta header absent on a bare data set', () => {
    const bare = readPart10Header(encodeDataSet(instance(), TransferSyntax.ExplicitVRBigEndian), {
      allowRawDataSet: true,
    });
    expect(bare.fileMetaPresent).toBe(false);
    const file = readPart10Header(
      encodePart10(instance(), { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian }),
    );
    expect(file.fileMetaPresent).toBe(true);
  });
});

describe('dataSetIdentity (the data set is authoritative)', () => {
  it('reads the SOP UIDs from the start of the data set in every uncompressed syntax', () => {
    for (const ts of [
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
      TransferSyntax.DeflatedExplicitVRLittleEndian,
    ]) {
      const bytes = encodeDataSetChunks(instance(), ts);
      const head = bytes.length === 1 ? bytes[0]! : encodeDataSet(instance(), ts);
      expect(readSopUids(head.subarray(0, Math.min(head.length, 200)), ts)).toEqual({
        sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        sopInstanceUid: '1.2.3.4.5',
      });
    }
  });

  it('reads them past an undefined-length sequence before them, and not from a cut value', () => {
    for (const ts of [TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.ExplicitVRBigEndian]) {
      const ds = instance();
      const item = new DataSet();
      item.setString('CodeValue', 'eng', 'SH');
      ds.setSequence('LanguageCodeSequence', [item]);
      const bytes = encodeDataSet(ds, ts); // sequences and items of undefined length
      expect(readSopUids(bytes, ts)).toEqual({
        sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        sopInstanceUid: '1.2.3.4.5',
      });
    }
    const whole = encodeDataSet(instance(), TransferSyntax.ExplicitVRLittleEndian);
    const at = Buffer.from(whole).indexOf('1.2.3.4.5') + 3; // inside (0008,0018)'s value
    const cut = readSopUids(whole.subarray(0, at), TransferSyntax.ExplicitVRLittleEndian);
    expect(cut.sopInstanceUid).toBeUndefined();
  });

  it('warns when the meta header disagrees and sends the data set`s UIDs', () => {
    const file = encodePart10(instance('9.9.9'), {
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      mediaStorageSopInstanceUid: '1.1.1',
    });
    const header = readPart10Header(file);
    const identity = dataSetIdentity(header, file.subarray(header.dataSetOffset));
    expect(identity.sopInstanceUid).toBe('9.9.9');
    expect(identity.sopClassUid).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(identity.warnings).toEqual([
      "(0002,0003) Media Storage SOP Instance UID in the meta header is 1.1.1 but the data set's (0008,0018) SOP Instance UID is 9.9.9; the data set's is used (PS3.10 7.1)",
    ]);
  });

  it('falls back on the meta header, with a warning, when the data set has no UIDs', () => {
    const ds = new DataSet();
    ds.setString('PatientID', 'P1');
    const file = encodePart10(ds, {
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      mediaStorageSopClassUid: '1.2.3',
      mediaStorageSopInstanceUid: '4.5.6',
    });
    const header = readPart10Header(file);
    const identity = dataSetIdentity(header, file.subarray(header.dataSetOffset));
    expect([identity.sopClassUid, identity.sopInstanceUid]).toEqual(['1.2.3', '4.5.6']);
    expect(identity.warnings).toHaveLength(2);
  });
});
