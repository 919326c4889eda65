import {
  CommitmentFailureReason,
  type CommitmentReference,
  type CommitmentReportOutcome,
  type CommitmentResult,
  type FailedCommitment,
  type NService,
  STORAGE_COMMITMENT_PUSH_MODEL,
  storageCommitmentService,
} from '@dnet/services';
import type { Transport } from '@dnet/transport';
import type { ArchiveIndex } from './archive-index.js';
import type { ArchiveLogger } from './logger.js';
import type { ObjectStorage } from './storage.js';

/** Transfer syntaxes of the commitment context: Explicit, then Implicit VR Little Endian. */
const COMMITMENT_TS = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

/** Most instances in one Storage Commitment request by default (see LIMITS.md). */
export const DEFAULT_MAX_COMMITMENT_REFERENCES = 10_000;

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
 * The archive's part of the Storage Commitment Push Model SCP (PS3.4 Annex
 * J): which referenced instances it holds. The protocol (the N-ACTION-RQ
 * answered at once, the N-EVENT-REPORT-RQ on the same association while it is
 * open, otherwise on a new one to the requestor's AE from the peers, where we
 * take the SCP role, PS3.4 §J.3.3, PS3.7 Annex D.3.3.4) is @dnet/services'
 * `storageCommitmentService`: {@link StorageCommitment.service} is that
 * service with {@link StorageCommitment.check} as its handler, for a
 * `Server`'s `handlers.nServices`.
 */
export class StorageCommitment {
  readonly #options: StorageCommitmentOptions;
  /** The N-service to serve: `Server.listen({ handlers: { nServices: [commitment.service] } })`. */
  readonly service: NService;

  /** @param options - index, storage and where reports go */
  constructor(options: StorageCommitmentOptions) {
    this.#options = options;
    this.service = storageCommitmentService({
      handler: (request) => this.check(request.references),
      aeTitle: options.aeTitle,
      ...(options.transport && { transport: options.transport, aeTable: options.peers }),
      maxReferences: options.maxReferences ?? DEFAULT_MAX_COMMITMENT_REFERENCES,
      onReport: (outcome) => this.#log(outcome),
    });
  }

  /** The presentation context to accept (requestor as SCU). */
  static readonly context = {
    abstractSyntax: STORAGE_COMMITMENT_PUSH_MODEL,
    transferSyntaxes: COMMITMENT_TS,
  };

  /**
   * Checks each referenced instance (PS3.4 §J.3.2.2): indexed with its SOP
   * Class (else 0112H no such object instance, or 0119H class / instance
   * conflict), and its file whole, with the indexed size (else 0110H
   * processing failure, PS3.3 §C.14.1.1).
   */
  async check(references: readonly CommitmentReference[]): Promise<CommitmentResult> {
    const { index, storage } = this.#options;
    const committed: CommitmentReference[] = [];
    const failed: FailedCommitment[] = [];
    for (const ref of references) {
      const record = await index.get(ref.sopInstanceUid);
      let reason: number | undefined;
      if (!record) reason = CommitmentFailureReason.NO_SUCH_OBJECT_INSTANCE;
      else if (record.attributes['00080016']?.Value?.[0] !== ref.sopClassUid) {
        reason = CommitmentFailureReason.CLASS_INSTANCE_CONFLICT;
      } else {
        const stat = await storage.stat(record.path).catch(() => undefined);
        if (!stat || stat.size !== record.size) reason = CommitmentFailureReason.PROCESSING_FAILURE;
      }
      if (reason === undefined) committed.push(ref);
      else failed.push({ ...ref, reason });
    }
    return {
      committed,
      failed,
      // Retrieve AE Title (PS3.4 Table J.3-2): where the committed instances can be retrieved.
      ...(committed.length > 0 && { retrieveAeTitle: this.#options.aeTitle }),
    };
  }

  /** One line per accepted request: where its report went, or why it could not go. */
  #log({ request, context, result, via, error, durationMs }: CommitmentReportOutcome): void {
    const peer = context.callingAeTitle;
    if (error) {
      this.#options.logger.warn(
        {
          op: 'N-EVENT-REPORT',
          peer,
          transactionUid: request.transactionUid,
          error: error.message,
        },
        'cannot report storage commitment',
      );
      return;
    }
    this.#options.logger.info(
      {
        op: 'N-ACTION',
        peer,
        address: `${context.remoteAddress}:${context.remotePort}`,
        transactionUid: request.transactionUid,
        instances: request.references.length,
        failed: result.failed.length,
        report: via === 'new-association' ? 'new association' : 'same association',
        durationMs: Math.round(durationMs),
        status: '0x0000',
      },
      'storage commitment',
    );
  }
}
