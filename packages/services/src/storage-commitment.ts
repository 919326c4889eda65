import { randomBytes } from 'node:crypto';
import type { Association, AssociationOptions, IncomingRequest } from '@dnet/association';
import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';
import { type NEventReportRq, respondTo, Status } from '@dnet/dimse';
import type { Transport } from '@dnet/transport';
import { DEFAULT_TRANSFER_SYNTAXES } from './contexts.js';
import { InvalidArgumentError, ServicesError, type ServicesErrorCode } from './errors.js';
import {
  answerN,
  type NHandler,
  type NRequest,
  type NService,
  nActionOver,
  nEventReportOver,
} from './n-services.js';
import { requestAssociation } from './outbound.js';
import type { RequestContext } from './request-context.js';

/** Storage Commitment Push Model SOP Class (PS3.4 §J.3.1). */
export const STORAGE_COMMITMENT_PUSH_MODEL = '1.2.840.10008.1.20.1';
/** Its well-known SOP Instance (PS3.4 §J.3.1). */
export const STORAGE_COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';

/** Action and event type IDs of Storage Commitment (PS3.4 §J.3.2.1, §J.3.2.2). */
export const CommitmentType = {
  /** N-ACTION Action Type ID 1: Request Storage Commitment (PS3.4 Table J.3-1). */
  REQUEST: 1,
  /** N-EVENT-REPORT Event Type ID 1: Storage Commitment Request Successful (PS3.4 Table J.3-2). */
  SUCCESSFUL: 1,
  /** N-EVENT-REPORT Event Type ID 2: Storage Commitment Request Complete - Failures Exist. */
  FAILURES_EXIST: 2,
} as const;

/**
 * Failure Reason (0008,1197) values (PS3.4 §J.3.2.2.1.4... Table J.3-2 note):
 * the status codes of @dnet/dimse's `Status` that the standard lists for it.
 */
export const CommitmentFailureReason = {
  /** 0110H Processing failure. */
  PROCESSING_FAILURE: Status.PROCESSING_FAILURE,
  /** 0112H No such object instance: the SCP does not hold it. */
  NO_SUCH_OBJECT_INSTANCE: Status.NO_SUCH_SOP_INSTANCE,
  /** 0213H Resource limitation. */
  RESOURCE_LIMITATION: Status.RESOURCE_LIMITATION,
  /** 0122H Referenced SOP Class not supported. */
  REFERENCED_SOP_CLASS_NOT_SUPPORTED: Status.SOP_CLASS_NOT_SUPPORTED,
  /** 0119H Class / Instance conflict. */
  CLASS_INSTANCE_CONFLICT: Status.CLASS_INSTANCE_CONFLICT,
  /** 0131H Duplicate transaction UID. */
  DUPLICATE_TRANSACTION_UID: Status.DUPLICATE_TRANSACTION_UID,
} as const;

/** One referenced SOP instance (Referenced SOP Sequence item, PS3.4 Table J.3-1). */
export interface CommitmentReference {
  /** Referenced SOP Class UID (0008,1150). */
  sopClassUid: string;
  /** Referenced SOP Instance UID (0008,1155). */
  sopInstanceUid: string;
}

/** A reference the SCP could not commit, with its Failure Reason (0008,1197). */
export interface FailedCommitment extends CommitmentReference {
  /** See {@link CommitmentFailureReason}. */
  reason: number;
}

/** A Storage Commitment request as the SCP handler sees it (PS3.4 §J.3.2.1.1). */
export interface CommitmentRequest {
  /** Transaction UID (0008,1195). */
  transactionUid: string;
  /** The Referenced SOP Sequence (0008,1199). */
  references: CommitmentReference[];
  /** The whole Action Information. */
  dataSet: DicomJsonDataSet;
}

