import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as codecs from '@dnet/codecs';
import { DataSet, decodePart10 } from '@dnet/dataset';
import { Client, Server, storage as storageContexts } from '@dnet/services';
import { memory } from '@dnet/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Archive, openArchive } from './open-archive.js';
import { SqliteIndex } from './sqlite-index.js';
import { LocalStorage } from './storage.js';
import type { StoreAsCodecs, StoreAsOptions } from './store-as.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MULTI_FRAME = '1.2.840.10008.5.1.4.1.1.7.3';
const SR = '1.2.840.10008.5.1.4.1.1.88.11';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const JPEG_LS = codecs.resolveTransferSyntax('jpeg-ls-lossless');
const ROWS = 64;
const COLUMNS = 64;

function image(sop: string, frames = 1): { ds: DataSet; pixels: Uint8Array } {
  const ds = new DataSet();
  ds.setString('SOPClassUID', frames > 1 ? MULTI_FRAME : CT, 'UI');
  ds.setString('SOPInstanceUID', sop, 'UI');
  ds.setString('PatientName', 'DOE^JANE', 'PN');
  ds.setString('PatientID', 'P1', 'LO');
  ds.setString('StudyInstanceUID', '1.2.826.0.1.3680043.10.2', 'UI');
  ds.setString('SeriesInstanceUID', '1.2.826.0.1.3680043.10.2.1', 'UI');
  ds.setString('Modality', 'CT', 'CS');
  ds.setNumber('SamplesPerPixel', 1, 'US');
  ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
  if (frames > 1) ds.setString('NumberOfFrames', String(frames), 'IS');
  ds.setNumber('Rows', ROWS, 'US');
  ds.setNumber('Columns', COLUMNS, 'US');
  ds.setNumber('BitsAllocated', 16, 'US');
  ds.setNumber('BitsStored', 12, 'US');
  ds.setNumber('HighBit', 11, 'US');
  ds.setNumber('PixelRepresentation', 0, 'US');
  const pixels = new Uint8Array(ROWS * COLUMNS * 2 * frames);
  for (let p = 0; p < pixels.length / 2; p++) {
    const v = ((p % COLUMNS) * 31 + Math.floor(p / COLUMNS) * 7 + ((p * 7919) % 13)) & 0xfff;
    pixels[p * 2] = v & 0xff;
    pixels[p * 2 + 1] = v >> 8;
  }
  ds.setBytes('PixelData', pixels, 'OW');
  return { ds, pixels };
}

/** The native pixels of a stored file, whatever its syntax (decoded with @dnet/codecs). */
async function storedPixels(path: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of codecs.transcode(await readFile(path), {
    transferSyntaxUid: EXPLICIT_LE,
  })) {
    chunks.push(c);
  }
  return decodePart10(Buffer.concat(chunks)).dataSet.bytes('PixelData')!;
}

