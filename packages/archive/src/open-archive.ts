import {
  QUERY_MODELS,
  Server,
  type ServerHandlers,
  type ServerOptions,
  SopClass,
  type SupportedExtendedNegotiation,
} from '@dnet/services';
import type { Transport } from '@dnet/transport';
import type { ArchiveIndex } from './archive-index.js';
import type { DuplicatePolicy } from './duplicate-policy.js';
import { type ArchiveLogger, silentLogger } from './logger.js';
import { createQueryHandlers, SUPPORTED_EXTENDED_NEGOTIATION } from './query-handlers.js';
import type { ObjectStorage } from './storage.js';
import { type PeerAddress, StorageCommitment } from './storage-commitment.js';
import { createStoreHandler } from './store-handler.js';
import type { WorklistSource } from './worklist.js';

/** Options of {@link openArchive}. */
export interface ArchiveOptions {
  /** Where objects are written and read (`new LocalStorage(folder)`, or yours); `close()` closes it. */
  storage: ObjectStorage;
  /**
   * The catalogue (`new SqliteIndex(file)`, `await PostgresIndex.open(url)` of
   * `@dnet/archive/postgres`, or yours); `close()` closes it.
   */
  index: ArchiveIndex;
  /**
   * Our AE title: Retrieve AE Title (0008,0054) of every C-FIND response and
   * of the committed instances of a Storage Commitment report.
   */
  aeTitle: string;
  /** Modality Worklist items (`new FolderWorklist(folder)`); without it the worklist is not served. */
  worklist?: WorklistSource;
  /** One JSON line per operation (a pino `Logger` fits); nothing is logged by default. */
  logger?: ArchiveLogger;
  /** What a C-STORE of an instance already archived does (default `keep`; see {@link DuplicatePolicy}). */
  onDuplicate?: DuplicatePolicy;
  /** Bytes of each data set's beginning kept to index it (default 1 MiB, `DEFAULT_MAX_HEAD_BYTES`). */
  maxHeadBytes?: number;
  /** Called with the length of each data set chunk as it arrives (to pace garbage collection...). */
  received?: (bytes: number) => void;
  /**
   * Where a Storage Commitment report goes when the requesting association
   * has ended (PS3.4 §J.3.3: a new association, where we take the SCP role):
   * the requestors' addresses by AE title and the transport to reach them.
   * Without it such a report is logged and dropped; a report on the
   * requesting association is always sent.
   */
  commitment?: {
    /** The requestors, by AE title. */
    peers: Readonly<Record<string, PeerAddress>>;
    /** The transport of the new association (`tcp()`, `tls(...)`). */
    transport: Transport;
    /** Most instances in one request (default 10 000); more is refused with 0110H. */
    maxReferences?: number;
  };
}

/**
 * The request handlers of an {@link Archive}, for `Server.listen({ handlers })`:
 * `nServices` holds the Storage Commitment Push Model SCP.
 */
export type ArchiveHandlers = Required<
  Pick<ServerHandlers, 'store' | 'find' | 'move' | 'get' | 'nServices'>
>;

/** The presentation contexts an {@link Archive} serves, for `Server.listen({ policy: { contexts } })`. */
export type ArchiveContexts = NonNullable<NonNullable<ServerOptions['policy']>['contexts']>;

/**
 * An archive ready to serve: the handlers, contexts and extended negotiation
 * to give a `Server` (Storage Commitment among the handlers' `nServices`), and
 * `close()`. Made by {@link openArchive}.
 */
