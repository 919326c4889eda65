import { describe, expect, it } from 'vitest';
import { packageName } from './index.js';

describe('@dnet/association', () => {
  it('names itself', () => {
    expect(packageName).toBe('@dnet/association');
  });
});
