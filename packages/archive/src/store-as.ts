/**
 * Ingest transcoding: each received instance is written in the transfer
 * syntax the archive is set to store (`storeAs`), frame by frame while it is
 * received. The received bytes are written too, as a fallback: an instance
 * the codecs cannot handle (a pixel format, a codec error at any frame) is
 * then committed as received, with a warning, never refused.
 */
import { type DicomJsonDataSet, encodePart10Header, PIXEL_DATA_TAG } from '@dnet/dataset';
import { decodeHead, decodeIndexable, indexAttributes, joinHead } from './data-set-head.js';
import type { ObjectStorage, ObjectUids, ObjectWriter } from './storage.js';

/** What a transcoder reports before its first output byte (`TranscodeInfo` of `@dnet/codecs`). */
export interface StoreAsTranscodeInfo {
  /** The SOP Instance UID of the output: new after lossy compression. */
  readonly sopInstanceUid: string | undefined;
  /** Whether this transcoding lost information. */
  readonly lossy: boolean;
  /** Frames transcoded (0 when no pixel codec was needed). */
  readonly frames: number;
}

/**
 * The two functions of `@dnet/codecs` the archive calls, passed in by the
 * caller (`import * as codecs from '@dnet/codecs'`): the archive does not
 * depend on the codecs (and their WebAssembly) unless asked to transcode.
 */
export interface StoreAsCodecs {
  /** Whether `from` can be transcoded to `to` (`canTranscode` of `@dnet/codecs`). */
  canTranscode(fromTransferSyntaxUid: string, toTransferSyntaxUid: string): boolean;
  /** Transcodes a data set stream, one frame at a time (`transcodeDataSet` of `@dnet/codecs`). */
  transcodeDataSet(
    source: AsyncIterable<Uint8Array>,
    fromTransferSyntaxUid: string,
    options: {
      transferSyntaxUid: string;
      lossy?: StoreAsOptions['lossy'];
      onHeader?: (info: StoreAsTranscodeInfo) => void;
    },
  ): AsyncIterable<Uint8Array>;
}

/**
 * Ingest transcoding of an archive: every instance with Pixel Data received
 * in another transfer syntax is stored in `transferSyntaxUid`.
 *
 * @example
 * ```ts
 * import * as codecs from '@dnet/codecs';
 * const archive = openArchive({
 *   storage, index, aeTitle: 'ARCHIVE',
 *   storeAs: { transferSyntaxUid: codecs.resolveTransferSyntax('jpeg-ls-lossless'), codecs },
 * });
 * ```
 */
export interface StoreAsOptions {
  /** The transfer syntax to store instances in (a UID). */
  transferSyntaxUid: string;
  /** The codecs: `import * as codecs from '@dnet/codecs'`. */
  codecs: StoreAsCodecs;
  /**
   * Allow lossy compression, with the codec's settings (`EncodeOptions.lossy`
   * of `@dnet/codecs`). Without it the stored pixels are exactly the received
   * ones and a target that can only lose information fails for every
   * instance (stored as received). A lossy copy is a new SOP Instance (PS3.3
   * §C.7.6.1.1.5): it is indexed under its new SOP Instance UID.
   */
  lossy?: { readonly quality?: number; readonly ratio?: number; readonly maxError?: number };
}

/** What {@link StoreAsPipe.finish} hands the store handler to commit and index. */
export interface TranscodedObject {
  /** The writer holding the transcoded object, not yet committed. */
  readonly writer: ObjectWriter;
  /** The stored transfer syntax. */
  readonly transferSyntaxUid: string;
  /** The stored SOP Instance UID (new after lossy compression). */
  readonly sopInstanceUid: string;
  /** The index record's attributes, read from the transcoded bytes. */
  readonly attributes: DicomJsonDataSet;
}

/**
 * A one-slot channel between the receive loop and the transcoder: `push`
 * resolves once the transcoder has taken the chunk, so that at most one
 * received chunk waits (plus what the transcoder holds: one frame).
 */
