import { describe, expect, it } from 'vitest';
import { packageName } from './index.js';

describe('@dnet/services', () => {
  it('names itself', () => {
    expect(packageName).toBe('@dnet/services');
  });
});