export interface Archive {
  /** The storage given. */
  readonly storage: ObjectStorage;
  /** The index given. */
  readonly index: ArchiveIndex;
  /** The worklist given, if any. */
  readonly worklist: WorklistSource | undefined;
  /** C-STORE, C-FIND, C-MOVE and C-GET handlers (PS3.4 Annexes B, C and K). */
  readonly handlers: ArchiveHandlers;
  /**
   * The contexts served: Verification, every Storage SOP Class (as SCU for
   * C-STORE, as SCP for C-GET sub-operations), Patient Root and Study Root
   * FIND, MOVE and GET, Modality Worklist only with a worklist, and Storage
   * Commitment Push Model. The retired Patient/Study Only model is not
   * served (PS3.4 §C.6.3).
   */
  readonly contexts: ArchiveContexts;
  /** The Query/Retrieve extended behaviours implemented (relational queries and retrieval, PS3.4 §C.5). */
  readonly extendedNegotiation: SupportedExtendedNegotiation;
  /** The Storage Commitment Push Model SCP (PS3.4 Annex J). */
  readonly commitment: StorageCommitment;
  /**
   * Closes the storage and the index. Close the `Server` first: it waits for
   * the operations in progress, Storage Commitment reports included.
   */
  close(): Promise<void>;
}

/**
 * Makes an archive of `storage` and `index` to serve from your own
 * `@dnet/services` `Server`: Storage (PS3.4 Annex B), Query/Retrieve (Patient
 * and Study Root FIND, MOVE, GET, Annex C), Modality Worklist with a
 * worklist (Annex K), and Storage Commitment Push Model (Annex J). Nothing
 * is opened here (the storage and the index are open already); the archive
 * owns them from now on and {@link Archive.close} closes them.
 *
 * @example
 * ```ts
 * import { LocalStorage, openArchive, SqliteIndex } from '@dnet/archive';
 * import { Server } from '@dnet/services';
 * import { tcp } from '@dnet/transport-tcp';
 *
 * const archive = openArchive({
 *   storage: new LocalStorage('/srv/dicom'),
 *   index: new SqliteIndex('/srv/dicom/index.sqlite'),
 *   aeTitle: 'ARCHIVE',
 * });
 * const server = await Server.listen({
 *   transport: tcp(),
 *   port: 11112,
 *   aeTitle: 'ARCHIVE',
 *   handlers: archive.handlers,
 *   extendedNegotiation: archive.extendedNegotiation,
 *   policy: { contexts: archive.contexts },
 * });
 * // ...
 * await server.close();
 * await archive.close();
 * ```
 */
export function openArchive(options: ArchiveOptions): Archive {
  const { storage, index, worklist, aeTitle } = options;
  const logger = options.logger ?? silentLogger;
  const store = createStoreHandler({
    storage,
    index,
    logger,
    ...(options.onDuplicate && { onDuplicate: options.onDuplicate }),
    ...(options.maxHeadBytes !== undefined && { maxHeadBytes: options.maxHeadBytes }),
    ...(options.received && { received: options.received }),
  });
  const { find, move, get } = createQueryHandlers({
    index,
    storage,
    ...(worklist && { worklist }),
    aeTitle,
    logger,
  });
  const served = { store, find, move, get };
  // The retired Patient/Study Only model is not served (PS3.4 §C.6.3); Modality
  // Worklist only with a worklist (PS3.4 Annex K).
  const notServed = new Set<string>([
    ...Object.values(QUERY_MODELS['patient-study-only']),
    ...(worklist ? [] : [SopClass.MODALITY_WORKLIST_FIND]),
  ]);
  const contexts: ArchiveContexts = [
    ...Server.policyFor({ handlers: served, aeTitle }).contexts.filter(
      (c) => !notServed.has(c.abstractSyntax),
    ),
    // Storage Commitment Push Model SCP (PS3.4 Annex J).
    StorageCommitment.context,
  ];
  const commitment = new StorageCommitment({
    index,
    storage,
    aeTitle,
    peers: options.commitment?.peers ?? {},
    ...(options.commitment && { transport: options.commitment.transport }),
    ...(options.commitment?.maxReferences !== undefined && {
      maxReferences: options.commitment.maxReferences,
    }),
    logger,
  });
  const handlers: ArchiveHandlers = { ...served, nServices: [commitment.service] };
  let closing: Promise<void> | undefined;
  return {
    storage,
    index,
    worklist,
    handlers,
    contexts,
    extendedNegotiation: SUPPORTED_EXTENDED_NEGOTIATION,
    commitment,
    close() {
      closing ??= (async () => {
        try {
          await storage.close?.();
        } finally {
          await index.close();
        }
      })();
      return closing;
    },
  };
}
