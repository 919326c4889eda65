import { describe, expect, it } from 'vitest';
import * as codecs from './index.js';

describe('@dnet/codecs', () => {
  it('loads without touching WebAssembly', () => {
    expect(typeof codecs).toBe('object');
  });
});
