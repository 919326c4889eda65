/**
 * Decodes one JPEG frame (ITU-T T.81) to sample planes: the sequential DCT
 * processes with Huffman coding, 8 and 12 bits (baseline, SOF0; extended, SOF1:
 * Annex F), and the lossless process (SOF3: Annex H), 2 to 16 bits, every
 * predictor and point transform, interleaved or not, with restart intervals.
 */

import type { BitReader } from './bit-reader.js';
import { type ComponentPlane, upsample, ycbcrToRgb } from './colour.js';
import { inverseDct, ZIGZAG } from './dct.js';
import { MalformedJpegError, UnsupportedJpegError } from './errors.js';
import type { HuffmanDecodeTable } from './huffman.js';
import {
  type FrameHeader,
  type JpegTables,
  Marker,
  readJpeg,
  type ScanContext,
} from './jpeg-reader.js';
import { predict } from './prediction.js';

/** A decoded frame: one full-resolution plane per component, in frame order. */
export interface DecodedJpeg {
  /** The frame header. */
  readonly frame: FrameHeader;
  /** One plane of `rows * columns` samples per component. */
  readonly planes: Uint16Array[];
  /** The tables in force at the end of the stream. */
  readonly tables: JpegTables;
}

/** Options of {@link decodeJpeg}. */
export interface DecodeJpegOptions {
  /**
   * Refuse a frame header larger than this many samples per component before
   * allocating anything (the caller knows the frame's rows and columns).
   */
  readonly maxSamples: number;
  /** Convert three YCbCr components of a DCT frame to RGB (PS3.5 §8.2.1 YBR_FULL_422). */
  readonly toRgb: boolean;
}

/**
 * Decodes one JPEG bitstream.
 *
 * @throws MalformedJpegError, UnsupportedJpegError
 */
export function decodeJpeg(data: Uint8Array, options: DecodeJpegOptions): DecodedJpeg {
  let state: DctState | LosslessState | undefined;
  let tablesSeen: JpegTables | undefined;
  const frame = readJpeg(data, {
    frame(f, tables) {
      tablesSeen = tables;
      if (f.rows * f.columns > options.maxSamples) {
        throw new MalformedJpegError(
          `frame header of ${f.columns}x${f.rows} is larger than the frame described`,
        );
      }
      if (f.marker === Marker.SOF3) state = losslessState(f);
      else if (f.marker === Marker.SOF0 || f.marker === Marker.SOF1) state = dctState(f);
      else if (f.marker === Marker.SOF2) throw new UnsupportedJpegError('progressive DCT (SOF2)');
      else {
        throw new UnsupportedJpegError(
          `JPEG process of SOF${f.marker - 0xc0} (hierarchical or arithmetic coding)`,
        );
      }
    },
    scan(context) {
      if (state?.kind === 'lossless') decodeLosslessScan(context, state);
      else if (state?.kind === 'dct') decodeDctScan(context, state);
    },
  });
  if (!state || !tablesSeen) throw new MalformedJpegError('no frame header');
  if (state.kind === 'lossless') {
    const pt = state.pointTransform;
    if (pt > 0) for (const p of state.planes) for (let i = 0; i < p.length; i++) p[i] = p[i]! << pt;
    return { frame, planes: state.planes, tables: tablesSeen };
  }
  const planes = state.planes.map((p) => upsample(p, frame.columns, frame.rows));
  if (options.toRgb && planes.length === 3) {
    ycbcrToRgb(planes[0]!, planes[1]!, planes[2]!, frame.precision);
  }
  return { frame, planes, tables: tablesSeen };
}

function table(tables: (HuffmanDecodeTable | undefined)[], i: number): HuffmanDecodeTable {
  const t = tables[i];
  if (!t) throw new MalformedJpegError(`scan uses Huffman table ${i}, never defined`);
  return t;
}

// ---- Lossless (T.81 Annex H) ----

interface LosslessState {
  readonly kind: 'lossless';
  readonly planes: Uint16Array[];
  pointTransform: number;
}

function losslessState(f: FrameHeader): LosslessState {
  // H.1.1: P is 2 to 16 bits.
  if (f.precision < 2 || f.precision > 16) {
    throw new MalformedJpegError(`lossless sample precision ${f.precision} (H.1.1: 2 to 16)`);
  }
  if (f.components.some((c) => c.h !== 1 || c.v !== 1)) {
    throw new UnsupportedJpegError('lossless frame with subsampled components');
  }
  return {
    kind: 'lossless',
    planes: f.components.map(() => new Uint16Array(f.rows * f.columns)),
    pointTransform: 0,
  };
}

