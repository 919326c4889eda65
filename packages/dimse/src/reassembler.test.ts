import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PDataTf, PduDecoder, type PresentationDataValue } from '@dnet/pdu';
import { describe, expect, it } from 'vitest';
import { CommandField } from './command-field.js';
import { encodeCommandSet } from './command-set.js';
import { type DimseMessage, decodeMessage, encodeMessage } from './dimse-message.js';
import {
  BadSequenceError,
  CommandTooLargeError,
  InvalidCommandSetError,
  isDnetError,
  MissingFieldError,
  UnknownContextError,
} from './errors.js';
import { fragmentMessage } from './fragment-message.js';
import { Reassembler, type ReassemblyEvent } from './reassembler.js';
import { sampleMessages } from './sample-messages.test-support.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const hex = (name: string) =>
  new Uint8Array(
    Buffer.from(readFileSync(join(fixtures, name), 'utf8').replace(/\s+/g, ''), 'hex'),
  );

const echo: DimseMessage = {
  commandField: CommandField.C_ECHO_RQ,
  messageId: 1,
  affectedSopClassUid: '1.2.840.10008.1.1',
  hasDataSet: false,
};
const find: DimseMessage = {
  commandField: CommandField.C_FIND_RQ,
  messageId: 2,
  priority: 0,
  affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.1',
  hasDataSet: true,
};
const cmd = (m: DimseMessage, contextId = 1, last = true): PresentationDataValue => ({
  contextId,
  command: true,
  last,
  data: encodeMessage(m),
});
const data = (bytes: number[], contextId = 1, last = true): PresentationDataValue => ({
  contextId,
  command: false,
  last,
  data: new Uint8Array(bytes),
});

function summary(events: ReassemblyEvent[]): unknown[] {
  return events.map((e) =>
    e.type === 'data'
      ? ['data', e.contextId, [...e.data]]
      : [e.type, e.contextId, e.message.commandField],
  );
}

