/**
 * The transcoder against the reference tools: DCMTK's dcmcjpls/dcmdjpls and
 * dcmcrle/dcmdrle, GDCM's gdcmconv (--j2k, --raw). Fixtures are synthetic
 * images made here; the tools compress them, dnet decodes and the pixels are
 * compared with the tool's own decode; dnet compresses them, the tools decode,
 * and the pixels are compared with the original (lossless) or with dnet's own
 * decode within one grey level (lossy).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePart10 } from '@dnet/dataset';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ImageShape,
  maxDifference,
  nativePixels,
  syntheticImage,
} from './images.test-support.js';
import { transcodeFile } from './transcode-file.js';

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const JLS = '1.2.840.10008.1.2.4.80';
const JLS_NEAR = '1.2.840.10008.1.2.4.81';
const J2K_LOSSLESS = '1.2.840.10008.1.2.4.90';
const J2K = '1.2.840.10008.1.2.4.91';
const RLE = '1.2.840.10008.1.2.5';

const FIXTURES: Record<string, ImageShape> = {
  'ct-16-signed': { bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1 },
  'ct-12-signed': { bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1 },
  'mr-12-unsigned': { bitsAllocated: 16, bitsStored: 12 },
  'mono-8-odd': { bitsAllocated: 8, rows: 63, columns: 45 },
  'rgb-8': { bitsAllocated: 8, samplesPerPixel: 3 },
  'multi-frame-16': { bitsAllocated: 16, bitsStored: 16, frames: 7 },
  'multi-frame-rgb': { bitsAllocated: 8, samplesPerPixel: 3, frames: 4, rows: 32, columns: 40 },
};

/** The tools per syntax: how they compress an original and decode to native. */
const TOOLS: Record<string, { uid: string; compress: string[]; decompress: string[] }> = {
  rle: { uid: RLE, compress: ['dcmcrle'], decompress: ['dcmdrle'] },
  'jpeg-ls': { uid: JLS, compress: ['dcmcjpls'], decompress: ['dcmdjpls'] },
  j2k: { uid: J2K_LOSSLESS, compress: ['gdcmconv', '--j2k'], decompress: ['gdcmconv', '--raw'] },
};

async function tool(argv: string[], input: string, output: string): Promise<void> {
  const r = await runTool(argv[0]!, [...argv.slice(1), input, output]);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
}

