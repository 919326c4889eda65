import { type PDataTf, PduDecoder } from '@dnet/pdu';
import { describe, expect, it } from 'vitest';
import { CommandField, Priority } from './command-field.js';
import { DataSetStream } from './data-set-stream.js';
import type { CStoreRq } from './dimse-message.js';
import { InvalidOptionError, StreamClosedError } from './errors.js';
import { fragmentMessage } from './fragment-message.js';
import { Reassembler } from './reassembler.js';

const u8 = (...b: number[]) => new Uint8Array(b);

async function collect(stream: DataSetStream): Promise<number[]> {
  const out: number[] = [];
  for await (const c of stream) out.push(...c);
  return out;
}

describe('DataSetStream', () => {
  it('delivers pushed chunks in order, then ends', async () => {
    const s = new DataSetStream();
    const done = collect(s);
    s.push(u8(1, 2));
    await Promise.resolve();
    s.push(u8(3));
    s.push(u8());
    s.end();
    expect(await done).toEqual([1, 2, 3]);
  });

  it('asks the producer to pause at the high-water mark and resumes it on drain', async () => {
    const s = new DataSetStream({ highWaterMark: 4 });
    expect(s.push(u8(1, 2))).toBe(true);
    expect(s.push(u8(3, 4))).toBe(false);
    expect(s.buffered).toBe(4);
    let drained = false;
    const wait = s.drained().then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(u8(1, 2));
    await wait;
    expect(drained).toBe(true);
    expect(s.buffered).toBe(2);
  });

  it('passes a failure to the consumer', async () => {
    const s = new DataSetStream();
    const done = collect(s);
    s.push(u8(1));
    s.fail(new Error('A-ABORT'));
    await expect(done).rejects.toThrow('A-ABORT');
  });

  it('is cancelled when the consumer stops early; later pushes are dropped', async () => {
    const s = new DataSetStream({ highWaterMark: 2 });
    s.push(u8(1));
    s.push(u8(2, 3));
    const drained = s.drained();
    for await (const _ of s) break;
    await drained; // a waiting producer is released
    expect(s.cancelled).toBe(true);
    expect(s.push(u8(4))).toBe(true);
    expect(s.buffered).toBe(0);
  });

  it('cancel() drops the data set and ends a waiting consumer', async () => {
    const s = new DataSetStream({ highWaterMark: 2 });
    s.push(u8(1, 2));
    const drained = s.drained();
    const done = collect(s);
    await Promise.resolve();
    s.cancel();
    await drained;
    expect(s.cancelled).toBe(true);
    expect(s.push(u8(3))).toBe(true);
    s.end();
    expect(await done).toEqual([1, 2]);
  });

  it('refuses misuse with typed errors', async () => {
    expect(() => new DataSetStream({ highWaterMark: 0 })).toThrow(InvalidOptionError);
    const s = new DataSetStream();
    s.end();
    expect(() => s.push(u8(1))).toThrow(StreamClosedError);
    await collect(s);
    await expect(collect(s)).rejects.toThrow(StreamClosedError);
  });

  it('carries a 64 MiB C-STORE from fragmentation to a slow consumer in bounded memory', async () => {
    const storeRq: CStoreRq = {
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      priority: Priority.MEDIUM,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      affectedSopInstanceUid: '1.2.3',
      hasDataSet: true,
    };
    const chunk = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
    const chunks = 256; // 64 MiB, generated on demand and never held together
    function* source() {
      for (let i = 0; i < chunks; i++) yield chunk;
    }
    const max = 16384;
    const hwm = 256 * 1024;
    const decoder = new PduDecoder({ maxPduLength: max });
    const reassembler = new Reassembler();
    let stream: DataSetStream | undefined;
    let received = 0;
    let maxBuffered = 0;
    let consumer: Promise<void> | undefined;
    let pauses = 0;
    // Producer: PDUs off the "wire", pausing at the high-water mark like a socket would.
    for (const pdu of fragmentMessage({
      contextId: 1,
      command: storeRq,
      dataSet: source(),
      maxPduLength: max,
    })) {
      for (const part of pdu)
        for (const p of decoder.push(part))
          for (const e of reassembler.push((p as PDataTf).pdvs)) {
            if (e.type === 'command') {
              const s = new DataSetStream({ highWaterMark: hwm });
              stream = s;
              consumer = (async () => {
                for await (const c of s) {
                  received += c.length;
                  if (received % (4 * 1024 * 1024) < c.length)
                    await new Promise((r) => setTimeout(r, 1));
                }
              })();
            } else if (e.type === 'data') {
              if (!stream!.push(e.data)) {
                pauses++;
                await stream!.drained();
              }
              maxBuffered = Math.max(maxBuffered, stream!.buffered);
            } else stream!.end();
          }
    }
    await consumer;
    expect(received).toBe(chunks * chunk.length);
    expect(pauses).toBeGreaterThan(0);
    // Never more than the high-water mark plus one PDU in the queue.
    expect(maxBuffered).toBeLessThanOrEqual(hwm + max);
  });
});
