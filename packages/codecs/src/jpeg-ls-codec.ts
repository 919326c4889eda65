/**
 * JPEG-LS Lossless (1.2.840.10008.1.2.4.80) and Near-Lossless
 * (1.2.840.10008.1.2.4.81), PS3.5 §8.2.3 and §A.4.3, over the WebAssembly
 * build of CharLS (`@cornerstonejs/codec-charls`).
 */
import { CodecsError, CodecsErrorCode } from './errors.js';
import type {
  DecodedFrame,
  EncodedFrame,
  EncodeOptions,
  FrameCodec,
  FrameDescription,
} from './frame-codec.js';
import { checkFrame, frameLength, toPlanarConfiguration } from './pixel-layout.js';
import { lazyWasmModule } from './wasm-module.js';

/** JPEG-LS Lossless Image Compression (PS3.5 §A.4.3). */
export const JPEG_LS_LOSSLESS = '1.2.840.10008.1.2.4.80';
/** JPEG-LS Lossy (Near-Lossless) Image Compression (PS3.5 §A.4.3). */
export const JPEG_LS_NEAR_LOSSLESS = '1.2.840.10008.1.2.4.81';

/** Default NEAR (the largest error per sample) of near-lossless encoding, as dcmcjpls's. */
export const DEFAULT_JPEG_LS_NEAR = 2;

interface CharlsFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}
interface CharlsDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): CharlsFrameInfo;
  getInterleaveMode(): number;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
interface CharlsEncoder {
  getDecodedBuffer(info: CharlsFrameInfo): Uint8Array;
  setNearLossless(near: number): void;
  setInterleaveMode(mode: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}
interface Charls {
  JpegLSDecoder: new () => CharlsDecoder;
  JpegLSEncoder: new () => CharlsEncoder;
}

const charls = lazyWasmModule<Charls>('@cornerstonejs/codec-charls/wasmjs');

function unsupported(d: FrameDescription): string | undefined {
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) return `Bits Allocated ${d.bitsAllocated}`;
  if (d.bitsStored < 2 || d.bitsStored > 16) return `Bits Stored ${d.bitsStored} (2 to 16)`;
  if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) return `${d.samplesPerPixel} samples`;
  // PS3.5 §8.2.3: colour JPEG-LS is RGB or YBR_FULL, never subsampled.
  if (d.photometricInterpretation.startsWith('YBR') && d.photometricInterpretation !== 'YBR_FULL') {
    return `${d.photometricInterpretation} (PS3.5 8.2.3)`;
  }
  return undefined;
}

/**
 * The sample precision P of the JPEG-LS frame header (ISO 14495-1 §C.2.2) for
 * a description: Bits Stored, except for signed samples narrower than Bits
 * Allocated, whose native values carry their sign in the high bits (PS3.5
 * §8.1.1): those are coded at Bits Allocated, every bit kept, as dcmcjpls
 * does, so that any decoder gives the native values back unchanged.
 */
function precision(d: FrameDescription): number {
  return d.pixelRepresentation === 1 ? d.bitsAllocated : d.bitsStored;
}

/** Masks samples to `bits` (unsigned values may carry stray high bits, which JPEG-LS cannot code). */
function maskTo(pixels: Uint8Array, d: FrameDescription, bits: number): Uint8Array {
  if (d.bitsAllocated !== 16 || bits === 16) return pixels;
  const out = new Uint16Array(pixels.length / 2);
  out.set(
    new Uint16Array(pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.length)),
  );
  const mask = (1 << bits) - 1;
  for (let i = 0; i < out.length; i++) out[i]! &= mask;
  return new Uint8Array(out.buffer);
}

/** Sign-extends samples of Bits Stored bits to Bits Allocated (Pixel Representation 1). */
function signExtend(pixels: Uint8Array, d: FrameDescription): Uint8Array {
  if (d.pixelRepresentation !== 1 || d.bitsStored === d.bitsAllocated) return pixels;
  if (d.bitsAllocated === 16) {
    const v = new Uint16Array(pixels.buffer, pixels.byteOffset, pixels.length / 2);
    const shift = 32 - d.bitsStored;
    for (let i = 0; i < v.length; i++) v[i] = ((v[i]! << shift) >> shift) & 0xffff;
  } else {
    const shift = 32 - d.bitsStored;
    for (let i = 0; i < pixels.length; i++) pixels[i] = ((pixels[i]! << shift) >> shift) & 0xff;
  }
  return pixels;
}

