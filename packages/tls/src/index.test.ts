import { describe, expect, it } from 'vitest';
import { packageName } from './index.js';

describe('@dnet/tls', () => {
  it('names itself', () => {
    expect(packageName).toBe('@dnet/tls');
  });
});
