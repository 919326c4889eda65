import {
  checkFixedLength,
  decodePdu,
  decodePdvs,
  isFixedLengthPdu,
  plain,
  unknownType,
} from './decode-pdu.js';
import { PduError, PduErrorCode } from './errors.js';
import type { PDataTf, PresentationDataValue } from './p-data-tf.js';
import type { Pdu } from './pdu.js';
import { PDU_HEADER_LENGTH, PduType } from './pdu-type.js';
import { SpanningPdv } from './pdv-parts.js';

/** Default cap on a received P-DATA-TF's length field: 4 MiB. */
export const DEFAULT_DECODER_MAX_PDU_LENGTH = 4 * 1024 * 1024;
/** Default cap on a received A-ASSOCIATE-RQ/AC's length field: 1 MiB. */
export const DEFAULT_MAX_ASSOCIATION_PDU_LENGTH = 1024 * 1024;

/** Options of a {@link PduDecoder}. */
export interface PduDecoderOptions {
  /**
   * Largest P-DATA-TF length field accepted: the maximum length we announced
   * (PS3.8 Annex D.1). Default {@link DEFAULT_DECODER_MAX_PDU_LENGTH}.
   */
  maxPduLength?: number;
  /**
   * Largest A-ASSOCIATE-RQ/AC length field accepted. Default
   * {@link DEFAULT_MAX_ASSOCIATION_PDU_LENGTH} (1 MiB).
   */
  maxAssociationPduLength?: number;
}

/**
 * An uninitialised buffer for a straddling PDU: every byte is written by the
 * copy before it is read, so the zero fill of `new Uint8Array` is wasted work.
 * Node's `Buffer.allocUnsafeSlow` skips it (and the shared pool); elsewhere a
 * plain Uint8Array is used. Returned as a plain Uint8Array either way.
 */
const allocate: (size: number) => Uint8Array =
  typeof Buffer === 'function' && typeof Buffer.allocUnsafeSlow === 'function'
    ? (size) => {
        const b = Buffer.allocUnsafeSlow(size);
        return new Uint8Array(b.buffer, b.byteOffset, size);
      }
    : (size) => new Uint8Array(size);

/**
 * Largest buffer allocated for a straddling PDU on the word of its header
 * alone: 1 MiB. Larger PDUs (allowed by a large cap) grow as their bytes
 * arrive.
 */
export const EAGER_ALLOCATION_LIMIT = 1024 * 1024;

