/** The statuses a server answers with when a handler cannot (PS3.7 Annex C, PS3.4 §C.4.1.1.4). */
import type { Association, IncomingRequest } from '@dnet/association';
import { type AnsweredRequest, respondTo, Status } from '@dnet/dimse';
import { errorCommentText } from './error-comment.js';

/** Status sent when a handler throws: C000H unable to process (PS3.4 §C.4.1.1.4). */
export const HANDLER_FAILED = Status.CANNOT_UNDERSTAND;

/** A handler's answer as a status and comment: a number, an object, or nothing (success). */
export function asStatus(r: unknown): { status: number; errorComment?: string } {
  if (typeof r === 'number') return { status: r };
  if (r && typeof r === 'object') return r as { status: number; errorComment?: string };
  return { status: 0 };
}

/** The Error Comment (0000,0902) field of a response, when there is a comment. */
export function errorCommentField(r: { errorComment?: string }): Record<string, unknown> {
  return r.errorComment ? { errorComment: errorCommentText(r.errorComment) } : {};
}

/** Status 0124H Refused: Not Authorized (PS3.7 Annex C). */
const NOT_AUTHORIZED = Status.NOT_AUTHORIZED;

/** Answers a request the requestor may not invoke on its context (no SCU role): 0124H. */
export async function refuseRole(rq: IncomingRequest): Promise<number> {
  rq.dataSet?.discard();
  await rq.respond(
    respondTo(rq.message as AnsweredRequest, {
      status: NOT_AUTHORIZED,
      errorComment: errorCommentText('no SCU role on this context (PS3.7 D.3.3.4)'),
    }),
  );
  return NOT_AUTHORIZED;
}

/** Whether an association is over or closing, so nothing can be sent on it any more. */
export function ended(association: Association): boolean {
  const state = association.state;
  return state === 'Sta1' || state === 'Sta2' || state === 'Sta13';
}