/**
 * One lossless scan (T.81 H.1.2): each sample is its prediction plus a Huffman-coded
 * difference modulo 2^16 (H.1.2.2, Table H.2: SSSS 16 means 32768 with no extra bits).
 */
function decodeLosslessScan(context: ScanContext, state: LosslessState): void {
  const { frame, scan, tables, reader } = context;
  const predictor = scan.ss;
  const pt = scan.al;
  // H.1.2.1: Ss selects predictor 1-7 (0 is for the hierarchical mode only); Pt < P.
  if (predictor < 1 || predictor > 7) {
    throw new UnsupportedJpegError(`lossless predictor ${predictor} (H.1.2.1: 1 to 7)`);
  }
  if (pt >= frame.precision) throw new MalformedJpegError('point transform not below P');
  state.pointTransform = pt;
  const cols = frame.columns;
  const rows = frame.rows;
  const n = scan.components.length;
  const planes = scan.components.map((c) => state.planes[c.index]!);
  const huff = scan.components.map((c) => table(tables.dc, c.td));
  const initial = 1 << (frame.precision - pt - 1);
  const interval = tables.restartInterval;
  if (n === 1 && interval === 0 && predictor === 1) {
    // The common case (1.2.840.10008.1.2.4.70, one component, no restart) in a tight loop.
    decodeFirstOrderPlane(reader, huff[0]!, planes[0]!, cols, rows, initial);
    return;
  }
  let untilRestart = interval;
  let nextRst = 0;
  // The line that acts as the first one (H.1.2.1: after the start of the scan and each restart).
  let firstRow = 0;
  let firstCol = 0;
  for (let y = 0; y < rows; y++) {
    const row = y * cols;
    for (let x = 0; x < cols; x++) {
      if (interval > 0) {
        if (untilRestart === 0) {
          reader.restart(nextRst);
          nextRst = (nextRst + 1) & 7;
          untilRestart = interval;
          firstRow = y;
          firstCol = x;
        }
        untilRestart--;
      }
      const i = row + x;
      for (let c = 0; c < n; c++) {
        const plane = planes[c]!;
        const diff = reader.difference(huff[c]!);
        let px: number;
        if (y === firstRow) {
          px = x === firstCol ? initial : plane[i - 1]!;
        } else if (x === 0) {
          px = plane[i - cols]!;
        } else {
          // H.1.2.1, Table H.1.
          px = predict(predictor, plane[i - 1]!, plane[i - cols]!, plane[i - cols - 1]!);
        }
        plane[i] = (px + diff) & 0xffff;
      }
    }
  }
}

/** Predictor 1 over one component (H.1.2.1): from the left, the first column from above. */
function decodeFirstOrderPlane(
  reader: BitReader,
  huff: HuffmanDecodeTable,
  plane: Uint16Array,
  cols: number,
  rows: number,
  initial: number,
): void {
  let prev = initial;
  for (let y = 0, i = 0; y < rows; y++) {
    if (y > 0) prev = plane[i - cols]!;
    for (let x = 0; x < cols; x++, i++) {
      prev = (prev + reader.difference(huff)) & 0xffff;
      plane[i] = prev;
    }
  }
}

// ---- Sequential DCT (T.81 Annex F) ----

interface DctState {
  readonly kind: 'dct';
  readonly planes: ComponentPlane[];
  readonly hMax: number;
  readonly vMax: number;
  readonly mcusX: number;
  readonly mcusY: number;
}

function dctState(f: FrameHeader): DctState {
  // B.2.2: baseline P is 8; extended P is 8 or 12.
  if (f.precision !== 8 && !(f.precision === 12 && f.marker === Marker.SOF1)) {
    throw new UnsupportedJpegError(
      `DCT sample precision ${f.precision} with SOF${f.marker - 0xc0}`,
    );
  }
  const hMax = Math.max(...f.components.map((c) => c.h));
  const vMax = Math.max(...f.components.map((c) => c.v));
  // A.2.4: the MCU grid of an interleaved scan covers the image in 8*Hmax x 8*Vmax units.
  const mcusX = Math.ceil(f.columns / (8 * hMax));
  const mcusY = Math.ceil(f.rows / (8 * vMax));
  const planes = f.components.map((c): ComponentPlane => {
    if (hMax % c.h !== 0 || vMax % c.v !== 0) {
      throw new UnsupportedJpegError('sampling factors that do not divide the largest ones');
    }
    const stride = mcusX * c.h * 8;
    return {
      samples: new Uint16Array(stride * mcusY * c.v * 8),
      stride,
      width: Math.ceil((f.columns * c.h) / hMax),
      height: Math.ceil((f.rows * c.v) / vMax),
      xFactor: hMax / c.h,
      yFactor: vMax / c.v,
    };
  });
  return { kind: 'dct', planes, hMax, vMax, mcusX, mcusY };
}

