/** Verification as SCP (PS3.4 Annex A, PS3.7 §9.1.5). */
import type { IncomingRequest } from '@dnet/association';
import { type CEchoRq, respondTo } from '@dnet/dimse';
import { errorCommentFor } from './error-comment.js';
import { asStatus, errorCommentField, HANDLER_FAILED } from './handler-status.js';
import type { RequestContext } from './request-context.js';
import type { ServerHandlers } from './server-types.js';

/**
 * Answers a C-ECHO-RQ with the `echo` handler's status (success without a
 * handler); a handler that throws gets C000H with its message as comment.
 */
export async function answerEcho(
  rq: IncomingRequest,
  echo: ServerHandlers['echo'],
  context: RequestContext,
): Promise<number> {
  let r: { status: number; errorComment?: string };
  try {
    r = asStatus(await echo?.(context));
  } catch (error) {
    r = { status: HANDLER_FAILED, errorComment: errorCommentFor(error) };
  }
  await rq.respond(respondTo(rq.message as CEchoRq, { status: r.status, ...errorCommentField(r) }));
  return r.status;
}
