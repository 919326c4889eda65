import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, decodePart10, encodePart10, readPart10Header } from '@dnet/dataset';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessScp, startOnLoopback } from './in-process-scp.test-support.js';
import { type SyntheticImage, syntheticImages } from './synthetic-images.js';

const TOOLS = ['storescu', 'findscu', 'dcmdjpls', 'dcmdrle', 'dcmcjpeg', 'dcmdump'];
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
const RLE = '1.2.840.10008.1.2.5';
const JPEG_LOSSLESS_SV1 = '1.2.840.10008.1.2.4.70';
const MULTI_FRAME_WORD = '1.2.840.10008.5.1.4.1.1.7.3';
const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';

/** The Pixel Data bytes of a Part 10 file in a native syntax. */
async function pixelsOf(path: string): Promise<Buffer> {
  return Buffer.from(decodePart10(await readFile(path)).dataSet.bytes('PixelData')!);
}

function dataSetOf(file: Uint8Array): Uint8Array {
  return file.subarray(readPart10Header(file, { strict: false }).dataSetOffset);
}

/** A multi-frame 16-bit (12 stored) image of `frames` frames, Explicit VR Little Endian. */
function multiFrame(sop: string, study: string, frames: number): Uint8Array {
  const ds = new DataSet();
  ds.setString('SOPClassUID', MULTI_FRAME_WORD, 'UI');
  ds.setString('SOPInstanceUID', sop, 'UI');
  ds.setString('PatientName', 'FRAMES^MANY', 'PN');
  ds.setString('PatientID', 'MF1', 'LO');
  ds.setString('StudyInstanceUID', study, 'UI');
  ds.setString('SeriesInstanceUID', `${study}.1`, 'UI');
  ds.setString('Modality', 'OT', 'CS');
  ds.setNumber('SamplesPerPixel', 1, 'US');
  ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
  ds.setString('NumberOfFrames', String(frames), 'IS');
  ds.setNumber('Rows', 48, 'US');
  ds.setNumber('Columns', 40, 'US');
  ds.setNumber('BitsAllocated', 16, 'US');
  ds.setNumber('BitsStored', 12, 'US');
  ds.setNumber('HighBit', 11, 'US');
  ds.setNumber('PixelRepresentation', 0, 'US');
  const px = new Uint8Array(48 * 40 * 2 * frames);
  for (let i = 0; i < px.length / 2; i++) {
    const v = ((i % 40) * 50 + Math.floor(i / 1920) * 97 + ((i * 7919) % 23)) & 0xfff;
    px[2 * i] = v & 0xff;
    px[2 * i + 1] = v >> 8;
  }
  ds.setBytes('PixelData', px, 'OW');
  return encodePart10(ds, { transferSyntaxUid: EXPLICIT_LE });
}

/** A Basic Text SR without Pixel Data. */
function report(sop: string, study: string): Uint8Array {
  const ds = new DataSet();
  ds.setString('SOPClassUID', BASIC_TEXT_SR, 'UI');
  ds.setString('SOPInstanceUID', sop, 'UI');
  ds.setString('PatientName', 'REPORT^ONLY', 'PN');
  ds.setString('PatientID', 'SR1', 'LO');
  ds.setString('StudyInstanceUID', study, 'UI');
  ds.setString('SeriesInstanceUID', `${study}.2`, 'UI');
  ds.setString('Modality', 'SR', 'CS');
  return encodePart10(ds, { transferSyntaxUid: EXPLICIT_LE });
}

