import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeDataSet, encodeDataSet, encodePart10, TransferSyntax } from '@dnet/dataset';
import { memory, type Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { describe, expect, it, vi } from 'vitest';
import { Client } from './client.js';
import { storage } from './contexts.js';
import { InvalidSourceError } from './errors.js';
import {
  hierarchy,
  makeInstance,
  tempDir,
  uidsOf,
  writeInstances,
} from './instances.test-support.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';
import {
  FILE_BUFFER_POOL_BYTES,
  fileBuffers,
  resolveSource,
  SMALL_FILE_LIMIT,
} from './store-source.js';

const CT = SopClass.CT_IMAGE_STORAGE;
const ELE = TransferSyntax.ExplicitVRLittleEndian;

/**
 * A server keeping the data set bytes of each instance received, by SOP
 * Instance UID. `maxPduLength`: the PDUs it receives; `slow`: it waits 1 ms
 * every 16 chunks (the sender's socket backs up).
 */
async function receiver(
  transport: Transport = memory(),
  { maxPduLength, slow = false }: { maxPduLength?: number; slow?: boolean } = {},
) {
  const received = new Map<string, Uint8Array>();
  const server = await Server.listen({
    transport,
    port: 0,
    aeTitle: 'SCP',
    ...(maxPduLength && { policy: { maxPduLength } }),
    handlers: {
      store: async (instance) => {
        const parts: Uint8Array[] = [];
        for await (const c of instance.dataSet) {
          parts.push(c.slice());
          if (slow && parts.length % 16 === 0) await new Promise((r) => setTimeout(r, 1));
        }
        received.set(instance.sopInstanceUid, new Uint8Array(Buffer.concat(parts)));
        return 0;
      },
    },
  });
  const connect = (maxOperations = 1, contexts = [storage(CT)], blockingFileReads = false) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts,
      maxOperations,
      blockingFileReads,
    });
  return { server, received, connect };
}

/**
 * Part 10 streams that count how many are open: started (their first chunk
 * pulled, which preparing a source does to read the meta header) and not yet
 * stored (the store's progress report closes them).
 */
function countedStreams(n: number) {
  const specs = hierarchy(1, 1, 1, n);
  const files = specs.map((s) => encodePart10(makeInstance(s), { transferSyntaxUid: ELE }));
  const state = { open: 0, peak: 0, started: 0 };
  const sources = files.map((bytes) =>
    (async function* () {
      state.started++;
      state.open++;
      state.peak = Math.max(state.peak, state.open);
      // Two chunks: the meta header is read from the first, the data set streams on.
      yield bytes.subarray(0, 200);
      yield bytes.subarray(200);
    })(),
  );
  return { specs, files, sources, state, closed: () => state.open-- };
}

