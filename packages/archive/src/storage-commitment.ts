import { DataSet, decodeDataSet, encodeDataSet } from '@dnet/dataset';
import { Client, errorCommentText, type RequestContext } from '@dnet/services';
import type { Transport } from '@dnet/transport';
import type { ArchiveIndex } from './archive-index.js';
import type { ArchiveLogger } from './logger.js';
import type { ObjectStorage } from './storage.js';

/** What this SCP reads of an N-ACTION-RQ (PS3.7 §10.1.4.1): the association's incoming request. */
interface ActionRequest {
  message: {
    messageId: number;
    requestedSopClassUid: string;
    requestedSopInstanceUid: string;
    actionTypeId: number;
  };
  contextId: number;
  context: { transferSyntax: string };
  dataSet: { bytes(): Promise<Uint8Array>; discard(): void } | undefined;
  respond(response: never): Promise<void>;
}

/** N-ACTION-RSP (PS3.7 §10.3.4.2, Table 10.3-8) to `rq` with `status`. */
function actionResponse(rq: ActionRequest['message'], status: number, errorComment?: string) {
  return {
    commandField: 0x8130, // N-ACTION-RSP
    messageIdBeingRespondedTo: rq.messageId,
    affectedSopClassUid: rq.requestedSopClassUid,
    affectedSopInstanceUid: rq.requestedSopInstanceUid,
    actionTypeId: rq.actionTypeId,
    status,
    hasDataSet: false,
    // LO (PS3.7 Annex C): the one helper that makes every Error Comment.
    ...(errorComment && { errorComment: errorCommentText(errorComment) }),
  } as never;
}

/** Storage Commitment Push Model SOP Class (PS3.4 §J.3). */
export const STORAGE_COMMITMENT_PUSH_MODEL = '1.2.840.10008.1.20.1';
/** Its well-known SOP Instance (PS3.4 §J.3.2). */
export const STORAGE_COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';

/** Transfer syntaxes of the commitment context: Explicit, then Implicit VR Little Endian. */
const COMMITMENT_TS = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

/** Failure Reason (0008,1197) values (PS3.4 §J.3.2.2.1, PS3.3 §C.14.1.1). */
export const CommitmentFailureReason = {
  /** 0110H Processing failure: the object is indexed but its file is missing or damaged. */
  PROCESSING_FAILURE: 0x0110,
  /** 0112H No such object instance: not held. */
  NO_SUCH_OBJECT_INSTANCE: 0x0112,
  /** 0122H Referenced SOP Class not supported. */
  CLASS_NOT_SUPPORTED: 0x0122,
  /** 0131H Class / Instance conflict: held, with another SOP Class. */
  CLASS_INSTANCE_CONFLICT: 0x0131,
} as const;

/** N-ACTION statuses (PS3.4 §J.3.2.1.1.2, PS3.7 Annex C). */
const NActionStatus = {
  /** 0000H Success: the request is accepted; the result follows in an N-EVENT-REPORT. */
  SUCCESS: 0x0000,
  /** 0110H Processing failure. */
  PROCESSING_FAILURE: 0x0110,
  /** 0112H No such SOP Instance: not the well-known instance. */
  NO_SUCH_INSTANCE: 0x0112,
  /** 0120H Missing attribute (Transaction UID, Referenced SOP Sequence). */
  MISSING_ATTRIBUTE: 0x0120,
  /** 0123H No such action type. */
  NO_SUCH_ACTION: 0x0123,
} as const;

/** Event Type ID of the N-EVENT-REPORT (PS3.4 §J.3.3). */
const EventType = {
  /** 1: Storage Commitment Request Successful. */
  SUCCESSFUL: 1,
  /** 2: Storage Commitment Request Complete - Failures Exist. */
  FAILURES_EXIST: 2,
} as const;

/** One referenced instance and what was found. */
export interface CommitmentResult {
  /** Referenced SOP Class UID (0008,1150). */
  sopClassUid: string;
  /** Referenced SOP Instance UID (0008,1155). */
  sopInstanceUid: string;
  /** Failure Reason (0008,1197), absent when committed. */
  failureReason?: number;
}

/**
 * Where a peer AE listens: a C-MOVE destination (PS3.4 §C.4.2.1.1), or where
 * a Storage Commitment report goes on a new association (PS3.4 §J.3.3).
 */
export interface PeerAddress {
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
}

