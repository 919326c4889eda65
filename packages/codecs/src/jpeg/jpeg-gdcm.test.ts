/**
 * The JPEG decoders against GDCM (gdcmconv, another IJG-based implementation with its
 * own encoder settings): its JPEG Lossless decodes to the original pixels, its lossy
 * JPEG within one grey level of its own decoder (`gdcmconv --raw`).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, expect, it } from 'vitest';
import {
  images,
  maxDifference,
  nativeFile,
  readImage,
  samples,
} from './dicom-fixture.test-support.js';
import { jpegCodecs } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'dnet-jpeg-gdcm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function gdcmconv(args: string[], input: string): Promise<string> {
  const output = join(dir, `g${++n}.dcm`);
  const r = await runTool('gdcmconv', [...args, input, output]);
  if (r.code !== 0) throw new Error(`gdcmconv ${args.join(' ')}: ${r.stderr}`);
  return output;
}

const codecFor = (ts: string) => {
  const codec = jpegCodecs.find((c) => c.transferSyntaxUid === ts);
  if (!codec) throw new Error(`no codec for ${ts}`);
  return codec;
};

describePeer(['gdcmconv'], 'JPEG decoders against GDCM', () => {
  for (const [name, image] of Object.entries(images)) {
    it(`decodes gdcmconv --jpeg of ${name} to the original pixels`, async () => {
      const input = join(dir, `in${++n}.dcm`);
      writeFileSync(input, nativeFile(image));
      const compressed = await readImage(await gdcmconv(['--jpeg'], input));
      const decoded = await codecFor(compressed.transferSyntaxUid).decode(
        compressed.frame!,
        compressed.description,
      );
      expect(samples(decoded.pixels, decoded.description)).toEqual(
        samples(image.pixels, image.description),
      );
    });
  }

  for (const name of ['8-bit monochrome', '8-bit RGB']) {
    it(`decodes gdcmconv --jpeg --lossy of ${name} within one grey level of gdcmconv --raw`, async () => {
      const input = join(dir, `in${++n}.dcm`);
      writeFileSync(input, nativeFile(images[name]!));
      const path = await gdcmconv(['--jpeg', '--lossy', '-q', '90'], input);
      const compressed = await readImage(path);
      const reference = await readImage(await gdcmconv(['--raw'], path));
      const decoded = await codecFor(compressed.transferSyntaxUid).decode(
        compressed.frame!,
        compressed.description,
      );
      expect(
        maxDifference(
          samples(decoded.pixels, decoded.description),
          samples(reference.pixels!, reference.description),
        ),
      ).toBeLessThanOrEqual(1);
    });
  }

  it('refuses the 16-bit DCT frame gdcmconv --lossy makes of 12-bit data (T.81 B.2.2 allows 8 and 12)', async () => {
    const input = join(dir, `in${++n}.dcm`);
    writeFileSync(input, nativeFile(images['12-bit unsigned']!));
    const compressed = await readImage(await gdcmconv(['--jpeg', '--lossy', '-q', '90'], input));
    await expect(
      codecFor(compressed.transferSyntaxUid).decode(compressed.frame!, compressed.description),
    ).rejects.toMatchObject({ code: 'DNET_CODECS_JPEG_UNSUPPORTED', message: /precision 16/ });
  });
});
