import { encodePDataTf, type PresentationDataValue } from '@dnet/pdu';
import { type DimseMessage, encodeMessage, messageType } from './dimse-message.js';
import { InvalidOptionError } from './errors.js';

/** Bytes a PDV item adds to its data: item length (4), context ID (1), control header (1), PS3.8 §9.3.5.1. */
export const PDV_OVERHEAD = 6;

/**
 * A chunk's bytes left in a PDU become a PDV of their own, uncopied, when
 * there are at least this many; fewer are joined (copied) with the next
 * chunk's, so tiny chunks do not turn into tiny PDVs.
 */
const MIN_VIEW_PDV_LENGTH = 1024;

/** A data set as DIMSE carries it: whole, or a stream of chunks pulled lazily. */
export type DataSetSource = Uint8Array | Iterable<Uint8Array>;

/** A data set that may also arrive asynchronously (a file stream, a socket...). */
export type AsyncDataSetSource = DataSetSource | AsyncIterable<Uint8Array>;

/** What {@link fragmentMessage} cuts into P-DATA-TF PDUs. */
export interface FragmentOptions<D = DataSetSource> {
  /** The accepted presentation context the message travels on (odd, 1..255, PS3.8 §9.3.2.2). */
  contextId: number;
  /** The message, or its command set already encoded (see `encodeMessage`). */
  command: DimseMessage | Uint8Array;
  /** The data set in the context's transfer syntax, when the message has one. */
  dataSet?: D;
  /**
   * The peer's Maximum Length (PS3.8 §D.1): the largest PDU length field of a
   * P-DATA-TF it receives, i.e. the PDU minus its 6-byte header. 0 means
   * unlimited (then each data chunk goes out as one PDV, uncut).
   */
  maxPduLength: number;
}

/** Packs PDVs into P-DATA-TF PDUs no longer than the peer's maximum (PS3.8 §9.3.5, Annex D.1). */
class Packer {
  readonly #contextId: number;
  readonly #max: number;
  #pdvs: PresentationDataValue[] = [];
  #used = 0;
  /** The PDV in progress: its pieces (views) and their total length. */
  #pieces: Uint8Array[] = [];
  #pieceBytes = 0;
  /** Finished PDUs not yet handed out. */
  readonly ready: Uint8Array[][] = [];

  constructor(contextId: number, max: number) {
    this.#contextId = contextId;
    this.#max = max;
  }

  /** Data bytes the PDV in progress may still take in the current PDU. */
  #room(): number {
    if (this.#max === 0) return Number.POSITIVE_INFINITY;
    return this.#max - this.#used - PDV_OVERHEAD - this.#pieceBytes;
  }

  /** Closes the PDV in progress; joins its pieces only when it spans chunks. */
  #finishPdv(command: boolean, last: boolean): void {
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
    let off = 0;
    if (chunk.length === 0 && final && this.#pieceBytes === 0) {
      // An empty command or data set still needs its last fragment.
      if (this.#room() < 0) this.flush();
      this.#pieces.push(chunk);
      this.#finishPdv(command, true);
      return;
    }
    while (off < chunk.length) {
      if (this.#room() < 1) {
        // The PDU is full: a PDV in progress ends here, the PDU goes out.
        if (this.#pieceBytes > 0) this.#finishPdv(command, false);
        this.flush();
      }
      // Bytes carried over from earlier chunks (fewer than MIN_VIEW_PDV_LENGTH) are
      // joined with only as much of this chunk as makes the PDV that long: the copy
      // stays small and the rest of the chunk goes out as views.
      const joining = this.#pieceBytes > 0;
      let take = Math.min(this.#room(), chunk.length - off);
      if (joining) take = Math.min(take, MIN_VIEW_PDV_LENGTH - this.#pieceBytes);
      this.#pieces.push(chunk.subarray(off, off + take));
      this.#pieceBytes += take;
      off += take;
      if (this.#room() === 0) {
        this.#finishPdv(command, final && off === chunk.length);
        this.flush();
      } else if (joining && this.#pieceBytes >= MIN_VIEW_PDV_LENGTH) {
        this.#finishPdv(command, final && off === chunk.length);
      }
    }
    if (this.#pieceBytes === 0) return;
    if (final) this.#finishPdv(command, true);
    else if (this.#max === 0) {
      // Unlimited: one PDV per chunk, handed out at once (never gathers the stream).
      this.#finishPdv(command, false);
      this.flush();
    } else if (this.#pieceBytes >= MIN_VIEW_PDV_LENGTH) {
      // The chunk ends inside the PDU: close its PDV here rather than copy it into one
      // spanning the next chunk; the next chunk starts a new PDV in the same PDU.
      this.#finishPdv(command, false);
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
    (maxPduLength > 0 && maxPduLength <= PDV_OVERHEAD)
  )
    throw new InvalidOptionError(
      'maxPduLength',
      `must be 0 (unlimited) or ${PDV_OVERHEAD + 1}..4294967295 to carry a PDV (PS3.8 §9.3.5), not ${maxPduLength}`,
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

function* chunksOf(source: DataSetSource): Generator<Uint8Array> {
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
 * - fragments share a PDU while it has room: a small command and the start of
 *   its data set go out together, and every PDU but the last is full;
 * - the data set is pulled lazily one chunk at a time and never gathered;
 *   PDV data are views of the caller's chunks, except that fewer than 1024
 *   bytes left at a chunk's end are joined (copied) with the start of the
 *   next chunk into a PDV of 1024 bytes, so tiny chunks do not make tiny PDVs.
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
  options: FragmentOptions<AsyncDataSetSource>,
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