/** Options of {@link StorageCommitment}. */
export interface StorageCommitmentOptions {
  /** The catalogue checked. */
  index: ArchiveIndex;
  /** The files checked. */
  storage: ObjectStorage;
  /** Our AE title (Retrieve AE Title of the committed instances). */
  aeTitle: string;
  /** Where to send a report when the requesting association is gone, by AE title. */
  peers: Readonly<Record<string, PeerAddress>>;
  /** The transport for such a new association; without it no new association is opened. */
  transport?: Transport;
  /** One JSON line per request. */
  logger: ArchiveLogger;
  /** Most instances in one request (default 10 000); more is refused with 0110H. */
  maxReferences?: number;
}

/**
 * The Storage Commitment Push Model SCP (PS3.4 Annex J): answers an
 * N-ACTION-RQ (Request Storage Commitment) at once, then checks every
 * referenced instance against the index (same SOP Class) and the storage
 * (the file is there, with the indexed size), and sends the result in an
 * N-EVENT-REPORT-RQ: on the same association while it is open, otherwise on
 * a new one to the requestor's AE (from the peers), where we take the SCP
 * role (PS3.4 §J.3.3, PS3.7 Annex D.3.3.4).
 */
export class StorageCommitment {
  readonly #options: StorageCommitmentOptions;
  readonly #pending = new Set<Promise<void>>();

  /** @param options - index, storage and where reports go */
  constructor(options: StorageCommitmentOptions) {
    this.#options = options;
  }

  /** The presentation context to accept (requestor as SCU). */
  static readonly context = {
    abstractSyntax: STORAGE_COMMITMENT_PUSH_MODEL,
    transferSyntaxes: COMMITMENT_TS,
  };

  /** Handles the N-ACTION-RQs of an association. */
  attach(association: RequestContext['association']): void {
    association.handle('N-ACTION', (rq) => {
      const work = this.#onAction(association, rq).catch((error) =>
        this.#options.logger.warn({ op: 'N-ACTION', err: error }, 'storage commitment failed'),
      );
      this.#pending.add(work);
      void work.finally(() => this.#pending.delete(work));
    });
  }

