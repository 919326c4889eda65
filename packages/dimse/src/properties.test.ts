import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PDataTf, PduDecoder, type PresentationDataValue } from '@dnet/pdu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './dimse-message.js';
import { isDnetError } from './errors.js';
import { fragmentMessage } from './fragment-message.js';
import { Reassembler, type ReassemblyEvent } from './reassembler.js';
import { sampleMessages } from './sample-messages.test-support.js';

const dir = join(import.meta.dirname, 'fixtures');
const fixtureBytes = readdirSync(dir)
  .filter((f) => f.endsWith('.hex') && !f.includes('.pdus.') && !f.includes('.dataset.'))
  .map(
    (f) =>
      new Uint8Array(Buffer.from(readFileSync(join(dir, f), 'utf8').replace(/\s+/g, ''), 'hex')),
  );
const encoded = [...sampleMessages.map(encodeMessage), ...fixtureBytes];

/** Runs `f`; any exception must be a typed dnet error, never a TypeError or RangeError. */
function onlyTypedErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isDnetError(e)) throw e;
  }
}

describe('hostile input', () => {
  it('decodeMessage on mutated command sets throws typed errors only', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...encoded),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat(), { nil: undefined }),
        (bytes, edits, cut) => {
          const b = bytes.slice(0, cut === undefined ? bytes.length : cut % (bytes.length + 1));
          for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
          onlyTypedErrors(() => decodeMessage(b));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('decodeMessage on random bytes throws typed errors only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) =>
        onlyTypedErrors(() => decodeMessage(b)),
      ),
      { numRuns: 2000 },
    );
  });

  it('the Reassembler on random PDV sequences throws typed errors only', () => {
    const pdv = fc.record({
      contextId: fc.constantFrom(1, 3, 5),
      command: fc.boolean(),
      last: fc.boolean(),
      data: fc.oneof(fc.constantFrom(...encoded), fc.uint8Array({ maxLength: 40 })),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(pdv, { minLength: 1, maxLength: 4 }), { maxLength: 8 }),
        (pdus) => {
          const r = new Reassembler({ isAcceptedContext: (id) => id !== 5 });
          for (const pdvs of pdus) onlyTypedErrors(() => r.push(pdvs as PresentationDataValue[]));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('fragmentation properties', () => {
  it('any maximum, any chunking: PDUs within the maximum, even fragments, one data PDV per PDU, exact data', () => {
    const message = sampleMessages[0]!; // C-STORE-RQ
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 8, max: 300 }),
          fc.integer({ min: 301, max: 70_000 }),
          fc.constant(0),
        ),
        fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 10 }),
        (max, sizes) => {
          let seed = 1;
          const chunks = sizes.map((n) =>
            new Uint8Array(n).map(() => (seed = (seed * 31 + 7) & 0xff)),
          );
          // Data sets are even (PS3.5 §7.1.1): an odd total gets one more byte.
          if (sizes.reduce((a, b) => a + b, 0) & 1) chunks.push(new Uint8Array(1));
          const whole = Buffer.concat(chunks);
          const decoder = new PduDecoder({ maxPduLength: max === 0 ? 0xffffffff : max });
          const r = new Reassembler();
          const data: Uint8Array[] = [];
          let ended = 0;
          const fragments: PresentationDataValue[] = [];
          for (const pdu of fragmentMessage({
            contextId: 1,
            command: message,
            dataSet: chunks,
            maxPduLength: max,
          })) {
            const length = pdu.reduce((n, b) => n + b.length, 0) - 6;
            if (max > 0 && length > max) return false;
            for (const p of pdu.flatMap((b) => decoder.push(b))) {
              const pdvs = (p as PDataTf).pdvs;
              if (pdvs.filter((v) => !v.command).length > 1) return false;
              fragments.push(...pdvs);
              for (const e of r.push(pdvs)) {
                if (e.type === 'data') data.push(e.data.slice());
                if (e.type === 'end') ended++;
              }
            }
          }
          return (
            ended === 1 &&
            fragments.every((v) => v.data.length % 2 === 0) &&
            Buffer.concat(data).equals(whole)
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('every message split at every byte boundary', () => {
  it('reassembles each sample message whatever the chunking of its PDU stream', () => {
    for (const message of sampleMessages) {
      const dataSet = message.hasDataSet ? new Uint8Array(50).map((_, i) => 255 - i) : undefined;
      const wire = Buffer.concat(
        [...fragmentMessage({ contextId: 1, command: message, dataSet, maxPduLength: 96 })].flat(),
      );
      for (let cut = 1; cut < wire.length; cut++) {
        const decoder = new PduDecoder({ maxPduLength: 96 });
        const r = new Reassembler();
        const events: ReassemblyEvent[] = [];
        for (const part of [wire.subarray(0, cut), wire.subarray(cut)])
          for (const p of decoder.push(new Uint8Array(part)))
            events.push(...r.push((p as PDataTf).pdvs));
        const data = events.flatMap((e) => (e.type === 'data' ? [...e.data] : []));
        const ok =
          events[0]?.type === 'command' &&
          events.at(-1)?.type === 'end' &&
          data.length === (dataSet?.length ?? 0) &&
          data.every((v, i) => v === dataSet![i]);
        if (!ok) throw new Error(`${message.commandField}: split at ${cut} failed`);
        expect(events[0]?.type === 'command' && events[0].message).toEqual(message);
      }
    }
  });
});
