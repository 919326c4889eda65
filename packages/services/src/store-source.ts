import type { NegotiatedContext } from '@dnet/association';
import {
  convertTransferSyntaxStream,
  DataSet,
  dataSetIdentity,
  encodeDataSetChunks,
  IDENTITY_HEAD_BYTES,
  openPart10File,
  type Part10Header,
  readPart10Header,
  readPart10Stream,
  TransferSyntax,
} from '@dnet/dataset';
import {
  InvalidSourceError,
  NoPresentationContextError,
  TransferSyntaxNotAcceptedError,
} from './errors.js';
import { evenDeflated } from './even-deflated.js';
import { type FileIo, fileIo, readFully } from './file-io.js';
import {
  chooseTransferSyntax,
  isConvertible,
  type TranscodeHeader,
  type TranscodePolicy,
  type Transcoder,
  type TransferSyntaxChoice,
  transferSyntaxesFor,
} from './transcoding.js';

/**
 * A data set already encoded, with the identity C-STORE needs (PS3.7
 * §9.1.1.1): what an archive holds, or what a store handler received.
 */
export interface StoreInstance {
  /** SOP Class UID (0008,0016). */
  sopClassUid: string;
  /** SOP Instance UID (0008,0018). */
  sopInstanceUid: string;
  /** Transfer syntax of `dataSet`. */
  transferSyntaxUid: string;
  /** The encoded data set (no File Meta Information), or a function that opens it as a stream. */
  dataSet:
    | Uint8Array
    | Iterable<Uint8Array>
    | AsyncIterable<Uint8Array>
    | ((chunkSize?: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>);
}

/**
 * What `store` accepts: a Part 10 file path, a readable stream (async
 * iterable) of a Part 10 file, a `DataSet` (`@dnet/dataset`) with SOP Class and Instance
 * UIDs, or a {@link StoreInstance}.
 */
export type StoreSource = string | AsyncIterable<Uint8Array> | DataSet | StoreInstance;

/** A store source with its identity known and its data set not yet read. */
export interface ResolvedSource {
  /** SOP Class UID. */
  sopClassUid: string;
  /** SOP Instance UID. */
  sopInstanceUid: string;
  /** Transfer syntax of the bytes; undefined for a DataSet object (any syntax can be written). */
  transferSyntaxUid: string | undefined;
  /**
   * Streams the data set in `transferSyntaxUid` (once); a file is read in
   * chunks of `chunkSize` bytes when given (cut into PDVs as views, no
   * gathering copy). `flushed`, when given, tells whether every byte handed to
   * the association so far has left the process
   * (`Association.transportFlushed`): a large file's chunk buffers are then
   * read into again.
   */
  open(
    chunkSize?: number,
    flushed?: () => boolean,
  ): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** The data set object, for a DataSet source. */
  dataSet?: DataSet;
  /** What names the source in errors and warnings: the file path (undefined for other sources). */
  label?: string;
  /**
   * Where the data set starts in its file (the meta header's length; 0 for a
   * bare data set), to name a file offset in errors.
   */
  dataSetOffset?: number;
  /** The data set's length in bytes when known before it is read (a file: its size minus the offset). */
  expectedLength?: number;
  /**
   * True when the data set bytes were already found complete (a file read
   * whole, checked in memory before anything is sent).
   */
  checked?: boolean;
  /** Disagreements found while resolving (a stale meta header), to report with the result. */
  warnings?: string[];
  /**
   * For a file: gives its buffers back for the next files once the C-STORE
   * is over. `reusable` must be true only when nothing refers to the bytes
   * any more (the association has flushed them to the operating system);
   * otherwise the buffers are left to the garbage collector.
   */
  release?(reusable: boolean): void;
}

/** Chunk size when streaming a data set from disk and the peer's maximum PDU is unlimited: 256 KiB. */
const FILE_CHUNK = 256 * 1024;
/** Largest chunk read from disk at once: 4 MiB. */
const MAX_FILE_CHUNK = 4 * 1024 * 1024;
/**
 * A large file is read from disk in chunks of whole PDVs of about this size
 * (1 MiB), whatever the peer's maximum PDU: with 128 KiB PDUs, one read per 8
 * PDUs instead of one per PDU (each read is a hop to libuv's thread pool).
 */
const FILE_READ_TARGET = 1024 * 1024;
/**
 * Chunks of a large file given out and not yet known to have left the
 * process, kept to be read into again: at most this many (8); older ones are
 * left to the garbage collector.
 */
const MAX_LENT_CHUNKS = 8;
/**
 * Chunks the fragmenter may still refer to when it asks for the next one
 * (@dnet/dimse `fragmentMessageAsync` looks one chunk ahead, and carries the
 * few bytes a chunk ends with into the next PDV): the newest 2 chunks given
 * out are never read into again before the C-STORE ends.
 */
const CHUNKS_HELD_BY_FRAGMENTER = 2;
/**
 * Files up to this size are read whole, in one read, when resolved: the data
 * set then goes out as views of one buffer, written without an await per PDU,
 * and a batch can read the next file while this one is sent. Larger files
 * stream from disk in chunks (bounded memory). 4 MiB.
 */
export const SMALL_FILE_LIMIT = 4 * 1024 * 1024;

/** Free small-file buffers kept for reuse: at most this many bytes (16 MiB, see LIMITS.md). */
export const FILE_BUFFER_POOL_BYTES = 16 * 1024 * 1024;
/** Small-file buffers are allocated in multiples of 64 KiB, so files of similar size share them. */
const FILE_BUFFER_GRAIN = 64 * 1024;

/**
 * Buffers that small files are read into, given back once their C-STORE is
 * over and the bytes have left the process. A fresh buffer per file costs
 * its page faults and zeroing by the kernel (as much as the read itself, see
 * BENCHMARKS.md); a series of similar files (a CT series) then reads into
 * the same few buffers.
 */
class FileBufferPool {
  #free: Uint8Array[] = [];
  #bytes = 0;

