/**
 * RLE Lossless (1.2.840.10008.1.2.5), written in full from PS3.5 Annex G: a
 * 64-byte header of sixteen 32-bit little-endian values (the number of
 * segments, then the offset of each), and one PackBits segment per byte plane:
 * for each sample in turn, its most significant byte first (§G.2).
 */
import { CodecsError, CodecsErrorCode } from './errors.js';
import type { DecodedFrame, EncodedFrame, FrameCodec, FrameDescription } from './frame-codec.js';
import { bytesPerSample, checkFrame, frameLength, toPlanarConfiguration } from './pixel-layout.js';

/** The RLE Lossless transfer syntax UID (PS3.5 §A.4.2). */
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

/** PS3.5 §G.5: the header has room for 15 segment offsets. */
const MAX_SEGMENTS = 15;
/** PS3.5 §G.5: the header is 16 × 4 bytes. */
const HEADER_LENGTH = 64;

/**
 * Encodes one row of one byte plane as PackBits (PS3.5 §G.3.1): a run of 2 or
 * more equal bytes as a replicate run (−n+1 copies of the next byte), anything
 * else as literal runs of at most 128 bytes; a run never crosses a row.
 */
function encodeRow(
  src: Uint8Array,
  start: number,
  step: number,
  count: number,
  out: Uint8Array,
  at0: number,
): number {
  let o = at0;
  let i = 0;
  const at = (k: number) => src[start + k * step]!;
  while (i < count) {
    let run = 1;
    while (i + run < count && run < 128 && at(i + run) === at(i)) run++;
    if (run >= 2) {
      out[o++] = 257 - run; // -(run-1) as a signed byte
      out[o++] = at(i);
      i += run;
      continue;
    }
    // A literal run up to the next pair of equal bytes (or 128 bytes).
    let n = 1;
    while (i + n < count && n < 128 && !(i + n + 1 < count && at(i + n) === at(i + n + 1))) n++;
    out[o++] = n - 1;
    for (let k = 0; k < n; k++) out[o++] = at(i + k);
    i += n;
  }
  return o;
}

/** Decodes one PackBits segment into `plane` (PS3.5 §G.3.2). */
function decodeSegment(seg: Uint8Array, plane: Uint8Array, frame: number): void {
  let i = 0;
  let o = 0;
  const end = plane.length;
  while (i < seg.length && o < end) {
    const n = seg[i++]!;
    if (n < 128) {
      const len = n + 1;
      if (i + len > seg.length) break;
      const m = Math.min(len, end - o);
      // Short literals byte by byte: a subarray per run costs more than the copy.
      if (m <= 16) for (let k = 0; k < m; k++) plane[o + k] = seg[i + k]!;
      else plane.set(seg.subarray(i, i + m), o);
      i += len;
      o += len;
    } else if (n > 128) {
      const len = 257 - n;
      if (i >= seg.length) break;
      plane.fill(seg[i++]!, o, Math.min(o + len, end));
      o += len;
    }
    // n === 128 (−128) is a no-op (§G.3.2).
  }
  if (o < end) {
    throw new CodecsError(
      CodecsErrorCode.DECODE_FAILED,
      `RLE segment decodes to ${o} bytes, ${end} expected (PS3.5 G.3.2)`,
      { transferSyntaxUid: RLE_LOSSLESS, frame },
    );
  }
}

function unsupported(d: FrameDescription): string | undefined {
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) {
    return `Bits Allocated ${d.bitsAllocated} (8 or 16 here)`;
  }
  if (d.samplesPerPixel * bytesPerSample(d) > MAX_SEGMENTS) return 'more than 15 segments';
  if (d.photometricInterpretation.startsWith('YBR') && d.photometricInterpretation !== 'YBR_FULL') {
    return `${d.photometricInterpretation} (PS3.5 G.2: RLE colour is RGB or YBR_FULL)`;
  }
  return undefined;
}

/**
 * The RLE Lossless codec: decodes to the layout the description's Planar
 * Configuration gives; encodes from either layout and reports Planar
 * Configuration 1, which PS3.5 §G.2 (note) expects of colour RLE data.
 */
export const rleCodec: FrameCodec = {
  transferSyntaxUid: RLE_LOSSLESS,
  lossy: false,
  unsupported,

  async decode(frame: Uint8Array, d: FrameDescription): Promise<DecodedFrame> {
    checkFrame(d);
    const why = unsupported(d);
    if (why) throw new CodecsError(CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT, `RLE: ${why}`);
    if (frame.length < HEADER_LENGTH) {
      throw new CodecsError(CodecsErrorCode.DECODE_FAILED, 'RLE frame shorter than its header', {
        transferSyntaxUid: RLE_LOSSLESS,
      });
    }
    const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const b = bytesPerSample(d);
    const segments = dv.getUint32(0, true);
    if (segments !== d.samplesPerPixel * b) {
      throw new CodecsError(
        CodecsErrorCode.DECODE_FAILED,
        `RLE header names ${segments} segments, ${d.samplesPerPixel * b} expected (PS3.5 G.2)`,
        { transferSyntaxUid: RLE_LOSSLESS },
      );
    }
    const n = d.rows * d.columns;
    // Decoded colour-by-plane, then re-laid if the description says by pixel.
    const planar = new Uint8Array(frameLength(d));
    const plane = new Uint8Array(n);
    for (let s = 0; s < segments; s++) {
      const start = dv.getUint32(4 + 4 * s, true);
      const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.length;
      if (start < HEADER_LENGTH || end > frame.length || end < start) {
        throw new CodecsError(
          CodecsErrorCode.DECODE_FAILED,
          `RLE segment ${s + 1} offset out of range`,
          {
            transferSyntaxUid: RLE_LOSSLESS,
          },
        );
      }
      decodeSegment(frame.subarray(start, end), plane, 0);
      const sample = Math.floor(s / b);
      // Segment k of a sample is its k-th most significant byte; native is little endian.
      const byte = b - 1 - (s % b);
      const base = sample * n * b + byte;
      for (let p = 0; p < n; p++) planar[base + p * b] = plane[p]!;
    }
    const pixels = toPlanarConfiguration(
      planar,
      { ...d, planarConfiguration: 1 },
      d.planarConfiguration,
    );
    return { pixels, description: d };
  },

  async encode(pixels: Uint8Array, d: FrameDescription): Promise<EncodedFrame> {
    checkFrame(d, pixels);
    const why = unsupported(d);
    if (why) throw new CodecsError(CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT, `RLE: ${why}`);
    const planar = toPlanarConfiguration(pixels.subarray(0, frameLength(d)), d, 1);
    const b = bytesPerSample(d);
    const n = d.rows * d.columns;
    const segments = d.samplesPerPixel * b;
    // The worst case: two output bytes per input byte (a one-byte literal), one pad byte.
    const worst = 2 * d.rows * d.columns + 1;
    const buf = new Uint8Array(HEADER_LENGTH + segments * worst);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, segments, true);
    let off = HEADER_LENGTH;
    for (let s = 0; s < segments; s++) {
      dv.setUint32(4 + 4 * s, off, true);
      const sample = Math.floor(s / b);
      const byte = b - 1 - (s % b);
      for (let r = 0; r < d.rows; r++) {
        off = encodeRow(planar, sample * n * b + r * d.columns * b + byte, b, d.columns, buf, off);
      }
      if ((off - HEADER_LENGTH) % 2 === 1) buf[off++] = 0; // PS3.5 §G.5: even-length segments
    }
    return {
      data: buf.slice(0, off),
      description: d.samplesPerPixel > 1 ? { ...d, planarConfiguration: 1 } : d,
    };
  },
};