describePeer(
  ['dcmcjpls', 'dcmdjpls', 'dcmcrle', 'dcmdrle', 'gdcmconv', 'dcmdump'],
  'transcoding against DCMTK and GDCM',
  () => {
    let dir: string;
    const original = (name: string) => join(dir, `${name}.dcm`);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-codecs-'));
      for (const [name, shape] of Object.entries(FIXTURES)) {
        await writeFile(original(name), syntheticImage(shape));
      }
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    for (const [kind, t] of Object.entries(TOOLS)) {
      for (const name of Object.keys(FIXTURES)) {
        it(`decodes ${kind} made by ${t.compress[0]} (${name}) to the tool's own pixels`, async () => {
          const compressed = join(dir, `${name}.${kind}.dcm`);
          const reference = join(dir, `${name}.${kind}.ref.dcm`);
          const ours = join(dir, `${name}.${kind}.dnet.dcm`);
          await tool(t.compress, original(name), compressed);
          await tool(t.decompress, compressed, reference);
          const info = await transcodeFile(compressed, ours, { transferSyntaxUid: EXPLICIT_LE });
          expect(info.lossy).toBe(false);
          const got = await nativePixels(ours);
          expect(got.pixels.equals((await nativePixels(reference)).pixels)).toBe(true);
          expect(got.pixels.equals((await nativePixels(original(name))).pixels)).toBe(true);
          expect(got.dataSet.uid('SOPInstanceUID')).toBe(
            decodePart10(await readFile(original(name))).dataSet.uid('SOPInstanceUID'),
          );
        });

        it(`encodes ${kind} (${name}) that ${t.decompress[0]} decodes to the original pixels`, async () => {
          const ours = join(dir, `${name}.${kind}.enc.dcm`);
          const back = join(dir, `${name}.${kind}.enc.raw.dcm`);
          await transcodeFile(original(name), ours, { transferSyntaxUid: t.uid });
          await tool(t.decompress, ours, back);
          expect(
            (await nativePixels(back)).pixels.equals((await nativePixels(original(name))).pixels),
          ).toBe(true);
          const { header, dataSet } = decodePart10(await readFile(ours));
          expect(header.transferSyntaxUid).toBe(t.uid);
          expect(dataSet.get('LossyImageCompression')).toBeUndefined();
          if (dataSet.number('SamplesPerPixel') === 3) {
            // PS3.5 §G.2 (RLE: by plane); §8.2.3, §8.2.4 (JPEG-LS, JPEG 2000: by pixel).
            expect(dataSet.number('PlanarConfiguration')).toBe(kind === 'rle' ? 1 : 0);
          }
        });
      }
    }

    it('finds frames split over fragments with an empty Basic Offset Table (end markers, PS3.5 A.4)', async () => {
      const compressed = join(dir, 'split-empty.dcm');
      const ours = join(dir, 'split-empty.dnet.dcm');
      await tool(['dcmcjpls', '+fs', '1', '-ot'], original('multi-frame-16'), compressed);
      const fragments = decodePart10(await readFile(compressed)).dataSet.get('PixelData')!
        .fragments!;
      expect(fragments.length).toBeGreaterThan(7);
      expect(fragments[0]!.length).toBe(0);
      await transcodeFile(compressed, ours, { transferSyntaxUid: EXPLICIT_LE });
      expect(
        (await nativePixels(ours)).pixels.equals(
          (await nativePixels(original('multi-frame-16'))).pixels,
        ),
      ).toBe(true);
    });

    it('finds frames split over fragments through the Basic Offset Table', async () => {
      const compressed = join(dir, 'split-bot.dcm');
      const ours = join(dir, 'split-bot.dnet.dcm');
      await tool(['dcmcjpls', '+fs', '1', '+ot'], original('multi-frame-16'), compressed);
      expect(
        decodePart10(await readFile(compressed)).dataSet.get('PixelData')!.fragments![0]!.length,
      ).toBe(28);
      await transcodeFile(compressed, ours, { transferSyntaxUid: RLE });
      const back = join(dir, 'split-bot.back.dcm');
      await tool(['dcmdrle'], ours, back);
      expect(
        (await nativePixels(back)).pixels.equals(
          (await nativePixels(original('multi-frame-16'))).pixels,
        ),
      ).toBe(true);
    });

    it('transcodes between compressed syntaxes (JPEG 2000 from GDCM to JPEG-LS for dcmdjpls)', async () => {
      const j2k = join(dir, 'rgb.j2k.dcm');
      const jls = join(dir, 'rgb.j2k.jls.dcm');
      const back = join(dir, 'rgb.j2k.jls.raw.dcm');
      await tool(['gdcmconv', '--j2k'], original('multi-frame-rgb'), j2k);
      await transcodeFile(j2k, jls, { transferSyntaxUid: JLS });
      await tool(['dcmdjpls'], jls, back);
      expect(
        (await nativePixels(back)).pixels.equals(
          (await nativePixels(original('multi-frame-rgb'))).pixels,
        ),
      ).toBe(true);
    });

    it('JPEG-LS near-lossless: dnet and dcmdjpls decode within one grey level, with the lossy attributes', async () => {
      const name = 'ct-12-signed';
      const ours = join(dir, 'near.dcm');
      const ref = join(dir, 'near.ref.dcm');
      const mine = join(dir, 'near.dnet.dcm');
      const src = decodePart10(await readFile(original(name)));
      const info = await transcodeFile(original(name), ours, {
        transferSyntaxUid: JLS_NEAR,
        lossy: { maxError: 2 },
      });
      expect(info.lossy).toBe(true);
      await tool(['dcmdjpls'], ours, ref);
      await transcodeFile(ours, mine, { transferSyntaxUid: EXPLICIT_LE });
      const a = await nativePixels(ref);
      const b = await nativePixels(mine);
      expect(maxDifference(a.pixels, b.pixels, 16, true)).toBeLessThanOrEqual(1);
      // NEAR bounds the error against the original too.
      expect(
        maxDifference(b.pixels, (await nativePixels(original(name))).pixels, 16, true),
      ).toBeLessThanOrEqual(2);
      const { header, dataSet } = decodePart10(await readFile(ours));
      // PS3.3 §C.7.6.1.1.5: '01', ratio and method; a new SOP Instance UID, in the meta too.
      expect(dataSet.string('LossyImageCompression')).toBe('01');
      expect(dataSet.strings('LossyImageCompressionMethod')).toEqual(['ISO_14495_1']);
      expect(Number(dataSet.string('LossyImageCompressionRatio'))).toBeGreaterThan(1);
      expect(dataSet.uid('SOPInstanceUID')).not.toBe(src.dataSet.uid('SOPInstanceUID'));
      expect(header.fileMetaInformation.mediaStorageSopInstanceUid).toBe(
        dataSet.uid('SOPInstanceUID'),
      );
      expect(info.sopInstanceUid).toBe(dataSet.uid('SOPInstanceUID'));
    });

    it('decodes dcmcjpls near-lossless within one grey level of dcmdjpls', async () => {
      const compressed = join(dir, 'dcmtk-near.dcm');
      const ref = join(dir, 'dcmtk-near.ref.dcm');
      const mine = join(dir, 'dcmtk-near.dnet.dcm');
      await tool(['dcmcjpls', '+en'], original('mr-12-unsigned'), compressed);
      await tool(['dcmdjpls'], compressed, ref);
      await transcodeFile(compressed, mine, { transferSyntaxUid: EXPLICIT_LE });
      expect(
        maxDifference(
          (await nativePixels(ref)).pixels,
          (await nativePixels(mine)).pixels,
          16,
          false,
        ),
      ).toBeLessThanOrEqual(1);
    });

    it('JPEG 2000 lossy: gdcmconv decodes within one grey level of dnet, ratio and method appended', async () => {
      const ours = join(dir, 'j2k-lossy.dcm');
      const ref = join(dir, 'j2k-lossy.ref.dcm');
      const mine = join(dir, 'j2k-lossy.dnet.dcm');
      await transcodeFile(original('mr-12-unsigned'), ours, {
        transferSyntaxUid: J2K,
        lossy: { ratio: 8 },
      });
      await tool(['gdcmconv', '--raw'], ours, ref);
      await transcodeFile(ours, mine, { transferSyntaxUid: EXPLICIT_LE });
      expect(
        maxDifference(
          (await nativePixels(ref)).pixels,
          (await nativePixels(mine)).pixels,
          16,
          false,
        ),
      ).toBeLessThanOrEqual(1);
      // A second lossy step appends its ratio and method (PS3.3 §C.7.6.1.1.5).
      const twice = join(dir, 'j2k-lossy-twice.dcm');
      await transcodeFile(ours, twice, { transferSyntaxUid: JLS_NEAR, lossy: {} });
      const ds = decodePart10(await readFile(twice)).dataSet;
      expect(ds.strings('LossyImageCompressionMethod')).toEqual(['ISO_15444_1', 'ISO_14495_1']);
      expect(ds.strings('LossyImageCompressionRatio')).toHaveLength(2);
    });
  },
);
