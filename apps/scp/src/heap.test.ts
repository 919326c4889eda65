import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, readPart10Header } from '@dnet/dataset';
import { storage as storageContexts } from '@dnet/services';
import { youngGenerationCollector } from '@dnet/services/internal';
import { describe, expect, it } from 'vitest';
import { applyHeapSettings, scavengeChosen } from './heap.js';
import { connectClient, startInProcess } from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE } from './synthetic-images.js';

describe('applyHeapSettings', () => {
  it("leaves the scavenger alone when the operator chose it on node's command line or in NODE_OPTIONS", () => {
    expect(scavengeChosen(['--parallel-scavenge'], undefined)).toBe(true);
    expect(scavengeChosen(['--no-parallel-scavenge'], undefined)).toBe(true);
    expect(scavengeChosen(['--no_parallel_scavenge'], undefined)).toBe(true);
    expect(scavengeChosen([], '--max-old-space-size=512 --parallel-scavenge')).toBe(true);
    expect(scavengeChosen(['--expose-gc'], '--max-old-space-size=512')).toBe(false);
    expect(scavengeChosen(['--parallel-scavenge-task-count=2'], undefined)).toBe(false);
    expect(applyHeapSettings(['--parallel-scavenge'], undefined)).toBe(false);
  });

  it('sets single-threaded scavenges otherwise', () => {
    expect(applyHeapSettings([], undefined)).toBe(true);
  });
});

/**
 * Starts dnet-scp in process with a counting collector and `args`, stores one
 * 10 MiB object, checks that it is stored unchanged; resolves the collections run.
 */
async function collectionsStoringTenMib(args: string[]): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-heap-'));
  const real = youngGenerationCollector();
  let collections = 0;
  const scp = await startInProcess(
    ['--host', '127.0.0.1', '--port', '0', '--storage', join(dir, 'storage'), ...args],
    {
      collectYoungGeneration: () => {
        collections++;
        real();
      },
    },
  );
  try {
    const pixels = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) & 0xff;
    const ds = new DataSet();
    ds.setString('SOPClassUID', CT_IMAGE_STORAGE, 'UI');
    ds.setString('SOPInstanceUID', '2.25.4242.3', 'UI');
    ds.setString('StudyInstanceUID', '2.25.4242.1', 'UI');
    ds.setString('SeriesInstanceUID', '2.25.4242.2', 'UI');
    ds.setBytes('PixelData', pixels, 'OW');
    const client = await connectClient(scp.port, [
      storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
    ]);
    try {
      expect((await client.store(ds)).status).toBe(0);
    } finally {
      await client.release();
    }
    const file = await readFile(
      join(dir, 'storage', '2.25.4242.1', '2.25.4242.2', '2.25.4242.3.dcm'),
    );
    const header = readPart10Header(file);
    expect(header.transferSyntaxUid).toBe(EXPLICIT_VR_LE);
    // The pixel data is the file's last 10 MiB, byte for byte.
    expect(Buffer.compare(file.subarray(file.length - pixels.length), pixels)).toBe(0);
    return collections;
  } finally {
    await scp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('dnet-scp with a young-generation collector', () => {
  it('collects while a 10 MiB object arrives and stores it unchanged', async () => {
    expect(await collectionsStoringTenMib([])).toBeGreaterThanOrEqual(1);
  });

  it('leaves collections to V8 with --gc-every-mib 0', async () => {
    expect(await collectionsStoringTenMib(['--gc-every-mib', '0'])).toBe(0);
  });
});