  /** A buffer of at least `size` bytes (a free one not more than twice that, else a new one). */
  take(size: number): Uint8Array {
    const free = this.#free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.length >= size && b.length <= 2 * size + FILE_BUFFER_GRAIN) {
        free.splice(i, 1);
        this.#bytes -= b.length;
        return b;
      }
    }
    const capacity = Math.ceil(Math.max(size, 1) / FILE_BUFFER_GRAIN) * FILE_BUFFER_GRAIN;
    return Buffer.allocUnsafeSlow(capacity);
  }

  /** Keeps a buffer for the next file, within {@link FILE_BUFFER_POOL_BYTES}. */
  give(buffer: Uint8Array): void {
    if (this.#bytes + buffer.length > FILE_BUFFER_POOL_BYTES) return;
    this.#free.push(buffer);
    this.#bytes += buffer.length;
  }

  /** Bytes held by free buffers (tests). */
  get bytes(): number {
    return this.#bytes;
  }
}

/** The pool of this process's small-file buffers. */
export const fileBuffers = new FileBufferPool();

function isAsyncIterable(v: unknown): v is AsyncIterable<Uint8Array> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

/**
 * Reads what C-STORE needs to know before the data set: for a file, the File
 * Meta Information only (PS3.10 §7.1); the data set stays on disk.
 */
export async function resolveSource(
  source: StoreSource,
  options: ResolveOptions = {},
): Promise<ResolvedSource> {
  if (typeof source === 'string') {
    const small = await readSmallFile(source, fileIo(options.blockingFileReads));
    if (small) return small;
    let file: Awaited<ReturnType<typeof openPart10File>>;
    let head: Uint8Array;
    try {
      // A bare data set (no meta header) is read too, its syntax inferred as DCMTK does.
      file = await openPart10File(source, { allowRawDataSet: true });
      head = await readHead(source, file.dataSetOffset, file.dataSetLength);
    } catch (cause) {
      throw new InvalidSourceError(`${source} is not a readable DICOM file`, { cause });
    }
    const lent: Uint8Array[] = [];
    let released = false;
    return checked({
      ...identityOf(source, file, head),
      label: source,
      dataSetOffset: file.dataSetOffset,
      expectedLength: file.dataSetLength,
      transferSyntaxUid: file.transferSyntaxUid,
      open: (chunkSize, flushed) =>
        readFileChunks(
          source,
          file.dataSetOffset,
          file.dataSetLength,
          chunkSize ?? FILE_CHUNK,
          lent,
          flushed,
        ),
      release: (reusable) => {
        if (released) return;
        released = true;
        if (reusable) for (const b of lent.splice(0)) fileBuffers.give(b);
        lent.length = 0;
      },
    });
  }
  if (source instanceof DataSet) {
    return checked({
      sopClassUid: source.uid('SOPClassUID') ?? '',
      sopInstanceUid: source.uid('SOPInstanceUID') ?? '',
      transferSyntaxUid: undefined,
      open: () => [],
      dataSet: source,
    });
  }
  if (isAsyncIterable(source)) {
    let parsed: Awaited<ReturnType<typeof readPart10Stream>>;
    let head: { head: Uint8Array; rest: AsyncIterable<Uint8Array> };
    try {
      parsed = await readPart10Stream(source, { allowRawDataSet: true });
      head = await peekHead(parsed.dataSet);
    } catch (cause) {
      throw new InvalidSourceError('the stream is not a DICOM file', { cause });
    }
    let opened = false;
    return checked({
      ...identityOf('the stream', parsed.header, head.head),
      transferSyntaxUid: parsed.header.transferSyntaxUid,
      dataSetOffset: parsed.header.dataSetOffset,
      open: () => {
        if (opened) throw new InvalidSourceError('a Part 10 stream can be sent only once');
        opened = true;
        return head.rest;
      },
    });
  }
  if (typeof source === 'object' && source !== null && 'sopInstanceUid' in source) {
    const ds = source.dataSet;
    return checked({
      sopClassUid: source.sopClassUid,
      sopInstanceUid: source.sopInstanceUid,
      transferSyntaxUid: source.transferSyntaxUid,
      open: (n) => (ds instanceof Uint8Array ? [ds] : typeof ds === 'function' ? ds(n) : ds),
    });
  }
  throw new InvalidSourceError(
    'a store source is a file path, a Part 10 stream, a DataSet or a StoreInstance',
  );
}

