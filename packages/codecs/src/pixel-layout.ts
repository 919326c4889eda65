/**
 * Native pixel layouts (PS3.5 §8.1.1, PS3.3 §C.7.6.3.1.3): the size of a
 * frame and the change between colour-by-pixel (Planar Configuration 0) and
 * colour-by-plane (1).
 */
import { CodecsError, CodecsErrorCode } from './errors.js';
import type { FrameDescription } from './frame-codec.js';

/** Bytes of one sample: Bits Allocated 8 gives 1, 16 gives 2 (PS3.5 §8.1.1). */
export function bytesPerSample(d: FrameDescription): number {
  return d.bitsAllocated / 8;
}

/**
 * The length in bytes of one native frame: rows × columns × samples × bytes per
 * sample (PS3.5 §8.1.1; Bits Allocated 8 and 16 only).
 */
export function frameLength(d: FrameDescription): number {
  return d.rows * d.columns * d.samplesPerPixel * bytesPerSample(d);
}

/** Checks the description is one the codecs here handle at all. */
export function checkFrame(d: FrameDescription, pixels?: Uint8Array): void {
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) {
    throw new CodecsError(
      CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT,
      `Bits Allocated ${d.bitsAllocated} is not supported (8 or 16)`,
    );
  }
  if (pixels && pixels.length < frameLength(d)) {
    throw new CodecsError(
      CodecsErrorCode.MALFORMED_PIXEL_DATA,
      `a frame needs ${frameLength(d)} bytes, got ${pixels.length}`,
    );
  }
}

/**
 * Re-lays a frame between colour-by-pixel and colour-by-plane. Returns the
 * input itself when nothing changes (one sample, or the same configuration).
 *
 * @param pixels - one native frame
 * @param d - its description (its `planarConfiguration` is the input's)
 * @param to - the configuration wanted
 */
export function toPlanarConfiguration(
  pixels: Uint8Array,
  d: FrameDescription,
  to: 0 | 1,
): Uint8Array {
  if (d.samplesPerPixel === 1 || d.planarConfiguration === to) return pixels;
  const n = d.rows * d.columns;
  const s = d.samplesPerPixel;
  const b = bytesPerSample(d);
  const out = new Uint8Array(n * s * b);
  for (let c = 0; c < s; c++) {
    for (let k = 0; k < b; k++) {
      if (to === 1) {
        // interleaved (p*s + c)*b + k  ->  planar (c*n + p)*b + k
        for (let p = 0; p < n; p++) out[(c * n + p) * b + k] = pixels[(p * s + c) * b + k]!;
      } else {
        for (let p = 0; p < n; p++) out[(p * s + c) * b + k] = pixels[(c * n + p) * b + k]!;
      }
    }
  }
  return out;
}

/** The description with another Planar Configuration. */
export function withPlanarConfiguration(d: FrameDescription, pc: 0 | 1): FrameDescription {
  return d.planarConfiguration === pc ? d : { ...d, planarConfiguration: pc };
}