function makeCodec(uid: string, nearLossless: boolean): FrameCodec {
  return {
    transferSyntaxUid: uid,
    lossy: nearLossless,
    unsupported,

    async decode(frame: Uint8Array, d: FrameDescription): Promise<DecodedFrame> {
      checkFrame(d);
      const { api } = await charls();
      const decoder = new api.JpegLSDecoder();
      try {
        decoder.getEncodedBuffer(frame.length).set(frame);
        decoder.decode();
        const info = decoder.getFrameInfo();
        if (
          info.width !== d.columns ||
          info.height !== d.rows ||
          info.componentCount !== d.samplesPerPixel
        ) {
          throw new Error(
            `bitstream is ${info.width}x${info.height}x${info.componentCount}, the data set says ${d.columns}x${d.rows}x${d.samplesPerPixel}`,
          );
        }
        // Interleave mode 0 (none) decodes colour-by-plane; line and sample modes by pixel.
        const pc: 0 | 1 = d.samplesPerPixel > 1 && decoder.getInterleaveMode() === 0 ? 1 : 0;
        const raw = copyOut(decoder.getDecodedBuffer(), frameLength(d));
        const description: FrameDescription = { ...d, planarConfiguration: 0 };
        const pixels = toPlanarConfiguration(raw, { ...d, planarConfiguration: pc }, 0);
        return { pixels: signExtend(pixels, d), description };
      } catch (e) {
        if (e instanceof CodecsError) throw e;
        throw new CodecsError(CodecsErrorCode.DECODE_FAILED, `JPEG-LS: ${describe(e)}`, {
          cause: e,
          transferSyntaxUid: uid,
        });
      } finally {
        decoder.delete();
      }
    },

    async encode(
      pixels: Uint8Array,
      d: FrameDescription,
      options: EncodeOptions = {},
    ): Promise<EncodedFrame> {
      checkFrame(d, pixels);
      const why = unsupported(d);
      if (why) throw new CodecsError(CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT, `JPEG-LS: ${why}`);
      // 4.81 without permission to lose information codes with NEAR 0 (lossless bits).
      const near =
        nearLossless && options.lossy ? (options.lossy.maxError ?? DEFAULT_JPEG_LS_NEAR) : 0;
      const { api } = await charls();
      const encoder = new api.JpegLSEncoder();
      try {
        const bits = precision(d);
        const input = maskTo(
          toPlanarConfiguration(pixels.subarray(0, frameLength(d)), d, 0),
          d,
          bits,
        );
        encoder
          .getDecodedBuffer({
            width: d.columns,
            height: d.rows,
            bitsPerSample: bits,
            componentCount: d.samplesPerPixel,
          })
          .set(input);
        encoder.setNearLossless(near);
        // Sample-interleaved colour, matching Planar Configuration 0 (PS3.5 §8.2.3).
        if (d.samplesPerPixel > 1) encoder.setInterleaveMode(2);
        encoder.encode();
        const data = copyOut(encoder.getEncodedBuffer());
        const description: FrameDescription = { ...d, planarConfiguration: 0 };
        return near > 0
          ? {
              data,
              description,
              lossy: { method: 'ISO_14495_1', ratio: frameLength(d) / data.length },
            }
          : { data, description };
      } catch (e) {
        throw new CodecsError(CodecsErrorCode.ENCODE_FAILED, `JPEG-LS: ${describe(e)}`, {
          cause: e,
          transferSyntaxUid: uid,
        });
      } finally {
        encoder.delete();
      }
    },
  };
}

/**
 * A copy of a view into WebAssembly memory as a plain `Uint8Array` (the
 * Emscripten builds hand out `Uint8ClampedArray` views, freed with their coder).
 *
 * @param view - the view
 * @param length - how many bytes to copy (default all)
 */
export function copyOut(
  view: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  length = view.length,
): Uint8Array {
  const out = new Uint8Array(Math.min(length, view.length));
  out.set(view.subarray(0, out.length));
  return out;
}

/** A readable text for what a WebAssembly codec threw (Emscripten may throw numbers). */
export function describe(e: unknown): string {
  return e instanceof Error ? e.message : `the codec failed (WebAssembly exception ${String(e)})`;
}

/** The JPEG-LS Lossless codec (4.80). */
export const jpegLsLosslessCodec: FrameCodec = makeCodec(JPEG_LS_LOSSLESS, false);
/**
 * The JPEG-LS Near-Lossless codec (4.81): NEAR is `lossy.maxError` (default 2) when
 * lossy output is allowed, 0 otherwise.
 */
export const jpegLsNearLosslessCodec: FrameCodec = makeCodec(JPEG_LS_NEAR_LOSSLESS, true);
