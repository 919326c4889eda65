import { describe, expect, it } from 'vitest';
import { IncomingDataSet } from './incoming-data-set.js';

describe('IncomingDataSet.discard', () => {
  it('drops what is buffered and what still arrives, releasing backpressure', async () => {
    const ds = new IncomingDataSet({ highWaterMark: 4 });
    expect(ds.push(new Uint8Array(8))).toBe(false);
    const drained = ds.drained();
    ds.discard();
    await drained;
    await new Promise((r) => setImmediate(r));
    expect(ds.cancelled).toBe(true);
    expect(ds.push(new Uint8Array(8))).toBe(true);
    expect(ds.buffered).toBe(0);
  });

  it('leaves a data set being read to its reader', async () => {
    const ds = new IncomingDataSet();
    ds.push(new Uint8Array([1, 2]));
    const it = ds[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(new Uint8Array([1, 2]));
    ds.discard(); // the reader owns it: nothing dropped
    ds.push(new Uint8Array([3]));
    ds.end();
    expect((await it.next()).value).toEqual(new Uint8Array([3]));
    expect((await it.next()).done).toBe(true);
    expect(ds.cancelled).toBe(false);
  });

  it('still drops a data set whose iterator was made but never read', async () => {
    const ds = new IncomingDataSet({ highWaterMark: 4 });
    ds[Symbol.asyncIterator]();
    ds.push(new Uint8Array(8));
    ds.discard();
    await ds.drained();
    await new Promise((r) => setImmediate(r));
    expect(ds.cancelled).toBe(true);
  });

  it('is a no-op after the data set was read to its end', async () => {
    const ds = new IncomingDataSet();
    ds.push(new Uint8Array([7]));
    ds.end();
    expect(await ds.bytes()).toEqual(new Uint8Array([7]));
    expect(() => ds.discard()).not.toThrow();
  });
});
