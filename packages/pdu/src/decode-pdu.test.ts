import { describe, expect, it } from 'vitest';
import { decodePdu } from './decode-pdu.js';
import { encodePdu } from './encode-pdu.js';
import { isDnetError, PduError, type PduErrorCode } from './errors.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** An item: type, reserved, 2-byte length, value (PS3.8 §9.3.2). */
function item(type: number, value: number[]): number[] {
  return [type, 0, value.length >> 8, value.length & 0xff, ...value];
}

const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** A PDU: header with the length of `body` (PS3.8 §9.3.1). */
function pdu(type: number, body: number[]): Uint8Array {
  return new Uint8Array([type, 0, ...u32(body.length), ...body]);
}

const appContext = item(0x10, ascii('1.2.840.10008.3.1.1.1'));
const contextRq = item(0x20, [
  1,
  0,
  0,
  0,
  ...item(0x30, ascii('1.2.840.10008.1.1')),
  ...item(0x40, ascii('1.2.840.10008.1.2')),
]);
const maxLength = item(0x51, u32(16384));
const classUid = item(0x52, ascii('1.2.3.4'));

function fixed(called = 'CALLED', calling = 'CALLING'): number[] {
  const ae = (s: string) => ascii(s.padEnd(16, ' '));
  return [0, 1, 0, 0, ...ae(called), ...ae(calling), ...new Array(32).fill(0)];
}

function rq(items: number[][], head = fixed()): Uint8Array {
  return pdu(PduType.A_ASSOCIATE_RQ, [...head, ...items.flat()]);
}

function ac(items: number[][]): Uint8Array {
  return pdu(PduType.A_ASSOCIATE_AC, [...fixed(), ...items.flat()]);
}

const userInfo = (...subItems: number[][]) => item(0x50, subItems.flat());
const validRq = () => [appContext, contextRq, userInfo(maxLength, classUid)];

function failure(fn: () => unknown): PduError {
  try {
    fn();
  } catch (e) {
    expect(isDnetError(e)).toBe(true);
    expect(e).toBeInstanceOf(PduError);
    return e as PduError;
  }
  throw new Error('did not throw');
}

function expectCode(bytes: Uint8Array, code: PduErrorCode, field?: string | RegExp): PduError {
  const e = failure(() => decodePdu(bytes));
  expect(e.code).toBe(code);
  if (field) expect(e.field).toMatch(field);
  // The streaming decoder raises the same code.
  expect(failure(() => new PduDecoder().push(bytes)).code).toBe(code);
  return e;
}

