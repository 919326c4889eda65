/**
 * Huffman tables of ITU-T T.81: the table specification a DHT segment carries
 * (B.2.4.2), the code generation of Annex C, the decoding procedure of F.2.2.3
 * (with a lookahead table so most codes take one step), and optimal tables built
 * from symbol statistics (Annex K.2).
 */

import { MalformedJpegError } from './errors.js';

/** A Huffman table as a DHT segment specifies it (T.81 B.2.4.2). */
export interface HuffmanSpec {
  /** BITS: the number of codes of each length 1..16 (16 entries). */
  readonly counts: Uint8Array;
  /** HUFFVAL: the symbols in order of increasing code length. */
  readonly values: Uint8Array;
}

/** The bits of lookahead the fast path of {@link HuffmanDecodeTable} resolves in one step. */
export const LOOKAHEAD_BITS = 9;

/** A table ready for decoding (T.81 F.2.2.3: MAXCODE, VALPTR, MINCODE, plus a lookahead). */
export interface HuffmanDecodeTable {
  /** MAXCODE per length 1..16 (index 0 unused; -1 when no code has that length). */
  readonly maxCode: Int32Array;
  /** VALPTR - MINCODE per length: add the code to get the index into `values`. */
  readonly valOffset: Int32Array;
  /** HUFFVAL. */
  readonly values: Uint8Array;
  /** For each {@link LOOKAHEAD_BITS}-bit prefix: `(length << 8) | symbol`, or 0 when the code is longer. */
  readonly lookahead: Uint16Array;
}

/** A table ready for encoding (T.81 C.3: EHUFCO and EHUFSI indexed by symbol). */
export interface HuffmanEncodeTable {
  /** The code of each symbol. */
  readonly codes: Uint16Array;
  /** The code length of each symbol (0: the symbol has no code). */
  readonly sizes: Uint8Array;
}

/**
 * Code sizes and codes in HUFFVAL order (T.81 C.2, Figures C.1 and C.2).
 *
 * @throws MalformedJpegError when the counts overflow a code length (not a prefix code)
 */
function generateCodes(spec: HuffmanSpec): { sizes: Uint8Array; codes: Uint16Array } {
  let total = 0;
  for (let l = 0; l < 16; l++) total += spec.counts[l]!;
  if (total > spec.values.length || total > 256) {
    throw new MalformedJpegError('Huffman table counts more codes than it has values');
  }
  const sizes = new Uint8Array(total);
  const codes = new Uint16Array(total);
  let k = 0;
  let code = 0;
  for (let l = 1; l <= 16; l++) {
    const n = spec.counts[l - 1]!;
    for (let i = 0; i < n; i++) {
      sizes[k] = l;
      codes[k] = code;
      code++;
      k++;
    }
    // Every code of length l must fit in l bits (C.2: the codes are a prefix code).
    if (code > 1 << l) throw new MalformedJpegError('Huffman table is not a prefix code');
    code <<= 1;
  }
  return { sizes, codes };
}

/**
 * Builds the decoding tables of T.81 F.2.2.3 (Figure F.15) and a lookahead table.
 *
 * @param spec - the table as a DHT segment gave it
 * @throws MalformedJpegError for counts that do not form a prefix code
 */
export function buildDecodeTable(spec: HuffmanSpec): HuffmanDecodeTable {
  const { sizes, codes } = generateCodes(spec);
  const maxCode = new Int32Array(18).fill(-1);
  const valOffset = new Int32Array(18);
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = spec.counts[l - 1]!;
    if (n === 0) continue;
    valOffset[l] = k - codes[k]!;
    k += n;
    maxCode[l] = codes[k - 1]!;
  }
  // A sentinel past 16 bits: F.2.2.3 ends on a code no table holds.
  maxCode[17] = 0x7fffffff;
  const lookahead = new Uint16Array(1 << LOOKAHEAD_BITS);
  for (let i = 0; i < sizes.length; i++) {
    const l = sizes[i]!;
    if (l > LOOKAHEAD_BITS) break;
    const shift = LOOKAHEAD_BITS - l;
    const base = codes[i]! << shift;
    for (let j = 0; j < 1 << shift; j++) lookahead[base + j] = (l << 8) | spec.values[i]!;
  }
  return { maxCode, valOffset, values: spec.values, lookahead };
}

