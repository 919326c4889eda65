import { describe, expect, it } from 'vitest';
import { PduType } from './index.js';

describe('PduType', () => {
  it('numbers the seven PDUs 01H..07H (PS3.8 §9.3.1)', () => {
    expect(Object.values(PduType)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
