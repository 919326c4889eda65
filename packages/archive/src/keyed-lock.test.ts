import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

describe('KeyedLock', () => {
  it('lets one holder per key at a time, in arrival order, and forgets released keys', async () => {
    const locks = new KeyedLock();
    const order: string[] = [];
    const hold = async (key: string, name: string) => {
      const release = await locks.acquire(key);
      order.push(`${name} in`);
      await new Promise((r) => setImmediate(r));
      order.push(`${name} out`);
      release();
    };
    await Promise.all([hold('a', 'a1'), hold('a', 'a2'), hold('a', 'a3')]);
    expect(order).toEqual(['a1 in', 'a1 out', 'a2 in', 'a2 out', 'a3 in', 'a3 out']);
    expect(locks.size).toBe(0);
  });

  it('does not serialize different keys', async () => {
    const locks = new KeyedLock();
    const releaseA = await locks.acquire('a');
    // 'b' is free although 'a' is held.
    const releaseB = await locks.acquire('b');
    expect(locks.size).toBe(2);
    releaseB();
    releaseA();
    expect(locks.size).toBe(0);
  });

  it('ignores a second release', async () => {
    const locks = new KeyedLock();
    const first = await locks.acquire('k');
    const waiting = locks.acquire('k');
    first();
    first();
    const second = await waiting;
    let third = false;
    const next = locks.acquire('k').then((r) => {
      third = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    second();
    (await next)();
    expect(locks.size).toBe(0);
  });
});
