/**
 * The JPEG codecs against DCMTK (dcmcjpeg / dcmdjpeg): fixtures are made here
 * from synthetic images. Lossless frames decode to the original pixels both ways;
 * lossy frames decode within one grey level of dcmdjpeg's output of the same file.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer } from '@dnet/testkit';
import { afterAll, expect, it } from 'vitest';
import type { FrameCodec } from '../frame-codec.js';
import { encodeDct } from './dct-encoder.js';
import {
  dcmtk,
  encapsulatedFile,
  images,
  maxDifference,
  meanDifference,
  nativeFile,
  readImage,
  samples,
  type TestImage,
} from './dicom-fixture.test-support.js';
import {
  createJpegLosslessCodec,
  JpegTransferSyntax,
  jpegBaselineCodec,
  jpegExtendedCodec,
  jpegLosslessCodec,
  jpegLosslessSv1Codec,
} from './index.js';
import { Marker } from './jpeg-reader.js';
import { encodeLossless } from './lossless-encoder.js';

const dir = mkdtempSync(join(tmpdir(), 'dnet-jpeg-'));
let n = 0;
const file = (bytes: Uint8Array): string => {
  const path = join(dir, `f${++n}.dcm`);
  writeFileSync(path, bytes);
  return path;
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compresses `image` with dcmcjpeg `option` and returns the file read back. */
async function dcmcjpeg(image: TestImage, options: string[]) {
  const input = file(nativeFile(image));
  const output = join(dir, `c${++n}.dcm`);
  await dcmtk('dcmcjpeg', [...options, input, output]);
  return { path: output, read: await readImage(output) };
}

/** Decompresses a file with dcmdjpeg and returns its pixels and description. */
async function dcmdjpeg(path: string) {
  const output = join(dir, `d${++n}.dcm`);
  await dcmtk('dcmdjpeg', [path, output]);
  return readImage(output);
}

