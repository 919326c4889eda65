import { describe, expect, it } from 'vitest';
import { InvalidOptionError, MessageIdsExhaustedError } from './errors.js';
import { MessageIdAllocator } from './message-id-allocator.js';

describe('MessageIdAllocator (PS3.7 §9.1.1.1.1)', () => {
  it('counts up from 1', () => {
    const ids = new MessageIdAllocator();
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([1, 2, 3]);
    expect(ids.outstanding).toBe(3);
  });

  it('wraps after FFFFH to 1, never 0', () => {
    const ids = new MessageIdAllocator({ first: 0xfffe });
    expect(ids.allocate()).toBe(0xfffe);
    expect(ids.allocate()).toBe(0xffff);
    expect(ids.allocate()).toBe(1);
  });

  it('skips IDs still outstanding after a wrap', () => {
    const ids = new MessageIdAllocator({ first: 0xffff });
    const a = ids.allocate(); // FFFF
    const b = ids.allocate(); // 1
    const c = ids.allocate(); // 2
    expect([a, b, c]).toEqual([0xffff, 1, 2]);
    ids.release(0xffff);
    // Walk all the way round: 3..FFFE, then FFFF (free again), then 1 and 2 are outstanding.
    for (let i = 3; i <= 0xfffe; i++) ids.release(ids.allocate());
    expect(ids.allocate()).toBe(0xffff);
    expect(ids.allocate()).toBe(3);
    expect(ids.has(1) && ids.has(2)).toBe(true);
  });

  it('throws a typed error when every ID is outstanding, and recovers on release', () => {
    const ids = new MessageIdAllocator({ maxOutstanding: 3 });
    ids.allocate();
    const two = ids.allocate();
    ids.allocate();
    expect(() => ids.allocate()).toThrow(MessageIdsExhaustedError);
    expect(ids.release(two)).toBe(true);
    expect(ids.release(two)).toBe(false);
    expect(ids.allocate()).toBe(4);
  });

  it('can hand out all 65535 IDs, and no more', () => {
    const ids = new MessageIdAllocator();
    const seen = new Set<number>();
    for (let i = 0; i < 0xffff; i++) seen.add(ids.allocate());
    expect(seen.size).toBe(0xffff);
    expect(seen.has(0)).toBe(false);
    expect(() => ids.allocate()).toThrow(MessageIdsExhaustedError);
    ids.release(500);
    expect(ids.allocate()).toBe(500);
  });

  it('checks its options', () => {
    expect(() => new MessageIdAllocator({ first: 0 })).toThrow(InvalidOptionError);
    expect(() => new MessageIdAllocator({ maxOutstanding: 0x10000 })).toThrow(InvalidOptionError);
  });
});
