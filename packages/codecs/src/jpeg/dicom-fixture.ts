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
