// The codec rows of `pnpm bench` (issue 25): frames per second decoding and
// encoding RLE Lossless, JPEG-LS Lossless, JPEG Lossless (SV1) and JPEG 2000
// Lossless with dnet's transcoder (@dnet/codecs, in this process, after one
// untimed warm-up run) and with DCMTK's dcmcrle/dcmdrle, dcmcjpls/dcmdjpls and
// dcmcjpeg/dcmdjpeg and GDCM's gdcmconv
// (--j2k, --raw) on the same files. The tools' figures include their process
// start-up, as a user running them pays it. `pnpm bench --codecs` runs these
// rows alone. A tool that is not installed leaves its rows out, saying why.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { transcodeFile } from '@dnet/codecs';
import { DataSet, encodePart10 } from '@dnet/dataset';
import { hasCommand, runTool } from '@dnet/testkit/node';
import type { Row } from './rows.js';
import { sampledRow } from './stats.js';

/** How much the codec rows code. */
export interface CodecPlan {
  runs: number;
  /** Frames of the 16-bit CT-like multi-frame object. */
  frames: number;
  /** Rows and columns of each frame. */
  size: number;
}

const NATIVE = '1.2.840.10008.1.2.1';

const SYNTAXES = [
  { name: 'RLE Lossless', uid: '1.2.840.10008.1.2.5', encode: ['dcmcrle'], decode: ['dcmdrle'] },
  {
    name: 'JPEG-LS Lossless',
    uid: '1.2.840.10008.1.2.4.80',
    encode: ['dcmcjpls'],
    decode: ['dcmdjpls'],
  },
  {
    name: 'JPEG Lossless SV1',
    uid: '1.2.840.10008.1.2.4.70',
    encode: ['dcmcjpeg', '+e1'],
    decode: ['dcmdjpeg'],
  },
  {
    name: 'JPEG 2000 Lossless',
    uid: '1.2.840.10008.1.2.4.90',
    encode: ['gdcmconv', '--j2k'],
    decode: ['gdcmconv', '--raw'],
  },
] as const;

/** A CT-like (multi-frame) object: 12 bits stored, signed, smooth with noise. */
export async function writeCt(path: string, plan: CodecPlan): Promise<void> {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.2.1', 'UI');
  ds.setString('SOPInstanceUID', '2.25.25', 'UI');
  ds.setNumber('SamplesPerPixel', 1);
  ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
  ds.setString('NumberOfFrames', String(plan.frames), 'IS');
  ds.setNumber('Rows', plan.size);
  ds.setNumber('Columns', plan.size);
  ds.setNumber('BitsAllocated', 16);
  ds.setNumber('BitsStored', 12);
  ds.setNumber('HighBit', 11);
  ds.setNumber('PixelRepresentation', 1);
  const frame = plan.size * plan.size * 2;
  const out = createWriteStream(path);
  const write = async (b: Uint8Array) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(encodePart10(ds, { transferSyntaxUid: NATIVE }));
  const head = new Uint8Array(12);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, 0x7fe0, true);
  dv.setUint16(2, 0x0010, true);
  head.set([0x4f, 0x57], 4); // OW
  dv.setUint32(8, frame * plan.frames, true);
  await write(head);
  let seed = 25;
  for (let f = 0; f < plan.frames; f++) {
    const px = new DataView(new ArrayBuffer(frame));
    for (let y = 0; y < plan.size; y++) {
      for (let x = 0; x < plan.size; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const r = Math.hypot(x - plan.size / 2, y - plan.size / 2);
        const v = r < plan.size / 2.2 ? 40 + Math.round(30 * Math.sin((x + f) / 17)) : -1000;
        px.setInt16((y * plan.size + x) * 2, v + (seed >>> 28), true);
      }
    }
    await write(new Uint8Array(px.buffer));
  }
  out.end();
  await once(out, 'finish');
}

async function timeTool(argv: readonly string[], input: string, output: string): Promise<number> {
  const started = performance.now();
  const r = await runTool(argv[0]!, [...argv.slice(1), input, output], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim()}`);
  return (performance.now() - started) / 1000;
}

async function timeDnet(input: string, output: string, uid: string): Promise<number> {
  const started = performance.now();
  await transcodeFile(input, output, { transferSyntaxUid: uid });
  return (performance.now() - started) / 1000;
}

/** Frames/s encoding and decoding each syntax, dnet beside the reference tool. */
export async function codecRows(
  plan: CodecPlan,
  work: string,
  log: (line: string) => void,
): Promise<Row[]> {
  const dir = join(work, 'codecs');
  await mkdir(dir, { recursive: true });
  const native = join(dir, 'ct.dcm');
  await writeCt(native, plan);
  const rows: Row[] = [];
  const what = `${plan.frames} frames of ${plan.size}x${plan.size}x16 bit`;
  try {
    for (const s of SYNTAXES) {
      const missing = [s.encode[0], s.decode[0]].filter((t) => !hasCommand(t));
      const ref = join(dir, `${s.uid}.ref.dcm`);
      const ours = join(dir, `${s.uid}.dnet.dcm`);
      const back = join(dir, `${s.uid}.back.dcm`);
      log(`codecs: ${s.name}, ${what}`);
      // Warm-up: the JIT and the WebAssembly module, untimed.
      await timeDnet(native, ours, s.uid);
      await timeDnet(ours, back, NATIVE);
      const samples = {
        dnetEnc: [] as number[],
        dnetDec: [] as number[],
        toolEnc: [] as number[],
        toolDec: [] as number[],
      };
      for (let run = 0; run < plan.runs; run++) {
        samples.dnetEnc.push(plan.frames / (await timeDnet(native, ours, s.uid)));
        if (missing.length === 0) {
          samples.toolEnc.push(plan.frames / (await timeTool(s.encode, native, ref)));
          samples.toolDec.push(plan.frames / (await timeTool(s.decode, ref, back)));
          // dnet decodes the tool's file: the same input as the tool's decoder.
          samples.dnetDec.push(plan.frames / (await timeDnet(ref, back, NATIVE)));
        } else {
          samples.dnetDec.push(plan.frames / (await timeDnet(ours, back, NATIVE)));
        }
      }
      const add = (name: string, values: number[]) => {
        const row = sampledRow(plan.runs, 'codecs', `${name}, ${what}`, 'frames/s', values);
        if (row) rows.push(row);
      };
      add(`dnet encode ${s.name}`, samples.dnetEnc);
      add(`${s.encode.join(' ')} encode ${s.name}`, samples.toolEnc);
      add(`dnet decode ${s.name}`, samples.dnetDec);
      add(`${s.decode.join(' ')} decode ${s.name}`, samples.toolDec);
      if (missing.length)
        log(`codecs: ${missing.join(', ')} not installed, no ${s.name} tool rows`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
