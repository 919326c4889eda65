/**
 * Reads the marker segments of an ITU-T T.81 interchange-format bitstream
 * (Annex B): SOI, tables (DQT, DHT, DRI), the frame header (SOFn), each scan
 * header (SOS) with its entropy-coded data, and EOI. The decoding of a scan's
 * entropy-coded data is left to the caller (lossless or DCT).
 */

import { BitReader } from './bit-reader.js';
import { MalformedJpegError, UnsupportedJpegError } from './errors.js';
import { buildDecodeTable, type HuffmanDecodeTable } from './huffman.js';

/** Marker codes of T.81 Table B.1 used here. */
export const Marker = {
  /** Start of frame, baseline DCT (Process 1). */
  SOF0: 0xc0,
  /** Start of frame, extended sequential DCT, Huffman (Processes 2 and 4). */
  SOF1: 0xc1,
  /** Start of frame, progressive DCT, Huffman. */
  SOF2: 0xc2,
  /** Start of frame, lossless (sequential), Huffman (Process 14). */
  SOF3: 0xc3,
  /** Define Huffman tables. */
  DHT: 0xc4,
  /** Define arithmetic coding conditioning. */
  DAC: 0xcc,
  /** Restart with modulo 8 count 0 (RST0..RST7 are D0H..D7H). */
  RST0: 0xd0,
  /** Start of image. */
  SOI: 0xd8,
  /** End of image. */
  EOI: 0xd9,
  /** Start of scan. */
  SOS: 0xda,
  /** Define quantization tables. */
  DQT: 0xdb,
  /** Define number of lines. */
  DNL: 0xdc,
  /** Define restart interval. */
  DRI: 0xdd,
} as const;

/** One frame component (T.81 B.2.2, Table B.2). */
export interface FrameComponent {
  /** Ci: the component identifier. */
  readonly id: number;
  /** Hi: horizontal sampling factor (1-4). */
  readonly h: number;
  /** Vi: vertical sampling factor (1-4). */
  readonly v: number;
  /** Tqi: quantization table selector (0-3). */
  readonly tq: number;
}

/** A frame header (T.81 B.2.2). */
export interface FrameHeader {
  /** The SOFn marker code. */
  readonly marker: number;
  /** P: sample precision in bits. */
  readonly precision: number;
  /** Y: number of lines. */
  readonly rows: number;
  /** X: number of samples per line. */
  readonly columns: number;
  /** The components, in frame order. */
  readonly components: readonly FrameComponent[];
}

/** One scan component (T.81 B.2.3, Table B.3). */
export interface ScanComponent {
  /** Index of the component in {@link FrameHeader.components}. */
  readonly index: number;
  /** Tdj: DC (lossless: the only) entropy table selector. */
  readonly td: number;
  /** Taj: AC entropy table selector. */
  readonly ta: number;
}

/** A scan header (T.81 B.2.3). */
export interface ScanHeader {
  /** The components of the scan. */
  readonly components: readonly ScanComponent[];
  /** Ss: start of spectral selection, or the predictor selection value (lossless). */
  readonly ss: number;
  /** Se: end of spectral selection (0 in lossless). */
  readonly se: number;
  /** Ah: successive approximation bit position high. */
  readonly ah: number;
  /** Al: successive approximation bit position low, or the point transform Pt (lossless). */
  readonly al: number;
}

/** The tables in force when a scan starts (T.81 B.2.4, B.3: tables persist until redefined). */
export interface JpegTables {
  /** Quantization tables 0-3 in zig-zag order, `undefined` where none was defined. */
  readonly quantization: (Uint16Array | undefined)[];
  /** DC (or lossless) Huffman tables 0-3. */
  readonly dc: (HuffmanDecodeTable | undefined)[];
  /** AC Huffman tables 0-3. */
  readonly ac: (HuffmanDecodeTable | undefined)[];
  /** Ri: MCUs per restart interval; 0 disables restart (B.2.4.4). */
  restartInterval: number;
}

/** What a scan decoder gets for one scan. */
export interface ScanContext {
  readonly frame: FrameHeader;
  readonly scan: ScanHeader;
  readonly tables: JpegTables;
  /** The reader positioned at the scan's first entropy-coded byte. */
  readonly reader: BitReader;
}

