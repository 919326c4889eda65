/**
 * Encodes one frame with the sequential DCT processes of ITU-T T.81 Annex F,
 * Huffman coded: baseline (SOF0, 8-bit) or extended (SOF1, 8 or 12-bit). The
 * quantization tables are those of Annex K.1 scaled by a quality factor (the
 * IJG library's scale, which users of dcmcjpeg know); the Huffman tables are made
 * optimal for each frame (Annex K.2), one pair for luminance, one for chrominance.
 */

import { downsample } from './colour.js';
import { forwardDct, ZIGZAG } from './dct.js';
import { UnsupportedJpegError } from './errors.js';
import { buildEncodeTable, type HuffmanEncodeTable, optimalHuffmanSpec } from './huffman.js';
import { Marker } from './jpeg-reader.js';
import { category, dhtBody, JpegWriter, sofBody, sosBody } from './jpeg-writer.js';

/** T.81 Table K.1: luminance quantization table, natural order. */
const LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
  92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** T.81 Table K.2: chrominance quantization table, natural order. */
const CHROMINANCE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
  47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
  99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/** The default quality (1 to 100) when `options.lossy.quality` is not given. */
export const DEFAULT_JPEG_QUALITY = 90;

/** What {@link encodeDct} encodes. */
export interface DctInput {
  /** One full-resolution plane per component (Y, Cb, Cr for colour), `rows * columns` samples. */
  readonly planes: readonly Float64Array[];
  readonly rows: number;
  readonly columns: number;
  /** P: 8 (baseline or extended) or 12 (extended only). */
  readonly precision: number;
  /** SOF0 (baseline) or SOF1 (extended). */
  readonly marker: number;
  /** `[Hi, Vi]` per component (T.81 A.1.1). */
  readonly sampling: readonly (readonly [number, number])[];
  /** 1 (smallest, worst) to 100 (largest, best). */
  readonly quality: number;
  /** MCUs per restart interval (T.81 B.2.4.4); 0 or absent: no restart markers. */
  readonly restartInterval?: number;
}

/** Scales a T.81 Annex K table by quality, the IJG library's way; zig-zag order, 1 to 255. */
function scaledTable(base: readonly number[], quality: number): Uint8Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  const out = new Uint8Array(64);
  for (let k = 0; k < 64; k++) {
    const v = Math.floor((base[ZIGZAG[k]!]! * scale + 50) / 100);
    out[k] = Math.min(255, Math.max(1, v));
  }
  return out;
}

/**
 * Encodes the planes as one interleaved sequential DCT scan.
 *
 * @throws UnsupportedJpegError for a precision the marker does not allow
 */
