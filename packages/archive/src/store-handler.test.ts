import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, encodeDataSet } from '@dnet/dataset';
import type { ReceivedInstance, RequestContext } from '@dnet/services';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { indexAttributes } from './data-set-head.js';
import { SqliteIndex } from './sqlite-index.js';
import { LocalStorage } from './storage.js';
import { createStoreHandler } from './store-handler.js';

// The real decoder, observed: when the handler builds the index record.
vi.mock('./data-set-head.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./data-set-head.js')>();
  return { ...actual, indexAttributes: vi.fn(actual.indexAttributes) };
});

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const SOP = '1.2.826.0.1.3680043.10.3.1.1';

/** A CT image's data set, explicit VR little endian, with 64 KiB of Pixel Data. */
function ctImage(): Uint8Array {
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT, 'UI');
  ds.setString('SOPInstanceUID', SOP, 'UI');
  ds.setString('PatientName', 'DOE^JANE', 'PN');
  ds.setString('PatientID', 'P1', 'LO');
  ds.setString('StudyInstanceUID', '1.2.826.0.1.3680043.10.3', 'UI');
  ds.setString('SeriesInstanceUID', '1.2.826.0.1.3680043.10.3.1', 'UI');
  ds.setString('Modality', 'CT', 'CS');
  ds.setBytes('PixelData', new Uint8Array(64 * 1024).fill(7), 'OW');
  return encodeDataSet(ds, EXPLICIT_LE);
}

/** A request context as the Server gives it (only what the handler reads). */
const context = {
  callingAeTitle: 'MODALITY',
  calledAeTitle: 'ARCHIVE',
  remoteAddress: '127.0.0.1',
  remotePort: 40000,
  association: { state: 'Sta6' },
} as unknown as RequestContext;

describe('createStoreHandler: work done while the data set arrives', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-store-handler-'));
    vi.mocked(indexAttributes).mockClear();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("decodes the index record once the head is read, before the data set's last byte", async () => {
    const storage = new LocalStorage(join(dir, 'objects'), { fsync: false });
    const index = new SqliteIndex(':memory:');
    const store = createStoreHandler({
      storage,
      index,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const bytes = ctImage();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let decodedBeforeLastByte: number | undefined;
    const dataSet = (async function* () {
      // The head (the attributes and the start of Pixel Data), then the rest once let through.
      yield bytes.subarray(0, 4096);
      await gate;
      decodedBeforeLastByte = vi.mocked(indexAttributes).mock.calls.length;
      yield bytes.subarray(4096);
    })();
    const instance = {
      sopClassUid: CT,
      sopInstanceUid: SOP,
      transferSyntaxUid: EXPLICIT_LE,
      dataSet,
    } as unknown as ReceivedInstance;
    const result = store(instance, context, new AbortController().signal);
    await vi.waitFor(() => expect(indexAttributes).toHaveBeenCalled(), { timeout: 5000 });
    release();
    expect(await result).toBe(0);
    // Decoded once, before the last chunk; the record indexed is that one.
    expect(decodedBeforeLastByte).toBe(1);
    expect(indexAttributes).toHaveBeenCalledTimes(1);
    const record = await index.get(SOP);
    expect(record?.attributes['00100010']?.Value).toEqual([{ Alphabetic: 'DOE^JANE' }]);
    expect(record?.size).toBeGreaterThan(bytes.length);
    await index.close();
  });
});
