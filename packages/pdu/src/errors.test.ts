import { describe, expect, it } from 'vitest';
import { DnetError, isDnetError, isPduError, PduError, PduErrorCode } from './errors.js';

describe('errors', () => {
  it('carry a stable code, the field, offset, PDU type and cause', () => {
    const cause = new Error('root');
    const e = new PduError(PduErrorCode.INVALID_LENGTH, 'bad', {
      field: 'pdu-length',
      offset: 2,
      pduType: 4,
      cause,
    });
    expect(e).toBeInstanceOf(DnetError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({
      code: 'DNET_PDU_INVALID_LENGTH',
      field: 'pdu-length',
      offset: 2,
      pduType: 4,
    });
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('PduError');
  });

  it('are recognised across duplicated installs by their Symbol.for brand', () => {
    // What another copy of @dnet/pdu (or any dnet package) would throw.
    class OtherCopyError extends Error {
      readonly code = 'DNET_PDU_TOO_LARGE';
      constructor() {
        super('from another copy');
        Object.defineProperty(this, Symbol.for('dnet.error'), { value: true });
      }
    }
    const other = new OtherCopyError();
    // `instanceof DnetError` checks the brand too (@dnet/errors).
    expect(other).toBeInstanceOf(DnetError);
    expect(isDnetError(other)).toBe(true);
    expect(isPduError(other)).toBe(true);
    expect(isDnetError(new Error('plain'))).toBe(false);
    expect(isDnetError({ code: 'DNET_PDU_TOO_LARGE' })).toBe(false);
    expect(isDnetError(null)).toBe(false);
    expect(isPduError(new DnetError('DNET_OTHER', 'x'))).toBe(false);
  });

  it('give the A-ABORT reason a provider sends (PS3.8 §9.3.8)', () => {
    const reason = (code: PduErrorCode) => new PduError(code, '', { field: 'x' }).abortReason;
    expect(reason(PduErrorCode.UNKNOWN_TYPE)).toBe(1);
    expect(reason(PduErrorCode.UNEXPECTED_ITEM)).toBe(5);
    expect(reason(PduErrorCode.INVALID_UID)).toBe(6);
    expect(reason(PduErrorCode.TOO_LARGE)).toBe(6);
  });
});
