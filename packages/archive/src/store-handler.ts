import { encodePart10Header, PIXEL_DATA_TAG } from '@dnet/dataset';
import {
  dataSetProblemComment,
  errorCommentFor,
  INCOMPLETE_DATA_SET_STATUS,
  isDataSetProblem,
  type ReceivedInstance,
  type RequestContext,
  type StoreStatus,
} from '@dnet/services';
import type { ArchiveIndex, InstanceRecord } from './archive-index.js';
import {
  DEFAULT_MAX_HEAD_BYTES,
  decodeHead,
  decodeIndexable,
  indexAttributes,
  joinHead,
  PLACEMENT_STOP_TAG,
} from './data-set-head.js';
import {
  archivedCopy,
  DEFAULT_DUPLICATE_POLICY,
  DUPLICATE_REJECTED_STATUS,
  type DuplicatePolicy,
} from './duplicate-policy.js';
import { ArchiveError, ArchiveErrorCode, UnreadableDataSetError } from './errors.js';
import { failureFields } from './failure-fields.js';
import { KeyedLock } from './keyed-lock.js';
import type { ArchiveLogger } from './logger.js';
import type { ObjectStorage, ObjectUids, ObjectWriter } from './storage.js';
import {
  reachesPixelData,
  type StoreAsOptions,
  StoreAsPipe,
  storeAsPart10Header,
} from './store-as.js';

/** C-STORE statuses this SCP answers with (PS3.4 §B.2.3, PS3.7 Annex C). */
export const StoreStatusCode = {
  /** Success (0000H). */
  SUCCESS: 0x0000,
  /** Refused: Out of Resources (A700H): the object could not be written or indexed. */
  OUT_OF_RESOURCES: 0xa700,
  /** Refused (A701H): the instance is already archived and `onDuplicate` is `reject` (duplicate-policy.ts). */
  DUPLICATE_REJECTED: DUPLICATE_REJECTED_STATUS,
  /** Error: Data Set does not match SOP Class (A900H): its SOP UIDs differ from the request's. */
  DATA_SET_DOES_NOT_MATCH: 0xa900,
  /** Error: Cannot understand (C000H): the data set cannot be decoded or placed. */
  CANNOT_UNDERSTAND: 0xc000,
} as const;

/** Options of {@link createStoreHandler}. */
export interface StoreHandlerOptions {
  /** Where objects are written. */
  storage: ObjectStorage;
  /** Where they are catalogued. */
  index: ArchiveIndex;
  /** One JSON line per C-STORE. */
  logger: ArchiveLogger;
  /** Bytes of each data set's beginning kept to index it (default 1 MiB, `DEFAULT_MAX_HEAD_BYTES`). */
  maxHeadBytes?: number;
  /**
   * Called with the length of each data set chunk as it arrives (the CLI paces
   * young-generation collections with it: `GcPacer` in `heap.ts`).
   */
  received?: (bytes: number) => void;
  /**
   * What to do with an instance already archived (same SOP Instance UID):
   * `keep` it (default; Success, the new copy dropped), `replace` it, or
   * `reject` the new copy (A701H). See {@link DuplicatePolicy}.
   */
  onDuplicate?: DuplicatePolicy;
  /**
   * Store each instance with Pixel Data in this transfer syntax, transcoded
   * frame by frame as it is received; an instance the codecs cannot handle is
   * stored as received, with a warning. See {@link StoreAsOptions}.
   */
  storeAs?: StoreAsOptions;
}

const UID_TAGS = {
  sopClass: '00080016',
  sopInstance: '00080018',
  study: '0020000D',
  series: '0020000E',
} as const;

function firstString(ds: ReturnType<typeof decodeIndexable>, keyword: string): string {
  try {
    return ds.uid(keyword) ?? '';
  } catch {
    return '';
  }
}

/** The index attributes of a complete head (decodeIndexable stops at Pixel Data), or `undefined` when it cannot be decoded. */
function prepareAttributes(
  head: Uint8Array[],
  ts: string,
): ReturnType<typeof indexAttributes> | undefined {
  try {
    return indexAttributes(decodeIndexable(joinHead(head), ts, false));
  } catch {
    return undefined;
  }
}

