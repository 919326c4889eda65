/**
 * The 8x8 discrete cosine transforms of ITU-T T.81 §A.3.3. The inverse is the
 * accurate integer algorithm (the Loeffler-Ligtenberg-Moschytz factorisation with
 * 13-bit constants) the IJG library calls "islow", which reference decoders such
 * as DCMTK's use by default, so decoded samples match theirs; the forward
 * transform is the Arai-Agui-Nakajima factorisation in floating point (encoders
 * are free to choose, T.81 A.3.3 fixes only the ideal transform).
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

/**
 * The scale of each output of the factorised forward transform below: the AAN
 * algorithm computes 8 * s(u) * s(v) * F(u,v), s(0) = 1, s(k) = cos(kπ/16) * √2.
 */
const AAN_SCALE = (() => {
  const s = Array.from({ length: 8 }, (_, k) =>
    k === 0 ? 1 : Math.cos((k * Math.PI) / 16) * Math.SQRT2,
  );
  const t = new Float64Array(64);
  for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) t[v * 8 + u] = 1 / (8 * s[v]! * s[u]!);
  return t;
})();

/** cos(π/4), cos(3π/8), cos(π/8) - cos(3π/8), cos(π/8) + cos(3π/8): the AAN rotations. */
const C4 = Math.SQRT1_2;
const C6 = Math.cos((3 * Math.PI) / 8);
const C2_MINUS_C6 = Math.cos(Math.PI / 8) - C6;
const C2_PLUS_C6 = Math.cos(Math.PI / 8) + C6;

/** One 8-point pass of the Arai-Agui-Nakajima factorisation, in place, `step` apart. */
function aan8(d: Float64Array, o: number, step: number): void {
  const d0 = d[o]!;
  const d1 = d[o + step]!;
  const d2 = d[o + 2 * step]!;
  const d3 = d[o + 3 * step]!;
  const d4 = d[o + 4 * step]!;
  const d5 = d[o + 5 * step]!;
  const d6 = d[o + 6 * step]!;
  const d7 = d[o + 7 * step]!;
  const tmp0 = d0 + d7;
  const tmp7 = d0 - d7;
  const tmp1 = d1 + d6;
  const tmp6 = d1 - d6;
  const tmp2 = d2 + d5;
  const tmp5 = d2 - d5;
  const tmp3 = d3 + d4;
  const tmp4 = d3 - d4;
  // Even part.
  let tmp10 = tmp0 + tmp3;
  const tmp13 = tmp0 - tmp3;
  let tmp11 = tmp1 + tmp2;
  let tmp12 = tmp1 - tmp2;
  d[o] = tmp10 + tmp11;
  d[o + 4 * step] = tmp10 - tmp11;
  const z1 = (tmp12 + tmp13) * C4;
  d[o + 2 * step] = tmp13 + z1;
  d[o + 6 * step] = tmp13 - z1;
  // Odd part.
  tmp10 = tmp4 + tmp5;
  tmp11 = tmp5 + tmp6;
  tmp12 = tmp6 + tmp7;
  const z5 = (tmp10 - tmp12) * C6;
  const z2 = C2_MINUS_C6 * tmp10 + z5;
  const z4 = C2_PLUS_C6 * tmp12 + z5;
  const z3 = tmp11 * C4;
  const z11 = tmp7 + z3;
  const z13 = tmp7 - z3;
  d[o + 5 * step] = z13 + z2;
  d[o + 3 * step] = z13 - z2;
  d[o + step] = z11 + z4;
  d[o + 7 * step] = z11 - z4;
}

/**
 * Forward DCT of one block of level-shifted samples (T.81 A.3.3, the FDCT
 * equation) into `out` in natural order, by the Arai-Agui-Nakajima factorisation
 * in floating point, rescaled to the equation's F(u,v).
 *
 * @param samples - 64 samples, level-shifted (T.81 A.3.1), natural order
 */
export function forwardDct(samples: Float64Array, out: Float64Array): void {
  out.set(samples);
  for (let r = 0; r < 64; r += 8) aan8(out, r, 1);
  for (let c = 0; c < 8; c++) aan8(out, c, 8);
  for (let i = 0; i < 64; i++) out[i] = out[i]! * AAN_SCALE[i]!;
}
