import { describe, expect, it } from 'vitest';
import { builtInCodecs } from './built-in-codecs.js';
import type { FrameDescription } from './frame-codec.js';
import { jpegBaselineCodec, jpegExtendedCodec } from './jpeg/index.js';

describe('the built-in codecs, losslessly', () => {
  // Sizes from 1x2 up: OpenJPEG refuses more wavelet levels than an image has.
  // JPEG Baseline and Extended are lossy only (their own tests are in jpeg/).
  const lossless = builtInCodecs.filter((c) => c !== jpegBaselineCodec && c !== jpegExtendedCodec);
  for (const codec of lossless) {
    it(`round-trips ${codec.transferSyntaxUid} for small and odd sizes, 8 and 16 bits, signed`, async () => {
      for (const size of [1, 2, 3, 7, 33]) {
        for (const [bits, signed] of [
          [8, 0],
          [16, 0],
          [16, 1],
        ] as const) {
          const d: FrameDescription = {
            rows: size,
            columns: size + 1,
            samplesPerPixel: 1,
            bitsAllocated: bits,
            bitsStored: bits,
            pixelRepresentation: signed,
            photometricInterpretation: 'MONOCHROME2',
            planarConfiguration: 0,
          };
          const px = new Uint8Array(size * (size + 1) * (bits / 8)).map((_, i) => (i * 37) & 0xff);
          const e = await codec.encode!(px, d);
          expect(e.lossy).toBeUndefined();
          const back = await codec.decode(e.data, d);
          expect(Buffer.from(back.pixels)).toEqual(Buffer.from(px));
        }
      }
    });
  }
});
