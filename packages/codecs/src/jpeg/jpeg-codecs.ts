/**
 * The JPEG family's {@link FrameCodec}s (PS3.5 §8.2.1, §A.4.1): JPEG Baseline
 * (Process 1), JPEG Extended (Processes 2 and 4) and JPEG Lossless (Process 14,
 * any predictor, and its first-order predictor SV1). All are written here from
 * ITU-T T.81: no WebAssembly is loaded.
 *
 * Signed pixel data (Pixel Representation 1) is coded as its raw bits: each sample
 * is masked to Bits Stored bits before encoding (two's complement read as an
 * unsigned number, which a lossless round trip preserves bit for bit) and
 * sign-extended from Bits Stored back to Bits Allocated after decoding. The lossy
 * encoders refuse signed data, whose raw bits a DCT would blur across the jump
 * between -1 and 0.
 */

import type {
  DecodedFrame,
  EncodedFrame,
  EncodeOptions,
  FrameCodec,
  FrameDescription,
} from '../frame-codec.js';
import { rgbToYcbcr } from './colour.js';
import { DEFAULT_JPEG_QUALITY, encodeDct } from './dct-encoder.js';
import { JpegMismatchError, LossyNotAllowedError, UnsupportedJpegError } from './errors.js';
import { decodeJpeg } from './jpeg-decoder.js';
import { Marker } from './jpeg-reader.js';
import { encodeLossless } from './lossless-encoder.js';

/** The JPEG transfer syntaxes of PS3.5 Table A-1 these codecs handle. */
export const JpegTransferSyntax = {
  /** JPEG Baseline (Process 1): 8-bit lossy (PS3.5 §A.4.1). */
  Baseline: '1.2.840.10008.1.2.4.50',
  /** JPEG Extended (Process 2 & 4): 8 or 12-bit lossy. */
  Extended: '1.2.840.10008.1.2.4.51',
  /** JPEG Lossless, Non-Hierarchical (Process 14): any predictor. */
  Lossless: '1.2.840.10008.1.2.4.57',
  /** JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1). */
  LosslessSv1: '1.2.840.10008.1.2.4.70',
} as const;

/** The Lossy Image Compression Method of JPEG lossy (PS3.3 §C.7.6.1.1.5.1, CID 7013). */
const LOSSY_METHOD = 'ISO_10918_1';

function samplesPerPixelProblem(d: FrameDescription): string | undefined {
  if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) {
    return `Samples per Pixel ${d.samplesPerPixel} (JPEG here: 1 or 3)`;
  }
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) {
    return `Bits Allocated ${d.bitsAllocated} (JPEG here: 8 or 16)`;
  }
  if (d.bitsStored < 1 || d.bitsStored > d.bitsAllocated) return `Bits Stored ${d.bitsStored}`;
  return undefined;
}

/**
 * Reads native pixels (little endian; colour-by-pixel or by-plane) into one plane
 * per sample, each sample masked to Bits Stored bits (the raw bits of signed data).
 */
function toPlanes(pixels: Uint8Array, d: FrameDescription): Uint16Array[] {
  const n = d.rows * d.columns;
  const spp = d.samplesPerPixel;
  const bytes = d.bitsAllocated / 8;
  if (pixels.length < n * spp * bytes) {
    throw new JpegMismatchError(
      `frame of ${pixels.length} bytes, the description needs ${n * spp * bytes}`,
    );
  }
  const mask = d.bitsStored >= 16 ? 0xffff : (1 << d.bitsStored) - 1;
  const planes = Array.from({ length: spp }, () => new Uint16Array(n));
  const planar = spp > 1 && d.planarConfiguration === 1;
  for (let c = 0; c < spp; c++) {
    const plane = planes[c]!;
    // Sample i of component c is at base + i * step (PS3.3 §C.7.6.3.1.3, Planar Configuration).
    const base = planar ? c * n : c;
    const step = planar ? 1 : spp;
    if (bytes === 1) {
      for (let i = 0, s = base; i < n; i++, s += step) plane[i] = pixels[s]! & mask;
    } else {
      for (let i = 0, s = 2 * base; i < n; i++, s += 2 * step) {
        plane[i] = (pixels[s]! | (pixels[s + 1]! << 8)) & mask;
      }
    }
  }
  return planes;
}

