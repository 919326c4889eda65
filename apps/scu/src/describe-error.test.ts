import { describe, expect, it } from 'vitest';
import { describeError, statusText } from './describe-error.js';

describe('describeError', () => {
  it('names the result, source and reason of a rejection (PS3.8 Table 9-21)', () => {
    const e = Object.assign(new Error('x'), {
      code: 'DNET_ASSOCIATION_REJECTED',
      result: 1,
      source: 1,
      reason: 7,
    });
    expect(describeError(e)).toBe(
      'association rejected: rejected-permanent, service-user, called-AE-title-not-recognized',
    );
  });

  it('names the source and reason of an abort (PS3.8 Table 9-26)', () => {
    const e = { code: 'DNET_ASSOCIATION_ABORTED', source: 2, reason: 2, local: false, message: '' };
    expect(describeError(e)).toBe(
      'association aborted by the peer: service-provider, unexpected-PDU',
    );
    expect(describeError({ ...e, source: 0, local: true })).toBe(
      'association aborted locally: service-user',
    );
  });

  it("names a failure status by its operation's service (PS3.4)", () => {
    const e = {
      code: 'DNET_SERVICES_OPERATION_FAILED',
      operation: 'C-MOVE',
      status: 0xa801,
      message: '',
    };
    expect(describeError(e)).toBe('C-MOVE failed: A801H Refused: move destination unknown');
    expect(
      describeError({ ...e, operation: 'C-STORE', status: 0xa700, errorComment: 'disk full' }),
    ).toBe('C-STORE failed: A700H Refused: out of resources (disk full)');
    expect(statusText(0)).toBe('0000H Success');
  });

  it('finds the system error code in the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const e = Object.assign(new Error('lost', { cause: refused }), {
      code: 'DNET_CONNECTION_LOST',
    });
    expect(describeError(e)).toBe('cannot connect: connection refused (ECONNREFUSED)');
    expect(describeError('plain')).toBe('plain');
  });
});