/** The bytes of `parts`, in order, in one new buffer. */
function join(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = allocate(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function checkCap(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
    throw new RangeError(`${name} must be an integer in 1..4294967295, not ${value}`);
  }
  return value;
}

/**
 * Incremental, bounded PDU decoder (PS3.8 §9.3). Feed it the chunks a
 * connection delivers; it returns each PDU as soon as its last byte arrives.
 *
 * Chunks are never concatenated with each other: a PDU lying within one
 * chunk is decoded from a view of it (P-DATA-TF data are views into the
 * chunk, so do not reuse a chunk's memory while its PDUs are in use). A
 * P-DATA-TF that straddles chunks is not copied either: the decoder keeps
 * views of the chunks it spans and, once it is complete, hands out each PDV
 * whose value lies within one chunk as a view of it, and each PDV whose value
 * spans chunks with its views listed by {@link pdvParts} (its `data` joins
 * them, a copy, only when first read). Any other PDU that straddles chunks
 * (an A-ASSOCIATE-RQ/AC) is copied once, into a buffer of its exact size
 * allocated when its header is complete. A header split across chunks is
 * gathered in 6 bytes of its own. The length in each header is checked
 * against the caps before anything is kept for it, so memory held is at most
 * one PDU of the capped size (plus, for a P-DATA-TF, the unused rest of the
 * first and last chunk it spans).
 *
 * After a {@link PduError} the stream is out of step: the decoder stays
 * failed and every later `push` throws the same error.
 *
 * @example
 * ```ts
 * const decoder = new PduDecoder({ maxPduLength: 16384 });
 * socket.on('data', (chunk) => {
 *   for (const pdu of decoder.push(chunk)) handle(pdu);
 * });
 * ```
 */
export class PduDecoder {
  readonly #maxPduLength: number;
  readonly #maxAssociationPduLength: number;
  /** Header bytes of the next PDU when fewer than 6 have arrived. */
  readonly #head = new Uint8Array(PDU_HEADER_LENGTH);
  #headLength = 0;
  /** The straddling PDU being filled: its buffer, bytes filled, and total size. */
  #partial: Uint8Array | undefined;
  /** The straddling P-DATA-TF being gathered: views of the chunks it spans, never copied. */
  #pieces: Uint8Array[] | undefined;
  #filled = 0;
  #total = 0;
  #copied = 0;
  #failure: PduError | undefined;

  constructor(options: PduDecoderOptions = {}) {
    this.#maxPduLength = checkCap(
      options.maxPduLength,
      DEFAULT_DECODER_MAX_PDU_LENGTH,
      'maxPduLength',
    );
    this.#maxAssociationPduLength = checkCap(
      options.maxAssociationPduLength,
      DEFAULT_MAX_ASSOCIATION_PDU_LENGTH,
      'maxAssociationPduLength',
    );
  }

  /** Bytes held for an incomplete PDU. */
  get pending(): number {
    return this.#partial || this.#pieces ? this.#filled : this.#headLength;
  }

  /**
   * Total bytes copied so far to join PDUs that straddled chunks: each such
   * PDU other than a P-DATA-TF is copied once, whole (PDUs over
   * {@link EAGER_ALLOCATION_LIMIT} also count the copies of their growing
   * buffer); a P-DATA-TF counts only the values of PDVs spanning chunks whose
   * `data` was read (joined on first read). 0 while every PDU lay within a
   * chunk. The 6 header bytes of a PDU split across chunks are not counted.
   */
  get bytesCopied(): number {
    return this.#copied;
  }

  /** Feeds one chunk; returns the PDUs completed by it (PDV data are views into the chunk when the PDU lies within it). */
  push(chunk: Uint8Array): Pdu[] {
    if (this.#failure) throw this.#failure;
    const out: Pdu[] = [];
    try {
      if (chunk.constructor !== Uint8Array) chunk = plain(chunk);
      const end = chunk.length;
      let o = 0;
      if (this.#headLength > 0) {
        // A header split across chunks: gather its 6 bytes.
        const take = Math.min(PDU_HEADER_LENGTH - this.#headLength, end);
        this.#head.set(chunk.subarray(0, take), this.#headLength);
        this.#headLength += take;
        o = take;
        if (this.#headLength < PDU_HEADER_LENGTH) return out;
        this.#headLength = 0;
        this.#begin(this.#checkHeader(this.#head, 0), this.#head[0]!);
        // #head is reused: a P-DATA-TF keeps a copy of its 6 bytes as its first piece.
        this.#append(this.#pieces ? this.#head.slice() : this.#head);
      }
      if (this.#partial || this.#pieces) {
        const take = Math.min(this.#total - this.#filled, end - o);
        if (take > 0) this.#append(chunk.subarray(o, o + take));
        o += take;
        if (this.#filled < this.#total) return out;
        const pieces = this.#pieces;
        if (pieces) {
          this.#pieces = undefined;
          out.push(this.#decodePieces(pieces, this.#total));
        } else {
          const partial = this.#partial!;
          this.#partial = undefined;
          this.#copied += partial.length;
          out.push(decodePdu(partial));
        }
      }
      while (end - o >= PDU_HEADER_LENGTH) {
        const total = this.#checkHeader(chunk, o);
        if (end - o < total) {
          // Straddles into later chunks: gather it (views for a P-DATA-TF, else one copy).
          this.#begin(total, chunk[o]!);
          this.#append(chunk.subarray(o));
          return out;
        }
        // A P-DATA-TF is decoded in place: its PDVs are views of the chunk.
        out.push(
          chunk[o] === PduType.P_DATA_TF
            ? { type: PduType.P_DATA_TF, pdvs: decodePdvs(chunk, o, o + total) }
            : decodePdu(chunk.subarray(o, o + total)),
        );
        o += total;
      }
      if (o < end) {
        this.#head.set(chunk.subarray(o));
        this.#headLength = end - o;
      }
      return out;
    } catch (err) {
      this.#failure =
        err instanceof PduError
          ? err
          : new PduError(PduErrorCode.INVALID_VALUE, 'PDU decoding failed', {
              field: 'pdu',
              cause: err,
            });
      this.#partial = undefined;
      this.#pieces = undefined;
      this.#headLength = 0;
      throw this.#failure;
    }
  }

  /**
   * Starts gathering a straddling PDU of `total` bytes (already checked
   * against the caps). A P-DATA-TF is gathered as a list of views. Any other
   * PDU: up to {@link EAGER_ALLOCATION_LIMIT} its buffer is allocated whole,
   * so its bytes are copied once; a larger PDU grows its buffer as bytes
   * arrive (doubling), so a header alone never makes the decoder hold more
   * than that limit.
   */
  #begin(total: number, type: number): void {
    this.#total = total;
    this.#filled = 0;
    if (type === PduType.P_DATA_TF) this.#pieces = [];
    else this.#partial = allocate(Math.min(total, EAGER_ALLOCATION_LIMIT));
  }

  /** Appends bytes of the straddling PDU (never beyond its total). */
  #append(bytes: Uint8Array): void {
    if (this.#pieces) {
      this.#pieces.push(bytes);
      this.#filled += bytes.length;
      return;
    }
    let partial = this.#partial!;
    const filled = this.#filled + bytes.length;
    if (filled > partial.length) {
      const grown = allocate(Math.min(this.#total, Math.max(filled, partial.length * 2)));
      grown.set(partial.subarray(0, this.#filled));
      this.#copied += this.#filled;
      this.#partial = partial = grown;
    }
    partial.set(bytes, this.#filled);
    this.#filled = filled;
  }

  /**
   * Decodes a complete P-DATA-TF of `total` bytes held as `pieces` (views of
   * the chunks it came in, the first starting with its header) without
   * joining them: PS3.8 §9.3.5 Table 9-22 and §9.3.5.1 Table 9-23, the same
   * checks as for a P-DATA-TF within one chunk. A malformed one is joined and
   * handed to the one-chunk decoder, which throws its error, so that the
   * errors (codes, messages, offsets) are the same whichever way it arrived.
   */
  #decodePieces(pieces: Uint8Array[], total: number): PDataTf {
    const starts: number[] = new Array(pieces.length);
    for (let i = 0, s = 0; i < pieces.length; i++) {
      starts[i] = s;
      s += pieces[i]!.length;
    }
    // A cursor that only moves forward: every read below is at or after the previous one.
    let i = 0;
    const at = (abs: number): number => {
      while (abs >= starts[i]! + pieces[i]!.length) i++;
      return pieces[i]![abs - starts[i]!]!;
    };
    /** Views of [a, b), a < b. */
    const views = (a: number, b: number): Uint8Array[] => {
      while (a >= starts[i]! + pieces[i]!.length) i++;
      const out: Uint8Array[] = [];
      for (let k = i; a < b; k++) {
        const piece = pieces[k]!;
        const from = a - starts[k]!;
        const to = Math.min(b - starts[k]!, piece.length);
        out.push(from === 0 && to === piece.length ? piece : piece.subarray(from, to));
        a = starts[k]! + to;
      }
      return out;
    };
    const pdvs: PresentationDataValue[] = [];
    let o = PDU_HEADER_LENGTH;
    // PS3.8 §9.3.5: one or more PDV items.
    if (o === total) return this.#decodeJoined(pieces, total);
    while (o < total) {
      // PS3.8 Table 9-23: item length (4), presentation context ID (1), message control header (1).
      if (total - o < 6) return this.#decodeJoined(pieces, total);
      const itemLength = at(o) * 0x1000000 + ((at(o + 1) << 16) | (at(o + 2) << 8) | at(o + 3));
      if (itemLength < 2 || itemLength > total - o - 4) return this.#decodeJoined(pieces, total);
      const contextId = at(o + 4);
      const control = at(o + 5);
      // PS3.8 Annex E.2: bit 0 command/data, bit 1 last/not last, bits 2-7 not tested.
      const command = (control & 1) !== 0;
      const last = (control & 2) !== 0;
      const start = o + 6;
      const end = o + 4 + itemLength;
      const parts = start < end ? views(start, end) : [];
      if (parts.length <= 1) {
        pdvs.push({ contextId, command, last, data: parts[0] ?? new Uint8Array(0) });
      } else {
        pdvs.push(new SpanningPdv(contextId, command, last, parts, this.#joinParts));
      }
      o = end;
    }
    return { type: PduType.P_DATA_TF, pdvs };
  }

  /** Joins the views of a PDV spanning chunks when its `data` is first read, counting the copy. */
  readonly #joinParts = (parts: readonly Uint8Array[]): Uint8Array => {
    const joined = join(parts);
    this.#copied += joined.length;
    return joined;
  };

  /** Joins a malformed P-DATA-TF and decodes it in one piece, which throws its exact error. */
  #decodeJoined(pieces: Uint8Array[], total: number): PDataTf {
    const bytes = join(pieces);
    if (bytes.length !== total) throw new Error('P-DATA-TF pieces do not add up');
    return { type: PduType.P_DATA_TF, pdvs: decodePdvs(bytes, 0, total) };
  }

  /**
   * Checks a header's type and length before anything is buffered for it
   * (PS3.8 §9.3.1, Annex D.1); returns the PDU's total size.
   */
  #checkHeader(bytes: Uint8Array, o: number): number {
    const type = bytes[o]!;
    const length =
      bytes[o + 2]! * 0x1000000 + ((bytes[o + 3]! << 16) | (bytes[o + 4]! << 8) | bytes[o + 5]!);
    let cap: number;
    if (type === PduType.P_DATA_TF) {
      cap = this.#maxPduLength;
    } else if (type === PduType.A_ASSOCIATE_RQ || type === PduType.A_ASSOCIATE_AC) {
      cap = this.#maxAssociationPduLength;
    } else if (isFixedLengthPdu(type)) {
      checkFixedLength(length, type);
      return PDU_HEADER_LENGTH + length;
    } else {
      throw unknownType(type);
    }
    if (length > cap) {
      throw new PduError(
        PduErrorCode.TOO_LARGE,
        `PDU length ${length} exceeds the maximum of ${cap} (PS3.8 Annex D.1)`,
        { field: 'pdu-length', offset: 2, pduType: type },
      );
    }
    return PDU_HEADER_LENGTH + length;
  }
}