function statusOf(error: unknown): { status: number; errorComment: string } {
  // Cut or malformed (the Server's completeness check): C000H naming the cut (PS3.4 §B.2.3).
  if (isDataSetProblem(error)) {
    return { status: INCOMPLETE_DATA_SET_STATUS, errorComment: dataSetProblemComment(error) };
  }
  // The peer learns the cause (a full disk...), never the server's paths (PS3.7 Annex C: LO).
  const errorComment = errorCommentFor(error, 'cannot store');
  if (error instanceof UnreadableDataSetError) {
    return { status: StoreStatusCode.CANNOT_UNDERSTAND, errorComment };
  }
  if (error instanceof ArchiveError) {
    if (
      error.code === ArchiveErrorCode.INVALID_UID ||
      error.code === ArchiveErrorCode.INVALID_RECORD ||
      error.code === ArchiveErrorCode.INVALID_PATH
    ) {
      return { status: StoreStatusCode.CANNOT_UNDERSTAND, errorComment };
    }
  }
  return { status: StoreStatusCode.OUT_OF_RESOURCES, errorComment };
}

/**
 * The C-STORE handler of the archive (PS3.4 Annex B): streams the data set
 * into an {@link ObjectStorage} writer as a Part 10 file (PS3.10 §7.1 meta
 * header, then the data set bytes exactly as received), decoding just its
 * beginning: first to place it (Study, Series and SOP Instance UIDs,
 * validated before they become path parts), then to index it. The object is
 * committed (fsync + rename), then indexed, and only then is Success
 * returned; on any failure or abort the writer is aborted (no file, no row).
 * The `Server` of `@dnet/services` checks the data set complete as it
 * streams: an incomplete one makes the loop below throw before the commit.
 * An instance the archive already holds is kept, replaced or refused by
 * `onDuplicate`; with `keep` or `reject` nothing of the new copy is written
 * when the archived one is known as it starts.
 *
 * @example
 * ```ts
 * const store = createStoreHandler({ storage, index, logger });
 * await Server.listen({ transport: tcp(), port: 11112, aeTitle: 'DNETSCP', handlers: { store } });
 * ```
 */
