/**
 * Writes ITU-T T.81 interchange-format bitstreams: marker segments (Annex B)
 * and entropy-coded data with byte stuffing (B.1.1.5) and 1-bit padding (F.1.2.3).
 */

import type { HuffmanEncodeTable, HuffmanSpec } from './huffman.js';

/** A growing byte buffer with a bit writer for entropy-coded data. */
export class JpegWriter {
  #buf: Uint8Array;
  #len = 0;
  #acc = 0;
  #bits = 0;

  /** @param capacity - the first allocation in bytes (grows as needed) */
  constructor(capacity: number) {
    this.#buf = new Uint8Array(Math.max(1024, capacity));
  }

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Appends one byte. */
  byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
  }

  /** Appends a big-endian 16-bit value (B.1.1.4: all T.81 parameters are big endian). */
  u16(v: number): void {
    this.byte(v >> 8);
    this.byte(v & 0xff);
  }

  /** Appends a marker (FFH then its code). */
  marker(code: number): void {
    this.byte(0xff);
    this.byte(code);
  }

  /** Appends a marker segment: the marker, its length Lx (including itself) and `body`. */
  segment(code: number, body: ArrayLike<number>): void {
    this.marker(code);
    this.u16(body.length + 2);
    this.#ensure(body.length);
    for (let i = 0; i < body.length; i++) this.#buf[this.#len++] = body[i]!;
  }

  /** Appends `size` (0 to 16) bits of `value`, most significant first, stuffing 00H after each FFH. */
  bits(value: number, size: number): void {
    if (size === 0) return;
    this.#acc = (this.#acc << size) | (value & ((1 << size) - 1));
    this.#bits += size;
    while (this.#bits >= 8) {
      this.#bits -= 8;
      const b = (this.#acc >> this.#bits) & 0xff;
      this.#ensure(2);
      this.#buf[this.#len++] = b;
      if (b === 0xff) this.#buf[this.#len++] = 0;
    }
    this.#acc &= (1 << this.#bits) - 1;
  }

  /** Appends the Huffman code of `symbol`. */
  code(table: HuffmanEncodeTable, symbol: number): void {
    this.bits(table.codes[symbol]!, table.sizes[symbol]!);
  }

  /** Ends entropy-coded data: pads the last byte with 1-bits (F.1.2.3). */
  flushBits(): void {
    if (this.#bits > 0) this.bits(0x7f, 8 - this.#bits);
  }

  /** The bytes written, trimmed. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** The body of a DHT segment for one table (B.2.4.2). */
export function dhtBody(tc: number, th: number, spec: HuffmanSpec): number[] {
  return [(tc << 4) | th, ...spec.counts, ...spec.values];
}

/**
 * The body of a frame header (B.2.2): P, Y, X, Nf and each component's Ci, Hi/Vi, Tqi.
 *
 * @param components - `[h, v, tq]` per component; identifiers are 1, 2, 3...
 */
export function sofBody(
  precision: number,
  rows: number,
  columns: number,
  components: readonly (readonly [number, number, number])[],
): number[] {
  const body = [precision, rows >> 8, rows & 0xff, columns >> 8, columns & 0xff, components.length];
  components.forEach(([h, v, tq], i) => {
    body.push(i + 1, (h << 4) | v, tq);
  });
  return body;
}

/**
 * The body of a scan header (B.2.3): Ns, each component's Csj and Tdj/Taj, Ss, Se, Ah/Al.
 *
 * @param components - `[componentIndex, td, ta]` per scan component
 */
export function sosBody(
  components: readonly (readonly [number, number, number])[],
  ss: number,
  se: number,
  al: number,
): number[] {
  const body = [components.length];
  for (const [i, td, ta] of components) body.push(i + 1, (td << 4) | ta);
  body.push(ss, se, al);
  return body;
}

/** The category SSSS of a difference or coefficient: the bits of its magnitude (T.81 F.1.2.1.1). */
export function category(v: number): number {
  return 32 - Math.clz32(v < 0 ? -v : v);
}
