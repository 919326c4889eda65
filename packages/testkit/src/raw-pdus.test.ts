import { expect, it } from 'vitest';
import {
  ABORT,
  IMPLICIT_LE,
  RELEASE_RQ,
  rawAssociateRq,
  rawPData,
  VERIFICATION,
} from './raw-pdus.js';

it('hand-builds PDUs with the PS3.8 §9.3 headers', () => {
  expect([...RELEASE_RQ]).toEqual([0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
  expect([...ABORT]).toEqual([0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
  const rq = rawAssociateRq({
    called: 'SCP',
    calling: 'SCU',
    contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
  });
  const view = new DataView(rq.buffer, rq.byteOffset);
  expect(rq[0]).toBe(0x01);
  expect(view.getUint32(2)).toBe(rq.length - 6); // PDU length (§9.3.2)
  expect(view.getUint16(6)).toBe(1); // protocol version
  expect(Buffer.from(rq.subarray(10, 26)).toString('latin1')).toBe('SCP'.padEnd(16));
  expect(Buffer.from(rq.subarray(26, 42)).toString('latin1')).toBe('SCU'.padEnd(16));
  expect(rq[74]).toBe(0x10); // application context item first (§9.3.2.1)
  const p = rawPData(3, true, true, Uint8Array.of(9, 9));
  expect([...p]).toEqual([0x04, 0, 0, 0, 0, 8, 0, 0, 0, 4, 3, 0x03, 9, 9]);
});
