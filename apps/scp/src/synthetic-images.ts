import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSet, encodePart10 } from '@dnet/dataset';

/** CT Image Storage (PS3.4 Annex B.5). */
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

/** Explicit VR Little Endian (PS3.5 §A.2). */
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';

/** Options of {@link syntheticImages}. */
export interface SyntheticImageOptions {
  /** How many images (default 6). */
  count?: number;
  /** Images per series (default 3); two series per study, studies per patient alternate. */
  perSeries?: number;
  /** Rows and columns of the 16-bit pixel data (default 64: 8 KiB). */
  size?: number;
  /** UID root (default `2.25.<random>`), so each run makes new UIDs. */
  root?: string;
  /** Transfer syntax of the files (default Explicit VR Little Endian). */
  transferSyntaxUid?: string;
}

/** One generated image: its file and identity. */
export interface SyntheticImage {
  /** The Part 10 file. */
  path: string;
  /** Patient ID (0010,0020). */
  patientId: string;
  /** Study Instance UID. */
  studyInstanceUid: string;
  /** Series Instance UID. */
  seriesInstanceUid: string;
  /** SOP Instance UID. */
  sopInstanceUid: string;
}

/**
 * Writes synthetic CT images (valid Part 10 files with a gradient for pixels)
 * into `folder`: what the demo and the tests send. Two patients, each study
 * with two series of `perSeries` images.
 *
 * @param folder - where the `.dcm` files go
 * @param options - how many and how big
 */
export async function syntheticImages(
  folder: string,
  options: SyntheticImageOptions = {},
): Promise<SyntheticImage[]> {
  const count = options.count ?? 6;
  const perSeries = options.perSeries ?? 3;
  const size = options.size ?? 64;
  const root =
    options.root ??
    `2.25.${BigInt(`0x${crypto.randomUUID().replaceAll('-', '')}`).toString()}`.slice(0, 40);
  const ts = options.transferSyntaxUid ?? EXPLICIT_VR_LE;
  await mkdir(folder, { recursive: true });
  const images: SyntheticImage[] = [];
  for (let i = 0; i < count; i++) {
    const seriesIndex = Math.floor(i / perSeries);
    const studyIndex = Math.floor(seriesIndex / 2);
    const patientIndex = studyIndex % 2;
    const patientId = `DNET${patientIndex + 1}`;
    const studyInstanceUid = `${root}.1.${studyIndex + 1}`;
    const seriesInstanceUid = `${root}.2.${seriesIndex + 1}`;
    const sopInstanceUid = `${root}.3.${i + 1}`;
    const ds = new DataSet();
    ds.setString('SpecificCharacterSet', 'ISO_IR 100', 'CS');
    ds.setString('SOPClassUID', CT_IMAGE_STORAGE, 'UI');
    ds.setString('SOPInstanceUID', sopInstanceUid, 'UI');
    ds.setString('StudyDate', `2024010${(studyIndex % 9) + 1}`, 'DA');
    ds.setString('StudyTime', '120000', 'TM');
    ds.setString('AccessionNumber', `ACC${studyIndex + 1}`, 'SH');
    ds.setString('Modality', 'CT', 'CS');
    ds.setString('StudyDescription', `Synthetic study ${studyIndex + 1}`, 'LO');
    ds.setString('SeriesDescription', `Synthetic series ${seriesIndex + 1}`, 'LO');
    ds.setString('PatientName', patientIndex === 0 ? 'DOE^JANE' : 'ROE^RICHARD', 'PN');
    ds.setString('PatientID', patientId, 'LO');
    ds.setString('PatientBirthDate', patientIndex === 0 ? '19700101' : '19800202', 'DA');
    ds.setString('PatientSex', patientIndex === 0 ? 'F' : 'M', 'CS');
    ds.setString('StudyInstanceUID', studyInstanceUid, 'UI');
    ds.setString('SeriesInstanceUID', seriesInstanceUid, 'UI');
    ds.setString('StudyID', `S${studyIndex + 1}`, 'SH');
    ds.setString('SeriesNumber', String(seriesIndex + 1), 'IS');
    ds.setString('InstanceNumber', String((i % perSeries) + 1), 'IS');
    ds.setNumber('SamplesPerPixel', 1, 'US');
    ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
    ds.setNumber('Rows', size, 'US');
    ds.setNumber('Columns', size, 'US');
    ds.setNumber('BitsAllocated', 16, 'US');
    ds.setNumber('BitsStored', 12, 'US');
    ds.setNumber('HighBit', 11, 'US');
    ds.setNumber('PixelRepresentation', 0, 'US');
    const pixels = new Uint8Array(size * size * 2);
    for (let p = 0; p < size * size; p++) {
      const v = ((p % size) * 16 + i * 7) & 0xfff;
      pixels[p * 2] = v & 0xff;
      pixels[p * 2 + 1] = v >> 8;
    }
    ds.setBytes('PixelData', pixels, 'OW');
    const bytes = encodePart10(ds, { transferSyntaxUid: ts });
    const path = join(folder, `${String(i + 1).padStart(4, '0')}.dcm`);
    await writeFile(path, bytes);
    images.push({
      path,
      patientId,
      studyInstanceUid,
      seriesInstanceUid,
      sopInstanceUid,
    });
  }
  return images;
}
