import { isDnetError } from '@dnet/errors';
import { describe, expect, it } from 'vitest';
import type { FrameDescription } from '../frame-codec.js';
import {
  JpegError,
  JpegMismatchError,
  jpegBaselineCodec,
  jpegCodecs,
  jpegExtendedCodec,
  jpegLosslessCodec,
  jpegLosslessSv1Codec,
  LossyNotAllowedError,
  MalformedJpegError,
  UnsupportedJpegError,
} from './index.js';

const CT: FrameDescription = {
  rows: 20,
  columns: 19,
  samplesPerPixel: 1,
  bitsAllocated: 16,
  bitsStored: 12,
  pixelRepresentation: 1,
  photometricInterpretation: 'MONOCHROME2',
  planarConfiguration: 0,
};

const MONO8: FrameDescription = { ...CT, bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0 };
const RGB8: FrameDescription = { ...MONO8, samplesPerPixel: 3, photometricInterpretation: 'RGB' };

/** Signed 12-bit samples sign-extended to 16 bits, from -2048 to 2047. */
function signedPixels(d: FrameDescription): Uint8Array {
  const out = new Uint8Array(d.rows * d.columns * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.rows * d.columns; i++) view.setInt16(2 * i, ((i * 37) % 4096) - 2048, true);
  return out;
}

/** Native pixels with sample i = f(i) (little endian when 16-bit). */
function bytes(d: FrameDescription, f: (i: number) => number): Uint8Array {
  const n = d.rows * d.columns * d.samplesPerPixel;
  if (d.bitsAllocated === 8) return Uint8Array.from({ length: n }, (_, i) => f(i));
  const out = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = f(i) & 0xff;
    out[2 * i + 1] = (f(i) >> 8) & 0xff;
  }
  return out;
}

