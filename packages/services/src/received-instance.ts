import { join } from 'node:path';
import type { IncomingRequest } from '@dnet/association';
import { writePart10File } from '@dnet/dataset';
import { type CStoreRq, respondTo, Status } from '@dnet/dimse';
import {
  CompletenessGuard,
  dataSetProblemComment,
  INCOMPLETE_DATA_SET_STATUS,
  keepsInstance,
} from './completeness-guard.js';
import { errorCommentText } from './error-comment.js';

/** A C-STORE data set arriving (PS3.4 Annex B, or a C-GET sub-operation, PS3.4 §C.4.3). */
export interface ReceivedInstance {
  /** Affected SOP Class UID of the C-STORE-RQ. */
  sopClassUid: string;
  /** Affected SOP Instance UID of the C-STORE-RQ. */
  sopInstanceUid: string;
  /** The transfer syntax of the presentation context: the data set's encoding. */
  transferSyntaxUid: string;
  /** The data set bytes as they arrive; read it to the end (or stop to drop the rest). */
  dataSet: AsyncIterable<Uint8Array>;
  /** The C-STORE-RQ (priority, Move Originator AE Title and Message ID...). */
  message: CStoreRq;
}

/** What a store sink returns: a status (PS3.4 §B.2.3), with an optional comment. */
export type StoreStatus = number | { status: number; errorComment?: string } | undefined;

/** A sink for received instances: a callback, or a folder where Part 10 files are written. */
export type InstanceSink =
  | ((instance: ReceivedInstance) => StoreStatus | Promise<StoreStatus> | void | Promise<void>)
  | {
      folder: string;
    };

/** A UID (PS3.5 §9.1): digits and dots, at most 64 characters; safe as a file name. */
const UID = /^[0-9]+(\.[0-9]+)*$/;

/** Status when a sink throws: C000H, cannot understand (PS3.4 §B.2.3). */
const SINK_FAILED = Status.CANNOT_UNDERSTAND;

/** PS3.4 Table B.2-1: A700H, Refused: Out of Resources. */
const OUT_OF_RESOURCES = Status.OUT_OF_RESOURCES;

/**
 * System errors that mean our own storage cannot take the instance (full,
 * read-only, not writable, failing): PS3.4 Table B.2-1 names that case
 * "Refused: Out of Resources", not "Cannot understand".
 */
const LOCAL_STORAGE_ERRORS = new Set([
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EACCES',
  'EPERM',
  'EIO',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'EFBIG',
]);

/**
 * The status and Error Comment (0000,0902) for a sink that threw: A700H
 * with the system error code for a local storage failure (the comment
 * names no path of ours), C000H with the error's message otherwise.
 * @internal
 */
export function sinkFailure(error: unknown): { status: number; errorComment: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && LOCAL_STORAGE_ERRORS.has(code))
    return { status: OUT_OF_RESOURCES, errorComment: `cannot store here: ${code}` };
  return {
    status: SINK_FAILED,
    errorComment: String((error as Error)?.message ?? error).slice(0, 64),
  };
}

/**
 * Writes a received instance as a Part 10 file `<sopInstanceUid>.dcm` in a
 * folder (PS3.10 §7.1 meta header, data set bytes streamed unchanged), flushed
 * and renamed into place before success is returned. Users reach it through
 * {@link storeToFolder}, its one public name.
 */
export async function writeToFolder(
  folder: string,
  instance: ReceivedInstance,
  sourceAeTitle?: string,
): Promise<number> {
  if (!UID.test(instance.sopInstanceUid) || instance.sopInstanceUid.length > 64) {
    // PS3.7 Annex C: 0117H invalid object instance.
    return Status.INVALID_OBJECT_INSTANCE;
  }
  await writePart10File(
    join(folder, `${instance.sopInstanceUid}.dcm`),
    {
      mediaStorageSopClassUid: instance.sopClassUid,
      mediaStorageSopInstanceUid: instance.sopInstanceUid,
      transferSyntaxUid: instance.transferSyntaxUid,
      ...(sourceAeTitle && { sourceApplicationEntityTitle: sourceAeTitle }),
    },
    instance.dataSet,
  );
  return 0;
}

/**
 * Runs a sink on a C-STORE-RQ and answers it once the sink has returned
 * (after consuming the data set): the receiver half of the hot path.
 * Resolves with the status sent.
 *
 * The data set is checked complete as the sink reads it
 * ({@link CompletenessGuard}): the sink's loop throws before its end when the
 * data set is cut inside an element, an undelimited sequence or item, or
 * encapsulated Pixel Data, or is malformed, and the answer is then C000H
 * with an Error Comment naming the cut, whatever the sink returned. A sink
 * that answers Success without reading to the end has the rest checked
 * before the answer. An incomplete data set never gets a Success.
 */
export async function answerStore(
  request: IncomingRequest,
  sink: InstanceSink,
  sourceAeTitle?: string,
): Promise<number> {
  const rq = request.message as CStoreRq;
  const guard = new CompletenessGuard(
    request.dataSet ?? (async function* () {})(),
    request.context.transferSyntax,
  );
  const instance: ReceivedInstance = {
    sopClassUid: rq.affectedSopClassUid,
    sopInstanceUid: rq.affectedSopInstanceUid,
    transferSyntaxUid: request.context.transferSyntax,
    dataSet: guard.dataSet,
    message: rq,
  };
  let status: number;
  let errorComment: string | undefined;
  try {
    const r =
      typeof sink === 'function'
        ? await sink(instance)
        : await writeToFolder(sink.folder, instance, sourceAeTitle);
    if (typeof r === 'number') status = r;
    else if (r && typeof r === 'object') {
      status = r.status;
      errorComment = r.errorComment;
    } else status = 0;
  } catch (error) {
    ({ status, errorComment } = sinkFailure(error));
  }
  let problem = guard.failure;
  if (!problem) {
    try {
      problem = await guard.settle(keepsInstance(status));
    } catch {
      // The association ended while the rest was read: no answer can go out.
      status = SINK_FAILED;
    }
  }
  if (problem) {
    // PS3.4 §B.2.3: Error: Cannot understand, naming the cut.
    status = INCOMPLETE_DATA_SET_STATUS;
    errorComment = dataSetProblemComment(problem);
  }
  // Whatever the sink left unread is dropped so the association keeps going.
  request.dataSet?.discard();
  await request.respond(
    respondTo(rq, {
      status,
      ...(errorComment && { errorComment: errorCommentText(errorComment) }),
    }),
  );
  return status;
}

/**
 * A store handler for {@link Server.listen} that writes each received instance
 * as `<folder>/<SOP Instance UID>.dcm` (meta header plus the data set bytes
 * as received), flushed and renamed into place before the success response
 * (docs/architecture.md, the receiver half of the hot path). The calling AE title goes
 * into (0002,0016) Source Application Entity Title (none when the context has
 * none). The handler can be called directly too (a C-GET sub-operation, say).
 *
 * @example
 * ```ts
 * await Server.listen({ transport: tcp(), port: 11112, aeTitle: 'DNET', handlers: { store: storeToFolder('/data/in') } });
 * ```
 */
export function storeToFolder(
  folder: string,
): (instance: ReceivedInstance, context: { callingAeTitle?: string }) => Promise<number> {
  return (instance, context) => writeToFolder(folder, instance, context.callingAeTitle);
}
