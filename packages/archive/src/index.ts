/**
 * @packageDocumentation
 * A DICOM archive to embed in a `@dnet/services` `Server`. {@link openArchive}
 * is the entry point: give it a storage and an index, register the handlers
 * it returns on your `Server`, and `close()` it after the server. Its parts
 * are exported for those who wire them differently: where received
 * objects go on disk ({@link ObjectStorage}, {@link LocalStorage}), how they
 * are catalogued and queried ({@link ArchiveIndex}, {@link SqliteIndex}; the
 * PostgreSQL index is at `@dnet/archive/postgres`), the Modality Worklist
 * ({@link WorklistSource}, {@link FolderWorklist}), and the service handlers
 * over them: C-STORE ({@link createStoreHandler}), C-FIND, C-MOVE and C-GET
 * ({@link createQueryHandlers}) and Storage Commitment
 * ({@link StorageCommitment}). See the package README.
 *
 * @example
 * ```ts
 * import { FolderWorklist, LocalStorage, SqliteIndex } from '@dnet/archive';
 *
 * const storage = new LocalStorage('/var/lib/dnet-scp/objects');
 * const index = new SqliteIndex('/var/lib/dnet-scp/index.sqlite');
 *
 * // C-STORE: stream the data set to disk, commit, then index.
 * const writer = await storage.begin({ studyInstanceUid, seriesInstanceUid, sopInstanceUid });
 * for await (const chunk of dataSet) await writer.write(chunk);
 * const { path, size } = await writer.commit();
 * await index.put({ path, size, transferSyntaxUid, attributes });
 *
 * // C-FIND at STUDY level (Study Root).
 * for await (const identifier of index.find('STUDY', query, { signal })) send(identifier);
 *
 * // C-MOVE / C-GET: the instances to send.
 * const instances = await index.instances('SERIES', identifier);
 * ```
 */

export type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  PutResult,
  QueryOptions,
  RetrieveInstance,
} from './archive-index.js';
export { DEFAULT_MAX_HEAD_BYTES } from './data-set-head.js';
export { DEFAULT_MAX_JSON_DEPTH, dicomJsonProblem } from './dicom-json-problem.js';
export {
  archivedCopy,
  DEFAULT_DUPLICATE_POLICY,
  DUPLICATE_POLICIES,
  DUPLICATE_REJECTED_STATUS,
  type DuplicatePolicy,
  isDuplicatePolicy,
} from './duplicate-policy.js';
export {
  ArchiveError,
  ArchiveErrorCode,
  type ArchiveErrorOptions,
  IndexClosedError,
  IndexOpenError,
  IndexSchemaError,
  InvalidPathError,
  InvalidQueryError,
  InvalidRecordError,
  InvalidUidError,
  InvalidWorklistItemError,
  isDnetError,
  ObjectNotFoundError,
  QueryStatus,
  StorageFailedError,
  UnreadableDataSetError,
  WriterClosedError,
} from './errors.js';
export { failureFields, messageOf } from './failure-fields.js';
export { KeyedLock } from './keyed-lock.js';
export { type ArchiveLogger, silentLogger } from './logger.js';
export {
  type Archive,
  type ArchiveContexts,
  type ArchiveHandlers,
  type ArchiveOptions,
  openArchive,
} from './open-archive.js';
export { part10WorklistReader } from './part10-worklist-reader.js';
export {
  createQueryHandlers,
  type QueryHandlerOptions,
  SUPPORTED_EXTENDED_NEGOTIATION,
} from './query-handlers.js';
export {
  COMPUTED_TAGS,
  isQueryLevel,
  LEVEL_TAGS,
  MODEL_LEVELS,
  QueryLevel,
  QueryModel,
  Tag,
  UNIQUE_KEY,
} from './query-model.js';
export {
  type IndexChannel,
  type IndexService,
  RemoteIndex,
  serveIndex,
} from './remote-index.js';
export { INDEX_SCHEMA_VERSION, SqliteIndex, type SqliteIndexOptions } from './sqlite-index.js';
export {
  INCOMING_FOLDER,
  LocalStorage,
  type LocalStorageOptions,
  type ObjectStorage,
  type ObjectUids,
  type ObjectWriter,
  type OpenOptions,
  type StoredObject,
  type StoredObjectStat,
} from './storage.js';
export {
  DEFAULT_MAX_COMMITMENT_REFERENCES,
  type PeerAddress,
  StorageCommitment,
  type StorageCommitmentOptions,
} from './storage-commitment.js';
export type {
  StoreAsCodecs,
  StoreAsOptions,
  StoreAsTranscodeInfo,
} from './store-as.js';
export { createStoreHandler, type StoreHandlerOptions, StoreStatusCode } from './store-handler.js';
export { assertValidUid, isValidUid, MAX_UID_LENGTH, uidProblem } from './validate-uid.js';
export {
  DEFAULT_WORKLIST_READERS,
  FolderWorklist,
  type FolderWorklistOptions,
  jsonWorklistReader,
  type WorklistFindOptions,
  type WorklistItemReader,
  type WorklistLoadResult,
  type WorklistSource,
} from './worklist.js';
