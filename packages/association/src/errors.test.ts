import { describe, expect, it } from 'vitest';
import {
  AssociationAbortedError,
  AssociationRejectedError,
  DnetError,
  isDnetError,
  TimeoutError,
} from './errors.js';

describe('errors', () => {
  it('carry a stable code and protocol fields', () => {
    const e = new AssociationRejectedError({ result: 1, source: 1, reason: 7 });
    expect(e.code).toBe('DNET_ASSOCIATION_REJECTED');
    expect([e.result, e.source, e.reason]).toEqual([1, 1, 7]);
    expect(e.name).toBe('AssociationRejectedError');
    expect(e).toBeInstanceOf(DnetError);
    const a = new AssociationAbortedError({ source: 2, reason: 6 });
    expect(a.local).toBe(false);
    expect(new TimeoutError('artim', 30000).message).toMatch(/artim/);
  });

  it('are recognised across copies by their Symbol.for brand', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('dnet.error')]: true,
      code: 'DNET_X',
    });
    expect(isDnetError(foreign)).toBe(true);
    expect(isDnetError(new Error('y'))).toBe(false);
    expect(new Error('y') instanceof AssociationRejectedError).toBe(false);
  });
});