/** What the SCP handler decides, per instance (PS3.4 §J.3.2.2.1). */
export interface CommitmentResult {
  /** References committed. */
  committed: readonly CommitmentReference[];
  /** References not committed, each with a reason. */
  failed: readonly FailedCommitment[];
  /** Retrieve AE Title (0008,0054) to put in the report. */
  retrieveAeTitle?: string;
  /**
   * Where the report goes (PS3.4 §J.3.3.1): on the association of the request
   * while it is open (default), or on a new one the server opens to the
   * requestor's AE (found in the server's `aeTable`), proposing the SCP role.
   */
  reportOn?: 'same-association' | 'new-association';
}

/** The N-EVENT-REPORT as the SCU sees it (PS3.4 §J.3.2.2). */
export interface CommitmentReport extends CommitmentResult {
  /** Transaction UID (0008,1195). */
  transactionUid: string;
  /** 1 all committed, 2 failures exist. */
  eventTypeId: number;
  /** Whether the report came on the association of the request. */
  sameAssociation: boolean;
}

/** The Storage Commitment SCP handler of a {@link Server}. */
export type StorageCommitmentHandler = (
  request: CommitmentRequest,
  context: RequestContext,
  signal: AbortSignal,
) => CommitmentResult | Promise<CommitmentResult>;

/** A fresh UID under 2.25 (PS3.5 §B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

const str = (a: DicomJsonAttribute | undefined): string | undefined => {
  const v = a?.Value?.[0];
  return typeof v === 'string' ? v.trim() : undefined;
};

function refsOf(seq: DicomJsonAttribute | undefined): FailedCommitment[] {
  const out: FailedCommitment[] = [];
  for (const item of (seq?.Value ?? []) as DicomJsonDataSet[]) {
    const reason = item['00081197']?.Value?.[0];
    out.push({
      sopClassUid: str(item['00081150']) ?? '',
      sopInstanceUid: str(item['00081155']) ?? '',
      reason: typeof reason === 'number' ? reason : 0,
    });
  }
  return out;
}

function refItem(r: CommitmentReference, reason?: number): DicomJsonDataSet {
  return {
    '00081150': { vr: 'UI', Value: [r.sopClassUid] },
    '00081155': { vr: 'UI', Value: [r.sopInstanceUid] },
    ...(reason !== undefined && { '00081197': { vr: 'US', Value: [reason] } }),
  };
}

/** The Action Information of a Request Storage Commitment (PS3.4 Table J.3-1). */
export function commitmentRequestDataSet(
  transactionUid: string,
  references: readonly CommitmentReference[],
): DicomJsonDataSet {
  return {
    '00081195': { vr: 'UI', Value: [transactionUid] },
    '00081199': { vr: 'SQ', Value: references.map((r) => refItem(r)) },
  };
}

/** The Event Information of a report (PS3.4 Table J.3-2): event type 1 or 2 and its data set. */
export function commitmentReportDataSet(
  transactionUid: string,
  result: CommitmentResult,
): { eventTypeId: number; dataSet: DicomJsonDataSet } {
  const dataSet: DicomJsonDataSet = { '00081195': { vr: 'UI', Value: [transactionUid] } };
  if (result.retrieveAeTitle) {
    dataSet['00080054'] = { vr: 'AE', Value: [result.retrieveAeTitle] };
  }
  if (result.committed.length > 0) {
    dataSet['00081199'] = { vr: 'SQ', Value: result.committed.map((r) => refItem(r)) };
  }
  if (result.failed.length > 0) {
    dataSet['00081198'] = { vr: 'SQ', Value: result.failed.map((r) => refItem(r, r.reason)) };
  }
  return {
    eventTypeId:
      result.failed.length > 0 ? CommitmentType.FAILURES_EXIST : CommitmentType.SUCCESSFUL,
    dataSet,
  };
}

/** Reads a report's Event Information. */
export function parseCommitmentReport(
  eventTypeId: number,
  dataSet: DicomJsonDataSet | undefined,
  sameAssociation: boolean,
): CommitmentReport {
  const ds = dataSet ?? {};
  const retrieveAeTitle = str(ds['00080054']);
  return {
    transactionUid: str(ds['00081195']) ?? '',
    eventTypeId,
    committed: refsOf(ds['00081199']).map(({ reason: _r, ...r }) => r),
    failed: refsOf(ds['00081198']),
    ...(retrieveAeTitle && { retrieveAeTitle }),
    sameAssociation,
  };
}

