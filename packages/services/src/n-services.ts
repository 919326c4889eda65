import type {
  Association,
  IncomingRequest,
  IncomingResponse,
  NegotiatedContext,
  SupportedContext,
} from '@dnet/association';
import type { DicomJsonDataSet } from '@dnet/dataset';
import {
  type AnsweredRequest,
  CommandField,
  type NActionRq,
  type NCreateRq,
  type NDeleteRq,
  type NEventReportRq,
  type NGetRq,
  type NSetRq,
  type ResponseFields,
  respondTo,
  Status,
  StatusCategory,
  statusCategory,
} from '@dnet/dimse';
import { publishOperation } from './diagnostics.js';
import { errorCommentFor } from './error-comment.js';
import { NoPresentationContextError, OperationFailedError } from './errors.js';
import {
  decodeIdentifier,
  encodeIdentifier,
  identifierJson,
  type Query,
  readIdentifierBytes,
} from './identifier.js';
import type { RequestContext } from './request-context.js';

/** The six DIMSE-N operations (PS3.7 §10.1). */
export type NOperation =
  | 'N-GET'
  | 'N-SET'
  | 'N-ACTION'
  | 'N-CREATE'
  | 'N-DELETE'
  | 'N-EVENT-REPORT';

/** The outcome of a DIMSE-N operation we invoked (success or warning). */
export interface NResult {
  /** The status (0000H or a warning such as 0107H, 0116H). */
  status: number;
  /** (0000,0902) Error Comment with a warning, if any. */
  errorComment?: string;
  /** The affected SOP Instance UID (N-CREATE: the one the SCP chose when we sent none). */
  sopInstanceUid?: string;
  /** The response's data set (attribute list, action or event reply) as DICOM JSON. */
  dataSet?: DicomJsonDataSet;
}

/** Options of one DIMSE-N request. */
export interface NRequestOptions {
  /** Rejects locally when aborted (DIMSE-N operations have no C-CANCEL). */
  signal?: AbortSignal;
  /** Presentation context to use (default: the first accepted one for the SOP class). */
  contextId?: number;
}

/**
 * The accepted presentation context on which we may invoke a DIMSE-N request
 * for a SOP class (PS3.7 Annex D.3.3.4): as requestor where we are SCU, as
 * acceptor where the requestor is SCP; N-EVENT-REPORT is sent by the SCP
 * (as acceptor on any accepted context, as requestor where we took the SCP role).
 */
export function nContextFor(
  association: Association,
  sopClassUid: string,
  operation: NOperation,
): NegotiatedContext {
  const report = operation === 'N-EVENT-REPORT';
  const c = association.info.contexts.find(
    (x) =>
      x.accepted &&
      x.abstractSyntax === sopClassUid &&
      (association.role === 'requestor'
        ? report
          ? x.requestorScp || x.requestorScu
          : x.requestorScu
        : report || x.requestorScp),
  );
  if (!c) throw new NoPresentationContextError(sopClassUid);
  return c;
}

async function readReply(
  rsp: IncomingResponse,
  transferSyntax: string,
): Promise<DicomJsonDataSet | undefined> {
  if (!rsp.dataSet) return undefined;
  return identifierJson(decodeIdentifier(await readIdentifierBytes(rsp.dataSet), transferSyntax));
}

async function invoke(
  association: Association,
  operation: NOperation,
  sopClassUid: string,
  sopInstanceUid: string | undefined,
  send: (
    contextId: number,
    dataSet: (q: Query | undefined) => Uint8Array | undefined,
  ) => Promise<IncomingResponse>,
  options: NRequestOptions,
): Promise<NResult> {
  const context =
    options.contextId !== undefined
      ? association.info.contexts.find((c) => c.id === options.contextId)
      : nContextFor(association, sopClassUid, operation);
  if (!context) throw new NoPresentationContextError(sopClassUid);
  const started = performance.now();
  let rsp: IncomingResponse | undefined;
  try {
    rsp = await send(context.id, (q) =>
      q === undefined ? undefined : encodeIdentifier(q, context.transferSyntax),
    );
  } finally {
    publishOperation({
      role: 'scu',
      operation,
      status: (rsp?.message as { status?: number } | undefined)?.status,
      sopClassUid,
      ...(sopInstanceUid && { sopInstanceUid }),
      peerAeTitle: (association.role === 'requestor'
        ? association.info.calledAeTitle
        : association.info.callingAeTitle
      )?.trim(),
      durationMs: performance.now() - started,
    });
  }
  const m = rsp.message as unknown as {
    status: number;
    errorComment?: string;
    affectedSopInstanceUid?: string;
  };
  let dataSet: DicomJsonDataSet | undefined;
  try {
    dataSet = await readReply(rsp, context.transferSyntax);
  } catch {
    // an unreadable reply does not hide the status
  }
  const result: NResult = {
    status: m.status,
    ...(m.errorComment && { errorComment: m.errorComment }),
    ...((m.affectedSopInstanceUid ?? sopInstanceUid) && {
      sopInstanceUid: m.affectedSopInstanceUid ?? sopInstanceUid,
    }),
    ...(dataSet && { dataSet }),
  };
  // PS3.7 Annex C: a failure status throws; success and warnings resolve.
  if (statusCategory(m.status) === StatusCategory.FAILURE) {
    throw new OperationFailedError(operation, m.status, m.errorComment, result);
  }
  return result;
}