export function createStoreHandler(
  options: StoreHandlerOptions,
): (
  instance: ReceivedInstance,
  context: RequestContext,
  signal: AbortSignal,
) => Promise<StoreStatus> {
  const { storage, index, logger, received, storeAs } = options;
  const maxHead = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  const policy = options.onDuplicate ?? DEFAULT_DUPLICATE_POLICY;
  // One commit decision at a time per SOP Instance UID (check, commit, index).
  const locks = new KeyedLock();
  return async (instance, context, signal) => {
    const started = performance.now();
    const ts = instance.transferSyntaxUid;
    let head: Uint8Array[] = [];
    let headBytes = 0;
    let headCut = false;
    // Everything an index record keeps (all before Pixel Data) is in `head`: stop keeping chunks.
    let headDone = false;
    let waiting: Uint8Array[] = [];
    let writer: ObjectWriter | undefined;
    // Placed: the writer is open, or the archived copy found (keep/reject: nothing is written).
    let placed = false;
    let duplicate: InstanceRecord | undefined;
    let bytes = 0;
    let placement: ObjectUids | undefined;
    // The index record's attributes, decoded once the head is complete (headDone): while the
    // rest of the data set arrives, not after its last byte, which the sender waits on.
    let prepared: ReturnType<typeof indexAttributes> | undefined;
    // Ingest transcoding (store-as.ts): only when the syntaxes differ and the codecs take the pair.
    const transcoding =
      storeAs !== undefined &&
      storeAs.transferSyntaxUid !== ts &&
      storeAs.codecs.canTranscode(ts, storeAs.transferSyntaxUid);
    const pipe = transcoding
      ? new StoreAsPipe(
          storeAs,
          ts,
          storage,
          () => placement,
          storeAsPart10Header(
            instance.sopClassUid,
            storeAs.transferSyntaxUid,
            context.callingAeTitle,
          ),
          maxHead,
        )
      : undefined;

    const open = async (complete: boolean): Promise<boolean> => {
      const joined = joinHead(head);
      const ds = decodeHead(joined, ts, PLACEMENT_STOP_TAG, complete && !headCut);
      if (!ds) {
        if (headCut) {
          throw new UnreadableDataSetError(
            `Study and Series Instance UIDs not in the first ${maxHead} bytes`,
          );
        }
        return false;
      }
      // When the head already reaches Pixel Data (an image's header is a few kB),
      // what follows is not indexed (decodeIndexable stops there): the chunks of
      // a large object are not held (up to maxHead bytes) until its end.
      if (!complete && !headCut && decodeHead(joined, ts, PIXEL_DATA_TAG, false)) {
        head = [joined];
        headDone = true;
      }
      placed = true;
      if (policy !== 'replace') {
        duplicate = await archivedCopy(index, storage, instance.sopInstanceUid);
        if (duplicate) {
          waiting = [];
          await pipe?.abort();
          return true;
        }
      }
      placement = {
        studyInstanceUid: firstString(ds, 'StudyInstanceUID'),
        seriesInstanceUid: firstString(ds, 'SeriesInstanceUID'),
        sopInstanceUid: instance.sopInstanceUid,
      };
      writer = await storage.begin(placement);
      // PS3.10 §7.1: the File Meta Information, then the data set as received.
      await writer.write(
        encodePart10Header({
          mediaStorageSopClassUid: instance.sopClassUid,
          mediaStorageSopInstanceUid: instance.sopInstanceUid,
          transferSyntaxUid: ts,
          ...(context.callingAeTitle && { sourceApplicationEntityTitle: context.callingAeTitle }),
        }),
      );
      for (const c of waiting) await writer.write(c);
      waiting = [];
      return true;
    };

    const log = (
      status: number,
      extra: Record<string, unknown> = {},
      level: 'info' | 'warn' | 'error' = 'info',
    ) =>
      logger[level](
        {
          op: 'C-STORE',
          peer: context.callingAeTitle,
          address: `${context.remoteAddress}:${context.remotePort}`,
          sopClassUid: instance.sopClassUid,
          sopInstanceUid: instance.sopInstanceUid,
          bytes,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          status: `0x${status.toString(16).padStart(4, '0')}`,
          ...extra,
        },
        'C-STORE',
      );

    try {
      for await (const chunk of instance.dataSet) {
        bytes += chunk.length;
        received?.(chunk.length);
        if (!headCut && !headDone) {
          if (headBytes + chunk.length <= maxHead) {
            head.push(chunk);
            headBytes += chunk.length;
          } else {
            head.push(chunk.subarray(0, maxHead - headBytes));
            headBytes = maxHead;
            headCut = true;
          }
        }
        if (placed) {
          if (writer) await writer.write(chunk);
        } else {
          waiting.push(chunk);
          await open(false);
          // The head is frozen from here on (no chunk is added to it): same record as at the end.
          // A head that cannot be decoded is decoded again at the end, which reports it.
          if (headDone && !duplicate) prepared = prepareAttributes(head, ts);
        }
        await pipe?.push(chunk);
      }
      signal.throwIfAborted();
      if (!placed && !(await open(true))) {
        throw new UnreadableDataSetError('the data set ends before its Series Instance UID');
      }
      const attributes =
        prepared ?? indexAttributes(decodeIndexable(joinHead(head), ts, !headCut && !headDone));
      // PS3.4 §B.2.3: the data set must be the instance the request names.
      const sopInstance = attributes[UID_TAGS.sopInstance]?.Value?.[0];
      const sopClass = attributes[UID_TAGS.sopClass]?.Value?.[0];
      if (sopInstance !== undefined && sopInstance !== instance.sopInstanceUid) {
        const status = StoreStatusCode.DATA_SET_DOES_NOT_MATCH;
        await writer?.abort();
        await pipe?.abort();
        log(status, { reason: 'SOP Instance UID differs from the request' });
        return { status, errorComment: 'SOP Instance UID differs from the C-STORE-RQ' };
      }
      if (sopClass !== undefined && sopClass !== instance.sopClassUid) {
        const status = StoreStatusCode.DATA_SET_DOES_NOT_MATCH;
        await writer?.abort();
        await pipe?.abort();
        log(status, { reason: 'SOP Class UID differs from the request' });
        return { status, errorComment: 'SOP Class UID differs from the C-STORE-RQ' };
      }
      attributes[UID_TAGS.sopInstance] = { vr: 'UI', Value: [instance.sopInstanceUid] };
      attributes[UID_TAGS.sopClass] = { vr: 'UI', Value: [instance.sopClassUid] };
      signal.throwIfAborted();
      const hasPixelData =
        storeAs !== undefined && (headDone || reachesPixelData(joinHead(head), ts, headCut));
      const transcoded = await pipe?.finish(hasPixelData, instance.sopClassUid);
      const stored = transcoded && 'writer' in transcoded ? transcoded : undefined;
      // Not transcoded although it has pixels: stored as received, with a warning (LIMITS.md).
      const why =
        transcoded && !stored
          ? (transcoded as { error: unknown }).error
          : !transcoding && hasPixelData && storeAs.transferSyntaxUid !== ts && writer
            ? new Error(`no codec transcodes ${ts} to ${storeAs.transferSyntaxUid}`)
            : undefined;
      if (why !== undefined) {
        log(
          0,
          { storeAs: storeAs?.transferSyntaxUid, storedAsReceived: true, ...failureFields(why) },
          'warn',
        );
      }
      const release = await locks.acquire(instance.sopInstanceUid);
      try {
        // A copy another association committed while this one arrived counts too.
        if (!duplicate && policy !== 'replace') {
          duplicate = await archivedCopy(index, storage, instance.sopInstanceUid);
        }
        if (duplicate) {
          await writer?.abort();
          await stored?.writer.abort();
          if (policy === 'reject') {
            const status = StoreStatusCode.DUPLICATE_REJECTED;
            log(status, { path: duplicate.path, duplicate: 'rejected' });
            return { status, errorComment: 'SOP Instance already stored; duplicates are refused' };
          }
          log(0, { path: duplicate.path, replaced: false, duplicate: 'kept' });
          return StoreStatusCode.SUCCESS;
        }
        signal.throwIfAborted();
        // Transcoded: its copy is committed, the received one discarded.
        if (stored) await writer?.abort();
        const committed = await (stored?.writer ?? writer!).commit();
        try {
          const put = await index.put({
            path: committed.path,
            size: committed.size,
            transferSyntaxUid: stored?.transferSyntaxUid ?? ts,
            attributes: stored?.attributes ?? attributes,
          });
          if (put.previousPath && put.previousPath !== committed.path) {
            await storage.remove(put.previousPath).catch(() => false);
          }
          log(0, {
            path: committed.path,
            replaced: put.replaced,
            ...(put.replaced && { duplicate: 'replaced' }),
            ...(stored && {
              storedTransferSyntaxUid: stored.transferSyntaxUid,
              ...(stored.sopInstanceUid !== instance.sopInstanceUid && {
                storedSopInstanceUid: stored.sopInstanceUid,
              }),
            }),
          });
        } catch (error) {
          // Not indexed: no file either (a file without a row is unfindable).
          await storage.remove(committed.path).catch(() => false);
          throw error;
        }
      } finally {
        release();
      }
      return StoreStatusCode.SUCCESS;
    } catch (error) {
      await writer?.abort().catch(() => undefined);
      await pipe?.abort();
      const { status, errorComment } = statusOf(error);
      if (signal.aborted || context.association.state !== 'Sta6') {
        logger.warn(
          {
            op: 'C-STORE',
            peer: context.callingAeTitle,
            address: `${context.remoteAddress}:${context.remotePort}`,
            sopInstanceUid: instance.sopInstanceUid,
            bytes,
            durationMs: Math.round(performance.now() - started),
            status: 'aborted',
            ...failureFields(error),
          },
          'C-STORE aborted',
        );
        throw error;
      }
      // Out of resources is the archive's own failure (a full disk...): an error with its errno
      // and path; a data set refused for what it is, a warning.
      const level = status === StoreStatusCode.OUT_OF_RESOURCES ? 'error' : 'warn';
      log(status, failureFields(error), level);
      return { status, errorComment };
    }
  };
}
