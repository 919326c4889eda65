/**
 * C-GET and C-MOVE from our Server holding a JPEG-LS instance, with the
 * transcoder of @dnet/codecs: DCMTK's getscu (which proposes uncompressed
 * syntaxes only) and a storescp in its default set-up (uncompressed only)
 * as move destination both get the original pixels, uncompressed.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transcoder } from '@dnet/codecs';
import { DataSet, decodePart10, TransferSyntax, writePart10File } from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from './instances.test-support.js';
import { MemoryArchive } from './memory-archive.js';
import { Server } from './server.js';

const AE = 'DNETSCP';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const JLS = '1.2.840.10008.1.2.4.80';
const STUDY = '2.25.5150';
const INSTANCE = `${STUDY}.1.1`;

/** A 12-bit CT-like image in Explicit VR Little Endian. */
async function writeCt(path: string): Promise<void> {
  const rows = 64;
  const columns = 48;
  const px = new Uint8Array(rows * columns * 2);
  const dv = new DataView(px.buffer);
  for (let i = 0; i < rows * columns; i++) {
    const v = Math.round(1365 * (1 + Math.sin((i % columns) / 5) * Math.cos(i / columns / 7)));
    dv.setUint16(i * 2, (v + (i % 11)) & 0xfff, true);
  }
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT, 'UI');
  ds.setString('SOPInstanceUID', INSTANCE, 'UI');
  ds.setString('PatientName', 'TRANSCODE^RETRIEVE', 'PN');
  ds.setString('PatientID', 'PIDT', 'LO');
  ds.setString('StudyInstanceUID', STUDY, 'UI');
  ds.setString('SeriesInstanceUID', `${STUDY}.1`, 'UI');
  ds.setString('Modality', 'CT', 'CS');
  ds.setNumber('SamplesPerPixel', 1);
  ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
  ds.setNumber('Rows', rows);
  ds.setNumber('Columns', columns);
  ds.setNumber('BitsAllocated', 16);
  ds.setNumber('BitsStored', 12);
  ds.setNumber('HighBit', 11);
  ds.setNumber('PixelRepresentation', 0);
  ds.setBytes('PixelData', px, 'OW');
  await writePart10File(
    path,
    {
      mediaStorageSopClassUid: CT,
      mediaStorageSopInstanceUid: INSTANCE,
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    },
    ds,
  );
}

/** The transfer syntax and native Pixel Data of a file. */
async function pixelsOf(path: string) {
  const { header, dataSet } = decodePart10(await readFile(path));
  return {
    transferSyntaxUid: header.transferSyntaxUid,
    pixels: Buffer.from(dataSet.bytes('PixelData') ?? new Uint8Array()),
  };
}

describePeer(
  ['getscu', 'movescu', 'storescp', 'dcmcjpls'],
  'Server C-GET and C-MOVE transcode for DCMTK',
  () => {
    let dir: AsyncDisposable & { path: string };
    let storescp: RunningPeer;
    let server: Server;
    let original: string;
    let recv: string;

    beforeAll(async () => {
      dir = await tempDir();
      original = join(dir.path, 'ct.raw.dcm');
      const jls = join(dir.path, 'ct.jls.dcm');
      await writeCt(original);
      const r = await runTool('dcmcjpls', [original, jls]);
      expect(r.code, r.stderr).toBe(0);
      const archive = new MemoryArchive();
      expect((await archive.add(jls)).transferSyntaxUid).toBe(JLS);
      recv = join(dir.path, 'storescp');
      await mkdir(recv);
      // Its default set-up: uncompressed syntaxes only.
      storescp = await startPeer({
        command: 'storescp',
        args: (port) => ['-aet', 'STORESCP', '-od', recv, String(port)],
      });
      server = await Server.listen({
        transport: tcp(),
        host: '127.0.0.1',
        port: 0,
        aeTitle: AE,
        handlers: archive.handlers(),
        aeTable: { STORESCP: { host: '127.0.0.1', port: storescp.port } },
        transcoder: transcoder(),
      });
    });

    afterAll(async () => {
      await server?.close({ timeoutMs: 1000 });
      await storescp?.stop();
      await dir?.[Symbol.asyncDispose]();
    });

    it('getscu (uncompressed only) retrieves the JPEG-LS instance as the original pixels', async () => {
      const out = join(dir.path, 'getscu');
      await mkdir(out);
      const r = await runTool(
        'getscu',
        [
          '-S',
          '-aec',
          AE,
          '-od',
          out,
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${STUDY}`,
          '127.0.0.1',
          String(server.port),
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const got = await readdir(out);
      expect(got).toHaveLength(1);
      const received = await pixelsOf(join(out, got[0]!));
      expect(received.transferSyntaxUid).not.toBe(JLS);
      expect(received.pixels.equals((await pixelsOf(original)).pixels)).toBe(true);
    });

    it('C-MOVE to a storescp that accepts only uncompressed: the original pixels arrive', async () => {
      const r = await runTool(
        'movescu',
        [
          '-S',
          '-aec',
          AE,
          '-aem',
          'STORESCP',
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${STUDY}`,
          '127.0.0.1',
          String(server.port),
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const got = (await readdir(recv)).filter((n) => n.endsWith(INSTANCE));
      expect(got).toHaveLength(1);
      const received = await pixelsOf(join(recv, got[0]!));
      expect(received.transferSyntaxUid).not.toBe(JLS);
      expect(received.pixels.equals((await pixelsOf(original)).pixels)).toBe(true);
    });
  },
);
