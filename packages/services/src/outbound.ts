/**
 * The outbound side of the services, one module for every user of it: an
 * association requested with the options of `Client.connect` (PS3.8 §7.1),
 * and a C-STORE over any established association (PS3.4 Annex B). `Client`,
 * the server's C-MOVE sub-associations (PS3.4 §C.4.2.3) and the storage
 * commitment report sent on a new association (PS3.4 §J.3.3) all go through
 * it, so none of them imports another.
 */
import {
  Association,
  type IncomingRequest,
  type IncomingResponse,
  type NegotiatedContext,
} from '@dnet/association';
import {
  CommandField,
  type CStoreRq,
  Priority,
  respondTo,
  Status,
  StatusCategory,
  statusCategory,
} from '@dnet/dimse';
import type { ClientOptions, StoreOptions, StoreResult } from './client-types.js';
import { buildContexts } from './contexts.js';
import { channels as operationChannels, publishOperation } from './diagnostics.js';
import { OperationFailedError } from './errors.js';
import { guardDataSet } from './store-check.js';
import {
  dataSetFor,
  pickStoreTarget,
  type ResolveOptions,
  resolveSource,
  type StoreSource,
} from './store-source.js';
import type { TranscodeHeader, TranscodePolicy, TransferSyntaxChoice } from './transcoding.js';

/** How sources are read and may be transcoded: the client's or server's options with the store's. */
export type PrepareOptions = ResolveOptions & TranscodePolicy;

/** The transcoding policy of one store: the owner's transcoder, the store's own lossy permission and preferred syntaxes. */
export function policyOf(owner: PrepareOptions, options: StoreOptions): PrepareOptions {
  return {
    ...owner,
    ...(options.lossy !== undefined && { lossy: options.lossy }),
    ...(options.transferSyntaxes && { prefer: options.transferSyntaxes }),
  };
}

/**
 * Requests an association with the options of `Client.connect` (PS3.8 §7.1):
 * contexts, role selections and (common) extended negotiation from the specs,
 * the asynchronous operations window when `maxOperations` is above 1, the
 * user identity. `prepare` sees the association before it is requested, to
 * register the handlers of the requests the peer may send on it.
 *
 * @throws AssociationRejectedError (result, source, reason), ConnectionLostError, TimeoutError
 */
export async function requestAssociation(
  options: ClientOptions,
  prepare: (association: Association) => void = refuseStores,
): Promise<Association> {
  const { contexts, ...subItems } = buildContexts(options.contexts);
  const ops = options.maxOperations ?? 1;
  const association = Association.requestor(options);
  prepare(association);
  await association.associate({
    transport: options.transport,
    host: options.host,
    port: options.port,
    ...(options.signal && { signal: options.signal }),
    ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
    ...(options.localPort !== undefined && { localPort: options.localPort }),
    proposal: {
      callingAeTitle: options.callingAeTitle,
      calledAeTitle: options.calledAeTitle,
      contexts,
      ...subItems,
      ...(options.maxPduLength !== undefined && { maxPduLength: options.maxPduLength }),
      ...(ops !== 1 && { asyncOperationsWindow: { maxInvoked: ops, maxPerformed: 1 } }),
      ...(options.userIdentity && { userIdentity: options.userIdentity }),
    },
  });
  return association;
}

/**
 * Registers the C-STORE handler of an association that takes no C-STORE:
 * each one is refused with 0122H, SOP class not supported (PS3.7 Annex C).
 */
export function refuseStores(association: Association): void {
  association.handle('C-STORE', refuseStore);
}

/** Refuses one C-STORE: 0122H, SOP class not supported (PS3.7 Annex C). */
export function refuseStore(rq: IncomingRequest<CStoreRq>): void {
  rq.dataSet?.discard();
  rq.respond(respondTo(rq.message, { status: Status.SOP_CLASS_NOT_SUPPORTED })).catch(() => {});
}

/**
 * C-STORE of one source over any established association: as requestor on a
 * context where we are SCU, or as acceptor for a C-GET sub-operation on a
 * context where the requestor took the SCP role (PS3.7 Annex D.3.3.4).
 *
 * @throws OperationFailedError for a failure status, NoPresentationContextError
 */
export async function storeOver(
  association: Association,
  source: StoreSource,
  options: StoreOptions = {},
  prepareOptions: PrepareOptions = {},
): Promise<StoreResult> {
  return sendPrepared(
    association,
    await prepareStore(association, source, policyOf(prepareOptions, options)),
    options,
  );
}

/**
 * A store source read up to the point of sending: its identity and context.
 * Nothing stays open: a file is read whole when small (in `resolved`), else
 * only its meta header was read and its data set is opened when sent.
 */
export interface PreparedStore {
  resolved: Awaited<ReturnType<typeof resolveSource>>;
  context: NegotiatedContext;
  /** How the data set reaches the context's transfer syntax. */
  via: TransferSyntaxChoice['via'];
  /** The transcoding policy it was prepared with. */
  policy: TranscodePolicy;
}