const block = new Int32Array(64);

function decodeBlock(
  reader: BitReader,
  dc: HuffmanDecodeTable,
  ac: HuffmanDecodeTable,
  q: Uint16Array,
  pred: Int32Array,
  c: number,
): void {
  block.fill(0);
  // F.2.2.1: the DC difference.
  const t = reader.decode(dc);
  if (t > 15) throw new MalformedJpegError('DC difference category above 15');
  pred[c] = pred[c]! + reader.receiveExtend(t);
  block[0] = pred[c]! * q[0]!;
  // F.2.2.2, Figure F.13: the AC coefficients, run/size coded.
  for (let k = 1; k < 64; ) {
    const rs = reader.decode(ac);
    const s = rs & 15;
    const r = rs >> 4;
    if (s === 0) {
      if (r !== 15) break;
      k += 16;
      continue;
    }
    k += r;
    if (k > 63) throw new MalformedJpegError('AC coefficients run past the block');
    block[ZIGZAG[k]!] = reader.receiveExtend(s) * q[k]!;
    k++;
  }
}

function decodeDctScan(context: ScanContext, state: DctState): void {
  const { frame, scan, tables, reader } = context;
  if (scan.ss !== 0 || scan.se !== 63 || scan.ah !== 0 || scan.al !== 0) {
    throw new MalformedJpegError(
      'sequential DCT scan with spectral selection (B.2.3: Ss 0, Se 63)',
    );
  }
  const comps = scan.components.map((sc) => {
    const fc = frame.components[sc.index]!;
    const q = tables.quantization[fc.tq];
    if (!q)
      throw new MalformedJpegError(`component uses quantization table ${fc.tq}, never defined`);
    return {
      plane: state.planes[sc.index]!,
      h: fc.h,
      v: fc.v,
      q,
      dc: table(tables.dc, sc.td),
      ac: table(tables.ac, sc.ta),
    };
  });
  const precision = frame.precision;
  const pred = new Int32Array(comps.length);
  const interval = tables.restartInterval;
  let untilRestart = interval;
  let nextRst = 0;
  const restartCheck = (): void => {
    if (interval === 0) return;
    if (untilRestart === 0) {
      reader.restart(nextRst);
      nextRst = (nextRst + 1) & 7;
      untilRestart = interval;
      // F.2.1.3.1: the DC predictions restart at 0.
      pred.fill(0);
    }
    untilRestart--;
  };
  if (comps.length === 1) {
    // A.2.2: a non-interleaved scan codes the component's blocks in raster order, one per MCU.
    const c = comps[0]!;
    const bx = Math.ceil(c.plane.width / 8);
    const by = Math.ceil(c.plane.height / 8);
    for (let y = 0; y < by; y++) {
      for (let x = 0; x < bx; x++) {
        restartCheck();
        decodeBlock(reader, c.dc, c.ac, c.q, pred, 0);
        inverseDct(
          block,
          precision,
          c.plane.samples,
          y * 8 * c.plane.stride + x * 8,
          c.plane.stride,
        );
      }
    }
    return;
  }
  // A.2.3: an interleaved scan codes Hi x Vi blocks of each component per MCU.
  for (let my = 0; my < state.mcusY; my++) {
    for (let mx = 0; mx < state.mcusX; mx++) {
      restartCheck();
      for (let ci = 0; ci < comps.length; ci++) {
        const c = comps[ci]!;
        const stride = c.plane.stride;
        for (let v = 0; v < c.v; v++) {
          for (let h = 0; h < c.h; h++) {
            decodeBlock(reader, c.dc, c.ac, c.q, pred, ci);
            const ox = (mx * c.h + h) * 8;
            const oy = (my * c.v + v) * 8;
            inverseDct(block, precision, c.plane.samples, oy * stride + ox, stride);
          }
        }
      }
    }
  }
}
