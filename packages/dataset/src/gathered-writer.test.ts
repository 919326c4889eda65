import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataSet } from './data-set.js';
import { encodeDataSet } from './encode.js';
import { GatheredWriter } from './gathered-writer.js';
import { decodePart10, encodePart10, writePart10File } from './part10.js';
import { TransferSyntax } from './uid.js';

/** A FileHandle stand-in that records writev calls and writes at most `cap` bytes a call. */
function fakeFile(cap: number): { fh: FileHandle; calls: number[]; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const calls: number[] = [];
  const fh = {
    async writev(buffers: Uint8Array[]) {
      calls.push(buffers.length);
      let left = cap;
      for (const b of buffers) {
        if (left === 0) break;
        const n = Math.min(left, b.length);
        parts.push(Buffer.from(b.subarray(0, n)));
        left -= n;
      }
      return { bytesWritten: cap - left, buffers };
    },
  } as unknown as FileHandle;
  return { fh, calls, bytes: () => Buffer.concat(parts) };
}

describe('GatheredWriter', () => {
  it('writes every byte in order, resuming short writes, whatever the chunk sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40_000 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 100_000 }),
        async (sizes, cap) => {
          const { fh, bytes } = fakeFile(cap);
          const w = new GatheredWriter(fh);
          const expected: Buffer[] = [];
          let k = 0;
          for (const n of sizes) {
            const chunk = Buffer.alloc(n, k++ & 0xff);
            expected.push(Buffer.from(chunk));
            await w.add(chunk);
            if (n < 16 * 1024) chunk.fill(0xee); // small chunks were copied: reuse is safe
          }
          await w.flush();
          expect(bytes().equals(Buffer.concat(expected))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gathers many small chunks into few writev calls', async () => {
    const { fh, calls } = fakeFile(Number.MAX_SAFE_INTEGER);
    const w = new GatheredWriter(fh);
    for (let i = 0; i < 100_000; i++) await w.add(new Uint8Array(64)); // 6.4 MB
    await w.flush();
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(Math.max(...calls)).toBeLessThanOrEqual(512);
  });

  it('throws rather than loop when the file takes no bytes', async () => {
    const { fh } = fakeFile(0);
    const w = new GatheredWriter(fh);
    await w.add(new Uint8Array(10));
    await expect(w.flush()).rejects.toThrow(/wrote nothing/);
  });
});

describe('writePart10File, gathered', () => {
  it('writes the same bytes from a data set and from a stream of tiny chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-gather-'));
    try {
      const ds = new DataSet();
      ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
      ds.setString('SOPInstanceUID', '1.2.3');
      for (let i = 0; i < 500; i++) {
        ds.addItem('ReferencedImageSequence').setString('ReferencedSOPInstanceUID', `1.2.${i}`);
      }
      ds.setBytes('PixelData', new Uint8Array(300_000).fill(9), 'OB');
      const meta = {
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
        mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
        mediaStorageSopInstanceUid: '1.2.3',
      };
      const expected = encodePart10(ds, meta);
      const a = join(dir, 'a.dcm');
      await writePart10File(a, meta, ds);
      expect(Buffer.compare(await readFile(a), expected)).toBe(0);
      const body = encodeDataSet(ds, meta.transferSyntaxUid);
      const tiny = function* () {
        for (let i = 0; i < body.length; i += 7) yield body.slice(i, i + 7);
      };
      const b = join(dir, 'b.dcm');
      await writePart10File(b, meta, tiny());
      expect(Buffer.compare(await readFile(b), expected)).toBe(0);
      expect(
        decodePart10(new Uint8Array(await readFile(b))).dataSet.sequence('ReferencedImageSequence')
          ?.length,
      ).toBe(500);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
