// Every fixture of real DCMTK and Orthanc bytes (src/fixtures/*.hex, captured by
// scripts/capture-fixtures.ts) goes through one helper (check-fixture.test-support.ts):
// decode (checked against the readable decode beside it), encode, round trip,
// and the bytes fed to a PduDecoder split at every offset (for the large
// fixtures in fixtures-split.test.ts, which runs in parallel).
import { describe, expect, it } from 'vitest';
import type { AAssociateAc } from './a-associate-ac.js';
import type { AAssociateRq } from './a-associate-rq.js';
import {
  checkFixture,
  fixtureNames,
  LARGE_FIXTURE,
  loadFixture,
} from './check-fixture.test-support.js';
import type { Pdu } from './pdu.js';
import { PduType } from './pdu-type.js';

const rq = (pdu: Pdu) => pdu as AAssociateRq;
const ac = (pdu: Pdu) => pdu as AAssociateAc;

describe('DCMTK and Orthanc fixtures', () => {
  it('covers every captured fixture', () => {
    expect(fixtureNames()).toEqual(Object.keys(fixtures).sort());
  });

  const fixtures: Record<string, (pdu: Pdu) => void> = {
    'echoscu-a-associate-rq': (pdu) => {
      expect(pdu.type).toBe(PduType.A_ASSOCIATE_RQ);
      expect(rq(pdu).calledAeTitle).toBe('STORESCP');
      expect(rq(pdu).callingAeTitle).toBe('ECHOSCU');
      expect(rq(pdu).presentationContexts).toEqual([
        { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
      ]);
      expect(rq(pdu).userInformation.maxLength).toBe(16384);
      expect(rq(pdu).userInformation.implementationVersionName).toBe('OFFIS_DCMTK_367');
    },
    'storescp-a-associate-ac-echo': (pdu) => {
      expect(pdu.type).toBe(PduType.A_ASSOCIATE_AC);
      expect(ac(pdu).presentationContexts).toEqual([
        { id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' },
      ]);
    },
    'echoscu-p-data-tf-c-echo-rq': (pdu) => {
      expect(pdu).toMatchObject({ type: 4, pdvs: [{ contextId: 1, command: true, last: true }] });
    },
    'storescp-p-data-tf-c-echo-rsp': (pdu) => {
      expect(pdu).toMatchObject({ type: 4, pdvs: [{ contextId: 1, command: true, last: true }] });
    },
    'echoscu-a-release-rq': (pdu) => expect(pdu).toEqual({ type: PduType.A_RELEASE_RQ }),
    'storescp-a-release-rp': (pdu) => expect(pdu).toEqual({ type: PduType.A_RELEASE_RP }),
    'storescu-a-associate-rq': (pdu) => {
      expect(rq(pdu).callingAeTitle).toBe('STORESCU');
      expect(rq(pdu).presentationContexts.length).toBeGreaterThan(100);
      expect(rq(pdu).presentationContexts.every((pc) => pc.id % 2 === 1)).toBe(true);
    },
    'storescp-a-associate-ac-storage': (pdu) => {
      expect(ac(pdu).presentationContexts.length).toBeGreaterThan(100);
    },
    'storescu-p-data-tf-c-store-rq': (pdu) => {
      expect(pdu).toMatchObject({ type: 4, pdvs: [{ command: true, last: true }] });
    },
    'storescu-p-data-tf-data-set': (pdu) => {
      expect(pdu).toMatchObject({ type: 4, pdvs: [{ command: false, last: true }] });
    },
    'storescu-a-associate-rq-user-identity': (pdu) => {
      const id = rq(pdu).userInformation.userIdentity!;
      expect(id.type).toBe(2);
      expect(id.positiveResponseRequested).toBe(true);
      expect(new TextDecoder().decode(id.primaryField)).toBe('alice');
      expect(new TextDecoder().decode(id.secondaryField)).toBe('secret');
    },
    'storescp-a-associate-ac-user-identity': (pdu) => {
      expect(ac(pdu).userInformation.userIdentity).toBeUndefined();
    },
    'getscu-a-associate-rq': (pdu) => {
      const roles = rq(pdu).userInformation.roleSelections;
      expect(roles.length).toBeGreaterThan(50);
      expect(roles[0]).toMatchObject({ scuRole: false, scpRole: true });
    },
    'storescp-a-associate-ac-get': (pdu) => {
      expect(ac(pdu).presentationContexts.some((pc) => pc.result !== 0)).toBe(true);
    },
    'storescp-a-associate-rj': (pdu) => {
      expect(pdu).toEqual({ type: PduType.A_ASSOCIATE_RJ, result: 1, source: 1, reason: 1 });
    },
    'echoscu-a-abort': (pdu) =>
      expect(pdu).toEqual({ type: PduType.A_ABORT, source: 0, reason: 0 }),
    'orthanc-a-associate-ac': (pdu) => {
      expect(ac(pdu)).toMatchObject({ calledAeTitle: 'ORTHANC', callingAeTitle: 'ECHOSCU' });
      expect(ac(pdu).presentationContexts).toEqual([
        { id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' },
      ]);
    },
    'orthanc-p-data-tf-c-echo-rsp': (pdu) => {
      expect(pdu).toMatchObject({ type: 4, pdvs: [{ contextId: 1, command: true, last: true }] });
    },
    'orthanc-a-release-rp': (pdu) => expect(pdu).toEqual({ type: PduType.A_RELEASE_RP }),
    'orthanc-a-associate-rj': (pdu) => {
      // rejected-permanent, service-user, called-AE-title-not-recognized (PS3.8 Table 9-21)
      expect(pdu).toEqual({ type: PduType.A_ASSOCIATE_RJ, result: 1, source: 1, reason: 7 });
    },
  };

  for (const [name, expectations] of Object.entries(fixtures)) {
    checkFixture(name, expectations, { splits: loadFixture(name).length <= LARGE_FIXTURE });
  }
});
