/**
 * `dnet-scu store` transcoding against DCMTK 3.6.7 and GDCM: compressed
 * fixtures made by dcmcrle, dcmcjpeg, dcmcjpls and gdcmconv go to a storescp
 * in its default set-up (uncompressed only) and arrive with the original
 * pixels; `--propose jpeg-ls-lossless` to a storescp that takes JPEG-LS
 * stores a JPEG-LS file that dcmdjpls decodes to the original pixels.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSet, decodePart10, TransferSyntax, writePart10File } from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scu, tempDir, useBuiltCli } from './scu-cli.test-support.js';

const SC = '1.2.840.10008.5.1.4.1.1.7';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const JLS = '1.2.840.10008.1.2.4.80';
const J2K = '1.2.840.10008.1.2.4.91';

/** The fixtures: a 12-bit CT-like image and an 8-bit RGB one, Explicit VR Little Endian. */
const SHAPES = {
  ct: { sopClass: CT, rows: 64, columns: 48, samples: 1, bits: 16, stored: 12 },
  rgb: { sopClass: SC, rows: 32, columns: 40, samples: 3, bits: 8, stored: 8 },
} as const;

/** How each tool compresses a fixture, and the syntax it makes. */
const COMPRESSORS = {
  rle: { argv: ['dcmcrle'], uid: '1.2.840.10008.1.2.5' },
  'jpeg-lossless': { argv: ['dcmcjpeg'], uid: '1.2.840.10008.1.2.4.70' },
  'jpeg-ls': { argv: ['dcmcjpls'], uid: JLS },
  j2k: { argv: ['gdcmconv', '--j2k'], uid: '1.2.840.10008.1.2.4.90' },
} as const;

async function writeFixture(path: string, name: keyof typeof SHAPES, uid: string): Promise<void> {
  const s = SHAPES[name];
  const n = s.rows * s.columns * s.samples;
  const px = new Uint8Array(n * (s.bits / 8));
  const dv = new DataView(px.buffer);
  for (let i = 0; i < n; i++) {
    const x = i % s.columns;
    const y = Math.floor(i / (s.columns * s.samples));
    const v = Math.round((2 ** s.stored / 3) * (1 + Math.sin(x / 5) * Math.cos(y / 7))) + (i % 13);
    if (s.bits === 16) dv.setUint16(i * 2, v % 2 ** s.stored, true);
    else px[i] = v & 0xff;
  }
  const ds = new DataSet();
  ds.setString('SOPClassUID', s.sopClass, 'UI');
  ds.setString('SOPInstanceUID', uid, 'UI');
  ds.setString('PatientName', 'TRANSCODE^TEST', 'PN');
  ds.setString('Modality', name === 'ct' ? 'CT' : 'OT', 'CS');
  ds.setNumber('SamplesPerPixel', s.samples);
  ds.setString('PhotometricInterpretation', s.samples === 3 ? 'RGB' : 'MONOCHROME2', 'CS');
  if (s.samples === 3) ds.setNumber('PlanarConfiguration', 0);
  ds.setNumber('Rows', s.rows);
  ds.setNumber('Columns', s.columns);
  ds.setNumber('BitsAllocated', s.bits);
  ds.setNumber('BitsStored', s.stored);
  ds.setNumber('HighBit', s.stored - 1);
  ds.setNumber('PixelRepresentation', 0);
  ds.setBytes('PixelData', px, s.bits === 16 ? 'OW' : 'OB');
  await writePart10File(
    path,
    {
      mediaStorageSopClassUid: s.sopClass,
      mediaStorageSopInstanceUid: uid,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    },
    ds,
  );
}

