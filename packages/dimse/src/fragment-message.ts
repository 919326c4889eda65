import { encodePDataTf, type PresentationDataValue } from '@dnet/pdu';
import { type DimseMessage, encodeMessage, messageType } from './dimse-message.js';
import { InvalidOptionError, OddFragmentError } from './errors.js';

/** Bytes a PDV item adds to its data: item length (4), context ID (1), control header (1), PS3.8 §9.3.5.1. */
export const PDV_OVERHEAD = 6;

/**
 * The bytes a chunk leaves at its end become a PDV (and PDU) of their own,
 * uncopied, when there are at least this many; fewer are joined (copied)
 * with the start of the next chunk, so tiny chunks do not make tiny PDUs.
 */
const MIN_VIEW_PDV_LENGTH = 1024;

/** A data set {@link fragmentMessage} cuts synchronously: whole, or chunks pulled lazily. */
export type SyncDataSetSource = Uint8Array | Iterable<Uint8Array>;

/**
 * A data set to send: bytes, or chunks, sync or async (a file stream, a
 * socket...); the `send` and `respond` of `@dnet/association` take this one.
 */
export type DataSetSource = SyncDataSetSource | AsyncIterable<Uint8Array>;

/** What {@link fragmentMessage} cuts into P-DATA-TF PDUs. */
export interface FragmentOptions<D = SyncDataSetSource> {
  /** The accepted presentation context the message travels on (odd, 1..255, PS3.8 §9.3.2.2). */
  contextId: number;
  /** The message, or its command set already encoded (see `encodeMessage`). */
  command: DimseMessage | Uint8Array;
  /** The data set in the context's transfer syntax, when the message has one. */
  dataSet?: D;
  /**
   * The peer's Maximum Length (PS3.8 §D.1): the largest PDU length field of a
   * P-DATA-TF it receives, i.e. the PDU minus its 6-byte header. 0 means
   * unlimited (then each data chunk goes out uncut as one PDU). At least 8
   * otherwise (room for a PDV of two bytes).
   */
  maxPduLength: number;
}

/**
 * Packs PDVs into P-DATA-TF PDUs no longer than the peer's maximum (PS3.8
 * §9.3.5, Annex D.1), the way DCMTK's own storescu does, which is what DCMTK
 * 3.6.7 receivers survive (several data set PDVs in one PDU crash its
 * storescp): command fragments fill their PDUs, the command's last fragment
 * and the first data set fragment share a PDU, and after that each PDU holds
 * one data set PDV. Every fragment holds an even number of bytes: DICOM
 * values are even (PS3.5 §7.1.1), a deflated data set is padded to an even
 * length (PS3.5 §A.5), and DCMTK refuses odd fragments; the last fragment of
 * an odd command or data set throws {@link OddFragmentError}.
 */
class Packer {
  readonly #contextId: number;
  readonly #max: number;
  #pdvs: PresentationDataValue[] = [];
  #used = 0;
  /** The PDV in progress: its pieces (views) and their total length. */
  #pieces: Uint8Array[] = [];
  #pieceBytes = 0;
  /** Bytes of the command set or data set in progress put into PDVs so far. */
  #total = 0;
  /** Finished PDUs not yet handed out. */
  readonly ready: Uint8Array[][] = [];

  constructor(contextId: number, max: number) {
    this.#contextId = contextId;
    this.#max = max;
  }

  /** Even data capacity of the PDV in progress, in the current PDU (Infinity when unlimited). */
  #capacity(): number {
    if (this.#max === 0) return Number.POSITIVE_INFINITY;
    const c = this.#max - this.#used - PDV_OVERHEAD;
    return c < 2 ? 0 : c & ~1;
  }

