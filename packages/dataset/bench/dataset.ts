/**
 * Benchmarks of @dnet/dataset (about 10 s):
 * - reading the Part 10 header of a 1 GiB file (sparse) and of a 2 KiB file:
 *   the cost must not depend on the file's size;
 * - full decode and encode throughput of a data set of many small elements;
 * - writing a Part 10 file made of many chunks (`writePart10File`, gathered
 *   writes): 2000 encapsulated fragments, and a stream of 4 KiB chunks.
 *
 * Run alone: `pnpm exec tsx packages/dataset/bench/dataset.ts`.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Result, summarize } from '../../../bench/stats.js';
import {
  DataSet,
  decodeDataSet,
  encodeDataSet,
  encodePart10Header,
  openPart10File,
  TransferSyntax,
  TransferSyntaxConverter,
  writePart10File,
} from '../src/index.js';

export type { Result };

/** Times `fn` `runs` times (after one warm-up), in microseconds per run. */
async function time(runs: number, fn: () => unknown): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out;
}

/** A Part 10 file whose Pixel Data makes it `size` bytes long, sparse on disk. */
async function makeFile(path: string, size: number): Promise<void> {
  const head = encodePart10Header({
    mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    mediaStorageSopInstanceUid: '1.2.3.4',
    transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
  });
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  ds.setString('SOPInstanceUID', '1.2.3.4');
  const body = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
  const pixelHeader = new Uint8Array(12);
  const dv = new DataView(pixelHeader.buffer);
  dv.setUint16(0, 0x7fe0, true);
  dv.setUint16(2, 0x0010, true);
  pixelHeader.set([0x4f, 0x42], 4);
  const valueLength = size - head.length - body.length - 12;
  dv.setUint32(8, valueLength, true);
  const fh = await open(path, 'w');
  await fh.write(head);
  await fh.write(body);
  await fh.write(pixelHeader);
  await fh.truncate(size);
  await fh.close();
}

/** A data set of many small elements: 2000 items of 12 elements each. */
function manySmallElements(): DataSet {
  const ds = new DataSet();
  ds.setString('PatientName', 'DOE^JOHN');
  ds.setString('PatientID', '12345');
  for (let i = 0; i < 2000; i++) {
    const item = ds.addItem('ReferencedImageSequence');
    item.setString('ReferencedSOPClassUID', '1.2.840.10008.5.1.4.1.1.2');
    item.setString('ReferencedSOPInstanceUID', `1.2.826.0.1.3680043.2.1125.${i}`);
    item.setNumber('ReferencedFrameNumber', [i, i + 1]);
    item.setString('CodeValue', `C${i}`);
    item.setString('CodingSchemeDesignator', 'DCM');
    item.setString('CodeMeaning', 'Some meaning');
    item.setNumber('Rows', 512);
    item.setNumber('Columns', 512);
    item.setNumber('PixelSpacing', [0.5, 0.5]);
    item.setString('StudyDate', '20240101');
    item.setString('StudyTime', '101010');
    item.setNumber('EventTimeOffset', 1.5);
  }
  return ds;
}

/**
 * `writePart10File` of files made of many chunks, fsync included: an
 * encapsulated multi-frame image (2000 fragments of 4 KiB: about 4000 chunks)
 * and an 8 MiB data set arriving as a stream of 4 KiB chunks (as from a
 * C-STORE). Count the system calls with
 * `strace -f -c -e trace=write,writev,pwrite64,pwritev`.
 */