/** What became of one transaction's report, for {@link CommitmentScpOptions.onReport}. */
export interface CommitmentReportOutcome {
  /** The request. */
  request: CommitmentRequest;
  /** The association it came on. */
  context: RequestContext;
  /** What the handler decided (every reference failed with 0110H when it threw). */
  result: CommitmentResult;
  /** Where the report went; absent when it could not be sent. */
  via?: 'same-association' | 'new-association';
  /** Why the report could not be sent. */
  error?: Error;
  /** Milliseconds from the N-ACTION-RSP to the report's N-EVENT-REPORT-RSP (or the failure). */
  durationMs: number;
}

/** How the SCP service reaches a requestor for a report on a new association. */
export interface CommitmentScpOptions {
  /** Decides per instance. */
  handler: StorageCommitmentHandler;
  /** Our AE title (calling AE of the report association). */
  aeTitle: string;
  /**
   * Transport for the report association, unless the AE table names one;
   * without either, a report whose association has ended cannot be sent.
   */
  transport?: Transport;
  /** Where requestor AEs are, by AE title. */
  aeTable?: Readonly<Record<string, { host: string; port: number; transport?: Transport }>>;
  /** Options of the report association (timeouts...). */
  associationOptions?: AssociationOptions;
  /** Called when a report could not be sent. */
  onError?: (error: Error) => void;
  /** Called once per accepted request, when its report was sent or could not be. */
  onReport?: (outcome: CommitmentReportOutcome) => void;
  /**
   * Most references in one request; more is refused with 0110H processing
   * failure (PS3.7 §10.1.4.1.10) and no report. Default: no limit.
   */
  maxReferences?: number;
}

/**
 * Sends the report of a transaction (PS3.4 §J.3.3.1): N-EVENT-REPORT-RQ on
 * `association` when given and open, otherwise on a new association to
 * `destination`, proposing the Storage Commitment class with the SCP role
 * (SCP/SCU Role Selection, PS3.7 Annex D.3.3.4).
 */
export async function sendCommitmentReport(
  transactionUid: string,
  result: CommitmentResult,
  via:
    | { association: Association }
    | {
        transport: Transport;
        host: string;
        port: number;
        callingAeTitle: string;
        calledAeTitle: string;
        associationOptions?: AssociationOptions;
        signal?: AbortSignal;
      },
): Promise<number> {
  const { eventTypeId, dataSet } = commitmentReportDataSet(transactionUid, result);
  if ('association' in via) {
    const r = await nEventReportOver(
      via.association,
      STORAGE_COMMITMENT_PUSH_MODEL,
      STORAGE_COMMITMENT_INSTANCE,
      eventTypeId,
      dataSet,
    );
    return r.status;
  }
  const association = await requestAssociation({
    ...via.associationOptions,
    transport: via.transport,
    host: via.host,
    port: via.port,
    callingAeTitle: via.callingAeTitle,
    calledAeTitle: via.calledAeTitle,
    contexts: [
      {
        abstractSyntax: STORAGE_COMMITMENT_PUSH_MODEL,
        transferSyntaxes: [...DEFAULT_TRANSFER_SYNTAXES],
        role: 'scp',
      },
    ],
    ...(via.signal && { signal: via.signal }),
  });
  try {
    const r = await nEventReportOver(
      association,
      STORAGE_COMMITMENT_PUSH_MODEL,
      STORAGE_COMMITMENT_INSTANCE,
      eventTypeId,
      dataSet,
    );
    return r.status;
  } finally {
    await association.release().catch(() => association.abort());
  }
}

/**
 * The Storage Commitment Push Model SCP as an {@link NService} (PS3.4 §J.3.3):
 * answers N-ACTION-RQ (Request Storage Commitment) with success once the
 * request is read, then asks the handler about each instance and sends the
 * N-EVENT-REPORT on the same association or a new one. `Server` builds it
 * from `handlers.storageCommitment`.
 */