/** Resolves a source (a file: its meta header, its data set too when small) and picks its context. */
export async function prepareStore(
  association: Association,
  source: StoreSource,
  options: PrepareOptions,
): Promise<PreparedStore> {
  const resolved = await resolveSource(source, options);
  try {
    // From the negotiation, not `info` (which builds a snapshot of everything each time).
    const { context, via } = pickStoreTarget(
      association.negotiation?.contexts ?? [],
      association.role,
      resolved.sopClassUid,
      resolved.transferSyntaxUid,
      options,
      resolved.label,
    );
    return { resolved, context, via, policy: options };
  } catch (error) {
    resolved.release?.(true);
    throw error;
  }
}

/** C-STORE of a prepared source (PS3.4 §B.2). */
export async function sendPrepared(
  association: Association,
  prepared: PreparedStore,
  options: StoreOptions,
): Promise<StoreResult> {
  const { resolved, context, via, policy } = prepared;
  const n = association.negotiation;
  const peerMaxPduLength =
    (association.role === 'requestor' ? n?.acceptorMaxPduLength : n?.requestorMaxPduLength) ?? 0;
  // Checked complete as it streams: a cut data set never gets its last fragment out.
  const guard = guardDataSet(resolved);
  let header: TranscodeHeader | undefined;
  const message: Omit<CStoreRq, 'messageId'> = {
    commandField: CommandField.C_STORE_RQ,
    affectedSopClassUid: resolved.sopClassUid,
    affectedSopInstanceUid: resolved.sopInstanceUid,
    priority: options.priority ?? Priority.MEDIUM,
    hasDataSet: true,
    ...(options.moveOriginator && {
      moveOriginatorAeTitle: options.moveOriginator.aeTitle,
      moveOriginatorMessageId: options.moveOriginator.messageId,
    }),
  };
  const started = performance.now();
  let rsp: IncomingResponse | undefined;
  try {
    let data = await guard.ready(
      await dataSetFor(
        guard.source,
        context.transferSyntax,
        peerMaxPduLength,
        () => association.transportFlushed,
        via === 'transcode'
          ? {
              transcoder: policy.transcoder!,
              lossy: policy.lossy,
              onHeader: (h) => {
                header = h;
              },
            }
          : undefined,
      ),
    );
    if (via === 'transcode' && policy.lossy) {
      // Lossy compression gives the instance a new SOP Instance UID (PS3.3
      // §C.7.6.1.1.5), known once the first frame is coded: the command, which
      // goes out first, must name it (PS3.7 §9.3.1.1).
      data = await primed(data as AsyncIterable<Uint8Array>);
      if (header?.lossy && header.sopInstanceUid)
        message.affectedSopInstanceUid = header.sopInstanceUid;
    }
    rsp = await association.cStore(message, data, {
      contextId: context.id,
      ...(options.signal && { signal: options.signal }),
    });
  } catch (error) {
    throw guard.failure(association, error);
  } finally {
    // A small file's buffer serves the next file only once its bytes have left the process.
    resolved.release?.(association.flushed);
    // The record (and the association's info it reads) only for a subscriber.
    if (operationChannels.operation.hasSubscribers)
      publishOperation({
        role: 'scu',
        operation: 'C-STORE',
        status: (rsp?.message as { status?: number } | undefined)?.status,
        sopClassUid: resolved.sopClassUid,
        sopInstanceUid: resolved.sopInstanceUid,
        peerAeTitle: peerOf(association),
        durationMs: performance.now() - started,
      });
  }
  const m = finalStatusOrThrow('C-STORE', rsp!);
  return {
    status: m.status,
    sopClassUid: resolved.sopClassUid,
    sopInstanceUid: message.affectedSopInstanceUid,
    transferSyntaxUid: context.transferSyntax,
    ...(via === 'transcode' && { transcodedFrom: resolved.transferSyntaxUid! }),
    ...(header?.lossy && { lossy: true }),
    ...(m.errorComment && { errorComment: m.errorComment }),
    ...(resolved.warnings && { warnings: resolved.warnings }),
  };
}

/** A stream whose first chunk was already pulled (so its producer has run up to it), then the rest. */
async function primed(data: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const it = data[Symbol.asyncIterator]();
  const first = await it.next();
  return (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  })();
}

/** The AE title at the other end of an association. */
export function peerOf(association: Association): string | undefined {
  const info = association.info;
  return (association.role === 'requestor' ? info.calledAeTitle : info.callingAeTitle)?.trim();
}

/** The status of a final response; throws {@link OperationFailedError} for a failure (PS3.7 Annex C). */
export function finalStatusOrThrow(
  operation: string,
  rsp: IncomingResponse,
): { status: number; errorComment?: string } {
  const m = rsp.message as unknown as { status: number; errorComment?: string };
  rsp.dataSet?.discard();
  if (statusCategory(m.status) === StatusCategory.FAILURE) {
    throw new OperationFailedError(operation, m.status, m.errorComment);
  }
  return m;
}
