import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonical, hex } from './canonical.test-support.js';
import { DataSet } from './data-set.js';
import { encodeDataSet } from './encode.js';
import { InvalidPart10Error } from './errors.js';
import {
  createFileMetaInformation,
  decodePart10,
  encodePart10,
  encodePart10Header,
  FileMetaTag,
  IMPLEMENTATION_CLASS_UID,
  openPart10File,
  readPart10Header,
  readPart10Stream,
  writePart10File,
} from './part10.js';
import { TransferSyntax } from './uid.js';

function sample(): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  ds.setString('SOPInstanceUID', '1.2.3.4.5');
  ds.setString('PatientID', 'P1');
  ds.setBytes(
    'PixelData',
    new Uint8Array(1000).map((_, i) => i & 0xff),
    'OB',
  );
  return ds;
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('Part 10 files (PS3.10 7.1)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-p10-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes preamble, DICM, the meta group with its length, then the data set', () => {
    const ds = sample();
    const file = encodePart10(ds, { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
    expect(file.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(file.subarray(128, 132)).toString('latin1')).toBe('DICM');
    const { header, dataSet } = decodePart10(file);
    expect(header.meta.number(FileMetaTag.GroupLength)).toBe(header.dataSetOffset - 144);
    expect(header.fileMetaInformation).toEqual({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      mediaStorageSopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: 'DNET_0',
    });
    expect(canonical(dataSet)).toEqual(canonical(ds));
  });

  it('reads the header from a stream cut at every byte and hands on the rest unparsed', async () => {
    const ds = sample();
    const file = encodePart10(ds, { transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian });
    for (const size of [1, 7, 131, 132, 200, 4096]) {
      const { header, dataSet } = await readPart10Stream(chunked(file, size));
      expect(header.transferSyntaxUid).toBe(TransferSyntax.ImplicitVRLittleEndian);
      const rest: Uint8Array[] = [];
      for await (const c of dataSet) rest.push(c);
      expect(Buffer.concat(rest).equals(Buffer.from(file.subarray(header.dataSetOffset)))).toBe(
        true,
      );
    }
  });

  it('opens a file reading the meta group only and streams the data set', async () => {
    const path = join(dir, 'a.dcm');
    const ds = sample();
    await writePart10File(
      path,
      {
        transferSyntaxUid: TransferSyntax.ExplicitVRBigEndian,
        mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        mediaStorageSopInstanceUid: '1.2.3.4.5',
      },
      ds,
    );
    const file = await openPart10File(path);
    expect(file.transferSyntaxUid).toBe(TransferSyntax.ExplicitVRBigEndian);
    expect(file.dataSetLength).toBe(file.size - file.dataSetOffset);
    const chunks: Uint8Array[] = [];
    for await (const c of file.dataSetStream({ highWaterMark: 100 })) chunks.push(c);
    expect(
      Buffer.concat(chunks).equals(
        Buffer.from(encodeDataSet(ds, TransferSyntax.ExplicitVRBigEndian)),
      ),
    ).toBe(true);
    expect(canonical(await file.readDataSet())).toEqual(canonical(ds));
  });

  it('writes a file from meta information and a stream of data set chunks', async () => {
    const path = join(dir, 'b.dcm');
    const ds = sample();
    const body = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
    const meta = createFileMetaInformation({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      mediaStorageSopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      sourceApplicationEntityTitle: 'DNET',
    });
    await writePart10File(path, meta, chunked(body, 333));
    const { header, dataSet } = decodePart10(new Uint8Array(await readFile(path)));
    expect(header.fileMetaInformation.sourceApplicationEntityTitle).toBe('DNET');
    expect(canonical(dataSet)).toEqual(canonical(ds));
  });

  it('reads a bare data set when allowed, guessing its transfer syntax', async () => {
    const ds = sample();
    for (const ts of [
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
    ]) {
      const bytes = encodeDataSet(ds, ts);
      expect(() => readPart10Header(bytes)).toThrow(InvalidPart10Error);
      const { header, dataSet } = decodePart10(bytes, { allowRawDataSet: true });
      expect(header.transferSyntaxUid).toBe(ts);
      expect(header.dataSetOffset).toBe(0);
      expect(header.problems).toHaveLength(1);
      expect(hex(encodeDataSet(dataSet, ts))).toBe(hex(bytes));
      const path = join(dir, 'raw.dcm');
      await writeFile(path, bytes);
      expect((await openPart10File(path, { allowRawDataSet: true })).transferSyntaxUid).toBe(ts);
      const small = new DataSet();
      small.setString('PatientID', 'X');
      const tiny = encodeDataSet(small, ts);
      const r = await readPart10Stream(chunked(tiny, 3), { allowRawDataSet: true });
      expect(r.header.transferSyntaxUid).toBe(ts);
    }
  });

  it('keeps a given preamble', () => {
    const preamble = new Uint8Array(128).fill(0x41);
    const head = encodePart10Header(
      {
        mediaStorageSopClassUid: '1.2',
        mediaStorageSopInstanceUid: '1.3',
        transferSyntaxUid: '1.2.840.10008.1.2',
      },
      preamble,
    );
    expect(readPart10Header(head).preamble.every((b) => b === 0x41)).toBe(true);
  });

  describe('validation of the meta group', () => {
    const good = () =>
      encodePart10Header({
        mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        mediaStorageSopInstanceUid: '1.2.3',
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      });

    it('refuses a file without the DICM prefix', () => {
      const b = good();
      b[128] = 0x58;
      expect(() => readPart10Header(b)).toThrow(InvalidPart10Error);
    });

    it('refuses a wrong group length unless strict is off, then reports it', () => {
      const b = good();
      b[140] = b[140]! + 2;
      expect(() => readPart10Header(b)).toThrow(/group length/);
      const h = readPart10Header(b, { strict: false });
      expect(h.problems).toHaveLength(1);
      expect(h.transferSyntaxUid).toBe(TransferSyntax.ExplicitVRLittleEndian);
    });

    it('refuses missing media storage UIDs, and always a missing transfer syntax', () => {
      const meta = createFileMetaInformation({
        mediaStorageSopClassUid: '1.2',
        mediaStorageSopInstanceUid: '1.3',
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      });
      meta.delete(FileMetaTag.MediaStorageSopInstanceUid);
      expect(() => readPart10Header(encodePart10Header(meta))).toThrow(/\(0002,0003\)/);
      expect(readPart10Header(encodePart10Header(meta), { strict: false }).problems[0]).toMatch(
        /0002,0003/,
      );
      meta.delete(FileMetaTag.TransferSyntaxUid);
      expect(() => readPart10Header(encodePart10Header(meta), { strict: false })).toThrow(
        InvalidPart10Error,
      );
    });

    it('refuses a transfer syntax that is not a UID', () => {
      const meta = createFileMetaInformation({
        mediaStorageSopClassUid: '1.2',
        mediaStorageSopInstanceUid: '1.3',
        transferSyntaxUid: 'not-a-uid',
      });
      expect(() => readPart10Header(encodePart10Header(meta))).toThrow(/not a UID/);
    });

    it('refuses a meta group larger than the limit and truncated files', async () => {
      const b = good();
      expect(() => readPart10Header(b, { maxMetaLength: 40 })).toThrow(/longer than 40/);
      expect(() => readPart10Header(b.subarray(0, 150))).toThrow(InvalidPart10Error);
      const path = join(dir, 'short.dcm');
      await writeFile(path, b.subarray(0, 100));
      await expect(openPart10File(path)).rejects.toThrow(InvalidPart10Error);
    });
  });
});
