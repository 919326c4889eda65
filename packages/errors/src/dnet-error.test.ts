import { describe, expect, it } from 'vitest';
import { DnetError, isDnetError } from './index.js';

class ExampleError extends DnetError {
  constructor() {
    super('DNET_EXAMPLE_FAILED', 'example', { cause: 'why' });
  }
}

describe('DnetError', () => {
  it('carries code, cause and the subclass name', () => {
    const e = new ExampleError();
    expect(e.code).toBe('DNET_EXAMPLE_FAILED');
    expect(e.cause).toBe('why');
    expect(e.name).toBe('ExampleError');
    expect(e).toBeInstanceOf(Error);
    expect(isDnetError(e)).toBe(true);
  });

  it('recognises an error of another copy through the Symbol.for brand', () => {
    // What a duplicated install's DnetError looks like: another class, the same registry symbol.
    class OtherCopy extends Error {
      readonly code = 'DNET_OTHER_X';
      get [Symbol.for('dnet.error')](): true {
        return true;
      }
    }
    const foreign = new OtherCopy('x');
    expect(isDnetError(foreign)).toBe(true);
    expect(foreign instanceof DnetError).toBe(true);
    // A subclass keeps the ordinary prototype check.
    expect(foreign instanceof ExampleError).toBe(false);
    expect(new ExampleError() instanceof ExampleError).toBe(true);
  });

  it('refuses plain errors and look-alikes without the brand', () => {
    expect(isDnetError(new Error('x'))).toBe(false);
    expect(isDnetError({ code: 'DNET_X' })).toBe(false);
    expect(isDnetError(null)).toBe(false);
    expect(new Error('x') instanceof DnetError).toBe(false);
  });
});
