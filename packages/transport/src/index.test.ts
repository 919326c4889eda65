import { describe, expect, it } from 'vitest';
import { packageName } from './index.js';

describe('@dnet/transport', () => {
  it('names itself', () => {
    expect(packageName).toBe('@dnet/transport');
  });
});
