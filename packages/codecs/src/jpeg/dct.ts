/**
 * The 8x8 discrete cosine transforms of ITU-T T.81 §A.3.3. The inverse is the
 * accurate integer algorithm (the Loeffler-Ligtenberg-Moschytz factorisation with
 * 13-bit constants) the IJG library calls "islow", which reference decoders such
 * as DCMTK's use by default, so decoded samples match theirs; the forward
 * transform is a straightforward floating-point one (encoders are free to choose,
 * T.81 A.3.3 fixes only the ideal transform).
 */

/** T.81 Figure A.6: the zig-zag sequence, as natural (row-major) indices. */
export const ZIGZAG: Uint8Array = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
  13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
  45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

const CONST_BITS = 13;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

const workspace = new Int32Array(64);

/**
 * Inverse DCT of one block of dequantized coefficients (natural order) with the
 * level shift back (T.81 A.3.1) and clamping to the sample range; writes 8x8
 * samples into `out` at `offset` with `stride` samples per line.
 *
 * @param block - 64 dequantized coefficients in natural order
 * @param precision - 8 or 12 bits
 */
export function inverseDct(
  block: Int32Array,
  precision: number,
  out: Uint16Array,
  offset: number,
  stride: number,
): void {
  // More fraction bits between the passes where the samples are narrower (as the IJG code).
  const pass1 = precision === 8 ? 2 : 1;
  const center = 1 << (precision - 1);
  const max = (1 << precision) - 1;
  const ws = workspace;
  const d1 = CONST_BITS - pass1;
  const r1 = 1 << (d1 - 1);
  // Pass 1: columns, into the workspace.
  for (let c = 0; c < 8; c++) {
    if (
      block[8 + c] === 0 &&
      block[16 + c] === 0 &&
      block[24 + c] === 0 &&
      block[32 + c] === 0 &&
      block[40 + c] === 0 &&
      block[48 + c] === 0 &&
      block[56 + c] === 0
    ) {
      const dc = block[c]! << pass1;
      for (let r = 0; r < 64; r += 8) ws[r + c] = dc;
      continue;
    }
    let z2 = block[16 + c]!;
    let z3 = block[48 + c]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    z2 = block[c]!;
    z3 = block[32 + c]!;
    let tmp0 = (z2 + z3) << CONST_BITS;
    let tmp1 = (z2 - z3) << CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = block[56 + c]!;
    tmp1 = block[40 + c]!;
    tmp2 = block[24 + c]!;
    tmp3 = block[8 + c]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    ws[c] = (tmp10 + tmp3 + r1) >> d1;
    ws[56 + c] = (tmp10 - tmp3 + r1) >> d1;
    ws[8 + c] = (tmp11 + tmp2 + r1) >> d1;
    ws[48 + c] = (tmp11 - tmp2 + r1) >> d1;
    ws[16 + c] = (tmp12 + tmp1 + r1) >> d1;
    ws[40 + c] = (tmp12 - tmp1 + r1) >> d1;
    ws[24 + c] = (tmp13 + tmp0 + r1) >> d1;
    ws[32 + c] = (tmp13 - tmp0 + r1) >> d1;
  }
  // Pass 2: rows, out of the workspace, descaled by 8 (the 1/8 of the 2-D IDCT) and pass 1's bits.
  const d2 = CONST_BITS + pass1 + 3;
  const r2 = 1 << (d2 - 1);
  const dDc = pass1 + 3;
  const rDc = 1 << (dDc - 1);
  for (let r = 0; r < 64; r += 8) {
    const o = offset + (r >> 3) * stride;
    if (
      ws[r + 1] === 0 &&
      ws[r + 2] === 0 &&
      ws[r + 3] === 0 &&
      ws[r + 4] === 0 &&
      ws[r + 5] === 0 &&
      ws[r + 6] === 0 &&
      ws[r + 7] === 0
    ) {
      const v = clamp(((ws[r]! + rDc) >> dDc) + center, max);
      for (let i = 0; i < 8; i++) out[o + i] = v;
      continue;
    }
    let z2 = ws[r + 2]!;
    let z3 = ws[r + 6]!;
    let z1 = (z2 + z3) * FIX_0_541196100;
    let tmp2 = z1 + z3 * -FIX_1_847759065;
    let tmp3 = z1 + z2 * FIX_0_765366865;
    let tmp0 = (ws[r]! + ws[r + 4]!) << CONST_BITS;
    let tmp1 = (ws[r]! - ws[r + 4]!) << CONST_BITS;
    const tmp10 = tmp0 + tmp3;
    const tmp13 = tmp0 - tmp3;
    const tmp11 = tmp1 + tmp2;
    const tmp12 = tmp1 - tmp2;
    tmp0 = ws[r + 7]!;
    tmp1 = ws[r + 5]!;
    tmp2 = ws[r + 3]!;
    tmp3 = ws[r + 1]!;
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = tmp0 + tmp2;
    let z4 = tmp1 + tmp3;
    const z5 = (z3 + z4) * FIX_1_175875602;
    tmp0 *= FIX_0_298631336;
    tmp1 *= FIX_2_053119869;
    tmp2 *= FIX_3_072711026;
    tmp3 *= FIX_1_501321110;
    z1 *= -FIX_0_899976223;
    z2 *= -FIX_2_562915447;
    z3 = z3 * -FIX_1_961570560 + z5;
    z4 = z4 * -FIX_0_390180644 + z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;
    out[o] = clamp(((tmp10 + tmp3 + r2) >> d2) + center, max);
    out[o + 7] = clamp(((tmp10 - tmp3 + r2) >> d2) + center, max);
    out[o + 1] = clamp(((tmp11 + tmp2 + r2) >> d2) + center, max);
    out[o + 6] = clamp(((tmp11 - tmp2 + r2) >> d2) + center, max);
    out[o + 2] = clamp(((tmp12 + tmp1 + r2) >> d2) + center, max);
    out[o + 5] = clamp(((tmp12 - tmp1 + r2) >> d2) + center, max);
    out[o + 3] = clamp(((tmp13 + tmp0 + r2) >> d2) + center, max);
    out[o + 4] = clamp(((tmp13 - tmp0 + r2) >> d2) + center, max);
  }
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : Math.min(v, max);
}

/** cos((2x+1)uπ/16) scaled by C(u)/2 (T.81 A.3.3), indexed [u * 8 + x]. */
const COS = (() => {
  const t = new Float64Array(64);
  for (let u = 0; u < 8; u++) {
    const cu = u === 0 ? Math.SQRT1_2 : 1;
    for (let x = 0; x < 8; x++)
      t[u * 8 + x] = (cu / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
  return t;
})();

const rowPass = new Float64Array(64);

/**
 * Forward DCT of one block of level-shifted samples (T.81 A.3.3, the FDCT
 * equation) into `out` in natural order.
 *
 * @param samples - 64 samples, level-shifted (T.81 A.3.1), natural order
 */
export function forwardDct(samples: Float64Array, out: Float64Array): void {
  for (let y = 0; y < 8; y++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += COS[u * 8 + x]! * samples[y * 8 + x]!;
      rowPass[y * 8 + u] = s;
    }
  }
  for (let u = 0; u < 8; u++) {
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += COS[v * 8 + y]! * rowPass[y * 8 + u]!;
      out[v * 8 + u] = s;
    }
  }
}
