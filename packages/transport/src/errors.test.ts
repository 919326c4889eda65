import { describe, expect, it } from 'vitest';
import {
  ConnectionResetError,
  ConnectTimeoutError,
  isDnetError,
  TransportError,
  TransportErrorCode,
} from './errors.js';

describe('transport errors', () => {
  it('carry a stable code, a cause and the address', () => {
    const cause = new Error('ECONNRESET');
    const e = new ConnectionResetError(undefined, { cause, address: '::1', port: 104 });
    expect(e.code).toBe(TransportErrorCode.CONNECTION_RESET);
    expect(e.code).toBe('DNET_TRANSPORT_CONNECTION_RESET');
    expect(e.cause).toBe(cause);
    expect(e.address).toBe('::1');
    expect(e.port).toBe(104);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.name).toBe('ConnectionResetError');
  });

  it('are recognised by isDnetError through the shared symbol, not instanceof', () => {
    expect(isDnetError(new ConnectTimeoutError(5))).toBe(true);
    expect(isDnetError(new Error('x'))).toBe(false);
    expect(isDnetError(null)).toBe(false);
    // An error from another copy of a dnet package carries the same registered symbol.
    const foreign = Object.assign(new Error('other copy'), { code: 'DNET_X' });
    Object.defineProperty(foreign, Symbol.for('dnet.error'), { value: true });
    expect(isDnetError(foreign)).toBe(true);
  });

  it('keep the timeout on a connect timeout', () => {
    const e = new ConnectTimeoutError(1500);
    expect(e.timeoutMs).toBe(1500);
    expect(e.message).toContain('1500');
  });
});
