import type {
  Association,
  IncomingRequest,
  IncomingResponse,
  NegotiatedContext,
} from '@dnet/association';
import type { DataSet, DicomJsonDataSet, KeywordAttributes } from '@dnet/dataset';
import type { CStoreRq } from '@dnet/dimse';
import type {
  ClientOptions,
  FindOptions,
  GetOptions,
  MoveOptions,
  QueryTarget,
  RetrieveResult,
  StoreManyOptions,
  StoreManyResult,
  StoreOptions,
  StoreResult,
} from './client-types.js';
import {
  agreedQueryExtendedNegotiation,
  agreedRetrieveExtendedNegotiation,
  type QueryExtendedNegotiation,
  type RetrieveExtendedNegotiation,
} from './extended-negotiation.js';
import { findOver } from './find-scu.js';
import type { Query } from './identifier.js';
import {
  type NRequestOptions,
  type NResult,
  nActionOver,
  nCreateOver,
  nDeleteOver,
  nEventReportOver,
  nGetOver,
  nSetOver,
} from './n-services.js';
import {
  finalStatusOrThrow,
  type PrepareOptions,
  policyOf,
  prepareStore,
  refuseStore,
  requestAssociation,
  sendPrepared,
  storeOver,
} from './outbound.js';
import { sopClassOf } from './query-target.js';
import { answerStore, type InstanceSink } from './received-instance.js';
import { getOver, moveOver } from './retrieve-scu.js';
import {
  type CommitmentReference,
  type CommitmentReport,
  type CommitOptions,
  requestCommitment,
} from './storage-commitment.js';
import type { StorageFile, StoragePlan } from './storage-plan.js';
import { storeBatch } from './store-many.js';
import type { StoreSource } from './store-source.js';

export type {
  ClientOptions,
  FindOptions,
  GetOptions,
  MoveOptions,
  QueryTarget,
  RetrieveProgress,
  RetrieveResult,
  StoreManyOptions,
  StoreManyResult,
  StoreOptions,
  StoreProgress,
  StoreResult,
} from './client-types.js';
export { finalStatusOrThrow, peerOf, storeOver } from './outbound.js';
export { DEFAULT_PREFETCH, DEFAULT_STORE_RETRIES } from './store-many.js';

/** Whether `storeMany` was given a {@link StoragePlan} rather than sources. */
function isStoragePlan(sources: object): sources is StoragePlan<StorageFile> {
  return (
    !(Symbol.iterator in sources) &&
    !(Symbol.asyncIterator in sources) &&
    Array.isArray((sources as Partial<StoragePlan>).files) &&
    Array.isArray((sources as Partial<StoragePlan>).contexts)
  );
}

/**
 * A DICOM application entity acting as SCU over one association (PS3.4):
 * Verification, Storage and Query/Retrieve (FIND, MOVE, GET).
 *
 * @example
 * ```ts
 * const client = await Client.connect({ transport: tcp(), host: '127.0.0.1', port: 11112,
 *   callingAeTitle: 'DNET', calledAeTitle: 'PACS',
 *   contexts: [verification(), storage([SopClass.CT_IMAGE_STORAGE]), queryRetrieve('study')] });
 * await client.echo();
 * await client.store('/data/ct.dcm');
 * // Queries by keyword (TypeScript completes them); matches read by keyword too.
 * for await (const study of client.find({ PatientName: 'DOE^*', StudyInstanceUID: '' },
 *   { level: 'STUDY', as: 'keywords' })) console.log(study.StudyInstanceUID);
 * await client.move({ StudyInstanceUID: '1.2.3' }, { level: 'STUDY', destination: 'DNET' });
 * await client.release();
 * ```
 */
export class Client {
  #association: Association;
  #sinks: InstanceSink[] = [];
  readonly #resolveOptions: PrepareOptions;
  /** Set by {@link Client.connect}: opens the same association again (`storeMany` retries). */
  #connectOptions: ClientOptions | undefined;

