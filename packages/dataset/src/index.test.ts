import { describe, expect, it } from 'vitest';
import { TransferSyntax } from './index.js';

describe('TransferSyntax', () => {
  it('has the default transfer syntax of PS3.5 §10.1', () => {
    expect(TransferSyntax.ImplicitVRLittleEndian).toBe('1.2.840.10008.1.2');
  });
});
