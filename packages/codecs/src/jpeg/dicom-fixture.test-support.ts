/**
 * Test support for the JPEG codecs (not exported by the package): writes
 * synthetic images as Part 10 files for DCMTK, reads DCMTK's output back with
 * @dnet/dataset, and runs the DCMTK tools. The transcoder lives elsewhere; this
 * is the least needed to get frames in and out of files.
 */

import { readFile } from 'node:fs/promises';
import { DataSet, decodePart10, encodePart10, PIXEL_DATA_TAG, TransferSyntax } from '@dnet/dataset';
import { runTool } from '@dnet/testkit';
import type { FrameDescription } from '../frame-codec.js';

/** Secondary Capture Image Storage (PS3.4 Annex B): no modality-specific attributes needed. */
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

let counter = 0;

/** A synthetic image with its description. */
export interface TestImage {
  readonly description: FrameDescription;
  /** Native little-endian pixels. */
  readonly pixels: Uint8Array;
}

/**
 * Makes a smooth image with edges and noise: `value(x, y, sample)` gives each sample.
 */
export function makeImage(
  description: FrameDescription,
  value: (x: number, y: number, sample: number) => number,
): TestImage {
  const { rows, columns, samplesPerPixel: spp, bitsAllocated } = description;
  const bytes = bitsAllocated / 8;
  const pixels = new Uint8Array(rows * columns * spp * bytes);
  const view = new DataView(pixels.buffer);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      for (let s = 0; s < spp; s++) {
        const i =
          description.planarConfiguration === 1 && spp > 1
            ? s * rows * columns + y * columns + x
            : (y * columns + x) * spp + s;
        const v = value(x, y, s);
        if (bytes === 1) pixels[i] = v & 0xff;
        else view.setUint16(2 * i, v & 0xffff, true);
      }
    }
  }
  return { description, pixels };
}

function imageDataSet(d: FrameDescription): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', SECONDARY_CAPTURE);
  ds.setString('SOPInstanceUID', `2.25.${Date.now()}${process.pid}${++counter}`);
  ds.setString('Modality', 'OT');
  ds.setString('ConversionType', 'SYN');
  ds.setNumber('SamplesPerPixel', d.samplesPerPixel);
  ds.setString('PhotometricInterpretation', d.photometricInterpretation);
  if (d.samplesPerPixel > 1) ds.setNumber('PlanarConfiguration', d.planarConfiguration);
  ds.setNumber('Rows', d.rows);
  ds.setNumber('Columns', d.columns);
  ds.setNumber('BitsAllocated', d.bitsAllocated);
  ds.setNumber('BitsStored', d.bitsStored);
  ds.setNumber('HighBit', d.bitsStored - 1);
  ds.setNumber('PixelRepresentation', d.pixelRepresentation);
  return ds;
}

/** The Part 10 bytes of an uncompressed image (Explicit VR Little Endian). */
export function nativeFile(image: TestImage): Uint8Array {
  const ds = imageDataSet(image.description);
  ds.setBytes(PIXEL_DATA_TAG, image.pixels, image.description.bitsAllocated > 8 ? 'OW' : 'OB');
  return part10(ds, TransferSyntax.ExplicitVRLittleEndian);
}

/**
 * The Part 10 bytes of a one-frame encapsulated image (PS3.5 §A.4: an empty Basic
 * Offset Table item, then the frame as one fragment padded to even length).
 */
export function encapsulatedFile(
  description: FrameDescription,
  frame: Uint8Array,
  transferSyntaxUid: string,
  lossy?: { method: string; ratio: number },
): Uint8Array {
  const ds = imageDataSet(description);
  if (lossy) {
    ds.setString('LossyImageCompression', '01');
    ds.setString('LossyImageCompressionMethod', lossy.method);
    ds.setNumber('LossyImageCompressionRatio', lossy.ratio);
  }
  const even = frame.length % 2 === 0 ? frame : Uint8Array.from([...frame, 0]);
  ds.set({
    tag: PIXEL_DATA_TAG,
    vr: 'OB',
    fragments: [new Uint8Array(0), even],
    undefinedLength: true,
  });
  return part10(ds, transferSyntaxUid);
}

function part10(ds: DataSet, transferSyntaxUid: string): Uint8Array {
  return encodePart10(ds, {
    transferSyntaxUid,
    mediaStorageSopClassUid: ds.uid('SOPClassUID')!,
    mediaStorageSopInstanceUid: ds.uid('SOPInstanceUID')!,
  });
}

/** What {@link readImage} finds in a file. */
export interface ReadImage {
  readonly transferSyntaxUid: string;
  readonly description: FrameDescription;
  /** Native pixels, when the file is uncompressed. */
  readonly pixels?: Uint8Array;
  /** The first frame's fragments joined, when the file is encapsulated. */
  readonly frame?: Uint8Array;
}