async function writeFiles(dir: string): Promise<Result[]> {
  const meta = {
    mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    mediaStorageSopInstanceUid: '1.2.3.4',
    transferSyntaxUid: '1.2.840.10008.1.2.4.50',
  };
  const image = new DataSet();
  image.setString('SOPClassUID', meta.mediaStorageSopClassUid);
  image.setString('SOPInstanceUID', meta.mediaStorageSopInstanceUid);
  image.setNumber('NumberOfFrames', 2000, 'IS');
  image.set({
    tag: 0x7fe00010,
    vr: 'OB',
    undefinedLength: true,
    fragments: [
      new Uint8Array(0),
      ...Array.from({ length: 2000 }, (_, i) => new Uint8Array(4096).fill(i)),
    ],
  });
  const stream = encodeDataSet(image, TransferSyntax.ExplicitVRLittleEndian);
  const plain = { ...meta, transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian };
  const file = join(dir, 'write.dcm');
  return [
    summarize(
      'dataset: writePart10File, 2000 fragments of 4 KiB (8 MiB)',
      'ms',
      (await time(20, () => writePart10File(file, meta, image))).map((us) => us / 1000),
    ),
    summarize(
      'dataset: writePart10File, 8 MiB stream in 4 KiB chunks',
      'ms',
      (
        await time(20, () =>
          writePart10File(
            file,
            plain,
            (function* () {
              for (let i = 0; i < stream.length; i += 4096) yield stream.subarray(i, i + 4096);
            })(),
          ),
        )
      ).map((us) => us / 1000),
    ),
  ];
}

/** Runs the benchmarks. */
export async function run(): Promise<Result[]> {
  const results: Result[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'dnet-bench-'));
  try {
    const big = join(dir, 'big.dcm');
    const small = join(dir, 'small.dcm');
    await makeFile(big, 1024 ** 3);
    await makeFile(small, 2048);
    results.push(
      summarize(
        'dataset: Part 10 header read, 1 GiB file',
        'µs',
        await time(300, () => openPart10File(big)),
      ),
      summarize(
        'dataset: Part 10 header read, 2 KiB file',
        'µs',
        await time(300, () => openPart10File(small)),
      ),
    );
    results.push(...(await writeFiles(dir)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const ds = manySmallElements();
  for (const ts of [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]) {
    const label = ts === TransferSyntax.ImplicitVRLittleEndian ? 'implicit' : 'explicit';
    const bytes = encodeDataSet(ds, ts);
    const elements = 2 + 2000 * 13;
    const decode = await time(20, () => decodeDataSet(bytes, ts));
    results.push(
      summarize(
        `dataset: decode ${elements} small elements (${label} LE)`,
        'MB/s',
        decode.map((us) => bytes.length / us),
      ),
      summarize(
        `dataset: decode ${elements} small elements (${label} LE)`,
        'M elements/s',
        decode.map((us) => elements / us),
      ),
    );
    const decoded = decodeDataSet(bytes, ts);
    const encode = await time(20, () => encodeDataSet(decoded, ts));
    results.push(
      summarize(
        `dataset: encode ${elements} small elements (${label} LE)`,
        'MB/s',
        encode.map((us) => bytes.length / us),
      ),
    );
  }
  // Streaming conversion of a 32 MiB image in 64 KiB chunks.
  const image = new DataSet();
  image.setNumber('Rows', 4096);
  image.setBytes('PixelData', new Uint8Array(32 * 1024 * 1024).fill(7), 'OW');
  const source = encodeDataSet(image, TransferSyntax.ExplicitVRLittleEndian);
  for (const [label, to] of [
    ['explicit LE -> implicit LE (zero-copy pass-through)', TransferSyntax.ImplicitVRLittleEndian],
    ['explicit LE -> explicit BE (byte swap)', TransferSyntax.ExplicitVRBigEndian],
  ] as const) {
    const runs = await time(5, () => {
      const c = new TransferSyntaxConverter(TransferSyntax.ExplicitVRLittleEndian, to);
      for (let i = 0; i < source.length; i += 65536) c.push(source.subarray(i, i + 65536));
      c.end();
    });
    results.push(
      summarize(
        `dataset: streaming conversion ${label}, 32 MiB`,
        'MB/s',
        runs.map((us) => source.length / us),
      ),
    );
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) {
    console.log(
      `${r.name.padEnd(60)} ${r.median.toPrecision(4).padStart(10)} ${r.min.toPrecision(4).padStart(10)} ${r.max.toPrecision(4).padStart(10)}  ${r.unit}`,
    );
  }
}
