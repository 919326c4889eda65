/**
 * JPEG 2000 (PS3.5 §8.2.4, §A.4.4) over the WebAssembly build of OpenJPEG
 * (`@cornerstonejs/codec-openjpeg`), and High-Throughput JPEG 2000 (PS3.5
 * §8.2.9, §A.4.10) over the WebAssembly build of OpenJPH
 * (`@cornerstonejs/codec-openjph`). Both builds share one interface.
 *
 * Colour is encoded without the multiple component transform, so RGB stays
 * RGB (PS3.5 §8.2.4 allows RGB when no component transform is applied) and
 * Planar Configuration is 0. A YBR_RCT or YBR_ICT codestream decodes to RGB:
 * the decoder reverses the transform.
 */
import { CodecsError, CodecsErrorCode } from './errors.js';
import type {
  DecodedFrame,
  EncodedFrame,
  EncodeOptions,
  FrameCodec,
  FrameDescription,
} from './frame-codec.js';
import { copyOut, describe } from './jpeg-ls-codec.js';
import { checkFrame, frameLength, toPlanarConfiguration } from './pixel-layout.js';
import { lazyWasmModule, type WasmModule } from './wasm-module.js';

/** JPEG 2000 Image Compression (Lossless Only) (PS3.5 §A.4.4). */
export const JPEG_2000_LOSSLESS = '1.2.840.10008.1.2.4.90';
/** JPEG 2000 Image Compression (PS3.5 §A.4.4), lossless or lossy. */
export const JPEG_2000 = '1.2.840.10008.1.2.4.91';
/** High-Throughput JPEG 2000 Image Compression (Lossless Only) (PS3.5 §A.4.10). */
export const HTJ2K_LOSSLESS = '1.2.840.10008.1.2.4.201';
/** High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only). */
export const HTJ2K_LOSSLESS_RPCL = '1.2.840.10008.1.2.4.202';
/** High-Throughput JPEG 2000 Image Compression, lossless or lossy. */
export const HTJ2K = '1.2.840.10008.1.2.4.203';

/** Default compression ratio of lossy JPEG 2000. */
export const DEFAULT_JPEG_2000_RATIO = 10;
/** Default quality (1 to 100) of lossy HTJ2K. */
export const DEFAULT_HTJ2K_QUALITY = 90;

interface J2kFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
  isUsingColorTransform?: boolean;
}
interface J2kDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): J2kFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
interface J2kEncoder {
  getDecodedBuffer(info: J2kFrameInfo): Uint8Array;
  setQuality(lossless: boolean, quality: number): void;
  setCompressionRatio?(layer: number, ratio: number): void;
  setProgressionOrder?(order: number): void;
  setDecompositions?(levels: number): void;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  delete(): void;
}
interface OpenJpeg {
  J2KDecoder: new () => J2kDecoder;
  J2KEncoder: new () => J2kEncoder;
}
interface OpenJph {
  HTJ2KDecoder: new () => J2kDecoder;
  HTJ2KEncoder: new () => J2kEncoder;
}

const openjpeg = lazyWasmModule<OpenJpeg>('@cornerstonejs/codec-openjpeg/wasmjs');
const openjph = lazyWasmModule<OpenJph>('@cornerstonejs/codec-openjph/wasmjs');

/** The two libraries behind one shape. */
interface Library {
  load(): Promise<WasmModule<unknown>>;
  decoder(m: WasmModule<unknown>): J2kDecoder;
  encoder(m: WasmModule<unknown>): J2kEncoder;
  /** The Lossy Image Compression Method (PS3.3 §C.7.6.1.1.5.1). */
  method: string;
  name: string;
}

const OPENJPEG: Library = {
  load: openjpeg,
  decoder: (m) => new (m.api as OpenJpeg).J2KDecoder(),
  encoder: (m) => new (m.api as OpenJpeg).J2KEncoder(),
  method: 'ISO_15444_1',
  name: 'JPEG 2000',
};
const OPENJPH: Library = {
  load: openjph,
  decoder: (m) => new (m.api as OpenJph).HTJ2KDecoder(),
  encoder: (m) => new (m.api as OpenJph).HTJ2KEncoder(),
  method: 'ISO_15444_15',
  name: 'HTJ2K',
};

function unsupported(d: FrameDescription): string | undefined {
  if (d.bitsAllocated !== 8 && d.bitsAllocated !== 16) return `Bits Allocated ${d.bitsAllocated}`;
  if (d.bitsStored < 1 || d.bitsStored > 16) return `Bits Stored ${d.bitsStored}`;
  if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3) return `${d.samplesPerPixel} samples`;
  if (
    d.photometricInterpretation === 'YBR_FULL_422' ||
    d.photometricInterpretation === 'YBR_PARTIAL_422'
  ) {
    return `${d.photometricInterpretation} (PS3.5 8.2.4)`;
  }
  return undefined;
}