class ChunkChannel implements AsyncIterable<Uint8Array> {
  #queue: Uint8Array[] = [];
  #ended = false;
  #failure: Error | undefined;
  /** The reader has stopped (done or failed): pushes are dropped. */
  #gone = false;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  async push(chunk: Uint8Array): Promise<void> {
    if (this.#gone || this.#ended) return;
    this.#queue.push(chunk);
    this.#wake('reader');
    while (this.#queue.length > 0 && !this.#gone) {
      await new Promise<void>((resolve) => {
        this.#wakeWriter = resolve;
      });
    }
  }

  end(): void {
    this.#ended = true;
    this.#wake('reader');
  }

  /** The reader throws `error` at its next chunk; pushes are dropped from now on. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#gone = true;
    this.#queue = [];
    this.#wake('reader');
    this.#wake('writer');
  }

  #wake(who: 'reader' | 'writer'): void {
    const wake = who === 'reader' ? this.#wakeReader : this.#wakeWriter;
    if (who === 'reader') this.#wakeReader = undefined;
    else this.#wakeWriter = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        if (this.#failure) throw this.#failure;
        const chunk = this.#queue.shift();
        if (chunk) {
          this.#wake('writer');
          yield chunk;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
      }
    } finally {
      this.#gone = true;
      this.#queue = [];
      this.#wake('writer');
    }
  }
}

/** Why an instance is stored as received although `storeAs` is set. */
export interface StoreAsFallback {
  /** The transcoder's error, or why it did not run. */
  readonly error: unknown;
}

/**
 * The transcoding of one received instance, fed chunk by chunk by the store
 * handler: its output goes to a second writer of the storage, which the
 * handler commits instead of the received copy when every frame transcoded.
 */
export class StoreAsPipe {
  readonly #channel = new ChunkChannel();
  readonly #done: Promise<unknown>;
  readonly #target: string;
  readonly #maxHead: number;
  #writer: ObjectWriter | undefined;
  #info: StoreAsTranscodeInfo | undefined;
  #head: Uint8Array[] = [];
  #headBytes = 0;
  /** The output head reaches Pixel Data, or is cut at `maxHead`: no more is kept. */
  #headDone = false;
  #headCut = false;
  #cancelled = false;