describe('storeMany prepares the next sources while one is sent', () => {
  it('keeps at most concurrency + prefetch sources open, and does prepare ahead', async () => {
    const { server, received, connect } = await receiver();
    const client = await connect();
    const { specs, sources, state, closed } = countedStreams(10);
    const result = await client.storeMany(sources, { prefetch: 2, onProgress: closed });
    expect(result).toMatchObject({ stored: 10, failed: 0 });
    expect(state.started).toBe(10);
    // One being sent (window 1) and two prepared ahead: never more.
    expect(state.peak).toBe(3);
    for (const s of specs) {
      const expected = encodeDataSet(makeInstance(s), ELE);
      expect(received.get(uidsOf(s).instance)).toEqual(expected);
    }
    await client.release();
    await server.close();
  });

  it('bounds the open sources by the window too, and prefetch 0 prepares only the one sent', async () => {
    const { server, connect } = await receiver();
    const client = await connect(4);
    const a = countedStreams(12);
    const r1 = await client.storeMany(a.sources, {
      concurrency: 4,
      prefetch: 1,
      onProgress: a.closed,
    });
    expect(r1).toMatchObject({ stored: 12, failed: 0 });
    expect(a.state.peak).toBeLessThanOrEqual(5);
    const b = countedStreams(5);
    const r2 = await client.storeMany(b.sources, {
      concurrency: 1,
      prefetch: 0,
      onProgress: b.closed,
    });
    expect(r2).toMatchObject({ stored: 5, failed: 0 });
    expect(b.state.peak).toBe(1);
    await client.release();
    await server.close();
  });

  it.each([
    ['on the thread pool', false],
    ['with blocking reads', true],
  ])(
    'sends small files read whole (%s) and large files streamed, byte for byte; a bad or missing file fails alone',
    async (_, blocking) => {
      await using dir = await tempDir();
      const { server, received, connect } = await receiver();
      const specs = hierarchy(1, 1, 1, 3);
      const small = await writeInstances(dir.path, specs);
      // A file above the small-file limit is streamed from disk in chunks.
      const bigSpec = { patient: 1, study: 1, series: 1, instance: 9, pixels: 2 * 1536 * 1536 };
      const [big] = await writeInstances(dir.path, [bigSpec]);
      const bad = join(dir.path, 'bad.dcm');
      await writeFile(bad, new Uint8Array(300));
      const client = await connect(1, [storage(CT)], blocking);
      const missing = join(dir.path, 'missing.dcm');
      const result = await client.storeMany([small[0]!, bad, big!, missing, ...small.slice(1)]);
      expect(result.stored).toBe(4);
      expect(result.failed).toBe(2);
      expect(result.results[1]).toBeInstanceOf(InvalidSourceError);
      expect(result.results[3]).toBeInstanceOf(InvalidSourceError);
      for (const s of [...specs, bigSpec]) {
        const expected = encodeDataSet(makeInstance(s), ELE);
        // Buffer.equals: a deep toEqual of 4 MiB is slow.
        expect(Buffer.from(received.get(uidsOf(s).instance)!).equals(expected)).toBe(true);
      }
      expect(received.get(uidsOf(bigSpec).instance)!.length).toBeGreaterThan(SMALL_FILE_LIMIT);
      await client.release();
      await server.close();
    },
  );
});

describe('blocking small-file reads', () => {
  it('read a small file without leaving the event loop; thread-pool reads let it turn', async () => {
    await using dir = await tempDir();
    const [file] = await writeInstances(dir.path, hierarchy(1, 1, 1, 1));
    for (const blocking of [true, false]) {
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      const resolved = await resolveSource(file!, { blockingFileReads: blocking });
      expect(turned).toBe(!blocking);
      expect(resolved.sopClassUid).toBe(CT);
      resolved.release?.(false);
      await new Promise((r) => setImmediate(r));
    }
  });
});

