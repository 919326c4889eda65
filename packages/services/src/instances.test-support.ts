/**
 * Helpers shared by this package's tests (not exported from the package):
 * synthetic instances in a patient/study/series hierarchy, written as Part 10
 * files when asked, and the bytes of a received instance or of a file's data set.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, readPart10Header, writePart10File } from '@dnet/dataset';
import type { ReceivedInstance } from './received-instance.js';
import { SopClass } from './sop-class.js';

/** Where one synthetic instance sits in the hierarchy. */
export interface InstanceSpec {
  patient: number;
  study: number;
  series: number;
  instance: number;
  /** Bytes of pixel data (default 64). */
  pixels?: number;
}

/** The UIDs of a synthetic instance (under 2.25, PS3.5 §B.2). */
export function uidsOf(s: InstanceSpec) {
  const study = `2.25.1${s.patient}0${s.study}`;
  const series = `${study}.${s.series}`;
  return { study, series, instance: `${series}.${s.instance}` };
}

/** A small CT Image data set with patient, study, series and instance attributes. */
export function makeInstance(s: InstanceSpec): DataSet {
  const u = uidsOf(s);
  const ds = new DataSet();
  ds.setString('SOPClassUID', SopClass.CT_IMAGE_STORAGE, 'UI');
  ds.setString('SOPInstanceUID', u.instance, 'UI');
  ds.setString('StudyDate', `2024010${(s.study % 9) + 1}`, 'DA');
  ds.setString('StudyTime', '101500', 'TM');
  ds.setString('AccessionNumber', `ACC${s.patient}${s.study}`, 'SH');
  ds.setString('Modality', s.series % 2 === 0 ? 'MR' : 'CT', 'CS');
  ds.setString('PatientName', `DOE^PATIENT${s.patient}`, 'PN');
  ds.setString('PatientID', `PID${s.patient}`, 'LO');
  ds.setString('PatientBirthDate', '19700101', 'DA');
  ds.setString('StudyInstanceUID', u.study, 'UI');
  ds.setString('SeriesInstanceUID', u.series, 'UI');
  ds.setString('StudyID', `S${s.study}`, 'SH');
  ds.setString('SeriesNumber', String(s.series), 'IS');
  ds.setString('InstanceNumber', String(s.instance), 'IS');
  const samples = (s.pixels ?? 64) / 2;
  const columns = samples >= 1 << 20 ? 1024 : samples / 8;
  ds.setNumber('Rows', samples / columns);
  ds.setNumber('Columns', columns);
  ds.setNumber('BitsAllocated', 16);
  const pixels = new Uint8Array(s.pixels ?? 64);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + s.instance) & 0xff;
  ds.setBytes('PixelData', pixels, 'OW');
  return ds;
}

/** Specs of `patients × studies × series × instances` instances. */
export function hierarchy(
  patients: number,
  studies: number,
  series: number,
  instances: number,
  pixels?: number,
): InstanceSpec[] {
  const out: InstanceSpec[] = [];
  for (let p = 1; p <= patients; p++)
    for (let st = 1; st <= studies; st++)
      for (let se = 1; se <= series; se++)
        for (let i = 1; i <= instances; i++)
          out.push({ patient: p, study: st, series: se, instance: i, ...(pixels && { pixels }) });
  return out;
}

/** Writes each spec as a Part 10 file in `dir` (transfer syntax given); returns the paths. */
export async function writeInstances(
  dir: string,
  specs: readonly InstanceSpec[],
  transferSyntaxUid = '1.2.840.10008.1.2.1',
): Promise<string[]> {
  const paths: string[] = [];
  for (const s of specs) {
    const ds = makeInstance(s);
    const path = join(dir, `${uidsOf(s).instance}.dcm`);
    await writePart10File(
      path,
      {
        mediaStorageSopClassUid: SopClass.CT_IMAGE_STORAGE,
        mediaStorageSopInstanceUid: uidsOf(s).instance,
        transferSyntaxUid,
      },
      ds,
    );
    paths.push(path);
  }
  return paths;
}

/** A temporary folder removed by `await using`. */
export async function tempDir(
  prefix = 'dnet-services-',
): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** The data set of a received instance, collected into one buffer. */
export async function bytesOf(instance: ReceivedInstance): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of instance.dataSet) parts.push(c.slice());
  return new Uint8Array(Buffer.concat(parts));
}

/** The data set of a Part 10 file: the bytes after its File Meta Information (PS3.10 §7.1). */
export async function dataSetBytes(path: string): Promise<Buffer> {
  const bytes = await readFile(path);
  return bytes.subarray(readPart10Header(bytes).dataSetOffset);
}
