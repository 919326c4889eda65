import { describe, expect, it } from 'vitest';
import type { FrameDescription } from './frame-codec.js';
import { rleCodec } from './rle-codec.js';

const mono16: FrameDescription = {
  rows: 2,
  columns: 3,
  samplesPerPixel: 1,
  bitsAllocated: 16,
  bitsStored: 16,
  pixelRepresentation: 0,
  photometricInterpretation: 'MONOCHROME2',
  planarConfiguration: 0,
};

describe('RLE Lossless (PS3.5 Annex G)', () => {
  it('writes the 64-byte header, one segment per byte plane, most significant first', async () => {
    // Samples 0x0102, 0x0102, 0x0102 / 0x0A0B, 0x0C0D, 0x0E0F, little endian.
    const px = new Uint8Array([2, 1, 2, 1, 2, 1, 0x0b, 0x0a, 0x0d, 0x0c, 0x0f, 0x0e]);
    const { data, description } = await rleCodec.encode!(px, mono16);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    expect(dv.getUint32(0, true)).toBe(2);
    expect(dv.getUint32(4, true)).toBe(64);
    const second = dv.getUint32(8, true);
    for (let i = 3; i < 16; i++) expect(dv.getUint32(4 * i, true)).toBe(0);
    // High bytes: row 1 a replicate run of three 0x01 (-2), row 2 a literal 0A 0C 0E.
    expect([...data.subarray(64, second)]).toEqual([0xfe, 0x01, 0x02, 0x0a, 0x0c, 0x0e]);
    // Low bytes, padded to an even length (PS3.5 §G.5).
    expect([...data.subarray(second)]).toEqual([0xfe, 0x02, 0x02, 0x0b, 0x0d, 0x0f]);
    expect(description).toEqual(mono16);
    expect((await rleCodec.decode(data, mono16)).pixels).toEqual(px);
  });

  it('pads an odd segment with a zero and decodes long runs and literals across 128', async () => {
    const d = { ...mono16, bitsAllocated: 8, bitsStored: 8, rows: 3, columns: 301 };
    const px = new Uint8Array(3 * 301);
    for (let i = 0; i < px.length; i++) px[i] = i < 301 ? 7 : i < 602 ? (i * 31) & 0xff : i % 3;
    const { data } = await rleCodec.encode!(px, d);
    expect((data.length - 64) % 2).toBe(0);
    expect((await rleCodec.decode(data, d)).pixels).toEqual(px);
  });

  it('encodes colour by plane and reports Planar Configuration 1 (PS3.5 G.2)', async () => {
    const d: FrameDescription = {
      ...mono16,
      bitsAllocated: 8,
      bitsStored: 8,
      samplesPerPixel: 3,
      photometricInterpretation: 'RGB',
      rows: 1,
      columns: 2,
    };
    const px = new Uint8Array([1, 2, 3, 4, 5, 6]); // R G B R G B
    const { data, description } = await rleCodec.encode!(px, d);
    expect(description.planarConfiguration).toBe(1);
    const dv = new DataView(data.buffer);
    expect(dv.getUint32(0, true)).toBe(3);
    expect([...data.subarray(dv.getUint32(4, true), dv.getUint32(8, true))]).toEqual([1, 1, 4, 0]); // R plane
    expect((await rleCodec.decode(data, d)).pixels).toEqual(px);
    expect((await rleCodec.decode(data, { ...d, planarConfiguration: 1 })).pixels).toEqual(
      new Uint8Array([1, 4, 2, 5, 3, 6]),
    );
  });

  it('refuses a segment that decodes short, and a header with the wrong segment count', async () => {
    const { data } = await rleCodec.encode!(new Uint8Array(12), mono16);
    await expect(rleCodec.decode(data.subarray(0, data.length - 2), mono16)).rejects.toMatchObject({
      code: 'DNET_CODECS_DECODE_FAILED',
    });
    await expect(rleCodec.decode(data, { ...mono16, bitsAllocated: 8 })).rejects.toMatchObject({
      code: 'DNET_CODECS_DECODE_FAILED',
    });
  });
});
