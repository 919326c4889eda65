import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSet, encodeDataSet, readPart10Header } from '@dnet/dataset';
import { Client, storage as storageContexts } from '@dnet/services';
import { type RunningPeer, startPeer } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The command line from its source (tsx), so the test needs no build of this app. */
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), 'cli.ts');
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
const MULTI_FRAME_WORD = '1.2.840.10008.5.1.4.1.1.7.3';
const SIZE = 512;
const FRAMES = 512;
const FRAME_BYTES = SIZE * SIZE * 2;
/** 256 MiB of Pixel Data, never held whole by the test either. */
const PIXEL_BYTES = FRAME_BYTES * FRAMES;

/** The data set in chunks: its elements, the Pixel Data header, then each frame made as it is sent. */
async function* multiFrame(sop: string, study: string): AsyncGenerator<Uint8Array> {
  const ds = new DataSet();
  ds.setString('SOPClassUID', MULTI_FRAME_WORD, 'UI');
  ds.setString('SOPInstanceUID', sop, 'UI');
  ds.setString('PatientID', 'BIG1', 'LO');
  ds.setString('StudyInstanceUID', study, 'UI');
  ds.setString('SeriesInstanceUID', `${study}.1`, 'UI');
  ds.setString('Modality', 'OT', 'CS');
  ds.setNumber('SamplesPerPixel', 1, 'US');
  ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
  ds.setString('NumberOfFrames', String(FRAMES), 'IS');
  ds.setNumber('Rows', SIZE, 'US');
  ds.setNumber('Columns', SIZE, 'US');
  ds.setNumber('BitsAllocated', 16, 'US');
  ds.setNumber('BitsStored', 12, 'US');
  ds.setNumber('HighBit', 11, 'US');
  ds.setNumber('PixelRepresentation', 0, 'US');
  yield encodeDataSet(ds, EXPLICIT_LE);
  // (7FE0,0010) OW, defined length (PS3.5 §7.1.2: 4 reserved bytes, then a 32-bit length).
  const header = new Uint8Array(12);
  const view = new DataView(header.buffer);
  view.setUint16(0, 0x7fe0, true);
  view.setUint16(2, 0x0010, true);
  header.set([0x4f, 0x57], 4);
  view.setUint32(8, PIXEL_BYTES, true);
  yield header;
  for (let f = 0; f < FRAMES; f++) {
    const frame = new Uint16Array(SIZE * SIZE);
    for (let i = 0; i < frame.length; i++) frame[i] = ((i % SIZE) * 4 + (i >> 9) + f) & 0xfff;
    yield new Uint8Array(frame.buffer);
  }
}

/** Resident memory of a process now (`VmRSS`) or at its peak (`VmHWM`), from /proc (Linux). */
function rss(pid: number, which: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no ${which} in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}

const reason = existsSync('/proc/self/status') ? undefined : 'no /proc to read peak memory from';
if (reason) console.warn(`[skip] dnet-scp --store-as memory: ${reason}`);

describe.skipIf(reason !== undefined)(
  'dnet-scp --store-as: memory of a large transcoded object',
  () => {
    let dir: string;
    let scp: RunningPeer;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-store-as-memory-'));
      scp = await startPeer({
        command: process.execPath,
        args: (port) => [
          ...['--import', 'tsx', CLI],
          ...['--host', '127.0.0.1', '--port', String(port), '--storage', join(dir, 'storage')],
          ...['--store-as', 'jpeg-ls-lossless', '--log-level', 'warn'],
        ],
      });
    }, 30_000);

    afterAll(async () => {
      await scp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('transcodes a 256 MiB multi-frame object to JPEG-LS, the peak RSS of dnet-scp (a child process) growing by well under its size', async () => {
      const study = '1.2.826.0.1.3680043.10.25.9';
      const sop = `${study}.1.1`;
      const before = rss(scp.process.pid!, 'VmRSS');
      const client = await Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'TESTSCU',
        calledAeTitle: 'DNETSCP',
        contexts: storageContexts([MULTI_FRAME_WORD], [EXPLICIT_LE]),
      });
      try {
        const result = await client.store({
          sopClassUid: MULTI_FRAME_WORD,
          sopInstanceUid: sop,
          transferSyntaxUid: EXPLICIT_LE,
          dataSet: multiFrame(sop, study),
        });
        expect(result.status, scp.log()).toBe(0);
      } finally {
        await client.release();
      }
      // Stored transcoded: the file's meta header names JPEG-LS, and it is far smaller.
      const file = await open(join(dir, 'storage', study, `${study}.1`, `${sop}.dcm`));
      try {
        const head = Buffer.alloc(4096);
        await file.read(head, 0, head.length, 0);
        expect(readPart10Header(head).transferSyntaxUid).toBe(JPEG_LS_LOSSLESS);
        expect((await file.stat()).size).toBeLessThan(PIXEL_BYTES / 2);
      } finally {
        await file.close();
      }
      // Frame by frame: the process never held the object (nor a large part of it).
      // Its peak resident memory grew by much less than the object: held whole, it would grow by more.
      const growth = rss(scp.process.pid!, 'VmHWM') - before;
      console.log(
        `dnet-scp --store-as: RSS ${Math.round(before / 2 ** 20)} MiB before, peak growth ${Math.round(growth / 2 ** 20)} MiB for ${PIXEL_BYTES / 2 ** 20} MiB`,
      );
      expect(growth).toBeLessThan(PIXEL_BYTES / 2);
    }, 180_000);
  },
);