/** A native file's pixels, colour by pixel, with its transfer syntax and SOP Instance UID. */
async function pixelsOf(path: string) {
  const { header, dataSet } = decodePart10(await readFile(path));
  // Encapsulated Pixel Data (a compressed file) has no bytes here: only its syntax is read.
  const px = Buffer.from(dataSet.bytes('PixelData') ?? new Uint8Array());
  const spp = dataSet.number('SamplesPerPixel') ?? 1;
  let pixels = px;
  if (spp === 3 && dataSet.number('PlanarConfiguration') === 1) {
    // PS3.3 §C.7.6.3.1.3: colour by plane back to colour by pixel (8-bit samples).
    const plane = px.length / 3;
    pixels = Buffer.alloc(px.length);
    for (let i = 0; i < plane; i++)
      for (let c = 0; c < 3; c++) pixels[i * 3 + c] = px[c * plane + i]!;
  }
  return {
    transferSyntaxUid: header.transferSyntaxUid,
    sopInstanceUid: dataSet.uid('SOPInstanceUID'),
    pixels,
  };
}

async function tool(argv: readonly string[], input: string, output: string): Promise<void> {
  const r = await runTool(argv[0]!, [...argv.slice(1), input, output], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
}

describePeer(
  ['storescp', 'dcmcrle', 'dcmcjpeg', 'dcmcjpls', 'dcmdjpls', 'gdcmconv'],
  'dnet-scu store transcodes for DCMTK storescp',
  () => {
    let dir: AsyncDisposable & { path: string };
    let cli: AsyncDisposable;
    const peers: RunningPeer[] = [];
    /** Compressed fixtures: path, the original's path, the syntax. */
    const compressed: { path: string; original: string; uid: string; instance: string }[] = [];

    beforeAll(async () => {
      cli = await useBuiltCli();
      dir = await tempDir();
      await mkdir(join(dir.path, 'in'));
      let k = 0;
      for (const name of Object.keys(SHAPES) as (keyof typeof SHAPES)[]) {
        for (const [kind, c] of Object.entries(COMPRESSORS)) {
          const instance = `2.25.42${++k}`;
          const original = join(dir.path, `${name}-${kind}.raw.dcm`);
          const path = join(dir.path, 'in', `${name}-${kind}.dcm`);
          await writeFixture(original, name, instance);
          await tool(c.argv, original, path);
          expect((await pixelsOf(path)).transferSyntaxUid).toBe(c.uid);
          compressed.push({ path, original, uid: c.uid, instance });
        }
      }
    }, 60_000);

    afterAll(async () => {
      for (const p of peers) await p.stop();
      await cli?.[Symbol.asyncDispose]();
      await dir?.[Symbol.asyncDispose]();
    });

    it('storescp in its default set-up receives every compressed fixture as uncompressed pixels identical to the original', async () => {
      const recv = join(dir.path, 'recv');
      await mkdir(recv);
      const storescp = await startPeer({
        command: 'storescp',
        args: (p) => ['-od', recv, String(p)],
      });
      peers.push(storescp);
      const r = await scu([
        'store',
        '127.0.0.1',
        String(storescp.port),
        '--json',
        join(dir.path, 'in'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const records = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const files = records.filter((x) => x.type === 'file');
      expect(files).toHaveLength(compressed.length);
      for (const f of files) {
        const c = compressed.find((x) => x.path === f.path)!;
        expect(f.transcodedFrom, String(f.path)).toBe(c.uid);
        expect(f.transferSyntaxUid).not.toBe(c.uid);
      }
      const received = await readdir(recv);
      for (const c of compressed) {
        const name = received.find((n) => n.endsWith(c.instance));
        expect(name, c.path).toBeDefined();
        const got = await pixelsOf(join(recv, name!));
        // storescp in its default set-up takes Explicit VR Little Endian first.
        expect(got.transferSyntaxUid).toBe(EXPLICIT);
        expect(got.pixels.equals((await pixelsOf(c.original)).pixels), c.path).toBe(true);
      }
    });

    it('--propose jpeg-ls-lossless: a storescp that takes JPEG-LS stores a file dcmdjpls decodes to the original pixels', async () => {
      const recv = join(dir.path, 'recv-jls');
      await mkdir(recv);
      const storescp = await startPeer({
        command: 'storescp',
        args: (p) => ['-od', recv, '+xt', String(p)],
      });
      peers.push(storescp);
      // An uncompressed file and an RLE file: both go as JPEG-LS.
      const raw = compressed.find((c) => c.path.endsWith('rgb-jpeg-ls.dcm'))!;
      const rle = compressed.find((c) => c.path.endsWith('ct-rle.dcm'))!;
      const r = await scu([
        'store',
        '127.0.0.1',
        String(storescp.port),
        '--propose',
        'jpeg-ls-lossless',
        raw.original,
        rle.path,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /transcoded 1 file\(s\) from Explicit VR Little Endian .* to JPEG-LS Lossless/,
      );
      expect(r.stdout).toMatch(/transcoded 1 file\(s\) from RLE Lossless .* to JPEG-LS Lossless/);
      const received = await readdir(recv);
      expect(received).toHaveLength(2);
      for (const c of [raw, rle]) {
        const stored = join(recv, received.find((n) => n.endsWith(c.instance))!);
        expect((await pixelsOf(stored)).transferSyntaxUid).toBe(JLS);
        const back = join(dir.path, `${c.instance}.back.dcm`);
        await tool(['dcmdjpls'], stored, back);
        expect((await pixelsOf(back)).pixels.equals((await pixelsOf(c.original)).pixels)).toBe(
          true,
        );
      }
    });

    it('--propose j2k: lossy only with --lossy, which gives a new SOP Instance UID in the command and the data set', async () => {
      const raw = compressed.find((c) => c.path.endsWith('rgb-rle.dcm'))!;
      const run = async (extra: string[]) => {
        const recv = join(dir.path, `recv-j2k${extra.join('')}`);
        await mkdir(recv);
        const storescp = await startPeer({
          command: 'storescp',
          args: (p) => ['-od', recv, '+xw', String(p)],
        });
        peers.push(storescp);
        const r = await scu([
          'store',
          '127.0.0.1',
          String(storescp.port),
          '--json',
          '--propose',
          'j2k',
          ...extra,
          raw.original,
        ]);
        expect(r.code, r.stderr).toBe(0);
        const file = JSON.parse(r.stdout.split('\n')[0]!) as Record<string, unknown>;
        const received = await readdir(recv);
        expect(received).toHaveLength(1);
        return { file, stored: decodePart10(await readFile(join(recv, received[0]!))) };
      };
      // JPEG 2000 (4.91) is a lossy syntax: without --lossy the file goes uncompressed.
      const lossless = await run([]);
      expect(lossless.file.transferSyntaxUid).toBe(EXPLICIT);
      expect(lossless.stored.dataSet.uid('SOPInstanceUID')).toBe(raw.instance);
      const lossy = await run(['--lossy']);
      expect(lossy.file).toMatchObject({ transferSyntaxUid: J2K, lossy: true });
      const uid = lossy.file.sopInstanceUid as string;
      expect(uid).not.toBe(raw.instance);
      // PS3.3 §C.7.6.1.1.5: the data set, the meta header and the command agree on the new UID.
      expect(lossy.stored.header.transferSyntaxUid).toBe(J2K);
      expect(lossy.stored.dataSet.uid('SOPInstanceUID')).toBe(uid);
      expect(lossy.stored.dataSet.string('LossyImageCompression')).toBe('01');
    });

    it('--no-transcode: a compressed file to an uncompressed-only storescp fails naming its syntax', async () => {
      const recv = join(dir.path, 'recv-none');
      await mkdir(recv);
      const storescp = await startPeer({
        command: 'storescp',
        args: (p) => ['-od', recv, String(p)],
      });
      peers.push(storescp);
      const jls = compressed.find((c) => c.uid === JLS)!;
      const r = await scu([
        'store',
        '127.0.0.1',
        String(storescp.port),
        '--no-transcode',
        jls.path,
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(JLS);
    });
  },
);