function makeCodec(uid: string, lib: Library, canLose: boolean): FrameCodec {
  return {
    transferSyntaxUid: uid,
    lossy: canLose,
    unsupported,

    async decode(frame: Uint8Array, d: FrameDescription): Promise<DecodedFrame> {
      checkFrame(d);
      const m = await lib.load();
      const decoder = lib.decoder(m);
      m.takeError();
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
            `codestream is ${info.width}x${info.height}x${info.componentCount}, the data set says ${d.columns}x${d.rows}x${d.samplesPerPixel}`,
          );
        }
        const raw = decoder.getDecodedBuffer();
        const want = frameLength(d);
        let pixels: Uint8Array;
        if (raw.length === want) {
          pixels = copyOut(raw);
        } else if (d.bitsAllocated === 16 && raw.length === want / 2) {
          // Stored in 8 bits or fewer, decoded one byte a sample: widen (sign-extended if signed).
          pixels = new Uint8Array(want);
          const out = new Uint16Array(pixels.buffer);
          for (let i = 0; i < raw.length; i++) {
            out[i] = info.isSigned ? ((raw[i]! << 24) >> 24) & 0xffff : raw[i]!;
          }
        } else {
          throw new Error(`decoded ${raw.length} bytes, ${want} expected`);
        }
        const pi = d.photometricInterpretation;
        // The decoder undoes the component transform (PS3.5 §8.2.4): YBR_RCT/ICT come out RGB.
        const description: FrameDescription = {
          ...d,
          planarConfiguration: 0,
          photometricInterpretation: pi === 'YBR_RCT' || pi === 'YBR_ICT' ? 'RGB' : pi,
        };
        return { pixels, description };
      } catch (e) {
        if (e instanceof CodecsError) throw e;
        const said = m.takeError();
        throw new CodecsError(
          CodecsErrorCode.DECODE_FAILED,
          `${lib.name}: ${describe(e)}${said ? ` (${said})` : ''}`,
          { cause: e, transferSyntaxUid: uid },
        );
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
      if (why)
        throw new CodecsError(CodecsErrorCode.UNSUPPORTED_PIXEL_FORMAT, `${lib.name}: ${why}`);
      const lossy = canLose && options.lossy !== undefined;
      const m = await lib.load();
      const encoder = lib.encoder(m);
      m.takeError();
      try {
        const input = toPlanarConfiguration(pixels.subarray(0, frameLength(d)), d, 0);
        encoder
          .getDecodedBuffer({
            width: d.columns,
            height: d.rows,
            bitsPerSample: d.bitsStored,
            componentCount: d.samplesPerPixel,
            isSigned: d.pixelRepresentation === 1,
            isUsingColorTransform: false,
          })
          .set(input);
        if (!lossy) {
          encoder.setQuality(true, 0);
        } else if (lib === OPENJPEG) {
          encoder.setQuality(false, 0);
          encoder.setCompressionRatio?.(0, options.lossy?.ratio ?? DEFAULT_JPEG_2000_RATIO);
        } else {
          // OpenJPH's lossy setting is a quantisation step: smaller is better.
          const q = Math.min(100, Math.max(1, options.lossy?.quality ?? DEFAULT_HTJ2K_QUALITY));
          encoder.setQuality(false, (101 - q) / 1000);
        }
        if (lib === OPENJPEG) {
          // OpenJPEG refuses more wavelet levels than a small image has (its default
          // is 5); OpenJPH copes with its default and mis-codes 0 levels, so it keeps it.
          const side = Math.min(d.rows, d.columns);
          encoder.setDecompositions?.(Math.max(0, Math.min(5, Math.floor(Math.log2(side)) - 1)));
        }
        // PS3.5 §A.4.10: the RPCL syntax carries the RPCL progression order (value 2).
        if (uid === HTJ2K_LOSSLESS_RPCL) encoder.setProgressionOrder?.(2);
        encoder.encode();
        const data = copyOut(encoder.getEncodedBuffer());
        const description: FrameDescription = { ...d, planarConfiguration: 0 };
        return lossy
          ? {
              data,
              description,
              lossy: { method: lib.method, ratio: frameLength(d) / data.length },
            }
          : { data, description };
      } catch (e) {
        const said = m.takeError();
        throw new CodecsError(
          CodecsErrorCode.ENCODE_FAILED,
          `${lib.name}: ${describe(e)}${said ? ` (${said})` : ''}`,
          { cause: e, transferSyntaxUid: uid },
        );
      } finally {
        encoder.delete();
      }
    },
  };
}

/** JPEG 2000 Lossless Only (4.90): reversible wavelet, always. */
export const jpeg2000LosslessCodec: FrameCodec = makeCodec(JPEG_2000_LOSSLESS, OPENJPEG, false);
/** JPEG 2000 (4.91): irreversible at `lossy.ratio` (default 10) when lossy output is allowed, reversible otherwise. */
export const jpeg2000Codec: FrameCodec = makeCodec(JPEG_2000, OPENJPEG, true);
/** HTJ2K Lossless Only (4.201). */
export const htj2kLosslessCodec: FrameCodec = makeCodec(HTJ2K_LOSSLESS, OPENJPH, false);
/** HTJ2K with RPCL Options, Lossless Only (4.202). */
export const htj2kLosslessRpclCodec: FrameCodec = makeCodec(HTJ2K_LOSSLESS_RPCL, OPENJPH, false);
/** HTJ2K (4.203): lossy at `lossy.quality` (default 90) when lossy output is allowed, lossless otherwise. */
export const htj2kCodec: FrameCodec = makeCodec(HTJ2K, OPENJPH, true);