const signalOf = (o: NRequestOptions) => (o.signal ? { signal: o.signal } : {});

/**
 * N-GET (PS3.7 §10.1.2) over an association: the attributes named in
 * `attributes` (tags as `0xGGGGEEEE`; all when omitted) of one SOP instance.
 *
 * @throws OperationFailedError for a failure status (0112H no such instance...)
 */
export function nGetOver(
  association: Association,
  sopClassUid: string,
  sopInstanceUid: string,
  options: NRequestOptions & { attributes?: readonly number[] } = {},
): Promise<NResult> {
  return invoke(
    association,
    'N-GET',
    sopClassUid,
    sopInstanceUid,
    (contextId) =>
      association.nGet(
        {
          commandField: CommandField.N_GET_RQ,
          requestedSopClassUid: sopClassUid,
          requestedSopInstanceUid: sopInstanceUid,
          ...(options.attributes && { attributeIdentifierList: [...options.attributes] }),
        } as Omit<NGetRq, 'messageId' | 'hasDataSet'> as NGetRq,
        { contextId, ...signalOf(options) },
      ),
    options,
  );
}

/**
 * N-SET (PS3.7 §10.1.3): sends the Modification List.
 *
 * @throws OperationFailedError for a failure status (0106H invalid attribute value...)
 */
export function nSetOver(
  association: Association,
  sopClassUid: string,
  sopInstanceUid: string,
  modifications: Query,
  options: NRequestOptions = {},
): Promise<NResult> {
  return invoke(
    association,
    'N-SET',
    sopClassUid,
    sopInstanceUid,
    (contextId, encode) =>
      association.nSet(
        {
          commandField: CommandField.N_SET_RQ,
          requestedSopClassUid: sopClassUid,
          requestedSopInstanceUid: sopInstanceUid,
        } as NSetRq,
        encode(modifications)!,
        { contextId, ...signalOf(options) },
      ),
    options,
  );
}

/**
 * N-ACTION (PS3.7 §10.1.4): Action Type ID and optional Action Information.
 *
 * @throws OperationFailedError for a failure status (0123H no such action...)
 */
export function nActionOver(
  association: Association,
  sopClassUid: string,
  sopInstanceUid: string,
  actionTypeId: number,
  information?: Query,
  options: NRequestOptions = {},
): Promise<NResult> {
  return invoke(
    association,
    'N-ACTION',
    sopClassUid,
    sopInstanceUid,
    (contextId, encode) => {
      const dataSet = encode(information);
      return association.nAction(
        {
          commandField: CommandField.N_ACTION_RQ,
          requestedSopClassUid: sopClassUid,
          requestedSopInstanceUid: sopInstanceUid,
          actionTypeId,
        } as NActionRq,
        { contextId, ...(dataSet && { dataSet }), ...signalOf(options) },
      );
    },
    options,
  );
}

/**
 * N-CREATE (PS3.7 §10.1.5): with our SOP Instance UID, or without one so the
 * SCP chooses it (returned in `sopInstanceUid`).
 *
 * @throws OperationFailedError for a failure status (0111H duplicate instance...)
 */