describe('decodePdu: valid input', () => {
  it('decodes a hand-built A-ASSOCIATE-RQ', () => {
    const decoded = decodePdu(rq(validRq()));
    expect(decoded).toMatchObject({
      type: 1,
      protocolVersion: 1,
      calledAeTitle: 'CALLED',
      callingAeTitle: 'CALLING',
      presentationContexts: [
        { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
      ],
      userInformation: { maxLength: 16384, implementationClassUid: '1.2.3.4' },
    });
  });

  it('keeps unknown items and sub-items and re-encodes them unchanged (PS3.8 §9.3.1)', () => {
    const bytes = rq([
      appContext,
      item(0x20, [
        1,
        0,
        0,
        0,
        ...item(0x30, ascii('1.2')),
        ...item(0x40, ascii('1.2')),
        ...item(0x33, [9]),
      ]),
      userInfo(maxLength, classUid, item(0x5f, [1, 2, 3])),
      item(0x77, [4, 5]),
    ]);
    const decoded = decodePdu(bytes);
    expect(decoded).toMatchObject({
      unknownItems: [{ type: 0x77, data: new Uint8Array([4, 5]) }],
      presentationContexts: [{ unknownItems: [{ type: 0x33, data: new Uint8Array([9]) }] }],
      userInformation: { unknownItems: [{ type: 0x5f, data: new Uint8Array([1, 2, 3]) }] },
    });
    expect(encodePdu(decoded)).toEqual(bytes);
  });

  it('reads UIDs as peers send them: trailing NUL or space stripped, leading zero tolerated', () => {
    const decoded = decodePdu(
      rq([
        item(0x10, [...ascii('1.2.840.10008.3.1.1.1'), 0]),
        item(0x20, [1, 0, 0, 0, ...item(0x30, ascii('1.2.05 ')), ...item(0x40, ascii('1.2'))]),
        userInfo(maxLength, classUid),
      ]),
    );
    expect(decoded).toMatchObject({
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [{ abstractSyntax: '1.2.05' }],
    });
  });

  it('trims AE titles and reads an all-space title as empty (PS3.8 §9.3.2)', () => {
    const head = fixed('  AB C  ', '');
    expect(decodePdu(rq(validRq(), head))).toMatchObject({
      calledAeTitle: 'AB C',
      callingAeTitle: '',
    });
  });

  it('does not test the AE titles of an A-ASSOCIATE-AC (PS3.8 §9.3.3)', () => {
    const head = fixed('A\\B', 'C');
    head[6] = 0x01;
    const bytes = pdu(
      2,
      [
        ...head,
        appContext,
        item(0x21, [1, 0, 0, 0, ...item(0x40, ascii('1.2'))]),
        userInfo(maxLength, classUid),
      ].flat(),
    );
    expect(decodePdu(bytes)).toMatchObject({ calledAeTitle: 'A\\\u0001' });
  });

  it('accepts a rejected AC context without a transfer syntax (PS3.8 §9.3.3.2)', () => {
    const bytes = ac([appContext, item(0x21, [3, 0, 3, 0]), userInfo(maxLength, classUid)]);
    expect(decodePdu(bytes)).toMatchObject({
      presentationContexts: [{ id: 3, result: 3, transferSyntax: '' }],
    });
  });

  it('decodes every user information sub-item', () => {
    const bytes = rq([
      appContext,
      contextRq,
      userInfo(
        maxLength,
        classUid,
        item(0x53, [0, 5, 0, 7]),
        item(0x54, [0, 3, ...ascii('1.2'), 1, 0]),
        item(0x55, ascii('DNET_1')),
        item(0x56, [0, 3, ...ascii('1.3'), 1, 0, 1]),
        item(0x57, [
          0,
          3,
          ...ascii('1.4'),
          0,
          3,
          ...ascii('1.5'),
          0,
          10,
          0,
          3,
          ...ascii('1.6'),
          0,
          3,
          ...ascii('1.7'),
        ]),
        item(0x58, [4, 0, 0, 2, 0xde, 0xad, 0, 0]),
      ),
    ]);
    const decoded = decodePdu(bytes);
    expect(decoded).toMatchObject({
      userInformation: {
        asyncOperationsWindow: { maxInvoked: 5, maxPerformed: 7 },
        roleSelections: [{ sopClassUid: '1.2', scuRole: true, scpRole: false }],
        implementationVersionName: 'DNET_1',
        extendedNegotiations: [
          { sopClassUid: '1.3', serviceClassApplicationInformation: new Uint8Array([1, 0, 1]) },
        ],
        commonExtendedNegotiations: [
          {
            sopClassUid: '1.4',
            serviceClassUid: '1.5',
            relatedGeneralSopClassUids: ['1.6', '1.7'],
          },
        ],
        userIdentity: {
          type: 4,
          positiveResponseRequested: false,
          primaryField: new Uint8Array([0xde, 0xad]),
          secondaryField: new Uint8Array([]),
        },
      },
    });
    expect(encodePdu(decoded)).toEqual(bytes);
  });

  it('decodes the User Identity AC sub-item (PS3.7 D.3.3.7.2)', () => {
    const bytes = ac([
      appContext,
      item(0x21, [1, 0, 0, 0, ...item(0x40, ascii('1.2'))]),
      userInfo(maxLength, classUid, item(0x59, [0, 3, 1, 2, 3])),
    ]);
    const decoded = decodePdu(bytes);
    expect(decoded).toMatchObject({
      userInformation: { userIdentity: { serverResponse: new Uint8Array([1, 2, 3]) } },
    });
    expect(encodePdu(decoded)).toEqual(bytes);
  });
});

describe('decodePdu: every error code', () => {
  it('DNET_PDU_UNKNOWN_TYPE for a PDU type outside 01H..07H (PS3.8 §9.3.1)', () => {
    const e = expectCode(pdu(0x08, [0, 0, 0, 0]), 'DNET_PDU_UNKNOWN_TYPE', 'pdu-type');
    expect(e.offset).toBe(0);
    expect(e.abortReason).toBe(1);
  });

  it('DNET_PDU_TOO_LARGE from the header alone, before any body arrives', () => {
    const decoder = new PduDecoder({ maxPduLength: 1000, maxAssociationPduLength: 500 });
    const e = failure(() => decoder.push(new Uint8Array([4, 0, ...u32(1001)])));
    expect(e).toMatchObject({
      code: 'DNET_PDU_TOO_LARGE',
      field: 'pdu-length',
      offset: 2,
      pduType: 4,
    });
    const a = failure(() =>
      new PduDecoder({ maxAssociationPduLength: 500 }).push(new Uint8Array([1, 0, ...u32(501)])),
    );
    expect(a.code).toBe('DNET_PDU_TOO_LARGE');
    // 4 GiB - 1 announced: refused, nothing held.
    const big = new PduDecoder();
    expect(failure(() => big.push(new Uint8Array([4, 0, 0xff, 0xff, 0xff, 0xff]))).code).toBe(
      'DNET_PDU_TOO_LARGE',
    );
    expect(big.pending).toBe(0);
  });

  it('DNET_PDU_INVALID_LENGTH for fixed-size PDUs of the wrong length (PS3.8 §9.3.4-9.3.8)', () => {
    for (const type of [3, 5, 6, 7]) {
      expectCode(pdu(type, [0, 0, 0, 0, 0]), 'DNET_PDU_INVALID_LENGTH', 'pdu-length');
    }
    // Refused from the header, even for a huge announced length.
    expect(failure(() => new PduDecoder().push(new Uint8Array([5, 0, 0xff, 0, 0, 0]))).code).toBe(
      'DNET_PDU_INVALID_LENGTH',
    );
  });

  it('DNET_PDU_INVALID_LENGTH for a bad PDV item length (PS3.8 §9.3.5.1)', () => {
    expectCode(pdu(4, [...u32(1), 1]), 'DNET_PDU_INVALID_LENGTH', 'pdv-item/item-length');
    const e = expectCode(
      pdu(4, [...u32(3), 1, 3]),
      'DNET_PDU_INVALID_LENGTH',
      'pdv-item/item-length',
    );
    expect(e.offset).toBe(6);
    expectCode(pdu(4, [...u32(2), 1, 3, 0]), 'DNET_PDU_INVALID_LENGTH');
  });

  it('DNET_PDU_INVALID_LENGTH for items overrunning their parent', () => {
    const bad = rq([appContext, contextRq, userInfo(maxLength, classUid)]);
    bad[bad.length - 9] = 0xff; // classUid's length high byte
    expectCode(bad, 'DNET_PDU_INVALID_LENGTH', /item-length/);
    expectCode(pdu(1, fixed().slice(0, 60)), 'DNET_PDU_INVALID_LENGTH', 'pdu-length');
    expectCode(
      rq([appContext, contextRq, userInfo(item(0x51, [0, 0, 1]), classUid)]),
      'DNET_PDU_INVALID_LENGTH',
      'maximum-length',
    );
    expectCode(
      rq([appContext, contextRq, userInfo(maxLength, classUid, item(0x54, [0, 9, 49, 0, 0]))]),
      'DNET_PDU_INVALID_LENGTH',
    );
    expectCode(
      rq([
        appContext,
        contextRq,
        userInfo(maxLength, classUid, item(0x57, [0, 1, 49, 0, 1, 49, 0, 5])),
      ]),
      'DNET_PDU_INVALID_LENGTH',
    );
    expectCode(
      rq([appContext, contextRq, userInfo(maxLength, classUid, item(0x58, [1, 0, 0, 9, 0, 0]))]),
      'DNET_PDU_INVALID_LENGTH',
    );
    expectCode(rq([...validRq(), [0x99, 0, 0]]), 'DNET_PDU_INVALID_LENGTH');
  });

  it('DNET_PDU_MISSING_ITEM for absent mandatory items', () => {
    expectCode(pdu(4, []), 'DNET_PDU_MISSING_ITEM', 'pdv-item');
    expectCode(
      rq([contextRq, userInfo(maxLength, classUid)]),
      'DNET_PDU_MISSING_ITEM',
      'application-context',
    );
    expectCode(
      rq([appContext, userInfo(maxLength, classUid)]),
      'DNET_PDU_MISSING_ITEM',
      'presentation-context',
    );
    expectCode(rq([appContext, contextRq]), 'DNET_PDU_MISSING_ITEM', 'user-information');
    expectCode(
      rq([appContext, contextRq, userInfo(classUid)]),
      'DNET_PDU_MISSING_ITEM',
      'maximum-length',
    );
    expectCode(
      rq([appContext, contextRq, userInfo(maxLength)]),
      'DNET_PDU_MISSING_ITEM',
      'implementation-class-uid',
    );
    expectCode(
      rq([
        appContext,
        item(0x20, [1, 0, 0, 0, ...item(0x30, ascii('1.2'))]),
        userInfo(maxLength, classUid),
      ]),
      'DNET_PDU_MISSING_ITEM',
      'transfer-syntax',
    );
    expectCode(
      ac([appContext, item(0x21, [1, 0, 0, 0]), userInfo(maxLength, classUid)]),
      'DNET_PDU_MISSING_ITEM',
      'transfer-syntax',
    );
  });

  it('DNET_PDU_DUPLICATE_ITEM for single items given twice', () => {
    expectCode(rq([appContext, ...validRq()]), 'DNET_PDU_DUPLICATE_ITEM', 'application-context');
    expectCode(
      rq([appContext, contextRq, userInfo(maxLength, maxLength, classUid)]),
      'DNET_PDU_DUPLICATE_ITEM',
      'maximum-length',
    );
  });

  it('DNET_PDU_UNEXPECTED_ITEM for known items out of place', () => {
    const e = expectCode(
      rq([
        appContext,
        item(0x21, [1, 0, 0, 0, ...item(0x40, ascii('1.2'))]),
        userInfo(maxLength, classUid),
      ]),
      'DNET_PDU_UNEXPECTED_ITEM',
    );
    expect(e.abortReason).toBe(5);
    expectCode(
      rq([appContext, contextRq, userInfo(maxLength, classUid, item(0x59, [0, 0]))]),
      'DNET_PDU_UNEXPECTED_ITEM',
    );
    expectCode(rq([...validRq(), item(0x51, u32(1))]), 'DNET_PDU_UNEXPECTED_ITEM');
  });

  it('DNET_PDU_INVALID_VALUE for role and response flags other than 0 or 1', () => {
    const e = expectCode(
      rq([appContext, contextRq, userInfo(maxLength, classUid, item(0x54, [0, 1, 49, 2, 0]))]),
      'DNET_PDU_INVALID_VALUE',
      'role-selection/scu-role',
    );
    expect(e.abortReason).toBe(6);
    expectCode(
      rq([appContext, contextRq, userInfo(maxLength, classUid, item(0x58, [1, 7, 0, 0, 0, 0]))]),
      'DNET_PDU_INVALID_VALUE',
    );
  });

  it('DNET_PDU_INVALID_AE_TITLE for control characters or backslash in an RQ (PS3.5 §6.2)', () => {
    const head = fixed('BAD\\AE');
    const e = expectCode(rq(validRq(), head), 'DNET_PDU_INVALID_AE_TITLE', 'called-ae-title');
    expect(e.offset).toBe(13);
    const control = fixed();
    control[28] = 0x07;
    expectCode(rq(validRq(), control), 'DNET_PDU_INVALID_AE_TITLE', 'calling-ae-title');
  });

  it('DNET_PDU_INVALID_UID for empty, over-long or non-printable UIDs (PS3.5 §9.1)', () => {
    const withAbstract = (value: number[]) =>
      rq([
        appContext,
        item(0x20, [1, 0, 0, 0, ...item(0x30, value), ...item(0x40, ascii('1.2'))]),
        userInfo(maxLength, classUid),
      ]);
    expectCode(withAbstract([]), 'DNET_PDU_INVALID_UID', 'abstract-syntax-name');
    expectCode(withAbstract([0, 0]), 'DNET_PDU_INVALID_UID');
    expectCode(withAbstract(ascii(`1.${'2'.repeat(63)}`)), 'DNET_PDU_INVALID_UID');
    expectCode(withAbstract([49, 0xc3, 0xa9]), 'DNET_PDU_INVALID_UID');
  });

  it('checks the PDU length against the bytes given', () => {
    const bytes = encodePdu({ type: PduType.A_RELEASE_RQ });
    expect(failure(() => decodePdu(bytes.subarray(0, 9))).code).toBe('DNET_PDU_INVALID_LENGTH');
    expect(failure(() => decodePdu(bytes.subarray(0, 3))).code).toBe('DNET_PDU_INVALID_LENGTH');
  });
});

describe('PduDecoder after an error', () => {
  it('stays failed and throws the same error', () => {
    const decoder = new PduDecoder();
    const e = failure(() => decoder.push(pdu(0x09, [])));
    expect(failure(() => decoder.push(encodePdu({ type: PduType.A_RELEASE_RQ })))).toBe(e);
  });

  it('refuses caps outside 1..2^32-1', () => {
    expect(() => new PduDecoder({ maxPduLength: 0 })).toThrow(RangeError);
    expect(() => new PduDecoder({ maxAssociationPduLength: 2 ** 32 })).toThrow(RangeError);
  });
});