  /**
   * Use {@link Client.connect}, or wrap an established requestor association.
   *
   * @param association - an established requestor association
   * @param options - how files to store are read (`blockingFileReads`, see {@link ClientOptions})
   */
  constructor(
    association: Association,
    options: Pick<ClientOptions, 'blockingFileReads' | 'transcoder'> = {},
  ) {
    this.#association = association;
    this.#resolveOptions = {
      ...(options.blockingFileReads && { blockingFileReads: true }),
      ...(options.transcoder && { transcoder: options.transcoder }),
    };
    association.handle('C-STORE', (rq) => this.#onStore(rq));
  }

  /**
   * The underlying association (low-level DIMSE access): the one negotiated
   * last (`storeMany` opens a new one when its association is lost mid-batch).
   */
  get association(): Association {
    return this.#association;
  }

  /**
   * Connects and negotiates the association (PS3.8 §7.1): contexts, role
   * selections and (common) extended negotiation from the specs, the
   * asynchronous operations window when `maxOperations` is above 1, the user
   * identity.
   *
   * @throws AssociationRejectedError (result, source, reason), ConnectionLostError, TimeoutError
   */
  static async connect(options: ClientOptions): Promise<Client> {
    let client: Client | undefined;
    await requestAssociation(options, (association) => {
      client = new Client(association, options);
    });
    client!.#connectOptions = options;
    return client!;
  }