/** The callbacks of {@link readJpeg}. */
export interface JpegHandler {
  /** Called once with the frame header, before any scan. */
  frame(frame: FrameHeader, tables: JpegTables): void;
  /** Decodes one scan; the reader's position afterwards is where its data ended. */
  scan(context: ScanContext): void;
}

function u16(data: Uint8Array, p: number): number {
  return (data[p]! << 8) | data[p + 1]!;
}

/**
 * Walks the marker segments of a JPEG bitstream (T.81 Annex B) and hands the
 * frame header and each scan to `handler`. Only one frame (non-hierarchical
 * processes) is accepted.
 *
 * @param data - the bitstream of one frame (one DICOM frame's fragments joined)
 * @param handler - receives the frame and decodes each scan
 * @throws MalformedJpegError on a syntax error, UnsupportedJpegError on a process not implemented
 */
export function readJpeg(data: Uint8Array, handler: JpegHandler): FrameHeader {
  const tables: JpegTables = {
    quantization: [undefined, undefined, undefined, undefined],
    dc: [undefined, undefined, undefined, undefined],
    ac: [undefined, undefined, undefined, undefined],
    restartInterval: 0,
  };
  if (data.length < 4 || data[0] !== 0xff || data[1] !== Marker.SOI) {
    throw new MalformedJpegError('no SOI marker at the start of the frame (T.81 B.2.1)', 0);
  }
  let p = 2;
  let frame: FrameHeader | undefined;
  let scans = 0;
  for (;;) {
    // B.1.1.2: a marker may be preceded by any number of fill bytes FFH.
    if (p < data.length && data[p] !== 0xff) throw new MalformedJpegError('expected a marker', p);
    while (p + 1 < data.length && data[p + 1] === 0xff) p++;
    if (p + 1 >= data.length) {
      // No EOI: accept a stream whose scans are complete, as decoders commonly do.
      if (frame && scans > 0) return frame;
      throw new MalformedJpegError('the bitstream ends before any scan', p);
    }
    const marker = data[p + 1]!;
    p += 2;
    if (marker === Marker.EOI) {
      if (!frame || scans === 0) throw new MalformedJpegError('EOI before any scan', p - 2);
      return frame;
    }
    if (marker >= Marker.RST0 && marker <= Marker.RST0 + 7) {
      throw new MalformedJpegError('RST marker outside entropy-coded data', p - 2);
    }
    if (p + 2 > data.length) throw new MalformedJpegError('truncated marker segment', p);
    const length = u16(data, p);
    if (length < 2 || p + length > data.length) {
      throw new MalformedJpegError('marker segment length runs past the data', p);
    }
    const seg = data.subarray(p + 2, p + length);
    const segStart = p;
    p += length;
    switch (marker) {
      case Marker.DQT:
        readDqt(seg, tables, segStart);
        break;
      case Marker.DHT:
        readDht(seg, tables, segStart);
        break;
      case Marker.DRI:
        if (seg.length < 2) throw new MalformedJpegError('short DRI segment', segStart);
        tables.restartInterval = u16(seg, 0);
        break;
      case Marker.SOS: {
        if (!frame) throw new MalformedJpegError('SOS before the frame header', segStart);
        const scan = readSos(seg, frame, segStart);
        const reader = new BitReader(data, p);
        handler.scan({ frame, scan, tables, reader });
        scans++;
        // The scan's data ends at the first marker that is not RSTm (B.1.1.5).
        p = reader.position;
        for (;;) {
          while (p < data.length && data[p] !== 0xff) p++;
          while (p + 1 < data.length && data[p + 1] === 0xff) p++;
          if (p + 1 >= data.length) break;
          const m = data[p + 1]!;
          if (m === 0 || (m >= Marker.RST0 && m <= Marker.RST0 + 7)) {
            p += 2;
            continue;
          }
          break;
        }
        break;
      }
      case Marker.DNL:
        throw new UnsupportedJpegError(
          'DNL marker (number of lines after the first scan)',
          segStart,
        );
      default:
        if (marker >= 0xc0 && marker <= 0xcf && marker !== Marker.DHT && marker !== Marker.DAC) {
          if (frame) throw new UnsupportedJpegError('more than one frame (hierarchical process)');
          frame = readSof(marker, seg, segStart);
          handler.frame(frame, tables);
        } else if (marker === Marker.DAC) {
          throw new UnsupportedJpegError('arithmetic coding (DAC)', segStart);
        }
      // APPn, COM and others: skipped (B.2.4.5, B.2.4.6).
    }
  }
}

