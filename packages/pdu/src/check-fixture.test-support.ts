// Test support: the one helper every fixture goes through (decode checked
// against the readable decode beside it, encode, round trip, and the bytes fed
// to a PduDecoder split at every offset). Not part of the package's API.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePdu } from './decode-pdu.js';
import { encodePDataTf, encodePdu } from './encode-pdu.js';
import { formatPdu } from './format-pdu.js';
import type { Pdu } from './pdu.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';

const dir = join(import.meta.dirname, 'fixtures');

/** The bytes of fixture `name` (src/fixtures/<name>.hex). */
export function loadFixture(name: string): Uint8Array {
  const hex = readFileSync(join(dir, `${name}.hex`), 'utf8').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * The bytes as we send them: reserved fields are "sent with a value of 00H"
 * and "not tested" when received (PS3.8 §9.3.2, Table 9-11 and 9-13). DCMTK
 * sends FFH in the third byte of each A-ASSOCIATE-RQ presentation context.
 */
export function zeroReserved(bytes: Uint8Array): Uint8Array {
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

/** True when `a` and `b` hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Options of {@link checkFixture}. */
export interface CheckFixtureOptions {
  /** Include the split tests (default true); large fixtures run them in their own file. */
  splits?: boolean;
}

/** Fixtures above this size run their split tests in fixtures-split.test.ts, in parallel. */
export const LARGE_FIXTURE = 8192;

/** The names of every stored fixture. */
export function fixtureNames(): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Decode, encode, round trip and split-at-every-offset checks of one fixture. */
export function checkFixture(
  name: string,
  expectations: (pdu: Pdu) => void,
  options: CheckFixtureOptions = {},
): void {
  describe(name, () => {
    const bytes = loadFixture(name);

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

    if (options.splits !== false) splitTests(bytes);
  });
}

/** The split tests of fixture `name` alone. */
export function checkSplits(name: string): void {
  describe(name, () => splitTests(loadFixture(name)));
}

/**
 * The PDU fed to a PduDecoder cut at every offset, alone and in a stream of
 * two. A straddling P-DATA-TF is decoded without a copy (views of both
 * chunks); any other straddling PDU is copied once, whole.
 */
function splitTests(bytes: Uint8Array): void {
  const copiesWhenSplit = bytes[0] === PduType.P_DATA_TF ? 0 : bytes.length;
  it('decodes the same when split at every offset', () => {
    const sent = zeroReserved(bytes);
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new PduDecoder();
      const first = decoder.push(bytes.subarray(0, cut));
      if (first.length !== 0 || decoder.pending !== cut) expect.fail(`split at ${cut}: early PDU`);
      const out = decoder.push(bytes.subarray(cut));
      if (out.length !== 1 || decoder.pending !== 0) expect.fail(`split at ${cut}: no PDU`);
      // Counted before re-encoding: reading the `data` of a PDV spanning both chunks joins it.
      if (decoder.bytesCopied !== copiesWhenSplit) expect.fail(`split at ${cut}: copied`);
      // Re-encoding costs more than decoding: done at every cut near the ends, every 5th between.
      const full = cut < 128 || bytes.length - cut < 128 || cut % 5 === 0;
      if (full && !equalBytes(encodePdu(out[0]!), sent)) {
        expect.fail(`split at ${cut} decoded differently`);
      }
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
      expect(decoder.bytesCopied).toBe(cut === bytes.length ? 0 : copiesWhenSplit);
    }
    const whole = new PduDecoder();
    expect(whole.push(twice)).toHaveLength(2);
    expect(whole.bytesCopied).toBe(0);
  });
}