describePeer(TOOLS, 'dnet-scp --store-as with DCMTK peers', () => {
  let dir: string;
  let ct: SyntheticImage;
  const scps: InProcessScp[] = [];
  const root = '1.2.826.0.1.3680043.10.25';

  /** storescu of `files` to `scp`; asserts exit 0. */
  async function storescu(scp: InProcessScp, files: string[], extra: string[] = []) {
    const r = await runTool(
      'storescu',
      [...extra, '-aet', 'STORESCU', '-aec', 'DNETSCP', '127.0.0.1', String(scp.port), ...files],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
  }

  /** Where `scp` stored the instance `sop` (its index row). */
  async function storedPath(scp: InProcessScp, storage: string, sop: string) {
    const record = await scp.scp.index.get(sop);
    expect(record, `${sop} not indexed`).toBeDefined();
    return { path: join(storage, record!.path), transferSyntaxUid: record!.transferSyntaxUid };
  }

  async function start(name: string, storeAs: string): Promise<[InProcessScp, string]> {
    const storage = join(dir, name);
    const scp = await startOnLoopback([storage, '--aet', 'DNETSCP', '--store-as', storeAs]);
    scps.push(scp);
    return [scp, storage];
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-store-as-'));
    const images = await syntheticImages(join(dir, 'images'), { count: 1, perSeries: 1, size: 64 });
    ct = images[0]!;
  }, 60_000);

  afterAll(async () => {
    for (const scp of scps) await scp.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('--store-as jpeg-ls-lossless', () => {
    let scp: InProcessScp;
    let storage: string;
    beforeAll(async () => {
      [scp, storage] = await start('jls', 'jpeg-ls-lossless');
    });

    it('archives an uncompressed CT from storescu as JPEG-LS that dcmdjpls decodes to the original pixels; C-FIND finds it', async () => {
      await storescu(scp, [ct.path]);
      const stored = await storedPath(scp, storage, ct.sopInstanceUid);
      expect(stored.transferSyntaxUid).toBe(JPEG_LS_LOSSLESS);
      const file = await readFile(stored.path);
      expect(readPart10Header(file).transferSyntaxUid).toBe(JPEG_LS_LOSSLESS);
      const decoded = join(dir, 'jls-decoded.dcm');
      const r = await runTool('dcmdjpls', [stored.path, decoded]);
      expect(r.code, r.stderr).toBe(0);
      expect((await pixelsOf(decoded)).equals(await pixelsOf(ct.path))).toBe(true);
      const log = scp.logs.find(
        (l) => l.op === 'C-STORE' && l.sopInstanceUid === ct.sopInstanceUid,
      );
      expect(log).toMatchObject({ status: '0x0000', storedTransferSyntaxUid: JPEG_LS_LOSSLESS });

      const out = join(dir, 'find-jls');
      await runTool('mkdir', ['-p', out]);
      const find = await runTool(
        'findscu',
        [
          '-S',
          '-X',
          '-aec',
          'DNETSCP',
          ...['-k', 'QueryRetrieveLevel=IMAGE', '-k', `StudyInstanceUID=${ct.studyInstanceUid}`],
          ...['-k', `SeriesInstanceUID=${ct.seriesInstanceUid}`, '-k', 'SOPInstanceUID'],
          '127.0.0.1',
          String(scp.port),
        ],
        { cwd: out },
      );
      expect(find.code, find.stderr).toBe(0);
      const responses = (await readdir(out)).filter((f) => f.startsWith('rsp'));
      expect(responses).toHaveLength(1);
      const dump = await runTool('dcmdump', [join(out, responses[0]!)]);
      expect(dump.stdout).toContain(ct.sopInstanceUid);
    });

    it('archives a multi-frame object frame by frame, every frame decoding to the original', async () => {
      const path = join(dir, 'multi-frame.dcm');
      const sop = `${root}.1.1`;
      await writeFile(path, multiFrame(sop, `${root}.1`, 24));
      await storescu(scp, [path]);
      const stored = await storedPath(scp, storage, sop);
      expect(stored.transferSyntaxUid).toBe(JPEG_LS_LOSSLESS);
      const decoded = join(dir, 'multi-frame-decoded.dcm');
      const r = await runTool('dcmdjpls', [stored.path, decoded]);
      expect(r.code, r.stderr).toBe(0);
      expect((await pixelsOf(decoded)).equals(await pixelsOf(path))).toBe(true);
      expect(decodePart10(await readFile(decoded)).dataSet.number('NumberOfFrames')).toBe(24);
    });

    it('stores an instance without Pixel Data as received', async () => {
      const path = join(dir, 'report.dcm');
      const sop = `${root}.2.1`;
      await writeFile(path, report(sop, `${root}.2`));
      await storescu(scp, [path]);
      const stored = await storedPath(scp, storage, sop);
      expect(stored.transferSyntaxUid).toBe(EXPLICIT_LE);
      const sent = await readFile(path);
      expect(Buffer.compare(dataSetOf(await readFile(stored.path)), dataSetOf(sent))).toBe(0);
      const warnings = scp.logs.filter((l) => l.sopInstanceUid === sop && l.level === 40);
      expect(warnings).toEqual([]);
    });
  });

  it('--store-as rle: archives RLE Lossless that dcmdrle decodes to the original pixels', async () => {
    const [scp, storage] = await start('rle', 'rle');
    await storescu(scp, [ct.path]);
    const stored = await storedPath(scp, storage, ct.sopInstanceUid);
    expect(stored.transferSyntaxUid).toBe(RLE);
    expect(readPart10Header(await readFile(stored.path)).transferSyntaxUid).toBe(RLE);
    const decoded = join(dir, 'rle-decoded.dcm');
    const r = await runTool('dcmdrle', [stored.path, decoded]);
    expect(r.code, r.stderr).toBe(0);
    expect((await pixelsOf(decoded)).equals(await pixelsOf(ct.path))).toBe(true);
  });

  it('--store-as explicit-le: a JPEG Lossless file (dcmcjpeg +e1) sent compressed is archived uncompressed with identical pixels', async () => {
    const [scp, storage] = await start('explicit', 'explicit-le');
    const jpeg = join(dir, 'ct-jpeg-lossless.dcm');
    const c = await runTool('dcmcjpeg', ['+e1', ct.path, jpeg]);
    expect(c.code, c.stderr).toBe(0);
    expect(readPart10Header(await readFile(jpeg)).transferSyntaxUid).toBe(JPEG_LOSSLESS_SV1);
    // -xs: JPEG Lossless SV1 proposed first, so that it travels compressed (dnet-scp takes the first).
    await storescu(scp, [jpeg], ['-xs']);
    const log = scp.logs.find((l) => l.op === 'C-STORE' && l.sopInstanceUid === ct.sopInstanceUid);
    expect(log).toMatchObject({ status: '0x0000', storedTransferSyntaxUid: EXPLICIT_LE });
    const stored = await storedPath(scp, storage, ct.sopInstanceUid);
    expect(stored.transferSyntaxUid).toBe(EXPLICIT_LE);
    expect(readPart10Header(await readFile(stored.path)).transferSyntaxUid).toBe(EXPLICIT_LE);
    expect((await pixelsOf(stored.path)).equals(await pixelsOf(ct.path))).toBe(true);
  });
});
