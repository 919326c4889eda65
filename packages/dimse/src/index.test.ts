import { describe, expect, it } from 'vitest';
import * as dimse from './index.js';

describe('@dnet/dimse index', () => {
  it('sets bit 15 on responses (PS3.7 §E.1)', () => {
    expect(dimse.CommandField.C_ECHO_RSP).toBe(dimse.CommandField.C_ECHO_RQ | 0x8000);
    expect(dimse.isResponse(dimse.CommandField.C_CANCEL_RQ)).toBe(false);
  });

  it('runs the documented example', () => {
    const bytes = dimse.encodeMessage({
      commandField: dimse.CommandField.C_STORE_RQ,
      messageId: 1,
      priority: dimse.Priority.MEDIUM,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      affectedSopInstanceUid: '1.2.3.4',
      hasDataSet: true,
    });
    const message = dimse.decodeMessage(bytes);
    expect(message).toMatchObject({ affectedSopInstanceUid: '1.2.3.4' });
  });

  it('brands its errors for isDnetError', () => {
    const e = new dimse.UnknownCommandError(0x40);
    expect(dimse.isDnetError(e)).toBe(true);
    expect(e).toBeInstanceOf(dimse.DimseError);
    expect(e.code).toBe('DNET_DIMSE_UNKNOWN_COMMAND');
    expect(dimse.isDnetError(new Error('x'))).toBe(false);
  });
});
