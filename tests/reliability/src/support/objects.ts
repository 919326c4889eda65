import { createHash } from 'node:crypto';
import { DataSet, encodeDataSet, TransferSyntax } from '@dnet/dataset';
import type { StoreInstance } from '@dnet/services';

/** Secondary Capture Image Storage. */
export const SC_IMAGE = '1.2.840.10008.5.1.4.1.1.7';

/** A test object: its store source and the SHA-256 of its data set bytes. */
export interface TestObject {
  /** What to pass to `Client.store`. */
  instance: StoreInstance & { dataSet: Uint8Array };
  /** SHA-256 (hex) of the data set bytes. */
  sha256: string;
}

/**
 * A Secondary Capture object in Explicit VR LE with `pixelBytes` of
 * pixel data derived from `n` (distinct per object).
 */
export function makeObject(
  root: string,
  n: number,
  pixelBytes: number,
  study = `${root}.1`,
  series = `${root}.1.1`,
): TestObject {
  const ds = new DataSet();
  const sop = `${root}.2.${n}`;
  ds.setString('SOPClassUID', SC_IMAGE);
  ds.setString('SOPInstanceUID', sop);
  ds.setString('StudyInstanceUID', study);
  ds.setString('SeriesInstanceUID', series);
  ds.setString('PatientID', 'REL');
  ds.setPersonName('PatientName', 'RELIABILITY^TEST');
  ds.setString('Modality', 'OT');
  ds.setNumber('InstanceNumber', n % 100000);
  const pixels = new Uint8Array(pixelBytes);
  let x = (n * 2654435761) >>> 0;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = x >>> 24;
  }
  ds.setBytes('PixelData', pixels, 'OB');
  const bytes = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
  return {
    instance: {
      sopClassUid: SC_IMAGE,
      sopInstanceUid: sop,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      dataSet: bytes,
    },
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