describe('Reassembler (PS3.7 §6.3, PS3.8 Annex E.2)', () => {
  it('emits command then end for a message without a data set', () => {
    const r = new Reassembler();
    expect(summary(r.push([cmd(echo)]))).toEqual([
      ['command', 1, 0x30],
      ['end', 1, 0x30],
    ]);
    expect(r.state).toBe('idle');
  });

  it('tells whether a data set follows before any of it arrives, then streams it', () => {
    const r = new Reassembler();
    const first = r.push([cmd(find, 5)]);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ type: 'command', message: { hasDataSet: true } });
    expect(r.state).toBe('data');
    expect(r.contextId).toBe(5);
    expect(summary(r.push([data([1, 2], 5, false)]))).toEqual([['data', 5, [1, 2]]]);
    expect(summary(r.push([data([3], 5, false), data([4], 5, true), cmd(echo, 7)]))).toEqual([
      ['data', 5, [3]],
      ['data', 5, [4]],
      ['end', 5, 0x20],
      ['command', 7, 0x30],
      ['end', 7, 0x30],
    ]);
  });

  it('joins a command split over several PDVs and copies the early fragments', () => {
    const bytes = encodeMessage(find);
    const a = bytes.slice(0, 10);
    const r = new Reassembler();
    expect(r.push([{ contextId: 1, command: true, last: false, data: a }])).toEqual([]);
    a.fill(0xee); // the receive buffer is reused: the reassembler kept its own copy
    const events = r.push([{ contextId: 1, command: true, last: true, data: bytes.slice(10) }]);
    expect(events[0]).toMatchObject({ type: 'command', message: find });
  });

  it('passes data fragments on as views, never copies', () => {
    const r = new Reassembler();
    r.push([cmd(find)]);
    const chunk = new Uint8Array(1000);
    const [e] = r.push([
      { contextId: 1, command: false, last: true, data: chunk.subarray(10, 900) },
    ]);
    expect(e?.type === 'data' && e.data.buffer).toBe(chunk.buffer);
  });

  it('passes a data fragment that arrived across chunks on as one view per chunk, joining nothing', () => {
    // A P-DATA-TF with a command and a 200 000-byte data set fragment, received in 4 KiB chunks.
    const value = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    const decoder = new PduDecoder({ maxPduLength: 1 << 20 });
    const wire = Buffer.concat(
      [
        ...fragmentMessage({ contextId: 1, command: find, dataSet: value, maxPduLength: 1 << 20 }),
      ].flat(),
    );
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < wire.length; o += 4096) chunks.push(wire.slice(o, o + 4096));
    const pdvs = chunks.flatMap((c) => decoder.push(c).flatMap((p) => (p as PDataTf).pdvs));
    const r = new Reassembler();
    const events = r.push(pdvs);
    const views = events.filter((e) => e.type === 'data').map((e) => e.data);
    expect(views.length).toBeGreaterThan(40);
    const buffers = new Set(chunks.map((c) => c.buffer));
    for (const v of views) expect(buffers.has(v.buffer as ArrayBuffer)).toBe(true);
    expect(Buffer.compare(Buffer.concat(views), value)).toBe(0);
    expect(events.at(-1)).toMatchObject({ type: 'end', message: find });
    expect(decoder.bytesCopied).toBe(0);
  });

  it('joins a command fragment that arrived across chunks', () => {
    const decoder = new PduDecoder();
    const wire = Buffer.concat(
      [...fragmentMessage({ contextId: 3, command: echo, maxPduLength: 1 << 16 })].flat(),
    );
    const pdvs = [
      ...decoder.push(wire.subarray(0, 30)),
      ...decoder.push(wire.subarray(30, 60)),
      ...decoder.push(wire.subarray(60)),
    ].flatMap((p) => (p as PDataTf).pdvs);
    const events = new Reassembler().push(pdvs);
    expect(summary(events)).toEqual([
      ['command', 3, 0x30],
      ['end', 3, 0x30],
    ]);
  });

  const bad: [string, PresentationDataValue[][], new (...a: never[]) => Error, RegExp][] = [
    ['a data fragment with no command', [[data([1])]], BadSequenceError, /no command/],
    [
      'a data fragment before the last command fragment',
      [[{ ...cmd(find), last: false }, data([1])]],
      BadSequenceError,
      /before the last command fragment/,
    ],
    [
      'a command fragment inside a data set',
      [[cmd(find), data([1], 1, false), cmd(echo)]],
      BadSequenceError,
      /before the last fragment of the C-FIND-RQ data set/,
    ],
    [
      'another context inside a command',
      [[{ ...cmd(find), last: false }], [cmd(echo, 3)]],
      BadSequenceError,
      /interleaved/,
    ],
    [
      'another context inside a data set',
      [[cmd(find), data([1], 1, false)], [data([2], 3)]],
      BadSequenceError,
      /interleaved/,
    ],
    [
      'data after a message without a data set',
      [[cmd(echo), data([1])]],
      BadSequenceError,
      /no command/,
    ],
    ['a context that was not accepted', [[cmd(echo, 9)]], UnknownContextError, /context 9/],
    [
      'a command set that does not parse',
      [[{ contextId: 1, command: true, last: true, data: new Uint8Array([1, 2, 3]) }]],
      InvalidCommandSetError,
      /truncated/,
    ],
    [
      'a command without its required fields',
      [
        [
          {
            contextId: 1,
            command: true,
            last: true,
            data: encodeCommandSet({ commandField: 0x0001, commandDataSetType: 1, messageId: 1 }),
          },
        ],
      ],
      MissingFieldError,
      /C-STORE-RQ/,
    ],
  ];
  for (const [name, pushes, type, message] of bad) {
    it(`refuses ${name} with a typed error, then recovers`, () => {
      const r = new Reassembler({ isAcceptedContext: (id) => id === 1 || id === 3 });
      let error: unknown;
      try {
        for (const pdvs of pushes) r.push(pdvs);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(type);
      expect(isDnetError(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(message);
      expect(r.state).toBe('idle');
      expect(summary(r.push([cmd(echo)]))).toHaveLength(2);
    });
  }

  it('caps the command set size (maxCommandLength)', () => {
    const r = new Reassembler({ maxCommandLength: 64 });
    const bytes = encodeMessage(find);
    expect(bytes.length).toBeGreaterThan(64);
    // Refused as the fragments arrive, before the whole command is buffered.
    r.push([{ contextId: 1, command: true, last: false, data: bytes.subarray(0, 40) }]);
    expect(() =>
      r.push([{ contextId: 1, command: true, last: false, data: bytes.subarray(40, 80) }]),
    ).toThrow(CommandTooLargeError);
  });

  it('reassembles every sample message fragmented at every maximum from 8 to 130', () => {
    for (const message of sampleMessages) {
      const dataSet = message.hasDataSet ? new Uint8Array(38).map((_, i) => i) : undefined;
      for (let max = 8; max <= 130; max++) {
        const r = new Reassembler();
        const decoder = new PduDecoder({ maxPduLength: max });
        const events: ReassemblyEvent[] = [];
        for (const pdu of fragmentMessage({
          contextId: 1,
          command: message,
          dataSet,
          maxPduLength: max,
        }))
          for (const p of pdu.flatMap((b) => decoder.push(b)))
            events.push(...r.push((p as PDataTf).pdvs));
        const got = events
          .filter((e) => e.type === 'data')
          .flatMap((e) => [...(e as { data: Uint8Array }).data]);
        expect(events[0]).toMatchObject({ type: 'command', message });
        expect(events.at(-1)).toMatchObject({ type: 'end', message });
        expect(got).toEqual(dataSet ? [...dataSet] : []);
      }
    }
  });

  it('reassembles a message whose PDU stream is split at every byte boundary', () => {
    const dataSet = new Uint8Array(300).map((_, i) => i * 7);
    const wire = Buffer.concat(
      [...fragmentMessage({ contextId: 1, command: find, dataSet, maxPduLength: 128 })].flat(),
    );
    for (let cut = 1; cut < wire.length; cut++) {
      const decoder = new PduDecoder({ maxPduLength: 128 });
      const r = new Reassembler();
      const got: number[] = [];
      let ended = false;
      for (const part of [wire.subarray(0, cut), wire.subarray(cut)])
        for (const p of decoder.push(new Uint8Array(part)))
          for (const e of r.push((p as PDataTf).pdvs)) {
            if (e.type === 'data') got.push(...e.data);
            if (e.type === 'end') ended = true;
          }
      if (!ended || got.length !== 300 || got.some((b, i) => b !== dataSet[i]))
        throw new Error(`split at ${cut} failed`);
    }
  });
});

describe('Reassembler on DCMTK bytes', () => {
  it('rebuilds the C-STORE-RQ storescu sent (4 P-DATA-TF PDUs) and its data set exactly', () => {
    const pdus = readFileSync(join(fixtures, 'storescu-c-store-rq.pdus.hex'), 'utf8')
      .split(/\n\s*\n/)
      .map((block) => new Uint8Array(Buffer.from(block.replace(/\s+/g, ''), 'hex')));
    expect(pdus).toHaveLength(4);
    const decoder = new PduDecoder({ maxPduLength: 16384 });
    const r = new Reassembler({ isAcceptedContext: (id) => id % 2 === 1 });
    const events: ReassemblyEvent[] = [];
    for (const pdu of pdus)
      for (const p of decoder.push(pdu)) events.push(...r.push((p as PDataTf).pdvs));
    const command = events[0];
    expect(command?.type).toBe('command');
    expect(command && 'message' in command && command.message).toEqual(
      decodeMessage(hex('storescu-c-store-rq.hex')),
    );
    const received = Buffer.concat(
      events.filter((e) => e.type === 'data').map((e) => (e as { data: Uint8Array }).data),
    );
    expect(received.equals(Buffer.from(hex('img1.dataset.hex')))).toBe(true);
    expect(events.at(-1)?.type).toBe('end');
  });
});