export function storageCommitmentService(options: CommitmentScpOptions): NService {
  const nAction: NHandler = (request: NRequest, context: RequestContext) => {
    // PS3.4 §J.3.2.1.1.2: 0123H no such action for another Action Type ID.
    if (request.actionTypeId !== CommitmentType.REQUEST) {
      return { status: Status.NO_SUCH_ACTION_TYPE };
    }
    if (request.sopInstanceUid !== STORAGE_COMMITMENT_INSTANCE) {
      // PS3.4 §J.3.1: the well-known instance only; 0112H otherwise (PS3.7 §C.4.17).
      return { status: Status.NO_SUCH_SOP_INSTANCE };
    }
    const ds = request.dataSet ?? {};
    const transactionUid = str(ds['00081195']);
    const seq = ds['00081199'];
    if (!transactionUid) {
      return {
        status: Status.MISSING_ATTRIBUTE_VALUE,
        offendingElement: [0x00081195],
        errorComment: 'Transaction UID (0008,1195) missing',
      };
    }
    if (!seq?.Value || seq.Value.length === 0) {
      return {
        status: Status.MISSING_ATTRIBUTE_VALUE,
        offendingElement: [0x00081199],
        errorComment: 'Referenced SOP Sequence (0008,1199) empty',
      };
    }
    const references = refsOf(seq).map(({ reason: _r, ...r }) => r);
    if (references.some((r) => !r.sopClassUid || !r.sopInstanceUid)) {
      return {
        status: Status.INVALID_ARGUMENT_VALUE,
        offendingElement: [0x00081199],
        errorComment: 'Referenced SOP Sequence item without UIDs',
      };
    }
    if (options.maxReferences !== undefined && references.length > options.maxReferences) {
      return {
        status: Status.PROCESSING_FAILURE,
        errorComment: 'too many referenced instances',
      };
    }
    return {
      status: 0,
      // The handler's signal is not the N-ACTION's: a requestor may release as soon as it
      // has the N-ACTION-RSP and still expect its report (PS3.4 §J.3.3.1).
      afterResponse: () =>
        report(
          options,
          { transactionUid, references, dataSet: ds },
          context,
          new AbortController().signal,
        ),
    };
  };
  return { sopClasses: [STORAGE_COMMITMENT_PUSH_MODEL], nAction };
}

async function report(
  options: CommitmentScpOptions,
  request: CommitmentRequest,
  context: RequestContext,
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now();
  let result: CommitmentResult;
  try {
    result = await options.handler(request, context, signal);
  } catch {
    // The handler failed: nothing is committed (PS3.4 §J.3.2.2.1, 0110H processing failure).
    result = {
      committed: [],
      failed: request.references.map((r) => ({ ...r, reason: Status.PROCESSING_FAILURE })),
    };
  }
  const outcome = (more: { via: CommitmentReportOutcome['via'] } | { error: Error }) =>
    options.onReport?.({
      request,
      context,
      result,
      ...more,
      durationMs: performance.now() - started,
    });
  try {
    outcome({ via: await sendReport(options, request, result, context) });
  } catch (error) {
    options.onError?.(error as Error);
    outcome({ error: error as Error });
  }
}

/** Sends the report on the request's association while open, else on a new one (PS3.4 §J.3.3.1). */
async function sendReport(
  options: CommitmentScpOptions,
  request: CommitmentRequest,
  result: CommitmentResult,
  context: RequestContext,
): Promise<'same-association' | 'new-association'> {
  const a = context.association;
  const entry = options.aeTable?.[context.callingAeTitle];
  if (result.reportOn !== 'new-association' && a.state === 'Sta6') {
    try {
      await sendCommitmentReport(request.transactionUid, result, { association: a });
      return 'same-association';
    } catch (error) {
      // The requestor released meanwhile: try a new association (PS3.4 §J.3.3.1) when we can.
      if (!entry) throw error;
    }
  }
  const transport = entry?.transport ?? options.transport;
  if (!entry || !transport) {
    throw new InvalidArgumentError(
      `no address for ${context.callingAeTitle} to send the storage commitment report to`,
    );
  }
  await sendCommitmentReport(request.transactionUid, result, {
    transport,
    host: entry.host,
    port: entry.port,
    callingAeTitle: options.aeTitle,
    calledAeTitle: context.callingAeTitle,
    ...(options.associationOptions && { associationOptions: options.associationOptions }),
  });
  return 'new-association';
}