export function nCreateOver(
  association: Association,
  sopClassUid: string,
  attributes: Query | undefined,
  options: NRequestOptions & { sopInstanceUid?: string } = {},
): Promise<NResult> {
  return invoke(
    association,
    'N-CREATE',
    sopClassUid,
    options.sopInstanceUid,
    (contextId, encode) => {
      const dataSet = encode(attributes);
      return association.nCreate(
        {
          commandField: CommandField.N_CREATE_RQ,
          affectedSopClassUid: sopClassUid,
          ...(options.sopInstanceUid && { affectedSopInstanceUid: options.sopInstanceUid }),
        } as NCreateRq,
        { contextId, ...(dataSet && { dataSet }), ...signalOf(options) },
      );
    },
    options,
  );
}

/**
 * N-DELETE (PS3.7 §10.1.6).
 *
 * @throws OperationFailedError for a failure status
 */
export function nDeleteOver(
  association: Association,
  sopClassUid: string,
  sopInstanceUid: string,
  options: NRequestOptions = {},
): Promise<NResult> {
  return invoke(
    association,
    'N-DELETE',
    sopClassUid,
    sopInstanceUid,
    (contextId) =>
      association.nDelete(
        {
          commandField: CommandField.N_DELETE_RQ,
          requestedSopClassUid: sopClassUid,
          requestedSopInstanceUid: sopInstanceUid,
        } as NDeleteRq,
        { contextId, ...signalOf(options) },
      ),
    options,
  );
}

/**
 * N-EVENT-REPORT (PS3.7 §10.1.1), sent by the SCP of a SOP class: Event Type
 * ID and optional Event Information.
 *
 * @throws OperationFailedError for a failure status (0113H no such event type...)
 */
export function nEventReportOver(
  association: Association,
  sopClassUid: string,
  sopInstanceUid: string,
  eventTypeId: number,
  information?: Query,
  options: NRequestOptions = {},
): Promise<NResult> {
  return invoke(
    association,
    'N-EVENT-REPORT',
    sopClassUid,
    sopInstanceUid,
    (contextId, encode) => {
      const dataSet = encode(information);
      return association.nEventReport(
        {
          commandField: CommandField.N_EVENT_REPORT_RQ,
          affectedSopClassUid: sopClassUid,
          affectedSopInstanceUid: sopInstanceUid,
          eventTypeId,
        } as NEventReportRq,
        { contextId, ...(dataSet && { dataSet }), ...signalOf(options) },
      );
    },
    options,
  );
}

/** A DIMSE-N request as a handler sees it. */
export interface NRequest {
  /** Which operation. */
  operation: NOperation;
  /** Requested or Affected SOP Class UID. */
  sopClassUid: string;
  /** Requested or Affected SOP Instance UID (absent in an N-CREATE that lets the SCP choose). */
  sopInstanceUid: string | undefined;
  /** N-ACTION: Action Type ID (0000,1008). */
  actionTypeId?: number;
  /** N-EVENT-REPORT: Event Type ID (0000,1002). */
  eventTypeId?: number;
  /** N-GET: Attribute Identifier List (0000,1005); absent means all attributes. */
  attributes?: readonly number[];
  /** The request's data set (modification list, attribute list, action or event information). */
  dataSet: DicomJsonDataSet | undefined;
  /** The request as received. */
  message: NGetRq | NSetRq | NActionRq | NCreateRq | NDeleteRq | NEventReportRq;
}

/** What an N-service handler returns: a status, or a status with details and a reply data set. */
export type NResponse =
  | number
  | {
      /** Status (default success). */
      status?: number;
      /** (0000,0902) Error Comment (at most 64 characters). */
      errorComment?: string;
      /** (0000,0901) Offending Element tags. */
      offendingElement?: number[];
      /** (0000,1005) Attribute Identifier List (0107H / 0120H details, PS3.7 Annex C). */
      attributeIdentifierList?: number[];
      /** The Affected SOP Instance UID (N-CREATE: the one the SCP chose). */
      sopInstanceUid?: string;
      /** The reply data set (attribute list, action or event reply). */
      dataSet?: Query;
      /**
       * Called once the response is sent (work that must follow it, e.g. an event
       * report); the operation counts as in flight (Server.close waits) until it settles.
       */
      afterResponse?: () => void | Promise<void>;
    }
  | undefined;

/** A handler of one DIMSE-N operation. */
export type NHandler = (
  request: NRequest,
  context: RequestContext,
  signal: AbortSignal,
) => NResponse | Promise<NResponse> | undefined | Promise<undefined>;