/**
 * Builds EHUFCO and EHUFSI (T.81 C.3, Figure C.3) indexed by symbol.
 *
 * @param spec - the table
 */
export function buildEncodeTable(spec: HuffmanSpec): HuffmanEncodeTable {
  const { sizes, codes } = generateCodes(spec);
  const out = { codes: new Uint16Array(256), sizes: new Uint8Array(256) };
  for (let i = 0; i < sizes.length; i++) {
    const v = spec.values[i]!;
    out.codes[v] = codes[i]!;
    out.sizes[v] = sizes[i]!;
  }
  return out;
}

/**
 * An optimal Huffman table for symbol frequencies (T.81 Annex K.2, Figures K.1 to K.4):
 * code lengths from the frequencies, limited to 16 bits, with the all-ones code point
 * reserved so that no code consists of 1-bits only (C.2).
 *
 * @param frequencies - how often each symbol 0..255 occurs (at least 256 entries; read only)
 */
export function optimalHuffmanSpec(frequencies: ArrayLike<number>): HuffmanSpec {
  const freq = new Float64Array(257);
  for (let i = 0; i < 256; i++) freq[i] = frequencies[i] ?? 0;
  // K.2: one reserved code point (symbol 256) keeps a code of all 1-bits out of the table.
  freq[256] = 1;
  const codeSize = new Int32Array(257);
  const others = new Int32Array(257).fill(-1);
  for (;;) {
    // Figure K.1: V1 the least non-zero frequency, V2 the next least (ties: the larger symbol).
    let v1 = -1;
    let v2 = -1;
    for (let i = 0; i <= 256; i++) {
      const f = freq[i]!;
      if (f === 0) continue;
      if (v1 < 0 || f <= freq[v1]!) {
        v2 = v1;
        v1 = i;
      } else if (v2 < 0 || f <= freq[v2]!) {
        v2 = i;
      }
    }
    if (v2 < 0) break;
    freq[v1]! += freq[v2]!;
    freq[v2] = 0;
    codeSize[v1]!++;
    while (others[v1]! >= 0) {
      v1 = others[v1]!;
      codeSize[v1]!++;
    }
    others[v1] = v2;
    codeSize[v2]!++;
    while (others[v2]! >= 0) {
      v2 = others[v2]!;
      codeSize[v2]!++;
    }
  }
  // Figure K.2: count the codes of each size (up to 32 bits before adjustment).
  const bits = new Int32Array(33);
  for (let i = 0; i <= 256; i++) if (codeSize[i]! > 0) bits[Math.min(codeSize[i]!, 32)]!++;
  // Figure K.3: move codes longer than 16 bits up the tree.
  for (let i = 32; i > 16; i--) {
    while (bits[i]! > 0) {
      let j = i - 2;
      while (bits[j] === 0) j--;
      bits[i]! -= 2;
      bits[i - 1]!++;
      bits[j + 1]! += 2;
      bits[j]!--;
    }
  }
  // Remove the reserved code point from the longest length.
  let longest = 16;
  while (longest > 0 && bits[longest] === 0) longest--;
  bits[longest]!--;
  const counts = new Uint8Array(16);
  for (let l = 1; l <= 16; l++) counts[l - 1] = bits[l]!;
  // Figure K.4: the symbols sorted by code size, then by value.
  const values: number[] = [];
  for (let size = 1; size <= 32; size++) {
    for (let i = 0; i < 256; i++) if (codeSize[i] === size) values.push(i);
  }
  return { counts, values: Uint8Array.from(values) };
}