describePeer(['dcmcjpeg', 'dcmdjpeg'], 'JPEG codecs against DCMTK', () => {
  for (const [name, image] of Object.entries(images)) {
    const d = image.description;
    for (const [option, ts, codec] of [
      ['+e1', JpegTransferSyntax.LosslessSv1, jpegLosslessSv1Codec],
      ['+el', JpegTransferSyntax.Lossless, jpegLosslessCodec],
    ] as const) {
      it(`decodes DCMTK's JPEG Lossless (${option}) of ${name} to the original pixels`, async () => {
        const { read } = await dcmcjpeg(image, [option]);
        expect(read.transferSyntaxUid).toBe(ts);
        const decoded = await codec.decode(read.frame!, read.description);
        expect(samples(decoded.pixels, decoded.description)).toEqual(samples(image.pixels, d));
        if (
          (d.bitsStored === d.bitsAllocated || d.pixelRepresentation === 0) &&
          d.planarConfiguration === 0
        ) {
          // Nothing to sign-extend: every byte is the original's.
          expect(decoded.pixels).toEqual(image.pixels);
        }
      });
    }

    const predictors: [string, number, FrameCodec][] = [
      [JpegTransferSyntax.LosslessSv1, 1, jpegLosslessSv1Codec],
      ...[1, 2, 3, 4, 5, 6, 7].map((p): [string, number, FrameCodec] => [
        JpegTransferSyntax.Lossless,
        p,
        createJpegLosslessCodec({ predictor: p }),
      ]),
    ];
    for (const [ts, predictor, codec] of predictors) {
      it(`encodes ${name} as ${ts} (predictor ${predictor}) that dcmdjpeg decodes to the original`, async () => {
        const encoded = await codec.encode!(image.pixels, d);
        expect(encoded.lossy).toBeUndefined();
        const back = await dcmdjpeg(file(encapsulatedFile(encoded.description, encoded.data, ts)));
        expect(back.pixels).toBeDefined();
        expect(samples(back.pixels!, back.description)).toEqual(samples(image.pixels, d));
        // And our own decoder agrees, byte for byte.
        expect((await codec.decode(encoded.data, d)).pixels).toEqual(image.pixels);
      });
    }
  }

  const odd = images['8-bit RGB, odd size']!;
  const lossyCases: [string, string, FrameCodec, TestImage][] = [
    ['+eb', JpegTransferSyntax.Baseline, jpegBaselineCodec, images['8-bit monochrome']!],
    ['+eb', JpegTransferSyntax.Baseline, jpegBaselineCodec, images['8-bit RGB']!],
    // 4:2:2 (the default), 4:4:4 and 4:1:1 chroma on a frame of odd width and height.
    ['+eb', JpegTransferSyntax.Baseline, jpegBaselineCodec, odd],
    ['+eb +s4', JpegTransferSyntax.Baseline, jpegBaselineCodec, odd],
    ['+eb +n1', JpegTransferSyntax.Baseline, jpegBaselineCodec, odd],
    ['+ee', JpegTransferSyntax.Extended, jpegExtendedCodec, images['12-bit unsigned']!],
    ['+ee', JpegTransferSyntax.Extended, jpegExtendedCodec, images['8-bit monochrome']!],
    ['+ee', JpegTransferSyntax.Extended, jpegExtendedCodec, images['8-bit RGB']!],
  ];
  for (const [option, ts, codec, image] of lossyCases) {
    const d = image.description;
    it(`decodes DCMTK's ${option} of ${d.bitsStored}-bit ${d.photometricInterpretation} ${d.columns}x${d.rows} within one grey level of dcmdjpeg`, async () => {
      const { path, read } = await dcmcjpeg(image, option.split(' '));
      expect(read.transferSyntaxUid).toBe(ts);
      const reference = await dcmdjpeg(path);
      const decoded = await codec.decode(read.frame!, read.description);
      expect(decoded.description.photometricInterpretation).toBe(
        reference.description.photometricInterpretation,
      );
      const diff = maxDifference(
        samples(decoded.pixels, reference.description),
        samples(reference.pixels!, reference.description),
      );
      expect(diff).toBeLessThanOrEqual(1);
    });
  }

  const encodeCases: [string, FrameCodec, TestImage, number][] = [
    [JpegTransferSyntax.Baseline, jpegBaselineCodec, images['8-bit monochrome']!, 255],
    [JpegTransferSyntax.Baseline, jpegBaselineCodec, images['8-bit RGB']!, 255],
    [JpegTransferSyntax.Baseline, jpegBaselineCodec, odd, 255],
    [JpegTransferSyntax.Extended, jpegExtendedCodec, images['12-bit unsigned']!, 4095],
    [JpegTransferSyntax.Extended, jpegExtendedCodec, images['8-bit monochrome']!, 255],
  ];
  for (const [ts, codec, image, range] of encodeCases) {
    const d = image.description;
    it(`encodes ${d.bitsStored}-bit ${d.photometricInterpretation} ${d.columns}x${d.rows} as ${ts}, accepted by dcmdjpeg and close to the original`, async () => {
      await expect(codec.encode!(image.pixels, d)).rejects.toMatchObject({
        code: 'DNET_CODECS_LOSSY_NOT_ALLOWED',
      });
      const encoded = await codec.encode!(image.pixels, d, { lossy: { quality: 90 } });
      expect(encoded.lossy?.method).toBe('ISO_10918_1');
      expect(encoded.lossy!.ratio).toBeGreaterThan(1);
      expect(encoded.description.photometricInterpretation).toBe(
        d.samplesPerPixel === 3 ? 'YBR_FULL_422' : d.photometricInterpretation,
      );
      const path = file(encapsulatedFile(encoded.description, encoded.data, ts, encoded.lossy));
      const back = await dcmdjpeg(path);
      expect(back.description.photometricInterpretation).toBe(
        d.samplesPerPixel === 3 ? 'RGB' : d.photometricInterpretation,
      );
      const ours = samples(image.pixels, d);
      const theirs = samples(back.pixels!, back.description);
      // Quality 90 on a noisy synthetic scene: small on average, bounded at the sharp edges.
      expect(meanDifference(ours, theirs)).toBeLessThan(range * 0.02);
      expect(maxDifference(ours, theirs)).toBeLessThan(range * 0.25);
      // Our decoder reads our stream as dcmdjpeg does.
      const decoded = await codec.decode(encoded.data, encoded.description);
      expect(maxDifference(samples(decoded.pixels, back.description), theirs)).toBeLessThanOrEqual(
        1,
      );
    });
  }

  it('writes and reads restart intervals (T.81 B.2.4.4, E.1.4) as dcmdjpeg does', async () => {
    const image = images['CT 16-bit signed']!;
    const d = image.description;
    const plane = new Uint16Array(d.rows * d.columns);
    for (let i = 0; i < plane.length; i++)
      plane[i] = image.pixels[2 * i]! | (image.pixels[2 * i + 1]! << 8);
    // 45 lines in intervals of 4: 12 intervals, so the RSTm count wraps past 7.
    const lossless = encodeLossless({
      planes: [plane],
      rows: d.rows,
      columns: d.columns,
      precision: 16,
      predictor: 6,
      restartLines: 4,
    });
    expect(lossless.filter((b, i) => b === 0xff && lossless[i + 1] === 0xd7).length).toBe(1);
    const back = await dcmdjpeg(file(encapsulatedFile(d, lossless, JpegTransferSyntax.Lossless)));
    expect(back.pixels).toEqual(image.pixels);
    expect((await jpegLosslessCodec.decode(lossless, d)).pixels).toEqual(image.pixels);

    const rgb = images['8-bit RGB']!;
    const planes = [0, 1, 2].map((c) =>
      Float64Array.from({ length: 45 * 70 }, (_, i) => rgb.pixels[i * 3 + c]!),
    );
    const dct = encodeDct({
      planes,
      rows: 45,
      columns: 70,
      precision: 8,
      marker: Marker.SOF0,
      sampling: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      quality: 80,
      restartInterval: 3,
    });
    const rgbDescription = rgb.description;
    const reference = await dcmdjpeg(
      file(encapsulatedFile(rgbDescription, dct, JpegTransferSyntax.Baseline)),
    );
    const ours = await jpegBaselineCodec.decode(dct, rgbDescription);
    expect(
      maxDifference(
        samples(ours.pixels, rgbDescription),
        samples(reference.pixels!, rgbDescription),
      ),
    ).toBe(0);
  });
});