describe('openArchive({ storeAs }): ingest transcoding', () => {
  let dir: string;
  let archive: Archive | undefined;
  let server: Server | undefined;
  const warnings: Record<string, unknown>[] = [];
  const infos: Record<string, unknown>[] = [];
  const transport = memory();

  async function start(storeAs: StoreAsOptions): Promise<Archive> {
    const log = () => {};
    archive = openArchive({
      storage: new LocalStorage(join(dir, 'objects'), { fsync: false }),
      index: new SqliteIndex(join(dir, 'index.sqlite')),
      aeTitle: 'ARCHIVE',
      logger: {
        info: (fields) => infos.push(fields),
        warn: (fields) => warnings.push(fields),
        error: log,
      },
      storeAs,
    });
    server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'ARCHIVE',
      handlers: archive.handlers,
      policy: { contexts: archive.contexts },
    });
    return archive;
  }

  async function store(...data: DataSet[]): Promise<number[]> {
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server!.port,
      callingAeTitle: 'MODALITY',
      calledAeTitle: 'ARCHIVE',
      contexts: storageContexts([CT, MULTI_FRAME, SR], [EXPLICIT_LE]),
    });
    try {
      const statuses: number[] = [];
      for (const ds of data) statuses.push((await client.store(ds)).status);
      return statuses;
    } finally {
      await client.release();
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-store-as-'));
    warnings.length = 0;
    infos.length = 0;
  });

  afterEach(async () => {
    await server?.close({ timeoutMs: 1000 });
    await archive?.close();
    server = undefined;
    archive = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('stores an image in JPEG-LS lossless with the original pixels, the index naming the stored syntax', async () => {
    const a = await start({ transferSyntaxUid: JPEG_LS, codecs });
    const { ds, pixels } = image('1.2.826.0.1.3680043.10.2.1.1');
    expect(await store(ds)).toEqual([0]);
    const record = await a.index.get('1.2.826.0.1.3680043.10.2.1.1');
    expect(record?.transferSyntaxUid).toBe(JPEG_LS);
    const path = join(dir, 'objects', record!.path);
    const file = decodePart10(await readFile(path));
    expect(file.header.transferSyntaxUid).toBe(JPEG_LS);
    expect(Buffer.from(await storedPixels(path)).equals(pixels)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('transcodes a multi-frame object frame by frame: output is written before the input has all arrived', async () => {
    let fed = 0;
    const fedAtOutput: number[] = [];
    // The real codecs, watched: how many received bytes the transcoder had taken at each output chunk.
    const watched: StoreAsCodecs = {
      canTranscode: codecs.canTranscode,
      transcodeDataSet(source, from, options) {
        const counted = (async function* () {
          for await (const c of source) {
            fed += c.length;
            yield c;
          }
        })();
        const out = codecs.transcodeDataSet(counted, from, options);
        return (async function* () {
          for await (const c of out) {
            fedAtOutput.push(fed);
            yield c;
          }
        })();
      },
    };
    const frames = 256;
    const a = await start({ transferSyntaxUid: codecs.RLE_LOSSLESS, codecs: watched });
    const { ds, pixels } = image('1.2.826.0.1.3680043.10.2.1.2', frames);
    expect(await store(ds)).toEqual([0]);
    const record = await a.index.get('1.2.826.0.1.3680043.10.2.1.2');
    expect(record?.transferSyntaxUid).toBe(codecs.RLE_LOSSLESS);
    expect(Buffer.from(await storedPixels(join(dir, 'objects', record!.path))).equals(pixels)).toBe(
      true,
    );
    // The first fragments went to the file while most frames were still to come.
    expect(fed).toBeGreaterThanOrEqual(pixels.length);
    expect(fedAtOutput[0]).toBeLessThan(pixels.length / 4);
    expect(fedAtOutput.length).toBeGreaterThan(frames);
  });

  it('stores an instance as received, with a warning, when the codec fails at a later frame', async () => {
    const failing: StoreAsCodecs = {
      canTranscode: codecs.canTranscode,
      transcodeDataSet(source, from, options) {
        const out = codecs.transcodeDataSet(source, from, options);
        return (async function* () {
          let n = 0;
          for await (const c of out) {
            if (++n > 10) throw new Error('codec failure in the middle');
            yield c;
          }
        })();
      },
    };
    const a = await start({ transferSyntaxUid: JPEG_LS, codecs: failing });
    const { ds, pixels } = image('1.2.826.0.1.3680043.10.2.1.3', 16);
    expect(await store(ds)).toEqual([0]);
    const record = await a.index.get('1.2.826.0.1.3680043.10.2.1.3');
    expect(record?.transferSyntaxUid).toBe(EXPLICIT_LE);
    const file = decodePart10(await readFile(join(dir, 'objects', record!.path)));
    expect(Buffer.from(file.dataSet.bytes('PixelData')!).equals(pixels)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      storeAs: JPEG_LS,
      storedAsReceived: true,
      status: '0x0000',
    });
    expect(String(warnings[0]?.error)).toMatch(/codec failure/);
    // Nothing of the transcoded copy is left behind.
    expect(await a.index.count()).toMatchObject({ instances: 1 });
  });

  it('stores an instance as received when its pixel format is not one the codec takes (32-bit)', async () => {
    const a = await start({ transferSyntaxUid: JPEG_LS, codecs });
    const { ds } = image('1.2.826.0.1.3680043.10.2.1.4');
    ds.setNumber('BitsAllocated', 32, 'US');
    ds.setNumber('Rows', ROWS / 2, 'US');
    expect(await store(ds)).toEqual([0]);
    expect((await a.index.get('1.2.826.0.1.3680043.10.2.1.4'))?.transferSyntaxUid).toBe(
      EXPLICIT_LE,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ storedAsReceived: true });
  });

  it('with lossy allowed, indexes the lossy copy under its new SOP Instance UID (PS3.3 C.7.6.1.1.5)', async () => {
    const a = await start({
      transferSyntaxUid: codecs.JPEG_LS_NEAR_LOSSLESS,
      codecs,
      lossy: { maxError: 2 },
    });
    const sent = '1.2.826.0.1.3680043.10.2.1.6';
    const { ds, pixels } = image(sent);
    expect(await store(ds)).toEqual([0]);
    expect(await a.index.get(sent)).toBeUndefined();
    const line = infos.find((l) => l.sopInstanceUid === sent && l.storedSopInstanceUid);
    const uid = String(line?.storedSopInstanceUid);
    expect(uid).toMatch(/^2\.25\.\d+$/);
    const record = await a.index.get(uid);
    expect(record?.transferSyntaxUid).toBe(codecs.JPEG_LS_NEAR_LOSSLESS);
    expect(record?.attributes['00080018']?.Value).toEqual([uid]);
    expect(record?.attributes['00282110']?.Value).toEqual(['01']);
    const file = decodePart10(await readFile(join(dir, 'objects', record!.path)));
    expect(file.header.fileMetaInformation.mediaStorageSopInstanceUid).toBe(uid);
    // Within the NEAR bound of every sample, and not all equal (it did lose).
    const back = await storedPixels(join(dir, 'objects', record!.path));
    let maxError = 0;
    for (let i = 0; i < pixels.length; i += 2) {
      const d = Math.abs((back[i]! | (back[i + 1]! << 8)) - (pixels[i]! | (pixels[i + 1]! << 8)));
      maxError = Math.max(maxError, d);
    }
    expect(maxError).toBeLessThanOrEqual(2);
  });

  it('stores an object without Pixel Data as received, without a warning', async () => {
    const a = await start({ transferSyntaxUid: JPEG_LS, codecs });
    const ds = new DataSet();
    ds.setString('SOPClassUID', SR, 'UI');
    ds.setString('SOPInstanceUID', '1.2.826.0.1.3680043.10.2.1.5', 'UI');
    ds.setString('StudyInstanceUID', '1.2.826.0.1.3680043.10.2', 'UI');
    ds.setString('SeriesInstanceUID', '1.2.826.0.1.3680043.10.2.2', 'UI');
    ds.setString('Modality', 'SR', 'CS');
    expect(await store(ds)).toEqual([0]);
    const record = await a.index.get('1.2.826.0.1.3680043.10.2.1.5');
    expect(record?.transferSyntaxUid).toBe(EXPLICIT_LE);
    expect(warnings).toEqual([]);
  });
});