  /** A new association with the options this client was connected with, in place of a lost one. */
  async #reconnect(): Promise<Association> {
    await requestAssociation(this.#connectOptions!, (association) => {
      this.#association = association;
      association.handle('C-STORE', (rq) => this.#onStore(rq));
    });
    return this.#association;
  }

  /** The negotiated presentation contexts. */
  get contexts(): readonly NegotiatedContext[] {
    return this.association.info.contexts;
  }

  /**
   * The C-FIND options agreed for a model's (or any) FIND SOP class: what we
   * proposed and the peer answered with 1 (PS3.4 §C.5.1.1); all false when
   * the peer did not answer (baseline behaviour).
   */
  queryExtendedNegotiation(
    target: Pick<QueryTarget, 'model' | 'sopClassUid'> = {},
  ): QueryExtendedNegotiation {
    return agreedQueryExtendedNegotiation(this.association.negotiation, sopClassOf(target, 'find'));
  }

  /** The C-MOVE or C-GET options agreed for a model's SOP class (PS3.4 §C.5.2.1, §C.5.3.1). */
  retrieveExtendedNegotiation(
    operation: 'move' | 'get',
    target: Pick<QueryTarget, 'model' | 'sopClassUid'> = {},
  ): RetrieveExtendedNegotiation {
    return agreedRetrieveExtendedNegotiation(
      this.association.negotiation,
      sopClassOf(target, operation),
    );
  }

  /** Settles when the association is over. */
  get closed(): Promise<void> {
    return this.association.closed;
  }

  /** A-RELEASE (PS3.8 §7.2), after our outstanding operations. */
  release(): Promise<void> {
    return this.association.release();
  }

  /** A-ABORT (PS3.8 §7.3). */
  abort(): void {
    this.association.abort();
  }

  /** C-ECHO (PS3.7 §9.1.5); resolves with the status, throws on a failure status. */
  async echo(options: { signal?: AbortSignal } = {}): Promise<number> {
    const rsp = await this.association.cEcho(options);
    return this.#check('C-ECHO', rsp).status;
  }

  /**
   * C-STORE (PS3.4 Annex B) of a Part 10 file path, a Part 10 stream, a
   * DataSet or a {@link StoreInstance}. For a file only the meta header is
   * read; the data set bytes stream from disk unchanged when the accepted
   * context has the file's transfer syntax, and are converted between
   * uncompressed syntaxes otherwise, or transcoded one frame at a time by
   * the client's `transcoder` (see {@link chooseTransferSyntax}; lossy only
   * with `options.lossy`).
   *
   * @returns the status (success or warning)
   * @throws OperationFailedError for a failure status, NoPresentationContextError,
   *   TransferSyntaxNotAcceptedError when no accepted context can carry the data set
   */
  store(source: StoreSource, options: StoreOptions = {}): Promise<StoreResult> {
    return storeOver(this.association, source, options, this.#resolveOptions);
  }

  /**
   * Stores many sources over this association with several operations
   * outstanding (the asynchronous operations window, PS3.7 Annex D.3.3.3);
   * a failed source does not stop the others, and every source gets its
   * outcome in the result and `onProgress`. When the association ends
   * mid-batch (the peer's A-ABORT, a reset), a client made by
   * {@link Client.connect} opens a new one (at most `retries` times, default
   * 3): sources answered are not sent again, each one in flight is retried
   * once alone, the rest go on. A cut file fails alone
   * ({@link IncompleteSourceError}); when bytes of it had gone out its
   * association is aborted and the batch goes on over a new one.
   *
   * A {@link StoragePlan} (from `planStorage`, whose contexts this
   * client proposed) stores its files, each source in the results and
   * `onProgress` being the file's path.
   *
   * @throws the signal's reason when `options.signal` aborts
   */
  async storeMany(
    sources: Iterable<StoreSource> | AsyncIterable<StoreSource> | StoragePlan<StorageFile>,
    options: StoreManyOptions = {},
  ): Promise<StoreManyResult> {
    const list: StoreSource[] = [];
    if (isStoragePlan(sources)) for (const f of sources.files) list.push(f.path);
    else for await (const s of sources as AsyncIterable<StoreSource>) list.push(s);
    return storeBatch(
      {
        association: () => this.#association,
        reconnect: this.#connectOptions ? () => this.#reconnect() : undefined,
        prepare: (association, source) =>
          prepareStore(association, source, policyOf(this.#resolveOptions, options)),
        send: (association, prepared) => sendPrepared(association, prepared, options),
        drop: (prepared) => prepared.resolved.release?.(false),
      },
      list,
      options,
    );
  }

  /**
   * C-FIND (PS3.4 §C.4.1): an async iterable of the matches, as DICOM JSON
   * (default), DataSet objects or objects by keyword (`as: 'keywords'`). The
   * query is given by keyword, as DICOM JSON or as a DataSet; an empty value
   * asks for the attribute back (universal matching, PS3.4 §C.2.2.2.3).
   * Aborting the signal (or leaving the loop early) sends C-CANCEL-RQ and
   * ends the iteration cleanly once the peer's final response arrives.
   *
   * @example
   * ```ts
   * for await (const s of client.find({ PatientName: 'DOE^*', StudyDate: '20240101-', StudyInstanceUID: '' },
   *   { level: 'STUDY', as: 'keywords' })) console.log(s.StudyInstanceUID, s.StudyDate);
   * ```
   *
   * @throws OperationFailedError when the final status is a failure
   * @throws UnknownKeywordError, MixedKeysError (from `@dnet/dataset`) for a query that is not one form
   */
  find(query: Query, options?: FindOptions & { as?: 'json' }): AsyncIterable<DicomJsonDataSet>;
  /** C-FIND yielding DataSet objects. */
  find(query: Query, options: FindOptions & { as: 'dataset' }): AsyncIterable<DataSet>;
  /** C-FIND yielding each match by keyword (`match.PatientName`). */
  find(query: Query, options: FindOptions & { as: 'keywords' }): AsyncIterable<KeywordAttributes>;
  find(
    query: Query,
    options: FindOptions = {},
  ): AsyncIterable<DicomJsonDataSet | DataSet | KeywordAttributes> {
    return findOver(this.association, query, options);
  }

  /**
   * C-MOVE (PS3.4 §C.4.2): the peer sends the matching instances to
   * `destination`. Progress from each pending response; the final result
   * with the counts and the Failed SOP Instance UID List when sent. Aborting
   * the signal sends C-CANCEL-RQ; the result then has `cancelled: true`.
   *
   * @example
   * ```ts
   * await client.move({ StudyInstanceUID: uid }, { level: 'STUDY', destination: 'DNET' });
   * ```
   *
   * @throws OperationFailedError for a failure status (A701H, A702H, A801H, A900H, Cxxx)
   */
  move(query: Query, options: MoveOptions): Promise<RetrieveResult> {
    return moveOver(this.association, query, options);
  }

  /**
   * C-GET (PS3.4 §C.4.3): the C-STORE sub-operations arrive on this
   * association (propose the storage classes with `retrieveContexts` or
   * `storage(..., { role: 'scp' })`) and go to the sink. Progress,
   * cancellation and result as for {@link Client.move}.
   *
   * @example
   * ```ts
   * await client.get({ SeriesInstanceUID: uid }, { level: 'SERIES', sink: { folder: './in' } });
   * ```
   */
  get(query: Query, options: GetOptions): Promise<RetrieveResult> {
    return getOver(this.association, query, options, this.#sinks);
  }

  /**
   * N-GET (PS3.7 §10.1.2): attributes of a SOP instance (`attributes`: tags as
   * `0xGGGGEEEE`, all when omitted), in `dataSet`.
   *
   * @throws OperationFailedError with `operation` `N-GET` for a failure status
   */
  nGet(
    sopClassUid: string,
    sopInstanceUid: string,
    options: NRequestOptions & { attributes?: readonly number[] } = {},
  ): Promise<NResult> {
    return nGetOver(this.association, sopClassUid, sopInstanceUid, options);
  }

  /** N-SET (PS3.7 §10.1.3) of a Modification List. @throws OperationFailedError */
  nSet(
    sopClassUid: string,
    sopInstanceUid: string,
    modifications: Query,
    options: NRequestOptions = {},
  ): Promise<NResult> {
    return nSetOver(this.association, sopClassUid, sopInstanceUid, modifications, options);
  }

  /** N-ACTION (PS3.7 §10.1.4); the Action Reply in `dataSet`. @throws OperationFailedError */
  nAction(
    sopClassUid: string,
    sopInstanceUid: string,
    actionTypeId: number,
    information?: Query,
    options: NRequestOptions = {},
  ): Promise<NResult> {
    return nActionOver(
      this.association,
      sopClassUid,
      sopInstanceUid,
      actionTypeId,
      information,
      options,
    );
  }

  /**
   * N-CREATE (PS3.7 §10.1.5), with `sopInstanceUid` or letting the SCP choose
   * it (returned in the result). @throws OperationFailedError
   */
  nCreate(
    sopClassUid: string,
    attributes?: Query,
    options: NRequestOptions & { sopInstanceUid?: string } = {},
  ): Promise<NResult> {
    return nCreateOver(this.association, sopClassUid, attributes, options);
  }

  /** N-DELETE (PS3.7 §10.1.6). @throws OperationFailedError */
  nDelete(
    sopClassUid: string,
    sopInstanceUid: string,
    options: NRequestOptions = {},
  ): Promise<NResult> {
    return nDeleteOver(this.association, sopClassUid, sopInstanceUid, options);
  }

  /**
   * N-EVENT-REPORT (PS3.7 §10.1.1) on a context where we took the SCP role.
   * @throws OperationFailedError
   */
  nEventReport(
    sopClassUid: string,
    sopInstanceUid: string,
    eventTypeId: number,
    information?: Query,
    options: NRequestOptions = {},
  ): Promise<NResult> {
    return nEventReportOver(
      this.association,
      sopClassUid,
      sopInstanceUid,
      eventTypeId,
      information,
      options,
    );
  }

  /**
   * Storage Commitment Push Model (PS3.4 §J.3.2): N-ACTION with the
   * references, then the N-EVENT-REPORT on this association or, with
   * `listener`, on one the SCP opens to us. Propose `storageCommitment()`.
   *
   * @throws OperationFailedError, CommitmentTimeoutError
   */
  commit(
    references: readonly CommitmentReference[],
    options: CommitOptions = {},
  ): Promise<CommitmentReport> {
    return requestCommitment(this.association, references, options);
  }

  #check(operation: string, rsp: IncomingResponse): { status: number; errorComment?: string } {
    return finalStatusOrThrow(operation, rsp);
  }

  #onStore(rq: IncomingRequest<CStoreRq>): void {
    const sink = this.#sinks[0];
    if (!sink) {
      // No C-GET outstanding: refused, SOP class not supported here (PS3.7 Annex C 0122H).
      refuseStore(rq);
      return;
    }
    answerStore(rq, sink).catch(() => {});
  }
}
