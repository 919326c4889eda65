import { describe, expect, it } from 'vitest';
import type { AAssociateAc } from './a-associate-ac.js';
import type { AAssociateRq } from './a-associate-rq.js';
import { decodePdu } from './decode-pdu.js';
import { encodePDataTf, encodePdu } from './encode-pdu.js';
import { PduError } from './errors.js';
import { PduType } from './pdu-type.js';

const rq: AAssociateRq = {
  type: PduType.A_ASSOCIATE_RQ,
  protocolVersion: 1,
  calledAeTitle: 'ANY-SCP',
  callingAeTitle: 'ECHOSCU',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
  ],
  userInformation: {
    maxLength: 16384,
    implementationClassUid: '1.2.276.0.7230010.3.0.3.6.7',
    implementationVersionName: 'OFFIS_DCMTK_367',
    roleSelections: [],
    extendedNegotiations: [],
    commonExtendedNegotiations: [],
    unknownItems: [],
  },
};

describe('encodePdu', () => {
  it('round-trips an A-ASSOCIATE-RQ', () => {
    const bytes = encodePdu(rq);
    expect(bytes[0]).toBe(1);
    expect(decodePdu(bytes)).toEqual(rq);
  });

  it('encodes the fixed-size PDUs with a length of 4 (PS3.8 §9.3.4-9.3.8)', () => {
    expect([...encodePdu({ type: PduType.A_RELEASE_RQ })]).toEqual([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
    expect([...encodePdu({ type: PduType.A_ABORT, source: 2, reason: 6 })]).toEqual([
      7, 0, 0, 0, 0, 4, 0, 0, 2, 6,
    ]);
    expect([
      ...encodePdu({ type: PduType.A_ASSOCIATE_RJ, result: 1, source: 1, reason: 7 }),
    ]).toEqual([3, 0, 0, 0, 0, 4, 0, 1, 1, 7]);
  });
});

describe('encodePDataTf', () => {
  it('gathers headers and the data views, uncopied', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5]);
    const parts = encodePDataTf([
      { contextId: 1, command: true, last: true, data: a },
      { contextId: 3, command: false, last: false, data: b },
    ]);
    expect(parts[1]).toBe(a);
    expect(parts[3]).toBe(b);
    const joined = Uint8Array.from(parts.flatMap((p) => [...p]));
    expect(joined).toEqual(
      encodePdu({
        type: PduType.P_DATA_TF,
        pdvs: [
          { contextId: 1, command: true, last: true, data: a },
          { contextId: 3, command: false, last: false, data: b },
        ],
      }),
    );
    expect([...parts[0]!]).toEqual([4, 0, 0, 0, 0, 17, 0, 0, 0, 5, 1, 3]);
  });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PduError);
    return (e as PduError).code;
  }
  return undefined;
}