/** Options of `resolveSource` (the store source resolution behind `Client.store`). */
export interface ResolveOptions {
  /** Read a small file with blocking system calls (see `ClientOptions.blockingFileReads`). */
  blockingFileReads?: boolean;
}

/**
 * A Part 10 file of at most {@link SMALL_FILE_LIMIT} bytes, read whole with
 * one open, stat and read; its File Meta Information parsed from the buffer
 * (PS3.10 §7.1). Undefined for a larger file (streamed instead).
 */
async function readSmallFile(path: string, io: FileIo): Promise<ResolvedSource | undefined> {
  let buffer: Uint8Array | undefined;
  let bytes: Uint8Array;
  try {
    const fd = await io.open(path);
    try {
      const size = await io.size(fd);
      if (size > SMALL_FILE_LIMIT) return undefined;
      buffer = fileBuffers.take(size);
      // A file that shrank meanwhile: what was read is all there is.
      bytes = buffer.subarray(0, await readFully(io, fd, buffer, 0, size));
    } finally {
      io.close(fd);
    }
  } catch (cause) {
    if (buffer) fileBuffers.give(buffer);
    throw new InvalidSourceError(`${path} is not a readable DICOM file`, { cause });
  }
  const pooled = buffer;
  let header: ReturnType<typeof readPart10Header>;
  let identity: ReturnType<typeof identityOf>;
  try {
    // A bare data set (no meta header) is read too, its syntax inferred as DCMTK does.
    header = readPart10Header(bytes, { allowRawDataSet: true });
    identity = identityOf(path, header, bytes.subarray(header.dataSetOffset));
  } catch (cause) {
    fileBuffers.give(pooled);
    throw cause instanceof InvalidSourceError
      ? cause
      : new InvalidSourceError(`${path} is not a readable DICOM file`, { cause });
  }
  const dataSet = bytes.subarray(header.dataSetOffset);
  let released = false;
  return checked({
    ...identity,
    label: path,
    dataSetOffset: header.dataSetOffset,
    expectedLength: dataSet.length,
    transferSyntaxUid: header.transferSyntaxUid,
    open: () => {
      if (released) throw new InvalidSourceError(`${path}: its buffer was released`);
      return [dataSet];
    },
    release: (reusable) => {
      if (released) return;
      released = true;
      if (reusable) fileBuffers.give(pooled);
    },
  });
}

/**
 * The identity a file's data set is sent under (the data set's own UIDs,
 * @dnet/dataset `dataSetIdentity`), with the warnings to report. A bare data
 * set without SOP Class and Instance UIDs is no DICOM object: refused.
 */
function identityOf(
  label: string,
  header: Part10Header,
  head: Uint8Array,
): { sopClassUid: string; sopInstanceUid: string; warnings?: string[] } {
  const identity = dataSetIdentity(header, head);
  if (!header.fileMetaPresent && (!identity.sopClassUid || !identity.sopInstanceUid)) {
    throw new InvalidSourceError(
      `${label} is not a DICOM file: no Part 10 header (PS3.10 7.1), and read as a bare data set in ${header.transferSyntaxUid} it has no SOP Class and Instance UIDs`,
    );
  }
  return {
    sopClassUid: identity.sopClassUid,
    sopInstanceUid: identity.sopInstanceUid,
    ...(identity.warnings.length > 0 && { warnings: identity.warnings }),
  };
}

