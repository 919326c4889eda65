import { describe, expect, it } from 'vitest';
import type { AAssociateRq } from './a-associate-rq.js';
import { decodePdu } from './decode-pdu.js';
import { encodePDataTf, encodePdu } from './encode-pdu.js';
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