describe('encodePdu: checks what we send', () => {
  it('DNET_PDU_INVALID_AE_TITLE: empty, over 16 characters, backslash, control (PS3.5 §6.2)', () => {
    for (const ae of ['', '    ', 'A'.repeat(17), 'A\\B', 'A\nB', 'É']) {
      expect(codeOf(() => encodePdu({ ...rq, calledAeTitle: ae }))).toBe(
        'DNET_PDU_INVALID_AE_TITLE',
      );
    }
    // Leading and trailing spaces are not significant (PS3.8 §9.3.2).
    const bytes = encodePdu({ ...rq, callingAeTitle: '  ECHOSCU ' });
    expect(decodePdu(bytes)).toMatchObject({ callingAeTitle: 'ECHOSCU' });
  });

  it('DNET_PDU_INVALID_UID: leading zero, over 64, other characters, empty components (PS3.5 §9.1)', () => {
    for (const uid of ['1.02', `1.${'2'.repeat(63)}`, '1.2a', '1..2', '.1', '1.', '', '1.2\0']) {
      const contexts = [{ id: 1, abstractSyntax: uid, transferSyntaxes: ['1.2'] }];
      expect(codeOf(() => encodePdu({ ...rq, presentationContexts: contexts }))).toBe(
        'DNET_PDU_INVALID_UID',
      );
    }
    expect(codeOf(() => encodePdu({ ...rq, applicationContextName: '1.2.3 ' }))).toBe(
      'DNET_PDU_INVALID_UID',
    );
  });

  it('DNET_PDU_INVALID_VALUE: context IDs, lengths and counts out of range', () => {
    for (const id of [0, 2, 256, 1.5]) {
      const contexts = [{ id, abstractSyntax: '1.2', transferSyntaxes: ['1.2'] }];
      expect(codeOf(() => encodePdu({ ...rq, presentationContexts: contexts }))).toBe(
        'DNET_PDU_INVALID_VALUE',
      );
      expect(
        codeOf(() =>
          encodePDataTf([{ contextId: id, command: true, last: true, data: new Uint8Array() }]),
        ),
      ).toBe('DNET_PDU_INVALID_VALUE');
    }
    const info = rq.userInformation;
    expect(codeOf(() => encodePdu({ ...rq, userInformation: { ...info, maxLength: -1 } }))).toBe(
      'DNET_PDU_INVALID_VALUE',
    );
    expect(
      codeOf(() =>
        encodePdu({
          ...rq,
          userInformation: { ...info, implementationVersionName: 'X'.repeat(17) },
        }),
      ),
    ).toBe('DNET_PDU_INVALID_VALUE');
    expect(
      codeOf(() =>
        encodePdu({
          ...rq,
          userInformation: {
            ...info,
            asyncOperationsWindow: { maxInvoked: 70000, maxPerformed: 1 },
          },
        }),
      ),
    ).toBe('DNET_PDU_INVALID_VALUE');
    expect(
      codeOf(() =>
        encodePdu({ ...rq, unknownItems: [{ type: 0x99, data: new Uint8Array(70000) }] }),
      ),
    ).toBe('DNET_PDU_INVALID_VALUE');
    expect(codeOf(() => encodePdu({ type: PduType.A_ABORT, source: 256, reason: 0 }))).toBe(
      'DNET_PDU_INVALID_VALUE',
    );
  });

  it('DNET_PDU_MISSING_ITEM: no PDV, no presentation context, no transfer syntax', () => {
    expect(codeOf(() => encodePDataTf([]))).toBe('DNET_PDU_MISSING_ITEM');
    expect(codeOf(() => encodePdu({ type: PduType.P_DATA_TF, pdvs: [] }))).toBe(
      'DNET_PDU_MISSING_ITEM',
    );
    expect(codeOf(() => encodePdu({ ...rq, presentationContexts: [] }))).toBe(
      'DNET_PDU_MISSING_ITEM',
    );
    const contexts = [{ id: 1, abstractSyntax: '1.2', transferSyntaxes: [] }];
    expect(codeOf(() => encodePdu({ ...rq, presentationContexts: contexts }))).toBe(
      'DNET_PDU_MISSING_ITEM',
    );
  });

  it('echoes a blank AE title in an A-ASSOCIATE-AC as 16 spaces (PS3.8 §9.3.3)', () => {
    const pdu: AAssociateAc = {
      ...rq,
      type: PduType.A_ASSOCIATE_AC,
      calledAeTitle: '',
      presentationContexts: [{ id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' }],
      userInformation: {
        ...rq.userInformation,
        userIdentity: { serverResponse: new Uint8Array([1]) },
      },
    };
    const bytes = encodePdu(pdu);
    expect([...bytes.subarray(10, 26)]).toEqual(new Array(16).fill(0x20));
    expect(decodePdu(bytes)).toEqual(pdu);
    expect(codeOf(() => encodePdu({ ...rq, calledAeTitle: '' }))).toBe('DNET_PDU_INVALID_AE_TITLE');
  });

  it('sends an empty transfer syntax sub-item for a rejected AC context (PS3.8 §9.3.3.2.1)', () => {
    const pdu: AAssociateAc = {
      ...rq,
      type: PduType.A_ASSOCIATE_AC,
      presentationContexts: [{ id: 1, result: 3, transferSyntax: '' }],
      userInformation: { ...rq.userInformation, userIdentity: undefined },
    };
    delete pdu.userInformation.userIdentity;
    expect(decodePdu(encodePdu(pdu))).toEqual(pdu);
  });
});

describe('formatPdu', () => {
  it("names the values with the standard's words", async () => {
    const { formatPdu } = await import('./format-pdu.js');
    expect(formatPdu({ type: PduType.A_ASSOCIATE_RJ, result: 2, source: 3, reason: 1 })).toBe(
      [
        'A-ASSOCIATE-RJ (03H)',
        '  result: 2 (rejected-transient)',
        '  source: 3 (DICOM UL service-provider (Presentation related function))',
        '  reason/diag: 1 (temporary-congestion)',
      ].join('\n'),
    );
    expect(formatPdu({ type: PduType.A_ABORT, source: 2, reason: 6 })).toContain(
      '6 (invalid-PDU-parameter value)',
    );
    expect(formatPdu({ type: PduType.A_ASSOCIATE_RJ, result: 9, source: 9, reason: 9 })).toContain(
      'result: 9\n',
    );
  });
});
