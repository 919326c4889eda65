import { describe, expect, it } from 'vitest';

describe('reliability suite', () => {
  it('is wired into the workspace', () => {
    expect(typeof process.pid).toBe('number');
  });
});