/** Reads a one-frame image file. */
export async function readImage(path: string): Promise<ReadImage> {
  const { header, dataSet } = decodePart10(new Uint8Array(await readFile(path)));
  const description: FrameDescription = {
    rows: dataSet.number('Rows')!,
    columns: dataSet.number('Columns')!,
    samplesPerPixel: dataSet.number('SamplesPerPixel')!,
    bitsAllocated: dataSet.number('BitsAllocated')!,
    bitsStored: dataSet.number('BitsStored')!,
    pixelRepresentation: dataSet.number('PixelRepresentation') === 1 ? 1 : 0,
    photometricInterpretation: dataSet.string('PhotometricInterpretation') ?? '',
    planarConfiguration: dataSet.number('PlanarConfiguration') === 1 ? 1 : 0,
  };
  const pixelData = dataSet.get(PIXEL_DATA_TAG)!;
  if (pixelData.fragments) {
    // One frame: every fragment after the Basic Offset Table item belongs to it (PS3.5 §A.4).
    const parts = pixelData.fragments.slice(1);
    const frame = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      frame.set(p, o);
      o += p.length;
    }
    return { transferSyntaxUid: header.transferSyntaxUid, description, frame };
  }
  return { transferSyntaxUid: header.transferSyntaxUid, description, pixels: pixelData.value! };
}

/** Runs a DCMTK tool and fails with its output when it exits non-zero. */
export async function dcmtk(tool: string, args: string[]): Promise<string> {
  const r = await runTool(tool, args, { timeoutMs: 60_000 });
  if (r.code !== 0)
    throw new Error(`${tool} ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stderr + r.stdout;
}

/** A deterministic pseudo-random sequence (a 32-bit LCG), so fixtures are the same each run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A 70 x 45 monochrome frame description. */
export function mono(bitsAllocated: number, bitsStored: number, signed: boolean): FrameDescription {
  return {
    rows: 45,
    columns: 70,
    samplesPerPixel: 1,
    bitsAllocated,
    bitsStored,
    pixelRepresentation: signed ? 1 : 0,
    photometricInterpretation: 'MONOCHROME2',
    planarConfiguration: 0,
  };
}

/** A smooth field with a bright disc, a sharp edge and noise, mapped into [lo, hi]. */
function scene(lo: number, hi: number, seed: number): (x: number, y: number, s: number) => number {
  const rnd = random(seed);
  return (x, y, s) => {
    const t = 0.5 + 0.4 * Math.sin((x + 7 * s) / 9) * Math.cos(y / 7);
    const disc = (x - 30) ** 2 + (y - 20) ** 2 < 150 ? 0.3 : 0;
    const edge = x > 55 ? -0.35 : 0;
    const v = Math.min(1, Math.max(0, t + disc + edge + (rnd() - 0.5) * 0.04));
    return Math.round(lo + v * (hi - lo));
  };
}

/** The synthetic images every interop test uses, by name. */
export const images: Record<string, TestImage> = {
  'CT 16-bit signed': makeImage(mono(16, 16, true), scene(-1024, 3071, 1)),
  'CT 12-bit signed': makeImage(mono(16, 12, true), scene(-2048, 2047, 2)),
  '16-bit unsigned, full range': makeImage(mono(16, 16, false), (x, y) =>
    // Neighbours at 0 and 65535 make differences of category 16 (T.81 Table H.2).
    (x + y) % 11 === 0 ? 65535 : scene(0, 65535, 3)(x, y, 0),
  ),
  '12-bit unsigned': makeImage(mono(16, 12, false), scene(0, 4095, 4)),
  '8-bit monochrome': makeImage(mono(8, 8, false), scene(0, 255, 5)),
  '8-bit RGB': makeImage(
    { ...mono(8, 8, false), samplesPerPixel: 3, photometricInterpretation: 'RGB' },
    scene(0, 255, 6),
  ),
  '8-bit RGB, colour-by-plane': makeImage(
    {
      ...mono(8, 8, false),
      samplesPerPixel: 3,
      photometricInterpretation: 'RGB',
      planarConfiguration: 1,
    },
    scene(0, 255, 7),
  ),
  '8-bit RGB, odd size': makeImage(
    {
      ...mono(8, 8, false),
      rows: 33,
      columns: 71,
      samplesPerPixel: 3,
      photometricInterpretation: 'RGB',
    },
    scene(0, 255, 8),
  ),
};

/**
 * The samples of native pixels as numbers, colour-by-pixel whatever the Planar Configuration,
 * masked to Bits Stored (the bits that are pixel data, PS3.5 §8.1.1).
 */
export function samples(pixels: Uint8Array, d: FrameDescription): number[] {
  const mask = d.bitsStored >= 16 ? 0xffff : (1 << d.bitsStored) - 1;
  const values: number[] = [];
  // Only the frame's samples: a value of odd length carries a pad byte (PS3.5 §7.1.1).
  const count = d.rows * d.columns * d.samplesPerPixel;
  for (let i = 0; i < count; i++) {
    const v = d.bitsAllocated === 8 ? pixels[i]! : pixels[2 * i]! | (pixels[2 * i + 1]! << 8);
    values.push(v & mask);
  }
  if (d.samplesPerPixel === 1 || d.planarConfiguration === 0) return values;
  const n = d.rows * d.columns;
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < d.samplesPerPixel; c++) out.push(values[c * n + i]!);
  return out;
}

/** The largest absolute difference between two sample lists of the same length. */
export function maxDifference(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new Error(`${a.length} samples against ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The mean absolute difference between two sample lists. */
export function meanDifference(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}