/** Reads the first bytes of a large file's data set, where its SOP UIDs are (IDENTITY_HEAD_BYTES). */
async function readHead(path: string, start: number, length: number): Promise<Uint8Array> {
  const io = fileIo();
  const fd = await io.open(path);
  try {
    const head = new Uint8Array(Math.min(IDENTITY_HEAD_BYTES, length));
    return head.subarray(0, await readFully(io, fd, head, start, head.length));
  } finally {
    io.close(fd);
  }
}

/**
 * The first chunks of a data set stream, joined up to IDENTITY_HEAD_BYTES
 * (where its SOP UIDs are), and the whole stream again from its start.
 */
async function peekHead(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const it = stream[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < IDENTITY_HEAD_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    taken.push(r.value);
    have += r.value.length;
  }
  const head = taken.length === 1 ? taken[0]! : new Uint8Array(Buffer.concat(taken));
  async function* rest(): AsyncGenerator<Uint8Array> {
    yield* taken;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return { head: head.subarray(0, Math.min(head.length, IDENTITY_HEAD_BYTES)), rest: rest() };
}

/**
 * Streams `length` bytes of the file at `path` from `start`, in chunks of
 * `chunkSize` bytes read with one read ahead (the next chunk is read from
 * disk while this one is sent), into buffers of {@link fileBuffers}: no fresh
 * allocation per chunk (a fresh 1 MiB buffer costs its page faults, and its
 * freeing a garbage collection) and no stream machinery. The buffers given
 * out are recorded in `lent`; each time the next chunk is asked for and
 * `flushed()` says every byte handed to the association so far has left the
 * process, the older ones (all but {@link CHUNKS_HELD_BY_FRAGMENTER}) are read
 * into again. Without `flushed`, none is.
 */
async function* readFileChunks(
  path: string,
  start: number,
  length: number,
  chunkSize: number,
  lent: Uint8Array[],
  flushed: (() => boolean) | undefined,
): AsyncGenerator<Uint8Array> {
  // Large files are read through the thread pool: a blocking read of a chunk would stall the loop.
  const io = fileIo();
  const fd = await io.open(path);
  let position = start;
  let end = start + length;
  const readNext = async (): Promise<[Uint8Array, Uint8Array] | undefined> => {
    if (position >= end) return undefined;
    const n = Math.min(chunkSize, end - position);
    const buffer = fileBuffers.take(n);
    const at = await readFully(io, fd, buffer, position, n);
    position += at;
    // A file that shrank meanwhile: what was read is all there is.
    if (at < n) end = position;
    return [buffer, buffer.subarray(0, at)];
  };
  let next: Promise<[Uint8Array, Uint8Array] | undefined> | undefined = readNext();
  try {
    for (;;) {
      const read = await next;
      next = undefined;
      if (!read) return;
      if (flushed?.() && lent.length > CHUNKS_HELD_BY_FRAGMENTER) {
        for (const b of lent.splice(0, lent.length - CHUNKS_HELD_BY_FRAGMENTER))
          fileBuffers.give(b);
      }
      next = readNext();
      lent.push(read[0]);
      if (lent.length > MAX_LENT_CHUNKS) lent.shift();
      if (read[1].length > 0) yield read[1];
    }
  } finally {
    // A read still under way finishes before the file is closed.
    await next?.catch(() => undefined);
    io.close(fd);
  }
}

function checked(r: ResolvedSource): ResolvedSource {
  // PS3.7 §9.3.1.1: Affected SOP Class and Instance UIDs are required.
  if (!r.sopClassUid || !r.sopInstanceUid) {
    throw new InvalidSourceError('the data set has no SOP Class UID or SOP Instance UID');
  }
  return r;
}

/**
 * Picks the accepted presentation context for a data set (PS3.8 §7.1.1.13):
 * one for its SOP class on which we may invoke C-STORE (requestor: SCU role;
 * acceptor, C-GET sub-operations: the requestor's SCP role, PS3.7 Annex
 * D.3.3.4), whose transfer syntax {@link chooseTransferSyntax} chooses: the
 * data set's own first, then one it can be converted or transcoded to.
 *
 * @throws NoPresentationContextError when no context of the SOP class was accepted
 * @throws TransferSyntaxNotAcceptedError when contexts were accepted but none can carry the data set
 */
export function pickStoreContext(
  contexts: readonly NegotiatedContext[],
  role: 'requestor' | 'acceptor',
  sopClassUid: string,
  transferSyntaxUid: string | undefined,
  policy: TranscodePolicy = {},
  label?: string,
): NegotiatedContext {
  return pickStoreTarget(contexts, role, sopClassUid, transferSyntaxUid, policy, label).context;
}

/** {@link pickStoreContext} with how the data set reaches the context's syntax. */
export function pickStoreTarget(
  contexts: readonly NegotiatedContext[],
  role: 'requestor' | 'acceptor',
  sopClassUid: string,
  transferSyntaxUid: string | undefined,
  policy: TranscodePolicy = {},
  label?: string,
): { context: NegotiatedContext; via: TransferSyntaxChoice['via'] } {
  const usable = contexts.filter(
    (c) =>
      c.accepted &&
      c.abstractSyntax === sopClassUid &&
      (role === 'requestor' ? c.requestorScu : c.requestorScp),
  );
  const accepted = usable.map((c) => c.transferSyntax);
  const choice = chooseTransferSyntax(transferSyntaxUid, accepted, policy);
  if (choice) {
    const context = usable.find((c) => c.transferSyntax === choice.transferSyntaxUid)!;
    return { context, via: choice.via };
  }
  if (usable.length === 0 || transferSyntaxUid === undefined)
    throw new NoPresentationContextError(sopClassUid, transferSyntaxUid);
  throw new TransferSyntaxNotAcceptedError(
    label ?? 'the data set',
    sopClassUid,
    transferSyntaxUid,
    [...new Set(accepted)],
    !!policy.transcoder,
  );
}

/**
 * The data set bytes to send on a context: the source's own stream when the
 * syntax matches (no parse, no re-encode: the hot path of docs/architecture.md), the
 * DataSet encoded in the context's syntax, or the bytes converted between
 * uncompressed syntaxes (PS3.5 §10) as they stream. `flushed`
 * (`Association.transportFlushed`) lets a large file's chunk buffers be read
 * into again once sent, on the unconverted path only.
 */
export async function dataSetFor(
  source: ResolvedSource,
  transferSyntaxUid: string,
  peerMaxPduLength = 0,
  flushed?: () => boolean,
  transcode?: TranscodeRequest,
): Promise<Iterable<Uint8Array> | AsyncIterable<Uint8Array>> {
  if (source.dataSet) return encodeDataSetChunks(source.dataSet, transferSyntaxUid);
  const from = source.transferSyntaxUid!;
  // PS3.8 Annex D.1: a PDU of the peer's maximum length carries one PDV of (length - 6) data bytes.
  const pdv = peerMaxPduLength > 6 ? peerMaxPduLength - 6 : FILE_CHUNK;
  // Whole PDVs per read (the fragmenter cuts a chunk into full PDUs as views).
  const perRead = Math.max(1, Math.floor(FILE_READ_TARGET / pdv));
  const chunkSize = Math.min(pdv * perRead, MAX_FILE_CHUNK);
  // Chunks are read into again only when they go out as they are: a converter
  // may still hold views of earlier chunks (an element being assembled).
  // PS3.5 §A.5: a deflated data set goes out padded to an even length.
  if (from === transferSyntaxUid)
    return from === TransferSyntax.DeflatedExplicitVRLittleEndian
      ? evenDeflated(source.open(chunkSize, flushed))
      : source.open(chunkSize, flushed);
  const stream = source.open(chunkSize);
  if (!isConvertible(from, transferSyntaxUid)) {
    if (!transcode) throw new NoPresentationContextError(source.sopClassUid, from);
    // Pixel Data decoded and encoded one frame at a time as the bytes stream by; the
    // association pulls each chunk when it can send it, so a slow peer slows the codec.
    return transcode.transcoder.transcodeDataSet(stream, from, {
      transferSyntaxUid,
      ...(transcode.lossy && { lossy: true }),
      ...(transcode.onHeader && { onHeader: transcode.onHeader }),
    });
  }
  // PS3.5 §10: re-encoded element by element as the bytes stream by (bounded, see LIMITS.md).
  return convertTransferSyntaxStream(stream, from, transferSyntaxUid);
}

/** A transcoding asked of {@link dataSetFor}. */
export interface TranscodeRequest {
  /** The pixel transcoder. */
  transcoder: Transcoder;
  /** Allow lossy compression (the target was chosen under that permission). */
  lossy?: boolean | undefined;
  /** Told the output's SOP Instance UID before its first byte. */
  onHeader?: ((header: TranscodeHeader) => void) | undefined;
}

export { transferSyntaxesFor };