  /**
   * Starts transcoding a data set received in `fromTransferSyntaxUid`.
   *
   * @param options - the archive's `storeAs`
   * @param fromTransferSyntaxUid - the received syntax
   * @param storage - where the transcoded object is written
   * @param place - the received object's UIDs (known before the first output byte)
   * @param part10 - the File Meta Information of the stored object, for its SOP Instance UID
   * @param maxHead - bytes of the output kept to index it
   */
  constructor(
    options: StoreAsOptions,
    fromTransferSyntaxUid: string,
    storage: ObjectStorage,
    place: () => ObjectUids | undefined,
    part10: (sopInstanceUid: string) => Uint8Array,
    maxHead: number,
  ) {
    this.#target = options.transferSyntaxUid;
    this.#maxHead = maxHead;
    const output = options.codecs.transcodeDataSet(this.#channel, fromTransferSyntaxUid, {
      transferSyntaxUid: options.transferSyntaxUid,
      ...(options.lossy && { lossy: options.lossy }),
      onHeader: (info) => {
        this.#info = info;
      },
    });
    this.#done = (async () => {
      try {
        for await (const chunk of output) {
          if (this.#cancelled) throw new Error('cancelled');
          if (!this.#writer) {
            const uids = place();
            if (!uids) throw new Error('the instance is not placed before its transcoded bytes');
            const sopInstanceUid = this.#info?.sopInstanceUid ?? uids.sopInstanceUid;
            this.#writer = await storage.begin({ ...uids, sopInstanceUid });
            await this.#writer.write(part10(sopInstanceUid));
          }
          this.#keepHead(chunk);
          await this.#writer.write(chunk);
        }
        return undefined;
      } catch (error) {
        // The receive loop must not wait on a transcoder that stopped.
        this.#channel.fail(error instanceof Error ? error : new Error(String(error)));
        return error ?? new Error('transcoding failed');
      }
    })();
  }

  #keepHead(chunk: Uint8Array): void {
    if (this.#headDone || this.#headCut) return;
    if (this.#headBytes + chunk.length > this.#maxHead) {
      this.#head.push(chunk.subarray(0, this.#maxHead - this.#headBytes));
      this.#headCut = true;
      return;
    }
    this.#head.push(chunk);
    this.#headBytes += chunk.length;
    const joined = joinHead(this.#head);
    this.#head = [joined];
    if (decodeHead(joined, this.#target, PIXEL_DATA_TAG, false)) this.#headDone = true;
  }

  /** Hands the transcoder a received chunk; resolves once it has taken it. */
  push(chunk: Uint8Array): Promise<void> {
    return this.#channel.push(chunk);
  }

  /**
   * The received data set has ended: waits for the transcoder. Returns the
   * transcoded object to commit, or a {@link StoreAsFallback} (the transcoded
   * writer aborted) when the received copy is to be stored.
   *
   * @param hasPixelData - whether the received data set has Pixel Data (without it, stored as received)
   * @param sopClassUid - the SOP Class UID of the request, for the index record
   */
  async finish(
    hasPixelData: boolean,
    sopClassUid: string,
  ): Promise<TranscodedObject | StoreAsFallback> {
    if (this.#cancelled) return { error: undefined };
    this.#channel.end();
    const error = await this.#done;
    if (error !== undefined || !this.#writer || !(hasPixelData || (this.#info?.frames ?? 0) > 0)) {
      await this.abort();
      return { error: error ?? undefined };
    }
    try {
      const ds = decodeIndexable(
        joinHead(this.#head),
        this.#target,
        !this.#headCut && !this.#headDone,
      );
      const attributes = indexAttributes(ds);
      const sopInstanceUid = ds.uid('SOPInstanceUID') ?? '';
      attributes['00080018'] = { vr: 'UI', Value: [sopInstanceUid] };
      attributes['00080016'] = { vr: 'UI', Value: [sopClassUid] };
      return {
        writer: this.#writer,
        transferSyntaxUid: this.#target,
        sopInstanceUid,
        attributes,
      };
    } catch (e) {
      await this.abort();
      return { error: e };
    }
  }

  /** Stops the transcoder and discards its output (idempotent). */
  async abort(): Promise<void> {
    this.#cancelled = true;
    this.#channel.fail(new Error('the received instance is not stored'));
    await this.#done;
    await this.#writer?.abort().catch(() => undefined);
  }
}

/**
 * Whether a data set's head (its first bytes, `cut` when it was cut short)
 * reaches Pixel Data (7FE0,0010) or beyond: objects without it are stored as
 * received. A cut head is assumed to.
 *
 * @param head - the data set's first bytes
 * @param transferSyntaxUid - its transfer syntax
 * @param cut - whether `head` is only a prefix kept
 */
export function reachesPixelData(head: Uint8Array, transferSyntaxUid: string, cut: boolean) {
  if (cut) return true;
  try {
    return decodeHead(head, transferSyntaxUid, PIXEL_DATA_TAG, false) !== undefined;
  } catch {
    return false;
  }
}

/** The File Meta Information of a transcoded object (PS3.10 §7.1). */
export function storeAsPart10Header(
  sopClassUid: string,
  transferSyntaxUid: string,
  callingAeTitle: string | undefined,
): (sopInstanceUid: string) => Uint8Array {
  return (sopInstanceUid) =>
    encodePart10Header({
      mediaStorageSopClassUid: sopClassUid,
      mediaStorageSopInstanceUid: sopInstanceUid,
      transferSyntaxUid,
      ...(callingAeTitle && { sourceApplicationEntityTitle: callingAeTitle }),
    });
}
