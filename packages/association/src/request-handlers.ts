import {
  type AnsweredRequest,
  type CEchoRq,
  type CFindRq,
  type CGetRq,
  type CMoveRq,
  CommandField,
  type CStoreRq,
  type NActionRq,
  type NCreateRq,
  type NDeleteRq,
  type NEventReportRq,
  type NGetRq,
  type NSetRq,
  respondTo,
} from '@dnet/dimse';
import type { IncomingRequest } from './dimse-primitives.js';
import { AssociationError, AssociationErrorCode } from './errors.js';

/** The request of each DIMSE command a peer may invoke and a handler answers. */
export interface RequestOf {
  /** PS3.7 §9.1.1. */
  'C-STORE': CStoreRq;
  /** PS3.7 §9.1.2. */
  'C-FIND': CFindRq;
  /** PS3.7 §9.1.3. */
  'C-GET': CGetRq;
  /** PS3.7 §9.1.4. */
  'C-MOVE': CMoveRq;
  /** PS3.7 §9.1.5. */
  'C-ECHO': CEchoRq;
  /** PS3.7 §10.1.1. */
  'N-EVENT-REPORT': NEventReportRq;
  /** PS3.7 §10.1.2. */
  'N-GET': NGetRq;
  /** PS3.7 §10.1.3. */
  'N-SET': NSetRq;
  /** PS3.7 §10.1.4. */
  'N-ACTION': NActionRq;
  /** PS3.7 §10.1.5. */
  'N-CREATE': NCreateRq;
  /** PS3.7 §10.1.6. */
  'N-DELETE': NDeleteRq;
}

/** A DIMSE command a handler can be registered for (C-CANCEL has no response: it is a notification). */
export type RequestCommand = keyof RequestOf;

/**
 * Performs one request of the peer and answers it with `request.respond`
 * (pending responses any number of times, then the final one). A handler
 * that throws or rejects before its final response gets a processing
 * failure (0110H) sent for it.
 */
export type RequestHandler<C extends RequestCommand = RequestCommand> = (
  request: IncomingRequest<RequestOf[C]>,
) => void | Promise<void>;

/** The Command Field of each request command (PS3.7 Annex E). */
const commandFieldOf: Readonly<Record<RequestCommand, number>> = {
  'C-STORE': CommandField.C_STORE_RQ,
  'C-FIND': CommandField.C_FIND_RQ,
  'C-GET': CommandField.C_GET_RQ,
  'C-MOVE': CommandField.C_MOVE_RQ,
  'C-ECHO': CommandField.C_ECHO_RQ,
  'N-EVENT-REPORT': CommandField.N_EVENT_REPORT_RQ,
  'N-GET': CommandField.N_GET_RQ,
  'N-SET': CommandField.N_SET_RQ,
  'N-ACTION': CommandField.N_ACTION_RQ,
  'N-CREATE': CommandField.N_CREATE_RQ,
  'N-DELETE': CommandField.N_DELETE_RQ,
};

const commandOf = new Map<number, RequestCommand>(
  Object.entries(commandFieldOf).map(([name, field]) => [field, name as RequestCommand]),
);

/** Status of a request nobody handles: PS3.7 §9.1.5 C-ECHO succeeds; others 0211H Unrecognized operation (PS3.7 Annex C.4.2). */
function unhandledStatus(commandField: number): number {
  return commandField === CommandField.C_ECHO_RQ ? 0x0000 : 0x0211;
}

/** Answers `incoming` with a bare status; a response that cannot be sent any more is dropped. */
function answer(incoming: IncomingRequest, status: number): void {
  incoming.dataSet?.discard();
  try {
    incoming
      .respond(respondTo(incoming.message as AnsweredRequest, { status } as never))
      .catch(() => {});
  } catch {
    // a request whose response cannot be built (the peer's malformed request): nothing to send
  }
}

/**
 * The request handlers of one association: one per command, the single
 * place a request of the peer is performed and answered (events are for
 * notifications only).
 */
export class RequestHandlers {
  readonly #handlers = new Map<number, RequestHandler>();
  readonly #onError: (error: unknown, command: RequestCommand) => void;
  readonly #answered: (incoming: IncomingRequest) => boolean;

  /**
   * @param onError Told of each handler that threw or rejected.
   * @param answered Whether the request has had its final response.
   */
  constructor(
    onError: (error: unknown, command: RequestCommand) => void,
    answered: (incoming: IncomingRequest) => boolean,
  ) {
    this.#onError = onError;
    this.#answered = answered;
  }

  /** Registers the handler of `command`; throws if it already has one. */
  set<C extends RequestCommand>(command: C, handler: RequestHandler<C>): void {
    const field = commandFieldOf[command];
    if (field === undefined)
      throw new AssociationError(
        AssociationErrorCode.INVALID_ARGUMENT,
        `${String(command)} is not a request a handler answers`,
      );
    if (this.#handlers.has(field))
      throw new AssociationError(
        AssociationErrorCode.INVALID_ARGUMENT,
        `${command} already has a handler`,
      );
    this.#handlers.set(field, handler as RequestHandler);
  }

  /** Removes the handler of `command`; its requests are refused again. */
  delete(command: RequestCommand): void {
    this.#handlers.delete(commandFieldOf[command]);
  }

  /** Whether `command` has a handler. */
  has(command: RequestCommand): boolean {
    return this.#handlers.has(commandFieldOf[command]);
  }

  /** Hands a request to its handler, or answers it with the status PS3.7 prescribes when none is registered. */
  dispatch(incoming: IncomingRequest): void {
    const field = incoming.message.commandField;
    const handler = this.#handlers.get(field);
    if (!handler) {
      answer(incoming, unhandledStatus(field));
      return;
    }
    const fail = (error: unknown) => {
      // PS3.7 Annex C: processing failure, unless the final response went out already.
      if (!this.#answered(incoming)) answer(incoming, 0x0110);
      this.#onError(error, commandOf.get(field)!);
    };
    let result: void | Promise<void>;
    try {
      result = handler(incoming as IncomingRequest<AnsweredRequest>);
    } catch (error) {
      fail(error);
      return;
    }
    if (result instanceof Promise) result.then(undefined, fail);
  }
}
