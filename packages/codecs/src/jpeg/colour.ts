/**
 * Colour handling around the DCT codecs: chroma upsampling after decoding and
 * downsampling before encoding (T.81 A.1.1 sampling factors), and the YCbCr
 * conversions of PS3.3 §C.7.6.3.1.2 (YBR_FULL, the JFIF equations) in the same
 * fixed-point form as the IJG library, so decoded RGB matches reference decoders.
 */

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number): number => Math.round(x * (1 << SCALEBITS));

/**
 * YCbCr to RGB in place over three full-resolution planes (PS3.3 §C.7.6.3.1.2:
 * R = Y + 1.402 (Cr - c), G = Y - 0.34414 (Cb - c) - 0.71414 (Cr - c), B = Y + 1.772 (Cb - c)).
 *
 * @param precision - bits per sample (the centre c is half the range)
 */
export function ycbcrToRgb(
  y: Uint16Array,
  cb: Uint16Array,
  cr: Uint16Array,
  precision: number,
): void {
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  const size = max + 1;
  const crR = new Int32Array(size);
  const cbB = new Int32Array(size);
  const crG = new Int32Array(size);
  const cbG = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const x = i - center;
    crR[i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
    cbB[i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
    crG[i] = -fix(0.71414) * x;
    cbG[i] = -fix(0.34414) * x + ONE_HALF;
  }
  for (let i = 0; i < y.length; i++) {
    const l = y[i]!;
    const b = cb[i]!;
    const r = cr[i]!;
    const vr = l + crR[r]!;
    const vg = l + ((cbG[b]! + crG[r]!) >> SCALEBITS);
    const vb = l + cbB[b]!;
    y[i] = vr < 0 ? 0 : Math.min(vr, max);
    cb[i] = vg < 0 ? 0 : Math.min(vg, max);
    cr[i] = vb < 0 ? 0 : Math.min(vb, max);
  }
}

/**
 * RGB to YCbCr (PS3.3 §C.7.6.3.1.2, YBR_FULL: Y = .299R + .587G + .114B,
 * Cb = -.1687R - .3313G + .5B + c, Cr = .5R - .4187G - .0813B + c), rounded.
 *
 * @param precision - bits per sample (the centre c is half the range)
 */
export function rgbToYcbcr(
  r: Float64Array,
  g: Float64Array,
  b: Float64Array,
  precision: number,
): void {
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  for (let i = 0; i < r.length; i++) {
    const vr = r[i]!;
    const vg = g[i]!;
    const vb = b[i]!;
    const y = 0.299 * vr + 0.587 * vg + 0.114 * vb;
    const cb = -0.168736 * vr - 0.331264 * vg + 0.5 * vb + center;
    const cr = 0.5 * vr - 0.418688 * vg - 0.081312 * vb + center;
    r[i] = Math.min(max, Math.max(0, Math.round(y)));
    g[i] = Math.min(max, Math.max(0, Math.round(cb)));
    b[i] = Math.min(max, Math.max(0, Math.round(cr)));
  }
}

/** A decoded component: its samples at its own resolution. */
export interface ComponentPlane {
  /** The samples, `stride` per line. */
  readonly samples: Uint16Array;
  /** Samples per line in `samples` (a multiple of 8: whole blocks). */
  readonly stride: number;
  /** The component's real width: ceil(X * Hi / Hmax) (T.81 A.1.1). */
  readonly width: number;
  /** The component's real height: ceil(Y * Vi / Vmax). */
  readonly height: number;
  /** Hmax / Hi. */
  readonly xFactor: number;
  /** Vmax / Vi. */
  readonly yFactor: number;
}

/**
 * Upsamples a component to `columns` x `rows`. Chroma halved horizontally (4:2:2)
 * or in both directions (4:2:0) is interpolated with the triangle filter of the IJG
 * library ("fancy upsampling", its default and DCMTK's); other integral factors
 * replicate samples.
 */
export function upsample(plane: ComponentPlane, columns: number, rows: number): Uint16Array {
  const out = new Uint16Array(columns * rows);
  const { samples, stride, width, height, xFactor, yFactor } = plane;
  if (xFactor === 1 && yFactor === 1) {
    for (let y = 0; y < rows; y++)
      out.set(samples.subarray(y * stride, y * stride + columns), y * columns);
    return out;
  }
  const line = new Uint16Array(2 * width + 2);
  if (xFactor === 2 && (yFactor === 1 || yFactor === 2) && width >= 2) {
    const lineSums = new Int32Array(width);
    for (let y = 0; y < rows; y++) {
      if (yFactor === 1) {
        fancyH2(samples, y * stride, width, line);
      } else {
        // h2v2: each output line mixes its input line (3/4) with the nearest other one (1/4).
        const iy = y >> 1;
        const other = y & 1 ? Math.min(iy + 1, height - 1) : Math.max(iy - 1, 0);
        for (let x = 0; x < width; x++) {
          lineSums[x] = samples[iy * stride + x]! * 3 + samples[other * stride + x]!;
        }
        fancyH2V2(lineSums, width, line);
      }
      out.set(line.subarray(0, columns), y * columns);
    }
    return out;
  }
  for (let y = 0; y < rows; y++) {
    const src = Math.min(Math.floor(y / yFactor), height - 1) * stride;
    for (let x = 0; x < columns; x++)
      out[y * columns + x] = samples[src + Math.floor(x / xFactor)]!;
  }
  return out;
}

function fancyH2(src: Uint16Array, o: number, width: number, out: Uint16Array): void {
  let v = src[o]!;
  out[0] = v;
  out[1] = (v * 3 + src[o + 1]! + 2) >> 2;
  let k = 2;
  for (let x = 1; x < width - 1; x++) {
    v = src[o + x]! * 3;
    out[k++] = (v + src[o + x - 1]! + 1) >> 2;
    out[k++] = (v + src[o + x + 1]! + 2) >> 2;
  }
  v = src[o + width - 1]!;
  out[k++] = (v * 3 + src[o + width - 2]! + 1) >> 2;
  out[k] = v;
}

function fancyH2V2(sums: Int32Array, width: number, out: Uint16Array): void {
  let k = 0;
  let last = sums[0]!;
  let cur = sums[0]!;
  out[k++] = (cur * 4 + 8) >> 4;
  out[k++] = (cur * 3 + sums[1]! + 7) >> 4;
  for (let x = 1; x < width - 1; x++) {
    last = cur;
    cur = sums[x]!;
    out[k++] = (cur * 3 + last + 8) >> 4;
    out[k++] = (cur * 3 + sums[x + 1]! + 7) >> 4;
  }
  last = cur;
  cur = sums[width - 1]!;
  out[k++] = (cur * 3 + last + 8) >> 4;
  out[k] = (cur * 4 + 7) >> 4;
}

/**
 * Downsamples a full-resolution plane by `xFactor` x `yFactor` (averages, rounded),
 * replicating the last column and line to fill whole blocks.
 *
 * @returns the plane, `stride` = its padded width
 */
export function downsample(
  full: Float64Array,
  columns: number,
  rows: number,
  xFactor: number,
  yFactor: number,
  paddedWidth: number,
  paddedHeight: number,
): Float64Array {
  const out = new Float64Array(paddedWidth * paddedHeight);
  if (xFactor === 1 && yFactor === 1) {
    // Full resolution: copy each line, then repeat its last sample and the last line.
    for (let y = 0; y < paddedHeight; y++) {
      const src = Math.min(y, rows - 1) * columns;
      const o = y * paddedWidth;
      out.set(full.subarray(src, src + columns), o);
      out.fill(full[src + columns - 1]!, o + columns, o + paddedWidth);
    }
    return out;
  }
  const n = xFactor * yFactor;
  for (let y = 0; y < paddedHeight; y++) {
    for (let x = 0; x < paddedWidth; x++) {
      let s = 0;
      for (let dy = 0; dy < yFactor; dy++) {
        const sy = Math.min(y * yFactor + dy, rows - 1);
        for (let dx = 0; dx < xFactor; dx++) {
          s += full[sy * columns + Math.min(x * xFactor + dx, columns - 1)]!;
        }
      }
      out[y * paddedWidth + x] = s / n;
    }
  }
  return out;
}