describe('small-file buffers', () => {
  it('are reused once the bytes have left over TCP, never over the memory transport; every file arrives intact', async () => {
    await using dir = await tempDir();
    const specs = hierarchy(1, 1, 1, 6);
    const files = await writeInstances(dir.path, specs);
    const check = (received: Map<string, Uint8Array>) => {
      for (const s of specs) {
        const expected = encodeDataSet(makeInstance(s), ELE);
        expect(Buffer.from(received.get(uidsOf(s).instance)!).equals(expected)).toBe(true);
      }
    };
    // Over the memory transport the peer receives views of our buffers: never reused.
    const before = fileBuffers.bytes;
    const mem = await receiver();
    const c1 = await mem.connect();
    expect(await c1.storeMany(files)).toMatchObject({ stored: 6, failed: 0 });
    expect(fileBuffers.bytes).toBe(before);
    check(mem.received);
    await c1.release();
    await mem.server.close();
    // Over TCP the kernel has copied them by the time the response arrives: the
    // buffers go back to the pool and the next files are read into them.
    const net = await receiver(tcp());
    const c2 = await net.connect(2);
    expect(await c2.storeMany(files, { concurrency: 2 })).toMatchObject({ stored: 6, failed: 0 });
    expect(fileBuffers.bytes).toBeGreaterThan(before);
    expect(fileBuffers.bytes).toBeLessThanOrEqual(FILE_BUFFER_POOL_BYTES);
    check(net.received);
    await c2.release();
    await net.server.close();
  });

  it('large files stream over TCP in chunks read into reused buffers, with a fast and a slow receiver; every file arrives intact', async () => {
    await using dir = await tempDir();
    // Three files above the small-file limit (about 4.7 MB each), streamed in ~1 MiB chunks.
    const specs = [7, 8, 9].map((instance) => ({
      patient: 1,
      study: 1,
      series: 1,
      instance,
      pixels: 2 * 1536 * 1536,
    }));
    const files = await writeInstances(dir.path, specs);
    for (const slow of [false, true]) {
      // 16 KiB PDUs: 64 PDVs per chunk read from disk. A slow consumer keeps
      // the sender's chunks unflushed.
      const { server, received, connect } = await receiver(tcp(), {
        maxPduLength: 16 * 1024,
        slow,
      });
      const takes: Uint8Array[] = [];
      const take = fileBuffers.take.bind(fileBuffers);
      const spy = vi.spyOn(fileBuffers, 'take').mockImplementation((size) => {
        const b = take(size);
        takes.push(b);
        return b;
      });
      try {
        const client = await connect(2);
        const result = await client.storeMany([...files, ...files], { concurrency: 2 });
        expect(result).toMatchObject({ stored: 6, failed: 0 });
        await client.release();
      } finally {
        spy.mockRestore();
        await server.close();
      }
      for (const s of specs) {
        const expected = encodeDataSet(makeInstance(s), ELE);
        expect(Buffer.from(received.get(uidsOf(s).instance)!).equals(expected)).toBe(true);
      }
      // About 30 chunks were read; with the fast receiver a good share of them
      // into buffers read before (measured: 30 reads into 19 buffers).
      expect(takes.length).toBeGreaterThan(25);
      if (!slow) expect(new Set(takes).size).toBeLessThan(takes.length * 0.8);
      expect(fileBuffers.bytes).toBeLessThanOrEqual(FILE_BUFFER_POOL_BYTES);
    }
  });

  it('a large Implicit VR file converted as it streams over TCP arrives with the same elements and pixels', async () => {
    await using dir = await tempDir();
    const spec = { patient: 1, study: 1, series: 1, instance: 5, pixels: 2 * 1536 * 1536 };
    const [file] = await writeInstances(dir.path, [spec], TransferSyntax.ImplicitVRLittleEndian);
    const net = await receiver(tcp());
    // Only Explicit VR proposed: the Implicit VR file is converted element by element.
    const client = await net.connect(1, [storage(CT, [ELE])]);
    expect((await client.store(file!)).transferSyntaxUid).toBe(ELE);
    await client.release();
    await net.server.close();
    const got = decodeDataSet(net.received.get(uidsOf(spec).instance)!, ELE);
    const sent = makeInstance(spec);
    expect(got.tags()).toEqual(sent.tags());
    expect(Buffer.from(got.bytes('PixelData')!).equals(sent.bytes('PixelData')!)).toBe(true);
  });

  it('keeps at most FILE_BUFFER_POOL_BYTES of free buffers, and hands out one at least as large as asked', () => {
    const taken = Array.from({ length: 20 }, () => fileBuffers.take(1024 * 1024));
    for (const b of taken) expect(b.length).toBeGreaterThanOrEqual(1024 * 1024);
    for (const b of taken) fileBuffers.give(b);
    expect(fileBuffers.bytes).toBeLessThanOrEqual(FILE_BUFFER_POOL_BYTES);
    const again = fileBuffers.take(1000 * 1024);
    expect(taken).toContain(again);
    // Not a buffer more than about twice the size asked for.
    expect(fileBuffers.take(1000).length).toBe(64 * 1024);
  });
});