/** Writes planes as native pixels in the layout `d` gives, sign-extending signed samples. */
function fromPlanes(planes: readonly Uint16Array[], d: FrameDescription): Uint8Array {
  const n = d.rows * d.columns;
  const spp = d.samplesPerPixel;
  const bytes = d.bitsAllocated / 8;
  const out = new Uint8Array(n * spp * bytes);
  const planar = spp > 1 && d.planarConfiguration === 1;
  const bits = d.bitsStored;
  const signed = d.pixelRepresentation === 1 && bits < d.bitsAllocated;
  const mask = bits >= 16 ? 0xffff : (1 << bits) - 1;
  const sign = 1 << (bits - 1);
  for (let c = 0; c < spp; c++) {
    const plane = planes[c]!;
    const base = planar ? c * n : c;
    const step = planar ? 1 : spp;
    for (let i = 0, s = base; i < n; i++, s += step) {
      let v = plane[i]!;
      // PS3.5 §8.1.1: a signed sample is two's complement in Bits Stored bits.
      if (signed) v = v & mask & sign ? (v | ~mask) & 0xffff : v & mask;
      if (bytes === 1) out[s] = v & 0xff;
      else {
        out[2 * s] = v & 0xff;
        out[2 * s + 1] = v >> 8;
      }
    }
  }
  return out;
}

/**
 * Decodes a frame of any of the four syntaxes: the frame header says which process made
 * it, so a stream labelled with a neighbouring JPEG syntax still decodes.
 */
async function decodeFrame(frame: Uint8Array, d: FrameDescription): Promise<DecodedFrame> {
  const problem = samplesPerPixelProblem(d);
  if (problem) throw new UnsupportedJpegError(problem);
  // PS3.5 §8.2.1: a YBR_FULL(_422) frame holds YCbCr; decoding gives RGB, as DCMTK and
  // other reference decoders do. RGB frames were coded without a colour transform.
  const ybr =
    d.photometricInterpretation === 'YBR_FULL_422' || d.photometricInterpretation === 'YBR_FULL';
  const decoded = decodeJpeg(frame, { maxSamples: d.rows * d.columns, toRgb: ybr });
  const f = decoded.frame;
  if (f.rows !== d.rows || f.columns !== d.columns) {
    throw new JpegMismatchError(
      `JPEG frame of ${f.columns}x${f.rows}, the data set says ${d.columns}x${d.rows}`,
    );
  }
  if (f.components.length !== d.samplesPerPixel) {
    throw new JpegMismatchError(
      `JPEG frame of ${f.components.length} components, Samples per Pixel is ${d.samplesPerPixel}`,
    );
  }
  if (f.precision > d.bitsAllocated) {
    throw new JpegMismatchError(
      `JPEG precision ${f.precision} above Bits Allocated ${d.bitsAllocated}`,
    );
  }
  const description: FrameDescription = {
    ...d,
    photometricInterpretation:
      ybr && f.marker !== Marker.SOF3 && f.components.length === 3
        ? 'RGB'
        : d.photometricInterpretation,
  };
  return { pixels: fromPlanes(decoded.planes, description), description };
}

/** Options of {@link createJpegLosslessCodec}. */
export interface JpegLosslessCodecOptions {
  /** The predictor (selection value, T.81 Table H.1) the encoder uses: 1 to 7; 1 by default. */
  readonly predictor?: number;
}

function losslessProblem(d: FrameDescription): string | undefined {
  const p = samplesPerPixelProblem(d);
  if (p) return p;
  // T.81 H.1.1: sample precision 2 to 16 bits.
  if (d.bitsStored < 2) return `Bits Stored ${d.bitsStored} (JPEG Lossless: 2 to 16)`;
  return undefined;
}

function createLossless(transferSyntaxUid: string, predictor: number): FrameCodec {
  if (!Number.isInteger(predictor) || predictor < 1 || predictor > 7) {
    throw new UnsupportedJpegError(`lossless predictor ${predictor} (T.81 Table H.1: 1 to 7)`);
  }
  return {
    transferSyntaxUid,
    lossy: false,
    unsupported(d, direction) {
      const p = losslessProblem(d);
      if (p) return p;
      if (direction === 'encode' && d.photometricInterpretation.endsWith('_422')) {
        return `native ${d.photometricInterpretation} (subsampled) pixels`;
      }
      return undefined;
    },
    decode: decodeFrame,
    async encode(pixels, d): Promise<EncodedFrame> {
      const problem = this.unsupported(d, 'encode');
      if (problem) throw new UnsupportedJpegError(problem);
      const data = encodeLossless({
        planes: toPlanes(pixels, d),
        rows: d.rows,
        columns: d.columns,
        // The raw bits: P is Bits Stored (PS3.5 §8.2.1: the precision matches the data set's).
        precision: d.bitsStored,
        predictor,
      });
      return { data, description: d };
    },
  };
}

/**
 * A JPEG Lossless (Process 14, 1.2.840.10008.1.2.4.57) codec whose encoder uses the
 * given predictor; its decoder reads any predictor.
 *
 * @param options - the encoder's predictor
 */
export function createJpegLosslessCodec(options: JpegLosslessCodecOptions = {}): FrameCodec {
  return createLossless(JpegTransferSyntax.Lossless, options.predictor ?? 1);
}

