/**
 * Reading and writing encapsulated Pixel Data (PS3.5 §A.4) one frame at a
 * time: an item of (FFFE,E000) for the Basic Offset Table, then one item per
 * fragment, then the Sequence Delimitation Item (FFFE,E0DD).
 */
import { ItemTag } from '@dnet/dataset';
import type { ByteReader } from './byte-reader.js';
import { CodecsError, CodecsErrorCode } from './errors.js';
import { RLE_LOSSLESS } from './rle-codec.js';

/** Where each frame starts, from the offset tables (PS3.5 §A.4, PS3.3 §C.7.6.3.1.8). */
export interface FrameOffsets {
  /**
   * The Extended Offset Table (7FE0,0001): byte offsets of each frame's first
   * fragment item from the first fragment item, when the data set has one.
   */
  readonly extended?: readonly bigint[];
}

function malformed(message: string, frame?: number): CodecsError {
  return new CodecsError(CodecsErrorCode.MALFORMED_PIXEL_DATA, message, { frame });
}

/** True when a fragment ends with the JPEG EOI / JPEG 2000 EOC marker FFD9, padding aside. */
function endsFrame(f: Uint8Array): boolean {
  const n = f.length;
  if (n >= 2 && f[n - 2] === 0xff && f[n - 1] === 0xd9) return true;
  // A fragment is padded to an even length with one trailing zero (PS3.5 §A.4).
  return n >= 3 && f[n - 1] === 0 && f[n - 3] === 0xff && f[n - 2] === 0xd9;
}

function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Yields the compressed bytes of each frame of an encapsulated Pixel Data
 * value, read from just after its element header, holding one frame at a time.
 * Frames are found (PS3.5 §A.4) from the Extended Offset Table when present,
 * else from a non-empty Basic Offset Table; with an empty one, a single frame
 * takes every fragment, RLE takes one fragment per frame (§A.4.2), and the
 * JPEG family and JPEG 2000 end a frame at the fragment ending with the EOI /
 * EOC marker FFD9 (a frame's fragments hold nothing after it), which also
 * covers the one-fragment-per-frame rule.
 *
 * @param reader - positioned at the Basic Offset Table item
 * @param numberOfFrames - (0028,0008), 1 when absent
 * @param transferSyntaxUid - the source syntax
 * @param offsets - the Extended Offset Table, when the data set has one
 */
export async function* readEncapsulatedFrames(
  reader: ByteReader,
  numberOfFrames: number,
  transferSyntaxUid: string,
  offsets: FrameOffsets = {},
): AsyncGenerator<Uint8Array> {
  const head = await reader.read(8);
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const tag = ((dv.getUint16(0, true) << 16) | dv.getUint16(2, true)) >>> 0;
  if (tag !== ItemTag.Item)
    throw malformed('encapsulated Pixel Data has no Basic Offset Table item (PS3.5 A.4)');
  const botLength = dv.getUint32(4, true);
  if (botLength % 4 !== 0) throw malformed(`Basic Offset Table of ${botLength} bytes (PS3.5 A.4)`);
  const bot = await reader.read(botLength);
  const botDv = new DataView(bot.buffer, bot.byteOffset, bot.byteLength);
  let starts: number[] | undefined;
  if (offsets.extended && offsets.extended.length === numberOfFrames) {
    starts = offsets.extended.map(Number);
  } else if (botLength > 0) {
    starts = [];
    for (let i = 0; i < botLength; i += 4) starts.push(botDv.getUint32(i, true));
    if (starts.length !== numberOfFrames) {
      throw malformed(
        `Basic Offset Table has ${starts.length} entries for ${numberOfFrames} frames`,
      );
    }
  }
  let pos = 0; // from the first byte of the first fragment item (PS3.5 §A.4)
  let frame = 0;
  let parts: Uint8Array[] = [];
  let yielded = 0;
  for (;;) {
    const h = await reader.read(8);
    const hv = new DataView(h.buffer, h.byteOffset, 8);
    const t = ((hv.getUint16(0, true) << 16) | hv.getUint16(2, true)) >>> 0;
    const length = hv.getUint32(4, true);
    if (t === ItemTag.SequenceDelimitation) break;
    if (t !== ItemTag.Item || length === 0xffffffff) {
      throw malformed(
        `expected a fragment item, found (${(t >>> 16).toString(16)},${(t & 0xffff).toString(16)})`,
      );
    }
    // A copy: the reader's views do not outlive the next read.
    const data = (await reader.read(length)).slice();
    if (starts) {
      // The fragment belongs to the last frame whose start is at or before it.
      let k = frame;
      while (k + 1 < starts.length && starts[k + 1]! <= pos) k++;
      if (k !== frame && parts.length > 0) {
        yield joined(parts);
        yielded++;
        parts = [];
      }
      frame = k;
      parts.push(data);
    } else if (numberOfFrames === 1) {
      parts.push(data);
    } else if (transferSyntaxUid === RLE_LOSSLESS) {
      if (frame >= numberOfFrames)
        throw malformed(`more fragments than the ${numberOfFrames} frames`);
      yield data;
      yielded++;
      frame++;
    } else {
      parts.push(data);
      if (endsFrame(data)) {
        if (frame >= numberOfFrames)
          throw malformed(`more frames than the ${numberOfFrames} declared`);
        yield joined(parts);
        yielded++;
        parts = [];
        frame++;
      }
    }
    pos += 8 + length;
  }
  if (parts.length > 0) {
    yield joined(parts);
    yielded++;
  }
  if (yielded !== numberOfFrames) {
    throw malformed(
      `encapsulated Pixel Data holds ${yielded} frames, Number of Frames is ${numberOfFrames}`,
    );
  }
}

const ITEM_HEADER = 8;

/** The header of an item (FFFE,E000) of `length` bytes, little endian (PS3.5 §A.4). */
export function itemHeader(length: number, tag: number = ItemTag.Item): Uint8Array {
  const h = new Uint8Array(ITEM_HEADER);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, tag >>> 16, true);
  dv.setUint16(2, tag & 0xffff, true);
  dv.setUint32(4, length, true);
  return h;
}

/**
 * One frame as one fragment item, padded to an even length with a trailing
 * zero (PS3.5 §A.4: items have even lengths; JPEG and JPEG 2000 decoders
 * ignore bytes after the EOI/EOC marker).
 */
export function fragmentItem(frame: Uint8Array): Uint8Array[] {
  const odd = frame.length % 2 === 1;
  const head = itemHeader(frame.length + (odd ? 1 : 0));
  return odd ? [head, frame, new Uint8Array(1)] : [head, frame];
}

/** The Sequence Delimitation Item (FFFE,E0DD) that ends encapsulated Pixel Data. */
export function sequenceDelimiter(): Uint8Array {
  return itemHeader(0, ItemTag.SequenceDelimitation);
}