  /**
   * Closes the PDV in progress; joins its pieces only when it spans chunks.
   * Refuses an odd fragment (only the last can be: the others are cut even).
   */
  #finishPdv(command: boolean, last: boolean): void {
    this.#total += this.#pieceBytes;
    if ((this.#pieceBytes & 1) !== 0)
      throw new OddFragmentError(this.#pieceBytes, command, this.#total);
    if (last) this.#total = 0;
    let data: Uint8Array;
    if (this.#pieces.length === 1) data = this.#pieces[0]!;
    else {
      data = new Uint8Array(this.#pieceBytes);
      let o = 0;
      for (const p of this.#pieces) {
        data.set(p, o);
        o += p.length;
      }
    }
    this.#pdvs.push({ contextId: this.#contextId, command, last, data });
    this.#used += PDV_OVERHEAD + data.length;
    this.#pieces = [];
    this.#pieceBytes = 0;
  }

  /** Closes the PDV in progress at an even length; an odd last byte stays for the next PDV. */
  #finishEven(command: boolean): void {
    if ((this.#pieceBytes & 1) === 0) {
      this.#finishPdv(command, false);
      return;
    }
    const lastPiece = this.#pieces.pop()!;
    const tail = lastPiece.subarray(lastPiece.length - 1);
    if (lastPiece.length > 1) this.#pieces.push(lastPiece.subarray(0, lastPiece.length - 1));
    this.#pieceBytes -= 1;
    this.#finishPdv(command, false);
    this.#pieces = [tail];
    this.#pieceBytes = 1;
  }

  /** Hands the current PDU out. */
  flush(): void {
    if (this.#pdvs.length === 0) return;
    this.ready.push(encodePDataTf(this.#pdvs));
    this.#pdvs = [];
    this.#used = 0;
  }

  /**
   * Adds one chunk of a command set or data set. `final` marks the chunk
   * that ends it, so its last PDV gets the last-fragment bit (PS3.8 Annex E.2).
   */
  add(chunk: Uint8Array, command: boolean, final: boolean): void {
    if (chunk.length === 0 && final && this.#pieceBytes === 0) {
      // An empty command or data set still needs its last fragment.
      if (this.#max !== 0 && this.#max - this.#used < PDV_OVERHEAD) this.flush();
      this.#pieces.push(chunk);
      this.#finishPdv(command, true);
      return;
    }
    let off = 0;
    while (off < chunk.length) {
      let capacity = this.#capacity();
      if (capacity - this.#pieceBytes < 1) {
        // No room left in this PDU: it goes out; bytes carried from the last chunk
        // (not yet a PDV) open the next one.
        this.flush();
        capacity = this.#capacity();
      }
      // Bytes carried over from earlier chunks (fewer than MIN_VIEW_PDV_LENGTH) are
      // joined with only as much of this chunk as makes the PDV that long: the copy
      // stays small and the rest of the chunk goes out as views.
      const joining = this.#pieceBytes > 0;
      let take = Math.min(capacity - this.#pieceBytes, chunk.length - off);
      if (joining) take = Math.min(take, MIN_VIEW_PDV_LENGTH - this.#pieceBytes);
      this.#pieces.push(chunk.subarray(off, off + take));
      this.#pieceBytes += take;
      off += take;
      const last = final && off === chunk.length;
      if (
        this.#pieceBytes === capacity ||
        (joining && this.#pieceBytes === MIN_VIEW_PDV_LENGTH && !last)
      ) {
        this.#finishPdv(command, last);
        this.flush();
      }
    }
    if (this.#pieceBytes === 0) return;
    if (final) {
      this.#finishPdv(command, true);
    } else if (this.#pieceBytes >= MIN_VIEW_PDV_LENGTH) {
      // The chunk ends inside the PDU: its PDV ends here and the PDU goes out
      // shorter, rather than copying the PDV into one spanning the next chunk.
      this.#finishEven(command);
      this.flush();
    }
  }
}

function checkOptions(options: FragmentOptions<unknown>): Uint8Array {
  const { contextId, maxPduLength } = options;
  if (!Number.isInteger(contextId) || contextId < 1 || contextId > 255 || contextId % 2 === 0)
    throw new InvalidOptionError(
      'contextId',
      `presentation context IDs are odd integers 1..255 (PS3.8 §9.3.2.2), not ${contextId}`,
    );
  if (
    !Number.isInteger(maxPduLength) ||
    maxPduLength < 0 ||
    maxPduLength > 0xffffffff ||
    (maxPduLength > 0 && maxPduLength < PDV_OVERHEAD + 2)
  )
    throw new InvalidOptionError(
      'maxPduLength',
      `must be 0 (unlimited) or ${PDV_OVERHEAD + 2}..4294967295 to carry a PDV of two bytes (PS3.8 §9.3.5), not ${maxPduLength}`,
    );
  if (options.command instanceof Uint8Array) return options.command;
  const message = options.command;
  const has = options.dataSet !== undefined;
  if (message.hasDataSet !== has)
    throw new InvalidOptionError(
      'dataSet',
      `${messageType(message)} has hasDataSet ${message.hasDataSet} but a data set was ${has ? '' : 'not '}given`,
    );
  return encodeMessage(message);
}

/**
 * The one P-DATA-TF of a message without a data set whose command set fits
 * one PDV within the peer's maximum (`maxPduLength`, 0 = unlimited): its
 * PDV carries the command and last-fragment bits (PS3.8 §9.3.5, Annex E.2).
 * Undefined when the command set must be cut, or is odd (then
 * {@link fragmentMessage} cuts or refuses it). The same PDU as
 * `fragmentMessage` yields, without a generator: most responses and every
 * C-ECHO are such messages.
 *
 * @example
 * ```ts
 * const pdu = commandOnlyPdu(1, encodeMessage(echoRsp), 16384);
 * if (pdu) await connection.write(pdu);
 * ```
 */
export function commandOnlyPdu(
  contextId: number,
  command: Uint8Array,
  maxPduLength: number,
): Uint8Array[] | undefined {
  if ((command.length & 1) !== 0) return undefined;
  if (maxPduLength !== 0 && command.length + PDV_OVERHEAD > maxPduLength) return undefined;
  return encodePDataTf([{ contextId, command: true, last: true, data: command }]);
}

function* chunksOf(source: SyncDataSetSource): Generator<Uint8Array> {
  if (source instanceof Uint8Array) yield source;
  else yield* source;
}

/**
 * Cuts a DIMSE message into P-DATA-TF PDUs (PS3.8 §9.3.5, Annex E), each
 * yielded as a gathered list of `Uint8Array` (small headers plus views of
 * the command and data set bytes; see `encodePDataTf`) ready for a vectored
 * write:
 *
 * - no PDU's length exceeds `maxPduLength` (0 means unlimited);
 * - the command fragments come first, then the data set fragments, each PDV
 *   with its message control header (command bit, last-fragment bit);
 * - a small command and the start of its data set go out in one PDU; after
 *   that each PDU carries one data set fragment (the layout DCMTK expects);
 * - the data set is pulled lazily one chunk at a time and never gathered;
 *   PDV data are views of the caller's chunks: a chunk's end ends its PDU
 *   (shorter than the maximum), except that fewer than 1024 bytes left at a
 *   chunk's end are joined (copied) with the start of the next chunk into a
 *   PDV of 1024 bytes, so tiny chunks do not make tiny PDUs;
 * - every fragment has an even length: a command set or data set of odd
 *   length throws {@link OddFragmentError} before its last fragment is
 *   yielded (the PDUs before it may already be out: abort the association).
 *
 * @example
 * ```ts
 * for (const pdu of fragmentMessage({ contextId: 1, command: storeRq, dataSet: chunks, maxPduLength: 16384 }))
 *   await connection.write(pdu);
 * ```
 */
export function* fragmentMessage(options: FragmentOptions): Generator<Uint8Array[]> {
  const command = checkOptions(options);
  const packer = new Packer(options.contextId, options.maxPduLength);
  packer.add(command, true, true);
  if (options.dataSet !== undefined) {
    const it = chunksOf(options.dataSet)[Symbol.iterator]();
    try {
      let current = nextNonEmpty(it);
      if (current === undefined) packer.add(new Uint8Array(0), false, true);
      while (current !== undefined) {
        // Look one chunk ahead to know which chunk is final (its last PDV carries the last bit).
        const next = nextNonEmpty(it);
        packer.add(current, false, next === undefined);
        current = next;
        yield* packer.ready.splice(0);
      }
    } finally {
      // Stop the source when the consumer stops early.
      it.return?.(undefined);
    }
  }
  packer.flush();
  yield* packer.ready.splice(0);
}

function nextNonEmpty(it: Iterator<Uint8Array>): Uint8Array | undefined {
  for (;;) {
    const r = it.next();
    if (r.done) return undefined;
    if (r.value.length > 0) return r.value;
  }
}

async function nextNonEmptyAsync(
  it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>,
): Promise<Uint8Array | undefined> {
  for (;;) {
    const r = await it.next();
    if (r.done) return undefined;
    if (r.value.length > 0) return r.value;
  }
}

/**
 * {@link fragmentMessage} for data sets that arrive asynchronously (a file
 * or network stream): the same PDUs, pulling the next chunk only when the
 * previous PDUs have been taken, so memory stays within a PDU and two chunks.
 */
export async function* fragmentMessageAsync(
  options: FragmentOptions<DataSetSource>,
): AsyncGenerator<Uint8Array[]> {
  const command = checkOptions(options);
  const packer = new Packer(options.contextId, options.maxPduLength);
  packer.add(command, true, true);
  const source = options.dataSet;
  if (source !== undefined) {
    const it =
      source instanceof Uint8Array
        ? [source][Symbol.iterator]()
        : Symbol.asyncIterator in source
          ? source[Symbol.asyncIterator]()
          : source[Symbol.iterator]();
    try {
      let current = await nextNonEmptyAsync(it);
      if (current === undefined) packer.add(new Uint8Array(0), false, true);
      while (current !== undefined) {
        const next = await nextNonEmptyAsync(it);
        packer.add(current, false, next === undefined);
        current = next;
        for (const pdu of packer.ready.splice(0)) yield pdu;
      }
    } finally {
      // Stop the source when the consumer stops early (an abort, a failed write).
      await it.return?.();
    }
  }
  packer.flush();
  for (const pdu of packer.ready.splice(0)) yield pdu;
}
