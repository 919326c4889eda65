/** C-FIND as SCP (PS3.4 §C.4.1, PS3.7 §9.1.2). */
import type { IncomingRequest } from '@dnet/association';
import type { DataSet, DicomJsonDataSet } from '@dnet/dataset';
import {
  type AnsweredRequest,
  type CFindRq,
  type ResponseFields,
  respondTo,
  Status,
} from '@dnet/dimse';
import { errorCommentFor } from './error-comment.js';
import { agreedQueryExtendedNegotiation } from './extended-negotiation.js';
import { HANDLER_FAILED } from './handler-status.js';
import {
  decodeIdentifier,
  encodeIdentifier,
  identifierJson,
  levelOf,
  readIdentifierBytes,
} from './identifier.js';
import { statusOfError } from './n-services.js';
import type { RequestContext } from './request-context.js';
import type { ServerHandlers } from './server-types.js';

/**
 * The Identifier of a C-FIND, C-MOVE or C-GET request, decoded; an
 * unreadable one is answered with A900H (PS3.4 §C.4.1.1.4) and gives undefined.
 */
export async function readIdentifier(
  rq: IncomingRequest,
): Promise<{ dataSet: DataSet; json: DicomJsonDataSet } | undefined> {
  try {
    const bytes = rq.dataSet ? await readIdentifierBytes(rq.dataSet) : new Uint8Array(0);
    const dataSet = decodeIdentifier(bytes, rq.context.transferSyntax);
    return { dataSet, json: identifierJson(dataSet) };
  } catch (error) {
    // PS3.4 §C.4.1.1.4: A900H identifier does not match SOP class.
    await rq.respond(
      respondTo(
        rq.message as AnsweredRequest,
        {
          status: Status.DOES_NOT_MATCH_SOP_CLASS,
          errorComment: errorCommentFor(error),
        } as ResponseFields<AnsweredRequest>,
      ),
    );
    return undefined;
  }
}

/**
 * Performs a C-FIND with the `find` handler: one pending response per match,
 * then the final status; C-CANCEL ends it with FE00H (PS3.4 §C.4.1.1.4).
 */
export async function answerFind(
  rq: IncomingRequest,
  find: NonNullable<ServerHandlers['find']>,
  context: RequestContext,
): Promise<number | undefined> {
  const message = rq.message as CFindRq;
  const id = await readIdentifier(rq);
  if (!id) return Status.DOES_NOT_MATCH_SOP_CLASS;
  const ts = rq.context.transferSyntax;
  let status = 0;
  let errorComment: string | undefined;
  let offendingElement: number[] | undefined;
  try {
    const matches = await find(
      {
        sopClassUid: message.affectedSopClassUid,
        level: levelOf(id.json),
        identifier: id.json,
        dataSet: id.dataSet,
        message,
        extendedNegotiation: agreedQueryExtendedNegotiation(
          context.association.negotiation,
          message.affectedSopClassUid,
        ),
      },
      context,
      rq.signal,
    );
    for await (const match of matches as AsyncIterable<DicomJsonDataSet | DataSet>) {
      if (rq.signal.aborted) break;
      // PS3.4 §C.4.1.1.4: FF00H pending, one response per match with its Identifier.
      await rq.respond(
        respondTo(message, { status: Status.PENDING, hasDataSet: true }),
        encodeIdentifier(match, ts),
      );
    }
  } catch (error) {
    if (!rq.signal.aborted) {
      // The error's own status (A900H with Offending Element...), else C000H (PS3.4 §C.4.1.1.4).
      ({ status, errorComment, offendingElement } = statusOfError(error, HANDLER_FAILED));
    }
  }
  // PS3.4 §C.4.1.1.4: FE00H matching terminated due to cancel.
  if (rq.signal.aborted) status = Status.CANCEL;
  if (context.association.state !== 'Sta6') return undefined;
  await rq.respond(
    respondTo(message, {
      status,
      ...(errorComment && { errorComment }),
      ...(offendingElement && { offendingElement }),
    }),
  );
  return status;
}
