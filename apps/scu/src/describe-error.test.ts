import { describe, expect, it } from 'vitest';
import { describeError, statusText } from './describe-error.js';
import { LocalIoError } from './errors.js';

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
    const e = Object.assign(new Error('cannot connect to 127.0.0.1:104', { cause: refused }), {
      code: 'DNET_ASSOCIATION_CONNECTION_LOST',
    });
    expect(describeError(e)).toBe('cannot connect: connection refused (ECONNREFUSED)');
    expect(describeError('plain')).toBe('plain');
  });

  const lost = (message: string, cause: unknown) =>
    Object.assign(new Error(message, { cause }), { code: 'DNET_ASSOCIATION_CONNECTION_LOST' });

  it('says "cannot connect" for a connection that never opened, naming the host', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND pacs.invalid'), {
      code: 'ENOTFOUND',
    });
    expect(describeError(lost('cannot connect to pacs.invalid:104', dns))).toBe(
      'cannot connect to pacs.invalid:104: host not found (ENOTFOUND)',
    );
    const timeout = Object.assign(new Error('Connect timed out after 2000 ms'), {
      code: 'DNET_TRANSPORT_CONNECT_TIMEOUT',
    });
    expect(describeError(lost('cannot connect to 10.0.0.1:104', timeout))).toBe(
      'cannot connect to 10.0.0.1:104: Connect timed out after 2000 ms',
    );
  });

  it('says "connection lost" only for a connection that was open', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(describeError(lost('transport connection closed', reset))).toBe(
      'connection lost: transport connection closed: read ECONNRESET (ECONNRESET)',
    );
  });

  it("puts a TLS handshake failure on one line, by OpenSSL's reason", () => {
    const ssl = Object.assign(
      new Error(
        '804C0928B37F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      ),
      { code: 'ERR_SSL_WRONG_VERSION_NUMBER', reason: 'wrong version number' },
    );
    const text = describeError(lost('cannot connect to 127.0.0.1:11112', ssl));
    expect(text).toBe(
      'cannot connect to 127.0.0.1:11112: TLS handshake failed: wrong version number (ERR_SSL_WRONG_VERSION_NUMBER) (does the peer speak TLS on this port?)',
    );
    expect(text).not.toContain('\n');
  });

  it('names a local I/O failure as local, with the path and the system code', () => {
    const erofs = Object.assign(
      new Error("EROFS: read-only file system, open '/x/1.2.dcm.1.a.tmp'"),
      {
        code: 'EROFS',
      },
    );
    expect(describeError(new LocalIoError('write', '/x/1.2.dcm', erofs))).toBe(
      'local error: cannot write /x/1.2.dcm: read-only file system (EROFS)',
    );
  });
});