/** Waiting for commitment reports by Transaction UID. */
class ReportWaiters {
  readonly #waiting = new Map<string, (r: CommitmentReport) => void>();

  wait(transactionUid: string): Promise<CommitmentReport> {
    return new Promise((resolve) => this.#waiting.set(transactionUid, resolve));
  }

  cancel(transactionUid: string): void {
    this.#waiting.delete(transactionUid);
  }

  deliver(report: CommitmentReport): boolean {
    const w = this.#waiting.get(report.transactionUid);
    if (!w) return false;
    this.#waiting.delete(report.transactionUid);
    w(report);
    return true;
  }
}

/**
 * Receives Storage Commitment reports that come on new associations (PS3.4
 * §J.3.3.1): put `listener.service` in a `Server`'s `handlers.nServices`
 * (it accepts the Storage Commitment class with the requestor as SCP) and
 * pass `listener` to {@link requestCommitment} / `Client.commit`.
 *
 * @example
 * ```ts
 * const listener = new CommitmentListener();
 * const server = await Server.listen({ ..., handlers: { nServices: [listener.service] } });
 * const report = await client.commit(refs, { listener });
 * ```
 */
export class CommitmentListener {
  readonly #waiters = new ReportWaiters();
  /** Reports that no one waited for, most recent last (at most 64 kept). */
  readonly unclaimed: CommitmentReport[] = [];
  /** The N-service to add to a Server's `handlers.nServices`. */
  readonly service: NService;

  /** Creates a listener. */
  constructor() {
    this.service = {
      sopClasses: [STORAGE_COMMITMENT_PUSH_MODEL],
      requestorScp: true,
      nEventReport: (request) => this.#receive(request, false),
    };
  }

  #receive(request: NRequest, same: boolean): number {
    const typeId = request.eventTypeId ?? 0;
    if (typeId !== CommitmentType.SUCCESSFUL && typeId !== CommitmentType.FAILURES_EXIST) {
      // PS3.7 §C.4.18: 0113H no such event type.
      return Status.NO_SUCH_EVENT_TYPE;
    }
    const r = parseCommitmentReport(typeId, request.dataSet, same);
    if (!this.#waiters.deliver(r)) {
      this.unclaimed.push(r);
      if (this.unclaimed.length > 64) this.unclaimed.shift();
    }
    return 0;
  }

  /** Waits for the report of one transaction. @internal */
  wait(transactionUid: string): Promise<CommitmentReport> {
    const i = this.unclaimed.findIndex((r) => r.transactionUid === transactionUid);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]!);
    return this.#waiters.wait(transactionUid);
  }

  /** Stops waiting for a transaction. @internal */
  cancel(transactionUid: string): void {
    this.#waiters.cancel(transactionUid);
  }

  /** Handles a report received on the request's own association. @internal */
  receiveSame(request: NRequest): number {
    return this.#receive(request, true);
  }
}

/** Default wait for a Storage Commitment report, in ms (see LIMITS.md). */
export const DEFAULT_COMMITMENT_TIMEOUT_MS = 60_000;

/** Options of {@link requestCommitment}. */
export interface CommitOptions {
  /** Transaction UID (default a new 2.25 UID). */
  transactionUid?: string;
  /** Where reports on new associations arrive; without it only the same association is watched. */
  listener?: CommitmentListener;
  /** Longest wait for the report (default {@link DEFAULT_COMMITMENT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/** Code of {@link CommitmentTimeoutError}. */
export const COMMITMENT_TIMEOUT = 'DNET_SERVICES_COMMITMENT_TIMEOUT';

/** The error when no report arrived in time or the wait was cancelled (code `DNET_SERVICES_COMMITMENT_TIMEOUT`). */
export class CommitmentTimeoutError extends ServicesError {
  /** The transaction. */
  readonly transactionUid: string;