/**
 * The DIMSE-N operations a server performs for some SOP classes (PS3.4:
 * MPPS, Instance Availability Notification, Storage Commitment, or any other).
 * An operation without a handler is answered 0211H unrecognized operation
 * (PS3.7 §C.5.2).
 */
export interface NService {
  /** The SOP classes served (accepted by the server's policy). */
  sopClasses: readonly string[];
  /** Accept the requestor as SCP of these classes too (it then sends N-EVENT-REPORT), PS3.7 Annex D.3.3.4. */
  requestorScp?: boolean;
  /** Transfer syntaxes accepted (default Explicit then Implicit VR Little Endian). */
  transferSyntaxes?: readonly string[];
  /** N-GET (PS3.7 §10.1.2). */
  nGet?: NHandler;
  /** N-SET (PS3.7 §10.1.3). */
  nSet?: NHandler;
  /** N-ACTION (PS3.7 §10.1.4). */
  nAction?: NHandler;
  /** N-CREATE (PS3.7 §10.1.5). */
  nCreate?: NHandler;
  /** N-DELETE (PS3.7 §10.1.6). */
  nDelete?: NHandler;
  /** N-EVENT-REPORT received (we are the SCU of the class, PS3.7 §10.1.1). */
  nEventReport?: NHandler;
}

const N_TS = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

/** Supported contexts for a server policy: one per SOP class of each service. */
export function nServiceContexts(services: readonly NService[]): SupportedContext[] {
  const out: SupportedContext[] = [];
  for (const s of services) {
    for (const uid of s.sopClasses) {
      out.push({
        abstractSyntax: uid,
        transferSyntaxes: s.transferSyntaxes ?? N_TS,
        scuRole: true,
        scpRole: !!s.requestorScp,
      });
    }
  }
  return out;
}

const handlerKey = {
  'N-GET': 'nGet',
  'N-SET': 'nSet',
  'N-ACTION': 'nAction',
  'N-CREATE': 'nCreate',
  'N-DELETE': 'nDelete',
  'N-EVENT-REPORT': 'nEventReport',
} as const;

/** Status sent when a handler throws: 0110H processing failure (PS3.7 §C.4.15), or the error's own `status`. */
function failureOf(error: unknown): ReturnType<typeof statusOfError> {
  return statusOfError(error, Status.PROCESSING_FAILURE);
}

/**
 * Answers one DIMSE-N request with a handler: decodes the data set, calls the
 * handler, sends the response (status, details, reply data set).
 *
 * @returns the status sent
 */
export async function answerN(
  rq: IncomingRequest,
  handler: NHandler | undefined,
  context: RequestContext,
): Promise<number> {
  const m = rq.message as unknown as Record<string, unknown>;
  const ts = rq.context.transferSyntax;
  const operation = (commandNames[rq.message.commandField] ?? 'N-GET') as NOperation;
  let dataSet: DicomJsonDataSet | undefined;
  if (rq.dataSet) {
    try {
      dataSet = identifierJson(decodeIdentifier(await readIdentifierBytes(rq.dataSet), ts));
    } catch (error) {
      // PS3.7 §C.4.15: the data set cannot be read: processing failure.
      const f = failureOf(error);
      await rq.respond(
        respondTo(
          rq.message as AnsweredRequest,
          {
            status: Status.PROCESSING_FAILURE,
            errorComment: f.errorComment,
          } as ResponseFields<AnsweredRequest>,
        ),
      );
      return Status.PROCESSING_FAILURE;
    }
  }
  if (!handler) {
    // PS3.7 §C.5.2: 0211H unrecognized operation.
    await rq.respond(
      respondTo(
        rq.message as AnsweredRequest,
        {
          status: Status.UNRECOGNIZED_OPERATION,
        } as ResponseFields<AnsweredRequest>,
      ),
    );
    return Status.UNRECOGNIZED_OPERATION;
  }
  const request: NRequest = {
    operation,
    sopClassUid: (m.requestedSopClassUid ?? m.affectedSopClassUid) as string,
    sopInstanceUid: (m.requestedSopInstanceUid ?? m.affectedSopInstanceUid) as string | undefined,
    ...(typeof m.actionTypeId === 'number' && { actionTypeId: m.actionTypeId }),
    ...(typeof m.eventTypeId === 'number' && { eventTypeId: m.eventTypeId }),
    ...(Array.isArray(m.attributeIdentifierList) && {
      attributes: m.attributeIdentifierList as number[],
    }),
    dataSet,
    message: rq.message as NRequest['message'],
  };
  let r: Exclude<NResponse, number | undefined>;
  try {
    const out = await handler(request, context, rq.signal);
    r = typeof out === 'number' ? { status: out } : (out ?? {});
  } catch (error) {
    r = failureOf(error);
  }
  const status = r.status ?? 0;
  const extra: Record<string, unknown> = {};
  if (r.errorComment) extra.errorComment = r.errorComment.slice(0, 64);
  if (r.offendingElement) extra.offendingElement = r.offendingElement;
  if (r.attributeIdentifierList) extra.attributeIdentifierList = r.attributeIdentifierList;
  if (r.sopInstanceUid) extra.affectedSopInstanceUid = r.sopInstanceUid;
  const reply = r.dataSet ? encodeIdentifier(r.dataSet, ts) : undefined;
  await rq.respond(
    respondTo(
      rq.message as AnsweredRequest,
      {
        status,
        ...extra,
        hasDataSet: reply !== undefined,
      } as ResponseFields<AnsweredRequest>,
    ),
    reply,
  );
  await r.afterResponse?.();
  return status;
}

