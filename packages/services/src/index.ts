/**
 * @packageDocumentation
 * `@dnet/services`: the AE-level API of dnet: a {@link Client} (SCU) and a
 * {@link Server} (SCP) with the PS3.4 service classes Verification, Storage
 * and Query/Retrieve (FIND, MOVE, GET), built on `@dnet/association`, and the
 * query matching rules of PS3.4 §C.2.2.2 that a C-FIND SCP applies.
 *
 * Concrete transports are injected (`tcp()`, `tls(...)`, `memory()`); this
 * package never imports one.
 *
 * @example
 * ```ts
 * import { Client, SopClass, queryRetrieve, storage, verification } from '@dnet/services';
 * import { tcp } from '@dnet/transport-tcp';
 *
 * const client = await Client.connect({
 *   transport: tcp(), host: '127.0.0.1', port: 11112,
 *   callingAeTitle: 'DNET', calledAeTitle: 'PACS',
 *   contexts: [verification(), storage([SopClass.CT_IMAGE_STORAGE]), queryRetrieve('study')],
 * });
 * await client.echo();                                  // 0
 * await client.store('/data/ct.dcm');                   // { status: 0, ... }
 * // Keywords for people (typed from the dictionary, completed by TypeScript);
 * // DICOM JSON ({ '00100010': { vr: 'PN', Value: [...] } }) is taken as well.
 * for await (const study of client.find({ PatientName: 'DOE^*', StudyInstanceUID: '' },
 *   { level: 'STUDY', as: 'keywords' })) console.log(study.StudyInstanceUID);
 * await client.move({ StudyInstanceUID: '1.2.3' }, { level: 'STUDY', destination: 'DNET' });
 * await client.release();
 * ```
 *
 * @example
 * ```ts
 * // DIMSE-N and the service classes built on them (PS3.7 §10, PS3.4 Annexes F, J, K, R)
 * import { Client, CommitmentListener, MppsScp, Server, mpps, storageCommitment, worklistFind } from '@dnet/services';
 * const listener = new CommitmentListener();
 * const server = await Server.listen({ transport: tcp(), port: 11113, aeTitle: 'DNET',
 *   handlers: { nServices: [new MppsScp().service, listener.service], find: worklistFind(items),
 *     storageCommitment: (rq) => ({ committed: rq.references, failed: [] }) } });
 * const client = await Client.connect({ ..., contexts: [storageCommitment({ role: 'both' }), mpps()] });
 * const report = await client.commit([{ sopClassUid, sopInstanceUid }], { listener });
 * ```
 *
 * @example
 * ```ts
 * import { asDicomJson, matches } from '@dnet/services';
 * // Matching works on DICOM JSON; asDicomJson converts the keyword form.
 * matches(asDicomJson({ PatientName: 'DOE^*' }), asDicomJson({ PatientName: 'DOE^JANE' })); // true
 * ```
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/services';

export {
  allowCertificates,
  type CertificateAuthorizer,
  type CertificateVerdict,
  DEFAULT_JWT_CLOCK_TOLERANCE_S,
  hashPassword,
  type JwtClaims,
  type JwtVerifierOptions,
  jwtVerifier,
  MAX_JWT_CLOCK_TOLERANCE_S,
  normalizeFingerprint,
  type UserIdentityVerifier,
  type UserIdentityVerifierOptions,
  userIdentityVerifier,
} from './access-control.js';
export {
  type Admission,
  type AdmissionRequest,
  type AssociationAdmitter,
  localLimitRejection,
} from './admission.js';
export {
  Client,
  type ClientOptions,
  DEFAULT_STORE_RETRIES,
  type FindOptions,
  type GetOptions,
  type MoveOptions,
  peerOf,
  type QueryTarget,
  type RetrieveProgress,
  type RetrieveResult,
  type StoreManyOptions,
  type StoreManyResult,
  type StoreOptions,
  type StoreProgress,
  type StoreResult,
  storeOver,
} from './client.js';
export {
  CompletenessGuard,
  dataSetProblemComment,
  INCOMPLETE_DATA_SET_STATUS,
  isDataSetProblem,
  keepsInstance,
} from './completeness-guard.js';
export {
  buildContexts,
  type ContextRole,
  type ContextSpec,
  DEFAULT_TRANSFER_SYNTAXES,
  instanceAvailability,
  mpps,
  queryRetrieve,
  retrieveContexts,
  storage,
  storageCommitment,
  verification,
} from './contexts.js';
export { channels, type OperationRecord } from './diagnostics.js';
export {
  type DicomFile,
  type FindDicomFilesOptions,
  findDicomFiles,
} from './dicom-files.js';
export {
  errorCommentFor,
  errorCommentText,
  MAX_ERROR_COMMENT_LENGTH,
  type SystemErrorInfo,
  systemErrorOf,
} from './error-comment.js';
export {
  AssociationAbortedError,
  AssociationErrorCode,
  AssociationRejectedError,
  AssociationReleasedError,
  ClosedError,
  ConnectionLostError,
  DnetError,
  IncompleteSourceError,
  InvalidArgumentError,
  InvalidSourceError,
  isDnetError,
  NoPresentationContextError,
  OperationFailedError,
  ServicesError,
  ServicesErrorCode,
  SubAssociationError,
  TimeoutError,
  TransferSyntaxNotAcceptedError,
} from './errors.js';
export {
  agreedQueryExtendedNegotiation,
  agreedRetrieveExtendedNegotiation,
  answerExtendedNegotiation,
  decodeQueryExtendedNegotiation,
  decodeRetrieveExtendedNegotiation,
  encodeQueryExtendedNegotiation,
  encodeRetrieveExtendedNegotiation,
  type QueryExtendedNegotiation,
  type RetrieveExtendedNegotiation,
  STORAGE_SERVICE_CLASS_UID,
  type SupportedExtendedNegotiation,
} from './extended-negotiation.js';
export {
  DEFAULT_MAX_IDENTIFIER_LENGTH,
  decodeIdentifier,
  encodeIdentifier,
  type Query,
  type QueryLevel,
} from './identifier.js';
export {
  INSTANCE_AVAILABILITY_NOTIFICATION,
  type InstanceAvailability,
  instanceAvailabilityService,
  notifyInstanceAvailability,
} from './instance-availability.js';
export {
  asDicomJson,
  type DataSetInput,
  dataSetOf,
  type Keyword,
  type KeywordAttributes,
  type KeywordDataSet,
  MixedKeysError,
  toKeywords,
  UnknownKeywordError,
} from './keywords.js';
export { type ArchivedInstance, MemoryArchive } from './memory-archive.js';
export {
  createMpps,
  MPPS_SOP_CLASS,
  type MppsChange,
  MppsScp,
  type MppsScpOptions,
  MppsStatus,
  updateMpps,
} from './mpps.js';
export {
  answerN,
  type NHandler,
  type NOperation,
  type NRequest,
  type NRequestOptions,
  type NResponse,
  type NResult,
  type NService,
  nContextFor,
  nServiceContexts,
  serveNServices,
  statusOfError,
} from './n-services.js';
export type { PrepareOptions } from './outbound.js';
export { type MatchOptions, matches, matchesKey, responseIdentifier } from './query/matching.js';
export {
  type InstanceSink,
  type ReceivedInstance,
  type StoreStatus,
  storeToFolder,
} from './received-instance.js';
export {
  type AeTableEntry,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_ASSOCIATIONS,
  type FindMatches,
  type FindRequest,
  type RejectedAssociation,
  type RequestContext,
  type RetrieveRequest,
  type RetrieveSources,
  Server,
  type ServerEventMap,
  type ServerHandlers,
  type ServerOptions,
} from './server.js';
export {
  isStorageSopClass,
  QUERY_MODELS,
  type QueryModel,
  SopClass,
  storageSopClasses,
  UNCOMPRESSED_TRANSFER_SYNTAXES,
} from './sop-class.js';
export {
  COMMITMENT_TIMEOUT,
  CommitmentFailureReason,
  CommitmentListener,
  type CommitmentReference,
  type CommitmentReport,
  type CommitmentReportOutcome,
  type CommitmentRequest,
  type CommitmentResult,
  type CommitmentScpOptions,
  CommitmentTimeoutError,
  CommitmentType,
  type CommitOptions,
  commitmentReportDataSet,
  commitmentRequestDataSet,
  DEFAULT_COMMITMENT_TIMEOUT_MS,
  type FailedCommitment,
  newUid,
  parseCommitmentReport,
  requestCommitment,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_PUSH_MODEL,
  type StorageCommitmentHandler,
  sendCommitmentReport,
  storageCommitmentService,
} from './storage-commitment.js';
export {
  type PlanStorageOptions,
  planStorage,
  type StorageFile,
  type StoragePlan,
} from './storage-plan.js';
export type { ResolveOptions, StoreInstance, StoreSource } from './store-source.js';
export {
  chooseTransferSyntax,
  FALLBACK_TRANSFER_SYNTAXES,
  type TranscodeHeader,
  type TranscodePolicy,
  type Transcoder,
  type TransferSyntaxChoice,
} from './transcoding.js';
export {
  type WorklistItem,
  type WorklistSource,
  worklist,
  worklistFind,
} from './worklist.js';