  /** @param transactionUid - the transaction; @param message - what happened */
  constructor(transactionUid: string, message: string) {
    super(COMMITMENT_TIMEOUT as unknown as ServicesErrorCode, message);
    this.transactionUid = transactionUid;
  }
}

const sameListeners = new WeakMap<Association, CommitmentListener>();

function listenerOf(association: Association): CommitmentListener {
  let l = sameListeners.get(association);
  if (!l) {
    const listener = new CommitmentListener();
    l = listener;
    sameListeners.set(association, listener);
    association.handle('N-EVENT-REPORT', (rq: IncomingRequest) => {
      const m = rq.message as unknown as { affectedSopClassUid?: string };
      if (m.affectedSopClassUid !== STORAGE_COMMITMENT_PUSH_MODEL) {
        // Not a commitment report: refused as a request nobody handles (PS3.7 Annex C, 0211H).
        rq.dataSet?.discard();
        void rq
          .respond(
            respondTo(rq.message as NEventReportRq, { status: Status.UNRECOGNIZED_OPERATION }),
          )
          .catch(() => {});
        return;
      }
      void answerN(
        rq,
        (request) => listener.receiveSame(request),
        undefined as unknown as RequestContext,
      ).catch(() => {});
    });
  }
  return l;
}

/**
 * Storage Commitment Push Model SCU (PS3.4 §J.3.2): sends N-ACTION-RQ
 * (Request Storage Commitment) with the references, then waits for the
 * N-EVENT-REPORT on this association or, when a `listener` is given, on a
 * new association the SCP opens to us.
 *
 * @throws OperationFailedError when the N-ACTION fails, CommitmentTimeoutError
 */
export async function requestCommitment(
  association: Association,
  references: readonly CommitmentReference[],
  options: CommitOptions = {},
): Promise<CommitmentReport> {
  if (references.length === 0) throw new InvalidArgumentError('at least one reference to commit');
  const transactionUid = options.transactionUid ?? newUid();
  const same = listenerOf(association);
  const waits = [same.wait(transactionUid)];
  if (options.listener) waits.push(options.listener.wait(transactionUid));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMITMENT_TIMEOUT_MS;
    timer = setTimeout(
      () =>
        reject(
          new CommitmentTimeoutError(
            transactionUid,
            `no storage commitment report for ${transactionUid} within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    onAbort = () =>
      reject(new CommitmentTimeoutError(transactionUid, 'storage commitment wait cancelled'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => {});
  try {
    await nActionOver(
      association,
      STORAGE_COMMITMENT_PUSH_MODEL,
      STORAGE_COMMITMENT_INSTANCE,
      CommitmentType.REQUEST,
      commitmentRequestDataSet(transactionUid, references),
      options.signal ? { signal: options.signal } : {},
    );
    return await Promise.race([...waits, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    same.cancel(transactionUid);
    options.listener?.cancel(transactionUid);
  }
}

/**
 * The N-services a Server runs for its handlers: `nServices` as given, then
 * the Storage Commitment SCP when `storageCommitment` is set (its reports on
 * new associations use the server's transport, AE title and AE table).
 */
export function nServicesOfServer(
  options: {
    handlers: { nServices?: readonly NService[]; storageCommitment?: StorageCommitmentHandler };
    transport: Transport;
    aeTitle: string;
    aeTable?: CommitmentScpOptions['aeTable'];
    moveAssociationOptions?: AssociationOptions;
  },
  onError?: (error: Error) => void,
): NService[] {
  const h = options.handlers;
  const out = [...(h.nServices ?? [])];
  if (h.storageCommitment) {
    out.push(
      storageCommitmentService({
        handler: h.storageCommitment,
        aeTitle: options.aeTitle,
        transport: options.transport,
        ...(options.aeTable && { aeTable: options.aeTable }),
        ...(options.moveAssociationOptions && {
          associationOptions: options.moveAssociationOptions,
        }),
        ...(onError && { onError }),
      }),
    );
  }
  return out;
}
