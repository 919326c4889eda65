import { type PDataTf, PduDecoder, PduType, type PresentationDataValue } from '@dnet/pdu';
import { describe, expect, it } from 'vitest';
import { CommandField, Priority } from './command-field.js';
import type { CStoreRq, DimseMessage } from './dimse-message.js';
import { encodeMessage } from './dimse-message.js';
import { InvalidOptionError, OddFragmentError } from './errors.js';
import {
  commandOnlyPdu,
  fragmentMessage,
  fragmentMessageAsync,
  PDV_OVERHEAD,
} from './fragment-message.js';
import { Reassembler } from './reassembler.js';

const storeRq: CStoreRq = {
  commandField: CommandField.C_STORE_RQ,
  messageId: 1,
  priority: Priority.MEDIUM,
  affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
  affectedSopInstanceUid: '1.2.826.0.1.3680043.9.7433.1.1.1.1',
  hasDataSet: true,
};
const commandLength = encodeMessage(storeRq).length;

/** Deterministic bytes (xorshift), so failures reproduce. */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Splits `data` into chunks of pseudo-random sizes 1..max. */
function chunked(data: Uint8Array, max: number, seed = 7): Uint8Array[] {
  const out: Uint8Array[] = [];
  let x = seed;
  for (let o = 0; o < data.length; ) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % max);
    out.push(data.subarray(o, o + n));
    o += n;
  }
  return out;
}

/** Byte equality without vitest's element-by-element deep equal (slow on large arrays). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface Outcome {
  pdus: PDataTf[];
  lengths: number[];
  message: DimseMessage;
  data: Uint8Array;
  dataEvents: number;
}

/** Encodes the gathered PDUs, decodes them with @dnet/pdu and reassembles the message. */
function roundTrip(gathered: Uint8Array[][], max: number): Outcome {
  const decoder = new PduDecoder({ maxPduLength: max === 0 ? 0xffffffff : max });
  const reassembler = new Reassembler({ isAcceptedContext: (id) => id === 3 });
  const pdus: PDataTf[] = [];
  const lengths: number[] = [];
  const data: Uint8Array[] = [];
  let message: DimseMessage | undefined;
  let ended = 0;
  let dataEvents = 0;
  for (const list of gathered) {
    const wire = concat(list);
    lengths.push(wire.length - 6);
    const decoded = decoder.push(wire);
    // Plain checks in the hot loop (thousands of PDUs at tiny maxima); expect() below.
    const pdu = decoded[0]!;
    if (decoded.length !== 1 || pdu.type !== PduType.P_DATA_TF)
      throw new Error(`expected one P-DATA-TF, got ${decoded.length}`);
    pdus.push(pdu as PDataTf);
    for (const e of reassembler.push((pdu as PDataTf).pdvs)) {
      if (e.type === 'command') {
        if (message) throw new Error('a second command');
        message = e.message;
      } else if (e.type === 'data') {
        if (!message) throw new Error('data before the command'); // hasDataSet is known first
        data.push(e.data.slice());
        dataEvents++;
      } else ended++;
    }
  }
  expect(ended).toBe(1);
  expect(reassembler.state).toBe('idle');
  expect(decoder.pending).toBe(0);
  return { pdus, lengths, message: message!, data: concat(data), dataEvents };
}

function checkPdus(o: Outcome, max: number, wholeChunk = false): void {
  const all: PresentationDataValue[] = o.pdus.flatMap((p) => p.pdvs);
  const full = (len: number) => max - len < PDV_OVERHEAD + 2; // no room for a 2-byte PDV
  if (max > 0) expect(o.lengths.filter((len) => len > max)).toEqual([]);
  // At most one data set PDV per PDU, after the command's fragments (the layout DCMTK takes).
  expect(o.pdus.filter((p) => p.pdvs.filter((v) => !v.command).length > 1)).toEqual([]);
  expect(o.pdus.filter((p) => p.pdvs.slice(0, -1).some((v) => !v.command))).toEqual([]);
  if (max > 0) {
    // A PDU is full, or its data PDV ends the data set or a chunk (then at least 1024 bytes).
    const short = o.pdus.filter((p, i) => {
      const data = p.pdvs.at(-1)!;
      return !full(o.lengths[i]!) && !data.command && !data.last && data.data.length < 1024;
    });
    expect(short).toEqual([]);
    // A data set given whole fills every PDU but the last.
    if (wholeChunk) expect(o.lengths.slice(0, -1).filter((len) => !full(len))).toEqual([]);
  }
  // Command fragments first, then data; the last bit on exactly the final fragment of each.
  const firstData = all.findIndex((p) => !p.command);
  const commands = firstData === -1 ? all : all.slice(0, firstData);
  const datas = firstData === -1 ? [] : all.slice(firstData);
  expect(commands.every((p) => p.command)).toBe(true);
  expect(datas.every((p) => !p.command)).toBe(true);
  expect(commands.map((p) => p.last)).toEqual(commands.map((_, i) => i === commands.length - 1));
  expect(datas.map((p) => p.last)).toEqual(datas.map((_, i) => i === datas.length - 1));
  expect(all.every((p) => p.contextId === 3)).toBe(true);
  // Every fragment has an even length.
  const odd = [...commands, ...datas].filter((p) => p.data.length & 1);
  expect(odd).toEqual([]);
}