const commandNames: Record<number, string> = {
  [CommandField.N_GET_RQ]: 'N-GET',
  [CommandField.N_SET_RQ]: 'N-SET',
  [CommandField.N_ACTION_RQ]: 'N-ACTION',
  [CommandField.N_CREATE_RQ]: 'N-CREATE',
  [CommandField.N_DELETE_RQ]: 'N-DELETE',
  [CommandField.N_EVENT_REPORT_RQ]: 'N-EVENT-REPORT',
};

/**
 * Routes the DIMSE-N requests of an association to the services: the first
 * service listing the SOP class with a handler for the operation answers
 * (0211H when none has one); a class no service lists gets 0118H no such SOP
 * class (PS3.7 §C.4.23).
 */
export function serveNServices(
  association: Association,
  services: readonly NService[],
  context: RequestContext,
  run: (rq: IncomingRequest, work: () => Promise<number | undefined>) => void,
): void {
  if (services.length === 0) return;
  for (const event of Object.keys(handlerKey) as (keyof typeof handlerKey)[]) {
    association.handle(event, (rq: IncomingRequest) =>
      run(rq, async () => {
        const m = rq.message as unknown as Record<string, string | undefined>;
        const uid = m.requestedSopClassUid ?? m.affectedSopClassUid ?? '';
        const listing = services.filter((s) => s.sopClasses.includes(uid));
        if (listing.length === 0) {
          rq.dataSet?.discard();
          await rq.respond(
            respondTo(
              rq.message as AnsweredRequest,
              {
                status: Status.NO_SUCH_SOP_CLASS,
              } as ResponseFields<AnsweredRequest>,
            ),
          );
          return Status.NO_SUCH_SOP_CLASS;
        }
        // The first service of the class with a handler for the operation answers.
        const key = handlerKey[event];
        return answerN(rq, listing.find((s) => s[key])?.[key], context);
      }),
    );
  }
}

/**
 * The status to answer with when a handler throws (PS3.7 Annex C): the
 * error's numeric `status` when it has one (e.g. A900H, PS3.4 §C.4.1.1.4,
 * with `offendingElement` as a number or 8 hex digits), otherwise `fallback`;
 * its message becomes the Error Comment (at most 64 characters).
 */
export function statusOfError(
  error: unknown,
  fallback: number,
): { status: number; errorComment: string; offendingElement?: number[] } {
  const e = (error ?? {}) as { status?: unknown; offendingElement?: unknown; message?: unknown };
  const status =
    typeof e.status === 'number' && Number.isInteger(e.status) && e.status > 0 && e.status <= 0xffff
      ? e.status
      : fallback;
  const list = Array.isArray(e.offendingElement) ? e.offendingElement : [e.offendingElement];
  const offendingElement = list
    .map((t) => (typeof t === 'string' && /^[0-9a-f]{8}$/i.test(t) ? Number.parseInt(t, 16) : t))
    .filter(
      (t): t is number => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 0xffffffff,
    );
  return {
    status,
    // Error Comment is LO (PS3.7 Annex C, PS3.5 §6.2): one helper makes every one.
    errorComment: errorCommentFor(error),
    ...(offendingElement.length > 0 && { offendingElement }),
  };
}