/** JPEG Lossless, Non-Hierarchical (Process 14), 1.2.840.10008.1.2.4.57: 2-16 bits, 1 or 3 samples. */
export const jpegLosslessCodec: FrameCodec = createJpegLosslessCodec();

/**
 * JPEG Lossless, First-Order Prediction (Process 14, Selection Value 1),
 * 1.2.840.10008.1.2.4.70: 2-16 bits, 1 or 3 samples. The DICOM default lossless syntax.
 */
export const jpegLosslessSv1Codec: FrameCodec = createLossless(JpegTransferSyntax.LosslessSv1, 1);

function createLossy(transferSyntaxUid: string, extended: boolean): FrameCodec {
  const maxBits = extended ? 12 : 8;
  const unsupported = (d: FrameDescription, direction: 'decode' | 'encode'): string | undefined => {
    const p = samplesPerPixelProblem(d);
    if (p) return p;
    // PS3.5 §8.2.1: Baseline is 8-bit; Extended 8 or 12-bit (T.81 B.2.2).
    if (d.bitsStored > maxBits) {
      return `Bits Stored ${d.bitsStored} (${extended ? 'JPEG Extended: up to 12' : 'JPEG Baseline: 8'})`;
    }
    if (direction === 'encode') {
      if (d.pixelRepresentation === 1) return 'lossy JPEG of signed pixel data';
      if (!extended && d.bitsAllocated !== 8)
        return `Bits Allocated ${d.bitsAllocated} (JPEG Baseline: 8)`;
      if (
        d.samplesPerPixel === 3 &&
        d.photometricInterpretation !== 'RGB' &&
        d.photometricInterpretation !== 'YBR_FULL'
      ) {
        return `colour ${d.photometricInterpretation} (encodes RGB or YBR_FULL)`;
      }
    }
    return undefined;
  };
  return {
    transferSyntaxUid,
    lossy: true,
    unsupported,
    decode: decodeFrame,
    async encode(pixels, d, options?: EncodeOptions): Promise<EncodedFrame> {
      if (!options?.lossy) throw new LossyNotAllowedError(transferSyntaxUid);
      const problem = unsupported(d, 'encode');
      if (problem) throw new UnsupportedJpegError(problem);
      const precision = d.bitsStored > 8 ? 12 : 8;
      const planes = toPlanes(pixels, d).map((p) => Float64Array.from(p));
      let photometricInterpretation = d.photometricInterpretation;
      let sampling: [number, number][] = [[1, 1]];
      if (d.samplesPerPixel === 3) {
        if (d.photometricInterpretation === 'RGB') {
          rgbToYcbcr(planes[0]!, planes[1]!, planes[2]!, precision);
        }
        // PS3.5 §8.2.1: lossy JPEG colour is YBR_FULL_422, chroma halved horizontally.
        photometricInterpretation = 'YBR_FULL_422';
        sampling = [
          [2, 1],
          [1, 1],
          [1, 1],
        ];
      }
      const native = d.rows * d.columns * d.samplesPerPixel * (d.bitsAllocated / 8);
      const encodeAt = (quality: number): Uint8Array =>
        encodeDct({
          planes,
          rows: d.rows,
          columns: d.columns,
          precision,
          marker: extended ? Marker.SOF1 : Marker.SOF0,
          sampling,
          quality,
        });
      const { quality, ratio } = options.lossy;
      let data: Uint8Array;
      if (quality === undefined && ratio !== undefined && ratio > 1) {
        // A target ratio: the best quality that reaches it, by bisection (at most 7 encodings);
        // the lowest quality when none does.
        let lo = 1;
        let hi = 100;
        let best: Uint8Array | undefined;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const attempt = encodeAt(mid);
          if (native / attempt.length >= ratio) {
            best = attempt;
            lo = mid + 1;
          } else {
            hi = mid - 1;
          }
        }
        data = best ?? encodeAt(1);
      } else {
        data = encodeAt(quality ?? DEFAULT_JPEG_QUALITY);
      }
      return {
        data,
        description: {
          ...d,
          photometricInterpretation,
          planarConfiguration: 0,
        },
        lossy: { method: LOSSY_METHOD, ratio: native / data.length },
      };
    },
  };
}

/** JPEG Baseline (Process 1), 1.2.840.10008.1.2.4.50: 8-bit, 1 or 3 samples; lossy. */
export const jpegBaselineCodec: FrameCodec = createLossy(JpegTransferSyntax.Baseline, false);

/** JPEG Extended (Processes 2 and 4), 1.2.840.10008.1.2.4.51: 8 or 12-bit; lossy. */
export const jpegExtendedCodec: FrameCodec = createLossy(JpegTransferSyntax.Extended, true);

/** The JPEG codecs, one per transfer syntax. */
export const jpegCodecs: readonly FrameCodec[] = [
  jpegBaselineCodec,
  jpegExtendedCodec,
  jpegLosslessCodec,
  jpegLosslessSv1Codec,
];