describe('fragmentMessage (PS3.8 §9.3.5, Annex E)', () => {
  const maxima = [4096, 16384, 16378, 8, 9, 10, 11, 255, 4097, 16383, 16385, 65537];
  for (const max of maxima) {
    const per = max - PDV_OVERHEAD;
    const first = max - (commandLength + PDV_OVERHEAD) - PDV_OVERHEAD; // data room beside the command
    const sizes = new Set<number>(
      [1, 2, first - 1, first, first + 1, per - 1, per, per + 1, first + per, first + per + 1]
        .concat([2 * per - 1, 2 * per, 2 * per + 1, 3 * per + 17, 40_000])
        .filter((n) => n > 0 && n <= (max < 300 ? 5_000 : 60_000)),
    );
    it(`max ${max}: data sets around each boundary reassemble exactly`, () => {
      for (const size of sizes) {
        const data = bytes(size, size);
        if (size & 1) {
          // An odd data set: its last fragment would be odd (PS3.5 §7.1.1): refused.
          expect(() => [
            ...fragmentMessage({
              contextId: 3,
              command: storeRq,
              dataSet: data,
              maxPduLength: max,
            }),
          ]).toThrow(OddFragmentError);
          continue;
        }
        for (const source of [data, chunked(data, 5000), chunked(data, 3, size)]) {
          // Tiny chunks and tiny maxima make many PDVs: keep those runs short.
          if (source !== data && size > 20_000 && source.length > 1000) continue;
          const o = roundTrip(
            [
              ...fragmentMessage({
                contextId: 3,
                command: storeRq,
                dataSet: source,
                maxPduLength: max,
              }),
            ],
            max,
          );
          expect(o.message).toEqual(storeRq);
          expect(sameBytes(o.data, data)).toBe(true);
          checkPdus(o, max, source === data);
        }
      }
    });
  }

  it('a message without a data set: the command alone, split when the maximum is small', () => {
    const echo: DimseMessage = {
      commandField: CommandField.C_ECHO_RQ,
      messageId: 9,
      affectedSopClassUid: '1.2.840.10008.1.1',
      hasDataSet: false,
    };
    for (const max of [16384, 20, 9, 8]) {
      const pdus = [...fragmentMessage({ contextId: 3, command: echo, maxPduLength: max })];
      const o = roundTrip(pdus, max);
      expect(o.message).toEqual(echo);
      expect(o.data.length).toBe(0);
      checkPdus(o, max);
    }
    expect([...fragmentMessage({ contextId: 3, command: echo, maxPduLength: 16384 })]).toHaveLength(
      1,
    );
  });

  it('puts a small command and a small data set into one PDU', () => {
    const pdus = [
      ...fragmentMessage({
        contextId: 3,
        command: storeRq,
        dataSet: bytes(100),
        maxPduLength: 16384,
      }),
    ];
    expect(pdus).toHaveLength(1);
    const o = roundTrip(pdus, 16384);
    expect(o.pdus[0]!.pdvs.map((p) => [p.command, p.last])).toEqual([
      [true, true],
      [false, true],
    ]);
  });

  it('max 0 (unlimited): one PDV per chunk of even length, uncut, one PDU per chunk', () => {
    const data = bytes(300_000);
    const source = [0, 100_000, 150_000, 151_024, 300_000]
      .slice(0, -1)
      .map((o, i, starts) => data.subarray(o, [...starts.slice(1), 300_000][i]));
    expect(Buffer.concat(source).length).toBe(data.length);
    const pdus = [
      ...fragmentMessage({ contextId: 3, command: storeRq, dataSet: source, maxPduLength: 0 }),
    ];
    expect(pdus).toHaveLength(source.length);
    const o = roundTrip(pdus, 0);
    expect(sameBytes(o.data, data)).toBe(true);
    expect(o.dataEvents).toBe(source.length);
    // Odd chunks still go through, their odd byte joined to the next chunk's first bytes.
    const odd = chunked(data, 100_000, 3);
    const p = roundTrip(
      [...fragmentMessage({ contextId: 3, command: storeRq, dataSet: odd, maxPduLength: 0 })],
      0,
    );
    expect(sameBytes(p.data, data)).toBe(true);
    checkPdus(p, 0);
    checkPdus(o, 0);
  });

  it('hands out views of the data set, copying only PDVs that span chunks', () => {
    const data = bytes(50_000);
    const gathered = [
      ...fragmentMessage({ contextId: 3, command: storeRq, dataSet: data, maxPduLength: 16384 }),
    ];
    const views = gathered.flat().filter((b) => b.buffer === data.buffer);
    expect(views.reduce((n, v) => n + v.length, 0)).toBe(data.length);
  });

  it('chunks smaller than a PDU end their PDUs early instead of being copied', () => {
    const chunks = Array.from({ length: 8 }, (_, i) => bytes(64 * 1024, i + 1));
    const gathered = [
      ...fragmentMessage({ contextId: 3, command: storeRq, dataSet: chunks, maxPduLength: 131072 }),
    ];
    const sources = new Set(chunks.map((c) => c.buffer));
    const viewed = gathered.flat().filter((b) => sources.has(b.buffer as ArrayBuffer));
    expect(viewed.reduce((n, v) => n + v.length, 0)).toBe(8 * 64 * 1024);
    const o = roundTrip(gathered, 131072);
    expect(sameBytes(o.data, concat(chunks))).toBe(true);
    checkPdus(o, 131072);
    expect(o.pdus).toHaveLength(8);
  });

  it('joins tiny chunks into PDVs of 1024 bytes instead of sending tiny PDUs', () => {
    const data = bytes(20_000);
    const o = roundTrip(
      [
        ...fragmentMessage({
          contextId: 3,
          command: storeRq,
          dataSet: chunked(data, 16),
          maxPduLength: 4096,
        }),
      ],
      4096,
    );
    expect(sameBytes(o.data, data)).toBe(true);
    checkPdus(o, 4096);
    const datas = o.pdus.flatMap((p) => p.pdvs).filter((p) => !p.command);
    expect(datas.slice(1, -1).every((p) => p.data.length === 1024)).toBe(true);
  });

  it('keeps fragments even when chunks have odd lengths', () => {
    const data = bytes(30_000);
    const chunks = [data.subarray(0, 5001), data.subarray(5001, 20_000), data.subarray(20_000)];
    const o = roundTrip(
      [
        ...fragmentMessage({
          contextId: 3,
          command: storeRq,
          dataSet: chunks,
          maxPduLength: 16384,
        }),
      ],
      16384,
    );
    expect(sameBytes(o.data, data)).toBe(true);
    checkPdus(o, 16384);
  });

  it('an empty data set still ends with a last fragment', () => {
    const o = roundTrip(
      [...fragmentMessage({ contextId: 3, command: storeRq, dataSet: [], maxPduLength: 4096 })],
      4096,
    );
    expect(o.data.length).toBe(0);
    expect(o.pdus[0]!.pdvs.at(-1)).toMatchObject({ command: false, last: true });
  });

  it('pulls the data set lazily, one chunk ahead', () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield bytes(16_000, i + 1);
      }
    }
    const it = fragmentMessage({
      contextId: 3,
      command: storeRq,
      dataSet: source(),
      maxPduLength: 16384,
    });
    // The first PDU takes the first chunk (the command leaves room for all of it; its end
    // ends the PDU) and one more is read ahead to know whether the data set ends.
    it.next();
    expect(pulled).toBe(2);
    // 11 PDUs carry 11 chunks, plus one read ahead.
    for (let i = 0; i < 10; i++) it.next();
    expect(pulled).toBe(12);
    it.return(undefined);
  });

  it('the async variant yields the same PDUs and stops its source when abandoned', async () => {
    const data = bytes(70_000);
    const chunks = chunked(data, 9000);
    const sync = [
      ...fragmentMessage({ contextId: 3, command: storeRq, dataSet: chunks, maxPduLength: 16378 }),
    ];
    let closed = false;
    async function* source() {
      try {
        for (const c of chunks) yield c;
      } finally {
        closed = true;
      }
    }
    const out: Uint8Array[][] = [];
    for await (const pdu of fragmentMessageAsync({
      contextId: 3,
      command: storeRq,
      dataSet: source(),
      maxPduLength: 16378,
    }))
      out.push(pdu);
    expect(out.length).toBe(sync.length);
    expect(out.every((pdu, i) => sameBytes(concat(pdu), concat(sync[i]!)))).toBe(true);
    closed = false;
    for await (const _ of fragmentMessageAsync({
      contextId: 3,
      command: storeRq,
      dataSet: source(),
      maxPduLength: 4096,
    }))
      break;
    expect(closed).toBe(true);
  });

  it('accepts an encoded command set', () => {
    const command = encodeMessage(storeRq);
    const o = roundTrip(
      [...fragmentMessage({ contextId: 3, command, dataSet: bytes(10), maxPduLength: 4096 })],
      4096,
    );
    expect(o.message).toEqual(storeRq);
  });

  it('refuses an odd data set before its last fragment, in both variants', async () => {
    const data = bytes(5001);
    const sync = fragmentMessage({
      contextId: 3,
      command: storeRq,
      dataSet: [data.subarray(0, 3000), data.subarray(3000)],
      maxPduLength: 4096,
    });
    const out: Uint8Array[][] = [];
    expect(() => {
      for (const pdu of sync) out.push(pdu);
    }).toThrow(OddFragmentError);
    // The full PDUs before it went out; the one with the last-fragment bit did not.
    expect(out.length).toBeGreaterThan(0);
    const pdvs = out.flatMap((p) => (new PduDecoder().push(Buffer.concat(p))[0] as PDataTf).pdvs);
    expect(pdvs.filter((v) => !v.command && v.last)).toEqual([]);
    async function* source() {
      yield data.subarray(0, 3000);
      yield data.subarray(3000);
    }
    const run = async () => {
      for await (const _ of fragmentMessageAsync({
        contextId: 3,
        command: storeRq,
        dataSet: source(),
        maxPduLength: 4096,
      }));
    };
    await expect(run()).rejects.toMatchObject({ code: 'DNET_DIMSE_ODD_FRAGMENT', command: false });
    // An encoded command set of odd length is refused too.
    const odd = new Uint8Array([...encodeMessage(storeRq), 0]);
    expect(() => [
      ...fragmentMessage({ contextId: 1, command: odd, dataSet: bytes(2), maxPduLength: 0 }),
    ]).toThrow(/command set has an odd length/);
  });

  it('checks its options', () => {
    const bad = [
      { contextId: 1, maxPduLength: 7 },
      { contextId: 2, maxPduLength: 4096 },
      { contextId: 257, maxPduLength: 4096 },
      { contextId: 1, maxPduLength: 6 },
      { contextId: 1, maxPduLength: -1 },
      { contextId: 1, maxPduLength: 2 ** 32 },
    ];
    for (const b of bad)
      expect(() => [...fragmentMessage({ ...b, command: storeRq, dataSet: bytes(2) })]).toThrow(
        InvalidOptionError,
      );
    // hasDataSet and the data set given must agree.
    expect(() => [
      ...fragmentMessage({ contextId: 1, command: storeRq, maxPduLength: 4096 }),
    ]).toThrow(/hasDataSet/);
  });
});

describe('commandOnlyPdu', () => {
  const echo = encodeMessage({
    commandField: CommandField.C_ECHO_RQ,
    messageId: 1,
    affectedSopClassUid: '1.2.840.10008.1.1',
    hasDataSet: false,
  } as DimseMessage);
  const joined = (parts: Uint8Array[]) => Buffer.concat(parts);

  it('is the one PDU fragmentMessage yields when the command set fits one PDV', () => {
    for (const max of [0, 16384, echo.length + PDV_OVERHEAD]) {
      const pdus = [...fragmentMessage({ contextId: 3, command: echo, maxPduLength: max })];
      expect(pdus).toHaveLength(1);
      expect(joined(commandOnlyPdu(3, echo, max)!)).toEqual(joined(pdus[0]!));
    }
  });

  it('is undefined when the command set must be cut or is odd (the fragmenter cuts or refuses it)', () => {
    expect(commandOnlyPdu(3, echo, echo.length + PDV_OVERHEAD - 2)).toBeUndefined();
    expect(commandOnlyPdu(3, new Uint8Array(7), 0)).toBeUndefined();
  });
});
