import {
  checkFixedLength,
  decodePdu,
  decodePdvs,
  isFixedLengthPdu,
  plain,
  unknownType,
} from './decode-pdu.js';
import { PduError, PduErrorCode } from './errors.js';
import type { Pdu } from './pdu.js';
import { PDU_HEADER_LENGTH, PduType } from './pdu-type.js';

/** Default cap on a received P-DATA-TF's length field: 4 MiB. */
export const DEFAULT_MAX_PDU_LENGTH = 4 * 1024 * 1024;
/** Default cap on a received A-ASSOCIATE-RQ/AC's length field: 1 MiB. */
export const DEFAULT_MAX_ASSOCIATION_PDU_LENGTH = 1024 * 1024;

/** Options of a {@link PduDecoder}. */
export interface PduDecoderOptions {
  /**
   * Largest P-DATA-TF length field accepted: the maximum length we announced
   * (PS3.8 Annex D.1). Default {@link DEFAULT_MAX_PDU_LENGTH}.
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
 * chunk, so do not reuse a chunk's memory while its PDUs are in use). A PDU
 * that straddles chunks is copied once, into a buffer of its exact size
 * allocated when its header is complete; a header split across chunks is
 * gathered in 6 bytes of its own. The length in each header is checked
 * against the caps before anything is kept for it, so memory held is at most
 * one PDU of the capped size.
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
  #filled = 0;
  #total = 0;
  #copied = 0;
  #failure: PduError | undefined;

  constructor(options: PduDecoderOptions = {}) {
    this.#maxPduLength = checkCap(options.maxPduLength, DEFAULT_MAX_PDU_LENGTH, 'maxPduLength');
    this.#maxAssociationPduLength = checkCap(
      options.maxAssociationPduLength,
      DEFAULT_MAX_ASSOCIATION_PDU_LENGTH,
      'maxAssociationPduLength',
    );
  }

  /** Bytes held for an incomplete PDU. */
  get pending(): number {
    return this.#partial ? this.#filled : this.#headLength;
  }

  /**
   * Total bytes copied so far to join PDUs that straddled chunks: each such
   * PDU is copied once, whole (PDUs over {@link EAGER_ALLOCATION_LIMIT} also
   * count the copies of their growing buffer); 0 while every PDU lay within a
   * chunk.
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
        this.#begin(this.#checkHeader(this.#head, 0));
        this.#append(this.#head);
      }
      if (this.#partial) {
        const take = Math.min(this.#total - this.#filled, end - o);
        this.#append(chunk.subarray(o, o + take));
        o += take;
        if (this.#filled < this.#total) return out;
        const partial = this.#partial;
        this.#partial = undefined;
        this.#copied += partial.length;
        out.push(decodePdu(partial));
      }
      while (end - o >= PDU_HEADER_LENGTH) {
        const total = this.#checkHeader(chunk, o);
        if (end - o < total) {
          // Straddles into later chunks: gather it, copying its bytes once.
          this.#begin(total);
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
      this.#headLength = 0;
      throw this.#failure;
    }
  }

  /**
   * Starts gathering a straddling PDU of `total` bytes (already checked
   * against the caps). Up to {@link EAGER_ALLOCATION_LIMIT} its buffer is
   * allocated whole, so its bytes are copied once; a larger PDU grows its
   * buffer as bytes arrive (doubling), so a header alone never makes the
   * decoder hold more than that limit.
   */
  #begin(total: number): void {
    this.#total = total;
    this.#filled = 0;
    this.#partial = allocate(Math.min(total, EAGER_ALLOCATION_LIMIT));
  }

  /** Appends bytes of the straddling PDU (never beyond its total). */
  #append(bytes: Uint8Array): void {
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
