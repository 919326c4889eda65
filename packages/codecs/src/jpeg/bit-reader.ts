/**
 * Reads the entropy-coded segments of a scan (ITU-T T.81 §B.1.1.5, F.2.2.5):
 * bits most significant first, a 00H stuffed after every FFH data byte, and a
 * marker (FFH then anything but 00H) ending the segment.
 */

import { MalformedJpegError } from './errors.js';
import { type HuffmanDecodeTable, LOOKAHEAD_BITS } from './huffman.js';

/**
 * Zero bytes fed past a marker or the end of the data before the scan counts as
 * cut short: the decoder reads a few bytes ahead of the bits it uses, so a small
 * overrun is normal (T.81 F.2.2.5 lets a decoder pad with zeros), a large one is not.
 */
const MAX_ZERO_BYTES = 16;

/** A bit reader over one scan's entropy-coded data. */
export class BitReader {
  readonly #data: Uint8Array;
  #pos: number;
  #buf = 0;
  #count = 0;
  /** Offset of the marker that stopped the reading, or -1 while data flows. */
  #marker = -1;
  #zeros = 0;

  /**
   * @param data - the whole JPEG bitstream
   * @param pos - where the scan's entropy-coded data starts
   */
  constructor(data: Uint8Array, pos: number) {
    this.#data = data;
    this.#pos = pos;
  }

  /** Where reading stopped: the offset of the next unread byte. */
  get position(): number {
    return this.#marker >= 0 ? this.#marker : this.#pos;
  }

  #zero(): void {
    if (++this.#zeros > MAX_ZERO_BYTES) {
      throw new MalformedJpegError('entropy-coded data ends early', this.position);
    }
  }

  #fill(): void {
    const data = this.#data;
    while (this.#count <= 24) {
      let b = 0;
      if (this.#marker < 0 && this.#pos < data.length) {
        b = data[this.#pos]!;
        if (b !== 0xff) {
          this.#pos++;
        } else if (this.#pos + 1 < data.length && data[this.#pos + 1] === 0) {
          // B.1.1.5: FFH 00H is a data byte FFH.
          this.#pos += 2;
        } else {
          // A marker (or fill bytes before one, B.1.1.2): the segment ends here.
          this.#marker = this.#pos;
          b = 0;
          this.#zero();
        }
      } else {
        this.#zero();
      }
      this.#buf = (this.#buf << 8) | b;
      this.#count += 8;
    }
  }

  /**
   * Decodes one Huffman-coded symbol (T.81 F.2.2.3, Figure F.16).
   *
   * @throws MalformedJpegError for a code the table does not hold
   */
  decode(table: HuffmanDecodeTable): number {
    if (this.#count < 16) this.#fill();
    const entry = table.lookahead[(this.#buf >>> (this.#count - LOOKAHEAD_BITS)) & 0x1ff]!;
    if (entry !== 0) {
      this.#count -= entry >> 8;
      return entry & 0xff;
    }
    for (let l = LOOKAHEAD_BITS + 1; l <= 16; l++) {
      const code = (this.#buf >>> (this.#count - l)) & ((1 << l) - 1);
      if (code <= table.maxCode[l]!) {
        this.#count -= l;
        const v = table.values[table.valOffset[l]! + code];
        if (v === undefined) break;
        return v;
      }
    }
    throw new MalformedJpegError('bad Huffman code', this.position);
  }

  /** RECEIVE(n) of T.81 F.2.2.4: the next `n` bits (0 to 16) as an unsigned number. */
  receive(n: number): number {
    if (n === 0) return 0;
    if (this.#count < n) this.#fill();
    this.#count -= n;
    return (this.#buf >>> this.#count) & ((1 << n) - 1);
  }

  /** RECEIVE then EXTEND (T.81 F.2.2.1, Figure F.12): `n` bits as a signed difference. */
  receiveExtend(n: number): number {
    if (n === 0) return 0;
    const v = this.receive(n);
    return v < 1 << (n - 1) ? v - (1 << n) + 1 : v;
  }

  /**
   * A lossless difference (T.81 H.1.2.2, Table H.2): its category SSSS, Huffman coded,
   * then SSSS bits; category 16 is 32768 with no extra bits.
   *
   * @throws MalformedJpegError for a bad code or a category above 16
   */
  difference(table: HuffmanDecodeTable): number {
    const ssss = this.decode(table);
    if (ssss < 16) return this.receiveExtend(ssss);
    if (ssss === 16) return 32768;
    throw new MalformedJpegError('lossless difference category above 16', this.position);
  }

  /**
   * Ends a restart interval (T.81 F.2.2.5 and E.2.4): drops the bits left in the
   * byte and reads the RSTm marker that must follow.
   *
   * @param expected - m of the RSTm expected (0 to 7, counting modulo 8)
   * @throws MalformedJpegError when another marker or no marker follows
   */
  restart(expected: number): void {
    const data = this.#data;
    let p = this.position;
    while (p < data.length && data[p] !== 0xff) p++;
    while (p + 1 < data.length && data[p + 1] === 0xff) p++;
    if (p + 1 >= data.length || data[p + 1] !== 0xd0 + expected) {
      throw new MalformedJpegError(`expected RST${expected} marker`, p);
    }
    this.#pos = p + 2;
    this.#marker = -1;
    this.#buf = 0;
    this.#count = 0;
    this.#zeros = 0;
  }
}
