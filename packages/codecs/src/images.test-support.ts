/**
 * Helpers of the tests (not exported by the package): synthetic images in the
 * shapes the codecs meet (CT-like 16-bit signed, 12-bit unsigned, 8-bit
 * monochrome, 8-bit RGB, multi-frame) and their pixels read back.
 */
import { readFile } from 'node:fs/promises';
import { DataSet, decodePart10, encodePart10 } from '@dnet/dataset';
import { toPlanarConfiguration } from './pixel-layout.js';

/** The shape of a synthetic image. */
export interface ImageShape {
  rows?: number;
  columns?: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  samplesPerPixel?: 1 | 3;
  frames?: number;
  photometricInterpretation?: string;
  planarConfiguration?: 0 | 1;
}

function us(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, v >>> 8]);
}

/** Native pixels of a smooth pattern with noise, every value within Bits Stored. */
export function syntheticPixels(s: Required<ImageShape>): Uint8Array {
  const n = s.rows * s.columns * s.samplesPerPixel * s.frames;
  const px = new Uint8Array(n * (s.bitsAllocated / 8));
  const dv = new DataView(px.buffer);
  const max = 2 ** s.bitsStored;
  for (let i = 0; i < n; i++) {
    const x = i % s.columns;
    const y = Math.floor(i / s.columns) % s.rows;
    const f = Math.floor(i / (s.rows * s.columns * s.samplesPerPixel));
    let v = Math.round((max / 4) * Math.sin((x + f) / 5) * Math.cos(y / 7) + ((i * 7919) % 37));
    if (s.pixelRepresentation === 1) v = Math.max(-max / 2, Math.min(max / 2 - 1, v));
    else v = ((v % max) + max) % max;
    if (s.bitsAllocated === 16) dv.setInt16(i * 2, v, true);
    else px[i] = v & 0xff;
  }
  return px;
}

/** A Part 10 file in Explicit VR Little Endian holding a synthetic image. */
export function syntheticImage(shape: ImageShape = {}): Uint8Array {
  const s: Required<ImageShape> = {
    rows: 64,
    columns: 48,
    bitsAllocated: 16,
    bitsStored: shape.bitsStored ?? shape.bitsAllocated ?? 16,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    frames: 1,
    photometricInterpretation: shape.samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
    planarConfiguration: 0,
    ...shape,
  };
  const ds = new DataSet();
  ds.setString(
    'SOPClassUID',
    s.frames > 1 ? '1.2.840.10008.5.1.4.1.1.7.3' : '1.2.840.10008.5.1.4.1.1.7',
    'UI',
  );
  ds.setString('SOPInstanceUID', `2.25.${1000 + Math.floor(Math.random() * 1e12)}`, 'UI');
  ds.setString('PatientName', 'CODEC^TEST', 'PN');
  ds.setBytes('SamplesPerPixel', us(s.samplesPerPixel), 'US');
  ds.setString('PhotometricInterpretation', s.photometricInterpretation, 'CS');
  if (s.samplesPerPixel > 1) ds.setBytes('PlanarConfiguration', us(s.planarConfiguration), 'US');
  if (s.frames > 1) ds.setString('NumberOfFrames', String(s.frames), 'IS');
  ds.setBytes('Rows', us(s.rows), 'US');
  ds.setBytes('Columns', us(s.columns), 'US');
  ds.setBytes('BitsAllocated', us(s.bitsAllocated), 'US');
  ds.setBytes('BitsStored', us(s.bitsStored), 'US');
  ds.setBytes('HighBit', us(s.bitsStored - 1), 'US');
  ds.setBytes('PixelRepresentation', us(s.pixelRepresentation), 'US');
  const px = syntheticPixels(s);
  ds.setBytes(
    'PixelData',
    px.length % 2 ? Buffer.concat([px, new Uint8Array(1)]) : px,
    s.bitsAllocated === 16 ? 'OW' : 'OB',
  );
  return encodePart10(ds, { transferSyntaxUid: '1.2.840.10008.1.2.1' });
}

/** A native file's pixels, colour by pixel, without the odd-length pad, and its data set. */
export async function nativePixels(path: string): Promise<{ pixels: Buffer; dataSet: DataSet }> {
  const { dataSet } = decodePart10(await readFile(path));
  const rows = dataSet.number('Rows')!;
  const columns = dataSet.number('Columns')!;
  const spp = dataSet.number('SamplesPerPixel')!;
  const bits = dataSet.number('BitsAllocated')!;
  const frames = dataSet.number('NumberOfFrames') ?? 1;
  const per = rows * columns * spp * (bits / 8);
  const all = dataSet.bytes('PixelData')!;
  const out = Buffer.alloc(per * frames);
  const pc = spp > 1 && dataSet.number('PlanarConfiguration') === 1 ? 1 : 0;
  for (let f = 0; f < frames; f++) {
    const frame = all.subarray(f * per, (f + 1) * per);
    const d = {
      rows,
      columns,
      samplesPerPixel: spp,
      bitsAllocated: bits,
      bitsStored: bits,
      pixelRepresentation: 0 as const,
      photometricInterpretation: '',
      planarConfiguration: pc as 0 | 1,
    };
    out.set(toPlanarConfiguration(frame, d, 0), f * per);
  }
  return { pixels: out, dataSet };
}

/** The largest difference between two sample arrays (16-bit signed or 8-bit unsigned). */
export function maxDifference(
  a: Uint8Array,
  b: Uint8Array,
  bitsAllocated: number,
  signed: boolean,
): number {
  let max = 0;
  if (bitsAllocated === 16) {
    const va = new DataView(a.buffer, a.byteOffset, a.byteLength);
    const vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i + 1 < Math.min(a.length, b.length); i += 2) {
      const x = signed ? va.getInt16(i, true) : va.getUint16(i, true);
      const y = signed ? vb.getInt16(i, true) : vb.getUint16(i, true);
      max = Math.max(max, Math.abs(x - y));
    }
  } else {
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      max = Math.max(max, Math.abs(a[i]! - b[i]!));
  }
  return max;
}
