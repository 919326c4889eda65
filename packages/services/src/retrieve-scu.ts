/** C-MOVE and C-GET as SCU over an established association (PS3.4 §C.4.2, §C.4.3). */
import type { Association, IncomingResponse, NegotiatedContext } from '@dnet/association';
import { decodeDataSet } from '@dnet/dataset';
import { CommandField, Priority, StatusCategory, statusCategory } from '@dnet/dimse';
import type {
  GetOptions,
  MoveOptions,
  QueryTarget,
  RetrieveProgress,
  RetrieveResult,
} from './client-types.js';
import { publishOperation } from './diagnostics.js';
import { OperationFailedError } from './errors.js';
import { encodeIdentifier, type Query, readIdentifierBytes } from './identifier.js';
import { peerOf } from './outbound.js';
import { queryContextOf, sopClassOf } from './query-target.js';
import type { InstanceSink } from './received-instance.js';

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function progressOf(message: Record<string, unknown>): RetrieveProgress {
  return {
    status: message.status as number,
    remaining: message.numberOfRemainingSuboperations as number | undefined,
    completed: num(message.numberOfCompletedSuboperations),
    failed: num(message.numberOfFailedSuboperations),
    warning: num(message.numberOfWarningSuboperations),
  };
}

/**
 * C-MOVE of `query` to `options.destination` (see `Client.move`): progress
 * from each pending response, the final counts and Failed SOP Instance UID List.
 *
 * @throws OperationFailedError for a failure status
 */
export async function moveOver(
  association: Association,
  query: Query,
  options: MoveOptions,
): Promise<RetrieveResult> {
  const sopClassUid = sopClassOf(options, 'move');
  const context = queryContextOf(association, sopClassUid);
  const identifier = encodeIdentifier(query, context.transferSyntax, options.level);
  const started = performance.now();
  const rsp = await association.cMove(
    {
      commandField: CommandField.C_MOVE_RQ,
      affectedSopClassUid: sopClassUid,
      priority: options.priority ?? Priority.MEDIUM,
      moveDestination: options.destination,
      hasDataSet: true,
    },
    identifier,
    retrieveRequestOptions(context, options),
  );
  return retrieveResult(association, 'C-MOVE', rsp, context, started);
}

/**
 * C-GET of `query` (see `Client.get`): the C-STORE sub-operations arriving
 * meanwhile go to `options.sink`, registered in `sinks` for the time of the
 * operation (PS3.4 §C.4.3.1).
 *
 * @throws OperationFailedError for a failure status
 */
export async function getOver(
  association: Association,
  query: Query,
  options: GetOptions,
  sinks: InstanceSink[],
): Promise<RetrieveResult> {
  const sopClassUid = sopClassOf(options, 'get');
  const context = queryContextOf(association, sopClassUid);
  const identifier = encodeIdentifier(query, context.transferSyntax, options.level);
  sinks.push(options.sink);
  const started = performance.now();
  try {
    const rsp = await association.cGet(
      {
        commandField: CommandField.C_GET_RQ,
        affectedSopClassUid: sopClassUid,
        priority: options.priority ?? Priority.MEDIUM,
        hasDataSet: true,
      },
      identifier,
      retrieveRequestOptions(context, options),
    );
    return await retrieveResult(association, 'C-GET', rsp, context, started);
  } finally {
    sinks.splice(sinks.indexOf(options.sink), 1);
  }
}

function retrieveRequestOptions(
  context: NegotiatedContext,
  options: QueryTarget & { onProgress?: (p: RetrieveProgress) => void },
) {
  return {
    contextId: context.id,
    ...(options.signal && { signal: options.signal }),
    onPending: (r: IncomingResponse) => {
      r.dataSet?.discard();
      options.onProgress?.(progressOf(r.message as unknown as Record<string, unknown>));
    },
  };
}

async function retrieveResult(
  association: Association,
  operation: string,
  rsp: IncomingResponse,
  context: NegotiatedContext,
  started: number,
): Promise<RetrieveResult> {
  let failedSopInstanceUids: string[] = [];
  if (rsp.dataSet) {
    try {
      const bytes = await readIdentifierBytes(rsp.dataSet);
      // PS3.4 §C.4.2.1.3.1: Failed SOP Instance UID List (0008,0058).
      failedSopInstanceUids = decodeDataSet(bytes, context.transferSyntax)
        .strings('FailedSOPInstanceUIDList')
        .filter((u) => u.length > 0);
    } catch {
      // an unreadable identifier does not hide the status
    }
  }
  const m = rsp.message as unknown as Record<string, unknown>;
  const status = m.status as number;
  publishOperation({
    role: 'scu',
    operation,
    status,
    sopClassUid: context.abstractSyntax,
    peerAeTitle: peerOf(association),
    durationMs: performance.now() - started,
    completed: num(m.numberOfCompletedSuboperations),
    failed: num(m.numberOfFailedSuboperations),
    warning: num(m.numberOfWarningSuboperations),
  });
  const category = statusCategory(status);
  if (category === StatusCategory.FAILURE) {
    throw new OperationFailedError(operation, status, m.errorComment as string | undefined, {
      ...progressOf(m),
      failedSopInstanceUids,
      cancelled: false,
    });
  }
  return {
    ...progressOf(m),
    failedSopInstanceUids,
    cancelled: category === StatusCategory.CANCEL,
  };
}
