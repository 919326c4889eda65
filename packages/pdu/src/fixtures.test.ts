// Every fixture of real DCMTK and Orthanc bytes (src/fixtures/*.hex, captured by
// scripts/capture-fixtures.ts) goes through one helper: decode (checked
// against the readable decode beside it), encode, round trip, and the bytes
// fed to a PduDecoder split at every offset.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AAssociateAc } from './a-associate-ac.js';
import type { AAssociateRq } from './a-associate-rq.js';
import { decodePdu } from './decode-pdu.js';
import { encodePDataTf, encodePdu } from './encode-pdu.js';
import { formatPdu } from './format-pdu.js';
import type { Pdu } from './pdu.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';

const dir = join(import.meta.dirname, 'fixtures');

function load(name: string): Uint8Array {
  const hex = readFileSync(join(dir, `${name}.hex`), 'utf8').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * The bytes as we send them: reserved fields are "sent with a value of 00H"
 * and "not tested" when received (PS3.8 §9.3.2, Table 9-11 and 9-13). DCMTK
 * sends FFH in the third byte of each A-ASSOCIATE-RQ presentation context.
 */
function zeroReserved(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[1] = 0;
  if (out[0] === PduType.A_ASSOCIATE_RQ || out[0] === PduType.A_ASSOCIATE_AC) {
    out.fill(0, 8, 10);
    out.fill(0, 42, 74);
    for (let o = 74; o < out.length; o += 4 + ((out[o + 2]! << 8) | out[o + 3]!)) {
      out[o + 1] = 0;
      if (out[o] === 0x20) out.fill(0, o + 5, o + 8);
      if (out[o] === 0x21) {
        out[o + 5] = 0;
        out[o + 7] = 0;
      }
    }
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Decode, encode, round trip and split-at-every-offset checks of one fixture. */
function checkFixture(name: string, expectations: (pdu: Pdu) => void): void {
  describe(name, () => {
    const bytes = load(name);

    it('decodes to the readable decode stored beside it', () => {
      const pdu = decodePdu(bytes);
      const txt = readFileSync(join(dir, `${name}.txt`), 'utf8');
      expect(txt.slice(txt.indexOf('\n\n') + 2).trimEnd()).toBe(formatPdu(pdu));
      expectations(pdu);
    });

    it('encodes back to the same bytes, reserved fields as 00H', () => {
      expect(equalBytes(encodePdu(decodePdu(bytes)), zeroReserved(bytes))).toBe(true);
    });

    it('round-trips value for value', () => {
      const pdu = decodePdu(bytes);
      expect(decodePdu(encodePdu(pdu))).toEqual(pdu);
      if (pdu.type === PduType.P_DATA_TF) {
        expect(equalBytes(Buffer.concat(encodePDataTf(pdu.pdvs)), bytes)).toBe(true);
      }
    });

    it('decodes the same when split at every offset', () => {
      const sent = zeroReserved(bytes);
      for (let cut = 1; cut < bytes.length; cut++) {
        const decoder = new PduDecoder();
        const first = decoder.push(bytes.subarray(0, cut));
        if (first.length !== 0 || decoder.pending !== cut)
          expect.fail(`split at ${cut}: early PDU`);
        const out = decoder.push(bytes.subarray(cut));
        if (out.length !== 1 || decoder.pending !== 0) expect.fail(`split at ${cut}: no PDU`);
        // Re-encoding costs more than decoding: done at every cut near the ends, every 5th between.
        const full = cut < 128 || bytes.length - cut < 128 || cut % 5 === 0;
        if (full && !equalBytes(encodePdu(out[0]!), sent)) {
          expect.fail(`split at ${cut} decoded differently`);
        }
        if (decoder.bytesCopied !== bytes.length) expect.fail(`split at ${cut}: not one copy`);
      }
    });

    it('copies only the PDU that straddles, in a stream of two', () => {
      const twice = new Uint8Array(bytes.length * 2);
      twice.set(bytes);
      twice.set(bytes, bytes.length);
      const step = Math.max(1, Math.floor(twice.length / 200));
      for (let cut = 1; cut < twice.length; cut += cut === bytes.length - 1 ? 1 : step) {
        const decoder = new PduDecoder();
        const out = [...decoder.push(twice.subarray(0, cut)), ...decoder.push(twice.subarray(cut))];
        expect(out).toHaveLength(2);
        expect(decoder.bytesCopied).toBe(cut === bytes.length ? 0 : bytes.length);
      }
      const whole = new PduDecoder();
      expect(whole.push(twice)).toHaveLength(2);
      expect(whole.bytesCopied).toBe(0);
    });
  });
}

const rq = (pdu: Pdu) => pdu as AAssociateRq;
const ac = (pdu: Pdu) => pdu as AAssociateAc;

describe('DCMTK and Orthanc fixtures', () => {
  it('covers every captured fixture', () => {
    const names = readdirSync(dir)
      .filter((f) => f.endsWith('.hex'))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(names).toEqual(Object.keys(fixtures).sort());
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

  for (const [name, expectations] of Object.entries(fixtures)) checkFixture(name, expectations);
});
