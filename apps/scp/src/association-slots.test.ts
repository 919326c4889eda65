import { describe, expect, it } from 'vitest';
import { AssociationSlots } from './association-slots.js';

// PS3.8 Table 9-21: rejected-transient (2), service-provider presentation (3), local-limit-exceeded (2).
const LIMIT = { result: 2, source: 3, reason: 2 };

describe('AssociationSlots', () => {
  it('keeps the total across workers and gives slots back', () => {
    const slots = new AssociationSlots(2, undefined);
    expect(slots.take(1, 1, 'A')).toBeUndefined();
    expect(slots.take(2, 1, 'B')).toBeUndefined();
    expect(slots.take(1, 2, 'C')).toMatchObject({
      ...LIMIT,
      cause: '2 associations open on all workers, at most 2',
    });
    slots.release(2, 1);
    slots.release(2, 1); // twice: no effect
    expect(slots.open).toBe(1);
    expect(slots.take(1, 3, 'C')).toBeUndefined();
  });

  it('keeps the per-AE limit across workers', () => {
    const slots = new AssociationSlots(10, 1);
    expect(slots.take(1, 1, 'MOD')).toBeUndefined();
    expect(slots.take(2, 1, 'MOD')).toMatchObject(LIMIT);
    expect(slots.take(2, 2, 'OTHER')).toBeUndefined();
    slots.release(1, 1);
    expect(slots.take(2, 3, 'MOD')).toBeUndefined();
  });

  it('frees every slot of a worker that died', () => {
    const slots = new AssociationSlots(3, 2);
    slots.take(1, 1, 'MOD');
    slots.take(1, 2, 'MOD');
    slots.take(2, 1, 'X');
    slots.releaseAll(1);
    expect(slots.open).toBe(1);
    expect(slots.take(2, 2, 'MOD')).toBeUndefined();
    expect(slots.take(2, 3, 'MOD')).toBeUndefined();
  });
});