  /** Waits for the reports in progress (bounded by `timeoutMs`). */
  async drain(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#pending]),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Checks each referenced instance (PS3.4 §J.3.2.2): indexed with its SOP Class, and its file whole. */
  async check(references: readonly CommitmentResult[]): Promise<CommitmentResult[]> {
    const { index, storage } = this.#options;
    const out: CommitmentResult[] = [];
    for (const ref of references) {
      const record = await index.get(ref.sopInstanceUid);
      let failureReason: number | undefined;
      if (!record) failureReason = CommitmentFailureReason.NO_SUCH_OBJECT_INSTANCE;
      else if (record.attributes['00080016']?.Value?.[0] !== ref.sopClassUid) {
        failureReason = CommitmentFailureReason.CLASS_INSTANCE_CONFLICT;
      } else {
        const stat = await storage.stat(record.path).catch(() => undefined);
        if (!stat || stat.size !== record.size) {
          failureReason = CommitmentFailureReason.PROCESSING_FAILURE;
        }
      }
      out.push({ ...ref, ...(failureReason !== undefined && { failureReason }) });
    }
    return out;
  }

  async #onAction(a: RequestContext['association'], rq: ActionRequest): Promise<void> {
    const { logger } = this.#options;
    const message = rq.message;
    const started = performance.now();
    const peer = (a.info.callingAeTitle ?? '').trim();
    const address = `${a.info.connection?.remoteAddress ?? ''}:${a.info.connection?.remotePort ?? 0}`;
    const ts = rq.context.transferSyntax;
    const refuse = async (status: number, errorComment: string) => {
      rq.dataSet?.discard();
      await rq.respond(actionResponse(message, status, errorComment));
      logger.info(
        {
          op: 'N-ACTION',
          peer,
          address,
          status: `0x${status.toString(16).padStart(4, '0')}`,
          error: errorComment,
        },
        'N-ACTION',
      );
    };
    // PS3.4 §J.3.2.1.1: the well-known instance, Action Type ID 1.
    if (message.requestedSopInstanceUid !== STORAGE_COMMITMENT_INSTANCE) {
      return refuse(
        NActionStatus.NO_SUCH_INSTANCE,
        'not the well-known Storage Commitment instance',
      );
    }
    if (message.actionTypeId !== 1) {
      return refuse(NActionStatus.NO_SUCH_ACTION, `no action type ${message.actionTypeId}`);
    }
    let request: DataSet;
    try {
      const bytes = rq.dataSet ? await rq.dataSet.bytes() : new Uint8Array(0);
      request = decodeDataSet(bytes, ts);
    } catch (error) {
      return refuse(NActionStatus.PROCESSING_FAILURE, `cannot decode: ${(error as Error).message}`);
    }
    const transactionUid = request.uid('TransactionUID');
    const items = request.has('ReferencedSOPSequence')
      ? request.sequence('ReferencedSOPSequence')
      : [];
    if (!transactionUid) return refuse(NActionStatus.MISSING_ATTRIBUTE, 'no Transaction UID');
    if (items.length === 0)
      return refuse(NActionStatus.MISSING_ATTRIBUTE, 'no Referenced SOP Sequence');
    if (items.length > (this.#options.maxReferences ?? 10_000)) {
      return refuse(NActionStatus.PROCESSING_FAILURE, 'too many referenced instances');
    }
    await rq.respond(actionResponse(message, NActionStatus.SUCCESS));

    const references = items.map((item) => ({
      sopClassUid: item.uid('ReferencedSOPClassUID') ?? '',
      sopInstanceUid: item.uid('ReferencedSOPInstanceUID') ?? '',
    }));
    const results = await this.check(references);
    const failed = results.filter((r) => r.failureReason !== undefined);
    const report = reportDataSet(transactionUid, results, this.#options.aeTitle);
    const eventTypeId = failed.length > 0 ? EventType.FAILURES_EXIST : EventType.SUCCESSFUL;
    const event = {
      commandField: 0x0100 as const, // N-EVENT-REPORT-RQ
      hasDataSet: true,
      affectedSopClassUid: STORAGE_COMMITMENT_PUSH_MODEL,
      affectedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE,
      eventTypeId,
    };
    let via = 'same association';
    try {
      if (a.state !== 'Sta6') throw new Error('the requesting association has ended');
      await a.nEventReport(event, { dataSet: encodeDataSet(report, ts), contextId: rq.contextId });
    } catch (sameError) {
      // PS3.4 §J.3.3: the report may come on another association, opened by us.
      const destination = this.#options.peers[peer];
      const transport = this.#options.transport;
      if (!destination || !transport) {
        logger.warn(
          { op: 'N-EVENT-REPORT', peer, transactionUid, error: (sameError as Error).message },
          'cannot report storage commitment: the requesting AE is not among the peers',
        );
        return;
      }
      via = 'new association';
      const client = await Client.connect({
        transport,
        host: destination.host,
        port: destination.port,
        callingAeTitle: this.#options.aeTitle,
        calledAeTitle: peer,
        contexts: [{ ...StorageCommitment.context, role: 'scp' }],
      });
      try {
        const context = client.association.info.contexts.find(
          (c) => c.accepted && c.abstractSyntax === STORAGE_COMMITMENT_PUSH_MODEL,
        );
        await client.association.nEventReport(event, {
          dataSet: encodeDataSet(report, context?.transferSyntax ?? COMMITMENT_TS[0]!),
          ...(context && { contextId: context.id }),
        });
        await client.release();
      } catch (error) {
        client.abort();
        throw error;
      }
    }
    logger.info(
      {
        op: 'N-ACTION',
        peer,
        address,
        transactionUid,
        instances: results.length,
        failed: failed.length,
        report: via,
        durationMs: Math.round(performance.now() - started),
        status: '0x0000',
      },
      'storage commitment',
    );
  }
}

/** The Event Information of the N-EVENT-REPORT (PS3.4 Table J.3-2). */
function reportDataSet(
  transactionUid: string,
  results: readonly CommitmentResult[],
  aeTitle: string,
): DataSet {
  const ds = new DataSet();
  ds.setString('TransactionUID', transactionUid, 'UI');
  const ok = results.filter((r) => r.failureReason === undefined);
  const failed = results.filter((r) => r.failureReason !== undefined);
  if (ok.length > 0) {
    ds.setString('RetrieveAETitle', aeTitle, 'AE');
    for (const r of ok) {
      const item = ds.addItem('ReferencedSOPSequence');
      item.setString('ReferencedSOPClassUID', r.sopClassUid, 'UI');
      item.setString('ReferencedSOPInstanceUID', r.sopInstanceUid, 'UI');
    }
  }
  for (const r of failed) {
    const item = ds.addItem('FailedSOPSequence');
    item.setString('ReferencedSOPClassUID', r.sopClassUid, 'UI');
    item.setString('ReferencedSOPInstanceUID', r.sopInstanceUid, 'UI');
    item.setNumber('FailureReason', r.failureReason!, 'US');
  }
  return ds;
}
