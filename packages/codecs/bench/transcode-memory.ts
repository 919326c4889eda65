// Memory of the transcoder against the number of frames (issue 25): multi-frame
// RGB objects of 20, 200 and 2 000 frames of 256x256 (2 000 frames: 375 MiB)
// are transcoded native -> RLE and RLE -> native, each in a fresh process,
// and the peak RSS of that process is reported. Frame-at-a-time transcoding
// keeps it flat whatever the number of frames. Run alone with
// `npx tsx packages/codecs/bench/transcode-memory.ts` (after `pnpm build`),
// or with `pnpm bench --micro codecs`.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DataSet, encodePart10 } from '@dnet/dataset';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = pathToFileURL(resolve(here, '../dist/index.js')).href;
const SIZE = 256;
const FRAME = SIZE * SIZE * 3;

/** A figure of the micro benchmarks (bench/stats.ts's Result). */
interface Result {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
}

/** Writes a multi-frame RGB object of `frames` frames, frame by frame. */
async function writeObject(path: string, frames: number): Promise<void> {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.3.1', 'UI');
  ds.setString('SOPInstanceUID', `2.25.${frames}`, 'UI');
  ds.setNumber('SamplesPerPixel', 3);
  ds.setString('PhotometricInterpretation', 'RGB', 'CS');
  ds.setNumber('PlanarConfiguration', 0);
  ds.setString('NumberOfFrames', String(frames), 'IS');
  ds.setNumber('Rows', SIZE);
  ds.setNumber('Columns', SIZE);
  ds.setNumber('BitsAllocated', 8);
  ds.setNumber('BitsStored', 8);
  ds.setNumber('HighBit', 7);
  ds.setNumber('PixelRepresentation', 0);
  const out = createWriteStream(path);
  const write = async (b: Uint8Array) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(encodePart10(ds, { transferSyntaxUid: '1.2.840.10008.1.2.1' }));
  // (7FE0,0010) OB, explicit VR LE, 32-bit length (PS3.5 §7.1.2).
  const head = new Uint8Array(12);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, 0x7fe0, true);
  dv.setUint16(2, 0x0010, true);
  head.set([0x4f, 0x42], 4);
  dv.setUint32(8, FRAME * frames, true);
  await write(head);
  for (let f = 0; f < frames; f++) {
    const px = new Uint8Array(FRAME);
    for (let i = 0; i < FRAME; i++) {
      const p = Math.floor(i / 3);
      px[i] = (((p % SIZE) >> 3) + ((p / SIZE) >> 4) * 7 + f + (i % 3) * 40) & 0xff;
    }
    await write(px);
  }
  out.end();
  await once(out, 'finish');
}

/** Transcodes in a fresh process; resolves with its peak RSS in MiB. */
function peakRss(input: string, output: string, uid: string): Promise<number> {
  const code = `const { transcodeFile } = await import(${JSON.stringify(DIST)});
await transcodeFile(${JSON.stringify(input)}, ${JSON.stringify(output)}, { transferSyntaxUid: ${JSON.stringify(uid)} });
console.log(process.resourceUsage().maxRSS);`;
  return new Promise((ok, fail) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { timeout: 600_000 },
      (e, stdout) => {
        if (e) fail(e);
        else ok(Number(stdout.trim()) / 1024);
      },
    );
  });
}

/** Peak RSS of native -> RLE and RLE -> native for 20, 200 and 2 000 frames. */
export async function run(): Promise<Result[]> {
  const dir = await mkdtemp(join(tmpdir(), 'dnet-codecs-memory-'));
  const results: Result[] = [];
  try {
    for (const frames of [20, 200, 2000]) {
      const native = join(dir, `${frames}.dcm`);
      const rle = join(dir, `${frames}.rle.dcm`);
      const back = join(dir, `${frames}.back.dcm`);
      await writeObject(native, frames);
      const mib = ((FRAME * frames) / 2 ** 20).toFixed(0);
      const enc = await peakRss(native, rle, '1.2.840.10008.1.2.5');
      results.push({
        name: `transcode ${frames} frames (${mib} MiB) native -> RLE: peak RSS`,
        unit: 'MiB',
        median: enc,
        min: enc,
        max: enc,
      });
      const dec = await peakRss(rle, back, '1.2.840.10008.1.2.1');
      results.push({
        name: `transcode ${frames} frames (${mib} MiB) RLE -> native: peak RSS`,
        unit: 'MiB',
        median: dec,
        min: dec,
        max: dec,
      });
      await rm(native);
      await rm(rle);
      await rm(back);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const r of await run()) console.log(`${r.name.padEnd(60)} ${r.median.toFixed(1)} ${r.unit}`);
}
