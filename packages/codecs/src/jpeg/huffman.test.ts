import { describe, expect, it } from 'vitest';
import { BitReader } from './bit-reader.js';
import { MalformedJpegError } from './errors.js';
import {
  buildDecodeTable,
  buildEncodeTable,
  type HuffmanSpec,
  optimalHuffmanSpec,
} from './huffman.js';
import { JpegWriter } from './jpeg-writer.js';

/** T.81 Table K.3: the typical luminance DC table (codes of Table K.3's right column). */
const DC_LUMINANCE: HuffmanSpec = {
  counts: Uint8Array.from([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
  values: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
};

/** Packs a string of '0'/'1' into bytes, padding with 1-bits (F.1.2.3) and stuffing 00H after FFH (B.1.1.5). */
function pack(bits: string): Uint8Array {
  const padded = bits.padEnd(Math.ceil(bits.length / 8) * 8, '1');
  const out: number[] = [];
  for (let i = 0; i < padded.length; i += 8) {
    const b = Number.parseInt(padded.slice(i, i + 8), 2);
    out.push(...(b === 0xff ? [0xff, 0] : [b]));
  }
  return Uint8Array.from(out);
}

describe('Huffman tables (T.81 Annex C)', () => {
  it('generates the codes of Table K.3 from its BITS and HUFFVAL', () => {
    const t = buildEncodeTable(DC_LUMINANCE);
    const code = (s: number) => t.codes[s]!.toString(2).padStart(t.sizes[s]!, '0');
    expect(code(0)).toBe('00');
    expect(code(1)).toBe('010');
    expect(code(5)).toBe('110');
    expect(code(6)).toBe('1110');
    expect(code(11)).toBe('111111110');
  });

  it('decodes a hand-made stream with the lookahead and the slow path', () => {
    // Category 3 then bits 101 (+5), category 0, category 11 (9-bit code) then 11 bits of 01111111111 (-1024).
    const stream = pack(`100101` + `00` + `111111110` + `01111111111`);
    const r = new BitReader(Uint8Array.from([...stream, 0xff, 0xd9]), 0);
    const table = buildDecodeTable(DC_LUMINANCE);
    expect(r.decode(table)).toBe(3);
    expect(r.receiveExtend(3)).toBe(5);
    expect(r.decode(table)).toBe(0);
    expect(r.decode(table)).toBe(11);
    expect(r.receiveExtend(11)).toBe(-1024);
  });

  it('decodes codes of 10 to 16 bits', () => {
    // One code of each length 1..16: 0, 10, 110, ..., 1111111111111110 (16 bits).
    const spec: HuffmanSpec = {
      counts: Uint8Array.from(Array.from({ length: 16 }, () => 1)),
      values: Uint8Array.from(Array.from({ length: 16 }, (_, i) => 100 + i)),
    };
    const table = buildDecodeTable(spec);
    const bits = `${'1'.repeat(15)}0${'1'.repeat(11)}00`;
    const reader = new BitReader(pack(bits), 0);
    expect(reader.decode(table)).toBe(115);
    expect(reader.decode(table)).toBe(111);
    expect(reader.decode(table)).toBe(100);
  });

  it('rejects a code the table does not hold', () => {
    // Table K.3 has no code 111111111 (nine 1-bits).
    const r = new BitReader(Uint8Array.from([0xff, 0x00, 0xff, 0x00, 0xff, 0x00]), 0);
    expect(() => r.decode(buildDecodeTable(DC_LUMINANCE))).toThrow(MalformedJpegError);
  });

  it('rejects counts that are not a prefix code', () => {
    const counts = new Uint8Array(16);
    counts[0] = 3; // three 1-bit codes
    expect(() => buildDecodeTable({ counts, values: Uint8Array.from([1, 2, 3]) })).toThrow(
      MalformedJpegError,
    );
  });

  it('builds optimal tables of at most 16 bits with no all-ones code (Annex K.2)', () => {
    // Fibonacci frequencies would give a 30-bit code without the K.3 length limit.
    const freq = new Uint32Array(256);
    let a = 1;
    let b = 1;
    for (let s = 0; s < 30; s++) {
      freq[s] = a;
      [a, b] = [b, a + b];
    }
    const spec = optimalHuffmanSpec(freq);
    expect(spec.values.length).toBe(30);
    let kraft = 0;
    spec.counts.forEach((c, i) => {
      kraft += c / 2 ** (i + 1);
    });
    // Strictly below 1: the all-ones code point stays unused (C.2).
    expect(kraft).toBeLessThan(1);
    // Every symbol round-trips through the writer and the reader.
    const enc = buildEncodeTable(spec);
    const w = new JpegWriter(64);
    for (let s = 0; s < 30; s++) w.code(enc, s);
    w.flushBits();
    const r = new BitReader(w.finish(), 0);
    const dec = buildDecodeTable(spec);
    for (let s = 0; s < 30; s++) expect(r.decode(dec)).toBe(s);
  });
});

describe('BitReader (T.81 F.2.2.5)', () => {
  it('reads a stuffed FFH as data and stops at a marker, padding with zeros', () => {
    const r = new BitReader(Uint8Array.from([0xff, 0x00, 0xa5, 0xff, 0xd9]), 0);
    expect(r.receive(8)).toBe(0xff);
    expect(r.receive(8)).toBe(0xa5);
    expect(r.receive(16)).toBe(0);
    expect(r.position).toBe(3);
  });

  it('extends negative differences (Figure F.12)', () => {
    const r = new BitReader(Uint8Array.from([0b0001_0000, 0, 0, 0]), 0);
    expect(r.receiveExtend(1)).toBe(-1); // 0
    expect(r.receiveExtend(3)).toBe(-6); // 001
  });

  it('moves past RSTm and refuses a missing or wrong one', () => {
    const data = Uint8Array.from([0x80, 0xff, 0xd0, 0x40, 0xff, 0xd9]);
    const r = new BitReader(data, 0);
    expect(r.receive(1)).toBe(1);
    r.restart(0);
    expect(r.receive(2)).toBe(1);
    expect(() => r.restart(1)).toThrow(MalformedJpegError);
  });

  it('fails on entropy-coded data cut short instead of reading zeros forever', () => {
    const r = new BitReader(Uint8Array.from([0x12]), 0);
    expect(() => {
      for (let i = 0; i < 100; i++) r.receive(16);
    }).toThrow(MalformedJpegError);
  });
});
