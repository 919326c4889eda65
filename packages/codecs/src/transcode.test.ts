import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, decodePart10, encodePart10, IMPLEMENTATION_CLASS_UID } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { syntheticImage } from './images.test-support.js';
import { jpegLsLosslessCodec } from './jpeg-ls-codec.js';
import { canTranscode, transcode, transcodeDataSet } from './transcode.js';
import { transcodeFile } from './transcode-file.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const JLS = '1.2.840.10008.1.2.4.80';
const JLS_NEAR = '1.2.840.10008.1.2.4.81';
const HTJ2K = '1.2.840.10008.1.2.4.201';

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

async function to(file: Uint8Array, uid: string, lossy?: object) {
  return decodePart10(
    await collect(transcode(file, { transferSyntaxUid: uid, ...(lossy ? { lossy } : {}) })),
  );
}

function pixels(file: Uint8Array): Buffer {
  return Buffer.from(decodePart10(file).dataSet.bytes('PixelData')!);
}

/** MPEG2 Main Profile @ Main Level (PS3.5 §8.2.5): a syntax no codec here handles. */
const MPEG2 = '1.2.840.10008.1.2.4.100';

describe('transcode', () => {
  const mono = syntheticImage({ bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1 });
  const multi = syntheticImage({ bitsAllocated: 8, frames: 5, rows: 15, columns: 17 });

  it('round-trips native -> RLE, JPEG-LS, HTJ2K -> native, bit for bit', async () => {
    for (const uid of [RLE, JLS, HTJ2K]) {
      const compressed = await to(mono, uid);
      expect(compressed.header.transferSyntaxUid).toBe(uid);
      const back = await to(
        encodePart10(compressed.dataSet, { transferSyntaxUid: uid }),
        EXPLICIT_LE,
      );
      expect(Buffer.from(back.dataSet.bytes('PixelData')!)).toEqual(pixels(mono));
    }
  });

  it('writes one fragment per frame, an empty Basic Offset Table for several frames, even items (PS3.5 A.4)', async () => {
    const { dataSet } = await to(multi, JLS);
    const fragments = dataSet.get('PixelData')!.fragments!;
    expect(fragments).toHaveLength(6);
    expect(fragments[0]!.length).toBe(0);
    for (const f of fragments) expect(f.length % 2).toBe(0);
    const single = (await to(mono, JLS)).dataSet.get('PixelData')!.fragments!;
    expect([...single[0]!]).toEqual([0, 0, 0, 0]); // one frame: its offset 0
    // Native output: a defined length, padded to even (15 × 17 × 5 is odd).
    const back = await to(encodePart10(dataSet, { transferSyntaxUid: JLS }), EXPLICIT_LE);
    expect(back.dataSet.bytes('PixelData')!.length).toBe(15 * 17 * 5 + 1);
    expect(Buffer.from(back.dataSet.bytes('PixelData')!)).toEqual(pixels(multi));
  });

  it('gives the same output whatever the chunking of its source', async () => {
    const rle = await collect(transcode(multi, { transferSyntaxUid: RLE }));
    const whole = await collect(transcode(rle, { transferSyntaxUid: EXPLICIT_LE }));
    for (const size of [1, 7, 64, 4099]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < rle.length; i += size) chunks.push(rle.subarray(i, i + size));
      expect(await collect(transcode(chunks, { transferSyntaxUid: EXPLICIT_LE }))).toEqual(whole);
    }
  });

  it('transcodeFile fills in the Basic Offset Table of a multi-frame output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-codecs-bot-'));
    try {
      await writeFile(join(dir, 'in.dcm'), multi);
      await transcodeFile(join(dir, 'in.dcm'), join(dir, 'out.dcm'), { transferSyntaxUid: JLS });
      const fragments = decodePart10(await readFile(join(dir, 'out.dcm'))).dataSet.get('PixelData')!
        .fragments!;
      const bot = new DataView(
        fragments[0]!.buffer,
        fragments[0]!.byteOffset,
        fragments[0]!.byteLength,
      );
      expect(fragments[0]!.length).toBe(4 * 5);
      let at = 0;
      for (let f = 0; f < 5; f++) {
        expect(bot.getUint32(4 * f, true)).toBe(at);
        at += 8 + fragments[f + 1]!.length;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads Implicit VR, Big Endian and Deflated sources and writes them', async () => {
    for (const uid of [IMPLICIT_LE, EXPLICIT_BE, DEFLATED]) {
      const native = await collect(transcode(mono, { transferSyntaxUid: uid }));
      expect(decodePart10(native).header.transferSyntaxUid).toBe(uid);
      const rle = await to(native, RLE);
      const back = await to(encodePart10(rle.dataSet, { transferSyntaxUid: RLE }), uid);
      expect(back.header.transferSyntaxUid).toBe(uid);
      const again = await to(encodePart10(back.dataSet, { transferSyntaxUid: uid }), EXPLICIT_LE);
      expect(Buffer.from(again.dataSet.bytes('PixelData')!)).toEqual(pixels(mono));
    }
  });

  it('finds frames through the Extended Offset Table and drops it from the output', async () => {
    const { dataSet } = decodePart10(multi);
    const per = 15 * 17;
    const all = dataSet.bytes('PixelData')!;
    const d = {
      rows: 15,
      columns: 17,
      samplesPerPixel: 1,
      bitsAllocated: 8,
      bitsStored: 8,
      pixelRepresentation: 0 as const,
      photometricInterpretation: 'MONOCHROME2',
      planarConfiguration: 0 as const,
    };
    const fragments: Uint8Array[] = [new Uint8Array(0)];
    const offsets: bigint[] = [];
    let at = 0n;
    for (let f = 0; f < 5; f++) {
      const { data } = await jpegLsLosslessCodec.encode!(all.slice(f * per, (f + 1) * per), d);
      // Each frame split in two fragments at an even cut; the BOT stays empty.
      const cut = Math.floor(data.length / 4) * 2;
      const tail = data.subarray(cut);
      const parts = [
        data.subarray(0, cut),
        tail.length % 2 ? Buffer.concat([tail, new Uint8Array(1)]) : tail,
      ];
      offsets.push(at);
      for (const p of parts) {
        fragments.push(p);
        at += BigInt(8 + p.length);
      }
    }
    const eot = new Uint8Array(8 * 5);
    for (const [i, o] of offsets.entries()) new DataView(eot.buffer).setBigUint64(i * 8, o, true);
    dataSet.setBytes(0x7fe00001, eot, 'OV');
    dataSet.set({ tag: 0x7fe00010, vr: 'OB', fragments, undefinedLength: true });
    const file = encodePart10(dataSet, { transferSyntaxUid: JLS });
    const out = await to(file, EXPLICIT_LE);
    expect(Buffer.from(out.dataSet.bytes('PixelData')!.subarray(0, 5 * per))).toEqual(
      Buffer.from(all.subarray(0, 5 * per)),
    );
    expect(out.dataSet.has(0x7fe00001)).toBe(false);
  });

  it('codes 4.81 losslessly unless lossy output is allowed, then sets the lossy attributes and a new UID', async () => {
    const plain = await to(mono, JLS_NEAR);
    expect(plain.dataSet.has('LossyImageCompression')).toBe(false);
    expect(plain.dataSet.uid('SOPInstanceUID')).toBe(
      decodePart10(mono).dataSet.uid('SOPInstanceUID'),
    );
    const lossy = await to(mono, JLS_NEAR, { maxError: 3 });
    expect(lossy.dataSet.string('LossyImageCompression')).toBe('01');
    expect(lossy.dataSet.uid('SOPInstanceUID')).toMatch(/^2\.25\.\d+$/);
    expect(lossy.header.fileMetaInformation.mediaStorageSopInstanceUid).toBe(
      lossy.dataSet.uid('SOPInstanceUID'),
    );
    expect(lossy.header.fileMetaInformation.implementationClassUid).toBe(IMPLEMENTATION_CLASS_UID);
  });

  it('reports what it does before the first byte, for a data set stream too', async () => {
    const { header, dataSet } = decodePart10(mono);
    const bytes = mono.subarray(header.dataSetOffset);
    let seen: unknown;
    const out = await collect(
      transcodeDataSet(bytes, EXPLICIT_LE, {
        transferSyntaxUid: RLE,
        onHeader: (i) => {
          seen = i;
        },
      }),
    );
    expect(seen).toMatchObject({
      fromTransferSyntaxUid: EXPLICIT_LE,
      transferSyntaxUid: RLE,
      lossy: false,
      frames: 1,
      sopInstanceUid: dataSet.uid('SOPInstanceUID'),
    });
    expect(out.length).toBeGreaterThan(0);
  });

  it('refuses what it cannot do with typed errors', async () => {
    await expect(collect(transcode(mono, { transferSyntaxUid: MPEG2 }))).rejects.toMatchObject({
      code: 'DNET_CODECS_UNSUPPORTED_TRANSFER_SYNTAX',
    });
    await expect(
      // 16-bit pixels: JPEG Baseline carries 8 bits only (PS3.5 §8.2.1).
      collect(transcode(mono, { transferSyntaxUid: '1.2.840.10008.1.2.4.50', lossy: {} })),
    ).rejects.toMatchObject({
      code: 'DNET_CODECS_UNSUPPORTED_PIXEL_FORMAT',
    });
    const { header } = decodePart10(mono);
    const cut = mono.subarray(0, mono.length - 100);
    await expect(collect(transcode(cut, { transferSyntaxUid: RLE }))).rejects.toMatchObject({
      code: 'DNET_CODECS_MALFORMED_PIXEL_DATA',
    });
    const noRows = decodePart10(mono).dataSet;
    noRows.delete('Rows');
    await expect(
      collect(
        transcode(encodePart10(noRows, { transferSyntaxUid: header.transferSyntaxUid }), {
          transferSyntaxUid: RLE,
        }),
      ),
    ).rejects.toMatchObject({ code: 'DNET_CODECS_MALFORMED_PIXEL_DATA' });
  });

  it('refuses a pixel format the target codec lacks, before any output byte', async () => {
    const ds = decodePart10(syntheticImage({ bitsAllocated: 16, rows: 32, columns: 48 })).dataSet;
    ds.setNumber('BitsAllocated', 32);
    ds.setNumber('BitsStored', 32);
    ds.setNumber('Rows', 16);
    const file = encodePart10(ds, { transferSyntaxUid: EXPLICIT_LE });
    const chunks: Uint8Array[] = [];
    await expect(
      (async () => {
        for await (const c of transcode(file, { transferSyntaxUid: JLS })) chunks.push(c);
      })(),
    ).rejects.toMatchObject({ code: 'DNET_CODECS_UNSUPPORTED_PIXEL_FORMAT' });
    expect(chunks).toHaveLength(0);
  });

  it('passes a data set without Pixel Data through with the new syntax', async () => {
    const ds = new DataSet();
    ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.88.11', 'UI');
    ds.setString('SOPInstanceUID', '1.2.3', 'UI');
    const out = await to(encodePart10(ds, { transferSyntaxUid: EXPLICIT_LE }), RLE);
    expect(out.header.transferSyntaxUid).toBe(RLE);
    expect(out.dataSet.uid('SOPInstanceUID')).toBe('1.2.3');
  });

  it('takes colour by plane in and writes JPEG-LS by pixel, RLE by plane (PS3.5 8.2.3, G.2)', async () => {
    const planar = syntheticImage({
      bitsAllocated: 8,
      samplesPerPixel: 3,
      planarConfiguration: 1,
      rows: 9,
      columns: 11,
    });
    const jls = await to(planar, JLS);
    expect(jls.dataSet.number('PlanarConfiguration')).toBe(0);
    const back = await to(encodePart10(jls.dataSet, { transferSyntaxUid: JLS }), EXPLICIT_LE);
    expect(back.dataSet.number('PlanarConfiguration')).toBe(0);
    const src = pixels(planar);
    const got = Buffer.from(back.dataSet.bytes('PixelData')!);
    const n = 9 * 11;
    for (let p = 0; p < n; p++)
      for (let c = 0; c < 3; c++) expect(got[p * 3 + c]).toBe(src[c * n + p]);
    const rle = await to(planar, RLE);
    expect(rle.dataSet.number('PlanarConfiguration')).toBe(1);
    const fromRle = await to(encodePart10(rle.dataSet, { transferSyntaxUid: RLE }), EXPLICIT_LE);
    expect(Buffer.from(fromRle.dataSet.bytes('PixelData')!)).toEqual(src);
  });

  it('canTranscode', () => {
    expect(canTranscode(EXPLICIT_LE, IMPLICIT_LE)).toBe(true);
    expect(canTranscode(JLS, RLE)).toBe(true);
    expect(canTranscode('1.2.840.10008.1.2.4.50', EXPLICIT_LE)).toBe(true);
    expect(canTranscode(MPEG2, EXPLICIT_LE)).toBe(false);
    expect(canTranscode(EXPLICIT_LE, MPEG2)).toBe(false);
    expect(canTranscode(MPEG2, MPEG2)).toBe(true);
  });
});
