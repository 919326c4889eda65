/**
 * The contract every pixel codec of `@dnet/codecs` meets: one frame in, one
 * frame out. A codec never sees a whole multi-frame object; the transcoder
 * (which owns fragments, offset tables and the data set's attributes) hands it
 * one frame at a time, so memory stays bounded by a frame plus the codec's own
 * buffers.
 */

/**
 * What a codec needs to know about a frame: the Image Pixel Module's
 * attributes (PS3.3 §C.7.6.3) as they apply to one frame.
 */
export interface FrameDescription {
  /** Rows (0028,0010). */
  readonly rows: number;
  /** Columns (0028,0011). */
  readonly columns: number;
  /** Samples per Pixel (0028,0002): 1 (monochrome, palette) or 3 (colour). */
  readonly samplesPerPixel: number;
  /** Bits Allocated (0028,0100): 8 or 16 (1 and 32 are not supported by any codec here). */
  readonly bitsAllocated: number;
  /** Bits Stored (0028,0101). */
  readonly bitsStored: number;
  /** Pixel Representation (0028,0103): 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: 0 | 1;
  /** Photometric Interpretation (0028,0004), e.g. `MONOCHROME2`, `RGB`, `YBR_FULL_422`. */
  readonly photometricInterpretation: string;
  /**
   * Planar Configuration (0028,0006) of the native (decoded) pixels: 0 colour-by-pixel,
   * 1 colour-by-plane. Meaningful only when `samplesPerPixel` is 3.
   */
  readonly planarConfiguration: 0 | 1;
}

/** Options for encoding; lossy output is never produced unless `lossy` is set. */
export interface EncodeOptions {
  /**
   * Allow lossy compression. Without it a lossy-only syntax (JPEG Baseline, JPEG 2000
   * lossy...) refuses to encode.
   */
  readonly lossy?: {
    /** Quality from 1 (worst) to 100 (best), where the codec has such a setting (HTJ2K). */
    readonly quality?: number;
    /** Target compression ratio, where the codec takes one (JPEG 2000). */
    readonly ratio?: number;
    /** The largest error per sample, where the codec bounds it (JPEG-LS NEAR, default 2). */
    readonly maxError?: number;
  };
}

/** A decoded frame: native pixels, little endian, in the layout `description` gives. */
export interface DecodedFrame {
  readonly pixels: Uint8Array;
  /** The frame's description after decoding (a JPEG colour frame may decode to RGB). */
  readonly description: FrameDescription;
}

/** An encoded frame: the bytes of one frame's compressed bitstream. */
export interface EncodedFrame {
  readonly data: Uint8Array;
  /** The description the encoded bitstream carries (e.g. `YBR_FULL_422` for JPEG Baseline colour). */
  readonly description: FrameDescription;
  /**
   * Set when the encoding lost information: the method for Lossy Image Compression Method
   * (0028,2114), e.g. `ISO_10918_1`, and the achieved ratio (PS3.3 §C.7.6.1.1.5).
   */
  readonly lossy?: { readonly method: string; readonly ratio: number };
}

/** One transfer syntax's pixel codec. */
export interface FrameCodec {
  /** The transfer syntax UID this codec reads and writes. */
  readonly transferSyntaxUid: string;
  /** True when this syntax's encoding loses information (PS3.5 §8.2). */
  readonly lossy: boolean;
  /** Why this codec cannot handle `description`, or `undefined` when it can. */
  unsupported(description: FrameDescription, direction: 'decode' | 'encode'): string | undefined;
  /** Decode one frame's compressed bytes to native pixels. */
  decode(frame: Uint8Array, description: FrameDescription): Promise<DecodedFrame>;
  /** Encode one frame of native pixels. Absent when the codec can only decode. */
  encode?(
    pixels: Uint8Array,
    description: FrameDescription,
    options?: EncodeOptions,
  ): Promise<EncodedFrame>;
}