describe('JPEG codecs', () => {
  it('lists one codec per JPEG transfer syntax', () => {
    expect(jpegCodecs.map((c) => [c.transferSyntaxUid, c.lossy])).toEqual([
      ['1.2.840.10008.1.2.4.50', true],
      ['1.2.840.10008.1.2.4.51', true],
      ['1.2.840.10008.1.2.4.57', false],
      ['1.2.840.10008.1.2.4.70', false],
    ]);
  });

  it('round-trips signed 12-bit data bit for bit, sign-extended back to 16 bits', async () => {
    const pixels = signedPixels(CT);
    for (const codec of [jpegLosslessCodec, jpegLosslessSv1Codec]) {
      const encoded = await codec.encode!(pixels, CT);
      // The frame header's precision (after SOI, SOF3 and its length) is Bits Stored: the raw 12 bits.
      expect([encoded.data[3], encoded.data[6]]).toEqual([0xc3, 12]);
      const decoded = await codec.decode(encoded.data, CT);
      expect(decoded.pixels).toEqual(pixels);
    }
  });

  it('says what it cannot do, and throws typed errors for it', async () => {
    expect(
      jpegBaselineCodec.unsupported({ ...MONO8, bitsStored: 12, bitsAllocated: 16 }, 'decode'),
    ).toMatch(/Bits Stored 12/);
    expect(jpegExtendedCodec.unsupported(CT, 'decode')).toBeUndefined();
    expect(jpegExtendedCodec.unsupported(CT, 'encode')).toMatch(/signed/);
    expect(jpegLosslessCodec.unsupported({ ...MONO8, samplesPerPixel: 4 }, 'decode')).toMatch(
      /Samples per Pixel 4/,
    );
    expect(jpegLosslessCodec.unsupported({ ...MONO8, bitsStored: 1 }, 'encode')).toMatch(
      /Bits Stored 1/,
    );
    await expect(
      jpegExtendedCodec.encode!(signedPixels(CT), CT, { lossy: {} }),
    ).rejects.toBeInstanceOf(UnsupportedJpegError);
    await expect(
      jpegBaselineCodec.encode!(
        bytes(MONO8, (i) => i),
        MONO8,
      ),
    ).rejects.toBeInstanceOf(LossyNotAllowedError);
  });

  it('encodes colour as YBR_FULL_422 and decodes it back to RGB (PS3.5 §8.2.1)', async () => {
    const pixels = bytes(RGB8, (i) => (i % 3 === 0 ? 200 : i % 3 === 1 ? 100 : 50));
    const encoded = await jpegBaselineCodec.encode!(pixels, RGB8, { lossy: { quality: 95 } });
    expect(encoded.description.photometricInterpretation).toBe('YBR_FULL_422');
    expect(encoded.lossy).toMatchObject({ method: 'ISO_10918_1' });
    const decoded = await jpegBaselineCodec.decode(encoded.data, encoded.description);
    expect(decoded.description.photometricInterpretation).toBe('RGB');
    for (let i = 0; i < pixels.length; i++)
      expect(Math.abs(decoded.pixels[i]! - pixels[i]!)).toBeLessThanOrEqual(2);
  });

  it('meets a requested compression ratio with the best quality that reaches it', async () => {
    const d: FrameDescription = { ...MONO8, rows: 64, columns: 64 };
    const pixels = bytes(d, (i) => (i * 7 + ((i * i) % 13)) & 0xff);
    // Half again the ratio the default quality gives: only a lower quality reaches it.
    const usual = await jpegBaselineCodec.encode!(pixels, d, { lossy: {} });
    const target = usual.lossy!.ratio * 1.5;
    const encoded = await jpegBaselineCodec.encode!(pixels, d, { lossy: { ratio: target } });
    expect(encoded.lossy!.ratio).toBeGreaterThanOrEqual(target);
    // And not much more than asked: one quality step more would miss it.
    expect(encoded.lossy!.ratio).toBeLessThan(target * 1.5);
  });

  it('refuses a frame whose header disagrees with the description', async () => {
    const encoded = await jpegLosslessSv1Codec.encode!(
      bytes(MONO8, (i) => i),
      MONO8,
    );
    await expect(
      jpegLosslessSv1Codec.decode(encoded.data, { ...MONO8, rows: 21 }),
    ).rejects.toBeInstanceOf(JpegMismatchError);
    await expect(
      jpegLosslessSv1Codec.decode(encoded.data, { ...MONO8, rows: 10 }),
    ).rejects.toBeInstanceOf(MalformedJpegError);
    await expect(jpegLosslessSv1Codec.decode(encoded.data, RGB8)).rejects.toBeInstanceOf(
      JpegMismatchError,
    );
  });

  it('refuses progressive, arithmetic and hierarchical streams as unsupported', async () => {
    const encoded = await jpegBaselineCodec.encode!(
      bytes(MONO8, (i) => i),
      MONO8,
      { lossy: {} },
    );
    const sof = encoded.data.findIndex((b, i) => b === 0xff && encoded.data[i + 1] === 0xc0);
    for (const marker of [0xc2, 0xc9, 0xc5]) {
      const patched = encoded.data.slice();
      patched[sof + 1] = marker;
      await expect(jpegBaselineCodec.decode(patched, MONO8)).rejects.toBeInstanceOf(
        UnsupportedJpegError,
      );
    }
  });

  it('turns corrupted bytes into typed errors, never a crash or a hang', async () => {
    // A deterministic sequence of corruptions of valid frames of each process.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const ct16: FrameDescription = { ...CT, bitsStored: 16 };
    const ybr = { ...RGB8, photometricInterpretation: 'YBR_FULL_422' };
    const mono12: FrameDescription = { ...CT, pixelRepresentation: 0 };
    const frames: [FrameDescription, Uint8Array][] = [
      [ct16, (await jpegLosslessCodec.encode!(signedPixels(ct16), ct16)).data],
      [
        RGB8,
        (
          await jpegLosslessSv1Codec.encode!(
            bytes(RGB8, (i) => i * 7),
            RGB8,
          )
        ).data,
      ],
      [
        ybr,
        (
          await jpegBaselineCodec.encode!(
            bytes(RGB8, (i) => i * 7),
            RGB8,
            { lossy: {} },
          )
        ).data,
      ],
      [
        mono12,
        (
          await jpegExtendedCodec.encode!(
            bytes(mono12, (i) => (i * 13) % 4096),
            mono12,
            { lossy: {} },
          )
        ).data,
      ],
    ];
    let typed = 0;
    for (let round = 0; round < 400; round++) {
      const [d, valid] = frames[round % frames.length]!;
      let bad = valid.slice();
      switch (rnd(4)) {
        case 0:
          bad = bad.subarray(0, rnd(bad.length));
          break;
        case 1:
          for (let k = 1 + rnd(8); k > 0; k--) bad[rnd(bad.length)] = rnd(256);
          break;
        case 2:
          bad[rnd(bad.length)] = 0xff;
          bad[rnd(bad.length)] = rnd(256);
          break;
        default:
          // Segment lengths and header fields: the first 200 bytes.
          bad[rnd(Math.min(200, bad.length))] = rnd(256);
      }
      const codec = jpegCodecs[round % 4]!;
      try {
        await codec.decode(bad, d);
      } catch (e) {
        expect(isDnetError(e)).toBe(true);
        expect(e).toBeInstanceOf(JpegError);
        expect((e as JpegError).code).toMatch(/^DNET_CODECS_/);
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(50);
  });
});
