import { describe, expect, it } from 'vitest';
import { forwardDct, inverseDct } from './dct.js';

/** T.81 A.3.3: the FDCT equation, computed directly. */
function referenceFdct(f: Float64Array): Float64Array {
  const out = new Float64Array(64);
  const c = (k: number) => (k === 0 ? Math.SQRT1_2 : 1);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          s +=
            f[y * 8 + x]! *
            Math.cos(((2 * x + 1) * u * Math.PI) / 16) *
            Math.cos(((2 * y + 1) * v * Math.PI) / 16);
        }
      }
      out[v * 8 + u] = (c(u) * c(v) * s) / 4;
    }
  }
  return out;
}

describe('DCT (T.81 A.3.3)', () => {
  it('computes the FDCT equation', () => {
    const samples = Float64Array.from({ length: 64 }, (_, i) => ((i * 37) % 255) - 128);
    const out = new Float64Array(64);
    forwardDct(samples, out);
    const ref = referenceFdct(samples);
    for (let i = 0; i < 64; i++) expect(out[i]).toBeCloseTo(ref[i]!, 9);
  });

  it('inverts it within one level, 8 and 12-bit', () => {
    for (const precision of [8, 12]) {
      const center = 1 << (precision - 1);
      const samples = Float64Array.from(
        { length: 64 },
        (_, i) => ((i * 997) % (2 * center)) - center,
      );
      const coefs = new Float64Array(64);
      forwardDct(samples, coefs);
      const block = Int32Array.from(coefs, (v) => Math.round(v));
      const out = new Uint16Array(64);
      inverseDct(block, precision, out, 0, 8);
      for (let i = 0; i < 64; i++)
        expect(Math.abs(out[i]! - (samples[i]! + center))).toBeLessThanOrEqual(1);
    }
  });
});