function readDqt(seg: Uint8Array, tables: JpegTables, at: number): void {
  let q = 0;
  while (q < seg.length) {
    const pq = seg[q]! >> 4;
    const tq = seg[q]! & 15;
    if (pq > 1 || tq > 3) throw new MalformedJpegError('bad DQT Pq or Tq (B.2.4.1)', at);
    const size = pq === 0 ? 64 : 128;
    if (q + 1 + size > seg.length) throw new MalformedJpegError('short DQT segment', at);
    const table = new Uint16Array(64);
    for (let i = 0; i < 64; i++) {
      table[i] = pq === 0 ? seg[q + 1 + i]! : u16(seg, q + 1 + 2 * i);
    }
    tables.quantization[tq] = table;
    q += 1 + size;
  }
}

function readDht(seg: Uint8Array, tables: JpegTables, at: number): void {
  let q = 0;
  while (q < seg.length) {
    if (q + 17 > seg.length) throw new MalformedJpegError('short DHT segment', at);
    const tc = seg[q]! >> 4;
    const th = seg[q]! & 15;
    if (tc > 1 || th > 3) throw new MalformedJpegError('bad DHT Tc or Th (B.2.4.2)', at);
    const counts = seg.slice(q + 1, q + 17);
    let n = 0;
    for (const c of counts) n += c;
    if (n > 256 || q + 17 + n > seg.length) throw new MalformedJpegError('short DHT segment', at);
    const values = seg.slice(q + 17, q + 17 + n);
    const table = buildDecodeTable({ counts, values });
    if (tc === 0) tables.dc[th] = table;
    else tables.ac[th] = table;
    q += 17 + n;
  }
}

function readSof(marker: number, seg: Uint8Array, at: number): FrameHeader {
  if (seg.length < 6) throw new MalformedJpegError('short frame header', at);
  const nf = seg[5]!;
  if (nf < 1 || seg.length < 6 + 3 * nf) throw new MalformedJpegError('short frame header', at);
  const components: FrameComponent[] = [];
  for (let i = 0; i < nf; i++) {
    const b = 6 + 3 * i;
    const h = seg[b + 1]! >> 4;
    const v = seg[b + 1]! & 15;
    const tq = seg[b + 2]!;
    // B.2.2: Hi and Vi are 1 to 4, Tqi 0 to 3.
    if (h < 1 || h > 4 || v < 1 || v > 4 || tq > 3) {
      throw new MalformedJpegError('bad component sampling factors or table (B.2.2)', at);
    }
    components.push({ id: seg[b]!, h, v, tq });
  }
  const frame = {
    marker,
    precision: seg[0]!,
    rows: u16(seg, 1),
    columns: u16(seg, 3),
    components,
  };
  if (frame.columns === 0) throw new MalformedJpegError('frame of zero samples per line', at);
  if (frame.rows === 0) throw new UnsupportedJpegError('frame whose lines are given by DNL', at);
  return frame;
}

function readSos(seg: Uint8Array, frame: FrameHeader, at: number): ScanHeader {
  const ns = seg[0] ?? 0;
  if (ns < 1 || ns > 4 || seg.length < 1 + 2 * ns + 3) {
    throw new MalformedJpegError('bad scan header (B.2.3)', at);
  }
  const components: ScanComponent[] = [];
  for (let i = 0; i < ns; i++) {
    const id = seg[1 + 2 * i]!;
    const index = frame.components.findIndex((c) => c.id === id);
    if (index < 0) throw new MalformedJpegError(`scan names unknown component ${id}`, at);
    const t = seg[2 + 2 * i]!;
    components.push({ index, td: t >> 4, ta: t & 15 });
  }
  const b = 1 + 2 * ns;
  return {
    components,
    ss: seg[b]!,
    se: seg[b + 1]!,
    ah: seg[b + 2]! >> 4,
    al: seg[b + 2]! & 15,
  };
}