export function encodeDct(input: DctInput): Uint8Array {
  const { planes, rows, columns, precision, marker, sampling, quality } = input;
  const restartInterval = input.restartInterval ?? 0;
  // B.2.2: baseline has P 8; extended 8 or 12.
  if (!(precision === 8 || (precision === 12 && marker === Marker.SOF1))) {
    throw new UnsupportedJpegError(`DCT precision ${precision} with SOF${marker - 0xc0}`);
  }
  const n = planes.length;
  const hMax = Math.max(...sampling.map((s) => s[0]));
  const vMax = Math.max(...sampling.map((s) => s[1]));
  const mcusX = Math.ceil(columns / (8 * hMax));
  const mcusY = Math.ceil(rows / (8 * vMax));
  const center = 1 << (precision - 1);
  const limit = (1 << (precision + 2)) - 1;
  const qTables = [scaledTable(LUMINANCE, quality), scaledTable(CHROMINANCE, quality)];
  const tableOf = (c: number): number => (c === 0 ? 0 : 1);
  // Each component padded to whole MCUs (A.2.4), replicating its last column and line.
  const padded = planes.map((plane, c) => {
    const [h, v] = sampling[c]!;
    return downsample(plane, columns, rows, hMax / h, vMax / v, mcusX * h * 8, mcusY * v * 8);
  });
  let blocksPerMcu = 0;
  for (const [h, v] of sampling) blocksPerMcu += h * v;
  const blockCount = mcusX * mcusY * blocksPerMcu;
  // Pass 1: the quantized coefficients in zig-zag order and coding order, and their statistics.
  const coefs = new Int32Array(blockCount * 64);
  const blockComponent = new Uint8Array(blockCount);
  const samples = new Float64Array(64);
  const transformed = new Float64Array(64);
  let b = 0;
  for (let my = 0; my < mcusY; my++) {
    for (let mx = 0; mx < mcusX; mx++) {
      for (let c = 0; c < n; c++) {
        const [h, v] = sampling[c]!;
        const plane = padded[c]!;
        const stride = mcusX * h * 8;
        const q = qTables[tableOf(c)]!;
        for (let by = 0; by < v; by++) {
          for (let bx = 0; bx < h; bx++) {
            const ox = (mx * h + bx) * 8;
            const oy = (my * v + by) * 8;
            for (let y = 0; y < 8; y++) {
              for (let x = 0; x < 8; x++) {
                // A.3.1: level shift by 2^(P-1).
                samples[y * 8 + x] = plane[(oy + y) * stride + ox + x]! - center;
              }
            }
            forwardDct(samples, transformed);
            const base = b * 64;
            for (let k = 0; k < 64; k++) {
              // A.3.4: uniform quantization, rounded to the nearest integer.
              // Rounded half away from zero, in integer arithmetic (no -0 from Math.round).
              const r = transformed[ZIGZAG[k]!]! / q[k]!;
              const v = r < 0 ? 0 - ((0.5 - r) | 0) : (r + 0.5) | 0;
              // F.1.2: at most 11 (DC) and 10 (AC) bits of magnitude for 8-bit, 15 and 14 for 12-bit.
              coefs[base + k] = v > limit ? limit : Math.max(v, -limit);
            }
            blockComponent[b] = c;
            b++;
          }
        }
      }
    }
  }
  const tablesUsed = n === 1 ? 1 : 2;
  const dcFreq = Array.from({ length: tablesUsed }, () => new Uint32Array(256));
  const acFreq = Array.from({ length: tablesUsed }, () => new Uint32Array(256));
  const mcuBlocks = restartInterval * blocksPerMcu;
  codeBlocks(coefs, blockComponent, n, mcuBlocks, undefined, (c, dc, symbol) => {
    (dc ? dcFreq : acFreq)[tableOf(c)]![symbol]!++;
  });
  const dcSpecs = dcFreq.map((f) => optimalHuffmanSpec(f));
  const acSpecs = acFreq.map((f) => optimalHuffmanSpec(f));
  const dcTables = dcSpecs.map(buildEncodeTable);
  const acTables = acSpecs.map(buildEncodeTable);
  const w = new JpegWriter(blockCount * 16 + 1024);
  w.marker(Marker.SOI);
  for (let t = 0; t < tablesUsed; t++) w.segment(Marker.DQT, [t, ...qTables[t]!]);
  w.segment(
    marker,
    sofBody(
      precision,
      rows,
      columns,
      sampling.map(([h, v], c) => [h, v, tableOf(c)] as const),
    ),
  );
  for (let t = 0; t < tablesUsed; t++) {
    w.segment(Marker.DHT, [...dhtBody(0, t, dcSpecs[t]!), ...dhtBody(1, t, acSpecs[t]!)]);
  }
  if (restartInterval > 0) {
    w.segment(Marker.DRI, [restartInterval >> 8, restartInterval & 0xff]);
  }
  w.segment(
    Marker.SOS,
    sosBody(
      planes.map((_, c) => [c, tableOf(c), tableOf(c)] as const),
      0,
      63,
      0,
    ),
  );
  // Pass 2: the entropy-coded data (F.1.2).
  let rst = 0;
  const restart = (): void => {
    // E.1.4: pad the interval's last byte, then RSTm counting modulo 8.
    w.flushBits();
    w.marker(Marker.RST0 + (rst++ & 7));
  };
  codeBlocks(coefs, blockComponent, n, mcuBlocks, restart, (c, dc, symbol, bits, size) => {
    const t = tableOf(c);
    const table: HuffmanEncodeTable = dc ? dcTables[t]! : acTables[t]!;
    w.code(table, symbol);
    w.bits(bits, size);
  });
  w.flushBits();
  w.marker(Marker.EOI);
  return w.finish();
}

/**
 * Walks the blocks in coding order and reports each Huffman symbol with its
 * additional bits: the DC difference category (F.1.2.1) and the AC run/size
 * symbols with ZRL and EOB (F.1.2.2).
 */
function codeBlocks(
  coefs: Int32Array,
  blockComponent: Uint8Array,
  components: number,
  blocksPerInterval: number,
  restart: (() => void) | undefined,
  emit: (component: number, dc: boolean, symbol: number, bits: number, size: number) => void,
): void {
  const pred = new Int32Array(components);
  const blocks = blockComponent.length;
  for (let b = 0; b < blocks; b++) {
    if (blocksPerInterval > 0 && b > 0 && b % blocksPerInterval === 0) {
      // F.1.1.5.1 and E.1.4: each restart interval starts with DC predictions of 0.
      pred.fill(0);
      restart?.();
    }
    const c = blockComponent[b]!;
    const base = b * 64;
    const dc = coefs[base]!;
    const diff = dc - pred[c]!;
    pred[c] = dc;
    const s = category(diff);
    emit(c, true, s, diff < 0 ? diff + (1 << s) - 1 : diff, s);
    let run = 0;
    for (let k = 1; k < 64; k++) {
      const v = coefs[base + k]!;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        emit(c, false, 0xf0, 0, 0);
        run -= 16;
      }
      const size = category(v);
      emit(c, false, (run << 4) | size, v < 0 ? v + (1 << size) - 1 : v, size);
      run = 0;
    }
    if (run > 0) emit(c, false, 0x00, 0, 0);
  }
}
