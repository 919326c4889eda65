import type { AssociationOptions } from '@dnet/association';
import type { UserIdentityRq } from '@dnet/pdu';
import type { Transport } from '@dnet/transport';
import type { ContextSpec } from './contexts.js';
import type { QueryLevel } from './identifier.js';
import type { InstanceSink } from './received-instance.js';
import type { QueryModel } from './sop-class.js';
import type { StoreSource } from './store-source.js';
import type { Transcoder } from './transcoding.js';

/** Options of {@link Client.connect}. */
export interface ClientOptions extends AssociationOptions {
  /** The transport (`tcp()`, `tls(...)`, `memory()`): injected, never global. */
  transport: Transport;
  /** Peer host. */
  host: string;
  /** Peer port. */
  port: number;
  /** Local address to connect from (default: the operating system's choice). */
  localAddress?: string;
  /** Local port to connect from (default: an ephemeral port). */
  localPort?: number;
  /** Our AE title (PS3.8 §7.1.1.3). */
  callingAeTitle: string;
  /** The peer's AE title (PS3.8 §7.1.1.4). */
  calledAeTitle: string;
  /** Presentation contexts to propose: `verification()`, `storage(...)`, `queryRetrieve(...)`... */
  contexts: readonly (ContextSpec | readonly ContextSpec[])[];
  /** User identity (PS3.7 Annex D.3.3.7). */
  userIdentity?: UserIdentityRq;
  /** Largest P-DATA-TF we receive (PS3.8 Annex D.1; default the association's 256 KiB). */
  maxPduLength?: number;
  /** Operations we may have outstanding (PS3.7 Annex D.3.3.3); proposed when above 1. */
  maxOperations?: number;
  /** Cancels connecting and negotiating. */
  signal?: AbortSignal;
  /**
   * Read files of at most 4 MiB to be stored with blocking system calls on
   * the event loop instead of Node's thread pool (default false). A small
   * file then costs less CPU (no thread-pool round trips; figures in
   * BENCHMARKS.md, "Blocking file reads"), but the event loop waits while the
   * file is read (long on a cold cache or a slow disk), during which no other
   * association of the process is served.
   * For a command-line sender that does nothing else (dnet-scu turns it on);
   * leave it off in a server. Larger files are always read on the thread pool.
   */
  blockingFileReads?: boolean;
  /**
   * The pixel transcoder (`transcoder()` of `@dnet/codecs`): a data set whose
   * transfer syntax the peer did not accept is transcoded, one frame at a
   * time, to the best accepted one (lossless first, see
   * {@link chooseTransferSyntax}). Without it only uncompressed syntaxes are
   * converted between, and a compressed file needs its own syntax accepted.
   */
  transcoder?: Transcoder;
}

/** The result of a C-STORE (PS3.4 §B.2.3): success or a warning status. */
export interface StoreResult {
  /** The status: 0000H, or a warning (B000H, B006H, B007H...). */
  status: number;
  /** SOP Class UID stored. */
  sopClassUid: string;
  /** SOP Instance UID stored. */
  sopInstanceUid: string;
  /** Transfer syntax the data set travelled in. */
  transferSyntaxUid: string;
  /** The data set's own transfer syntax when it was transcoded to `transferSyntaxUid` (by the `transcoder`). */
  transcodedFrom?: string;
  /** True when that transcoding was lossy (`sopInstanceUid` is then the new one). */
  lossy?: boolean;
  /** Error Comment (0000,0902) with a warning, if any. */
  errorComment?: string;
  /**
   * What the sender noticed and sent anyway: a meta header whose SOP Class or
   * Instance UID disagrees with the data set's (the data set's was sent).
   */
  warnings?: string[];
}

/** Options of one store. */
export interface StoreOptions {
  /** Cancels before the response (the association stays usable only if nothing was sent). */
  signal?: AbortSignal;
  /** Priority (0000,0700), default medium. */
  priority?: number;
  /** Move Originator AE Title and Message ID, for a C-MOVE sub-operation (PS3.7 §9.3.1.1). */
  moveOriginator?: { aeTitle: string; messageId: number };
  /**
   * Allow the `transcoder` a lossy target (a lossy compressed syntax the
   * data set is not already in) when nothing lossless was accepted. Default
   * false. The instance then gets a new SOP Instance UID (PS3.3 §C.7.6.1.1.5).
   */
  lossy?: boolean;
  /**
   * Transfer syntaxes wanted on the wire, best first: the first one accepted
   * that the data set is in or can be transcoded to is used before the
   * default order (dnet-scu `--propose`).
   */
  transferSyntaxes?: readonly string[];
}

/** Progress of a batch store. */
export interface StoreProgress {
  /** Sources handled so far. */
  done: number;
  /** All sources. */
  total: number;
  /** The source just handled. */
  source: StoreSource;
  /** Its result, or the error that failed it. */
  result: StoreResult | Error;
}

/** Options of {@link Client.storeMany}. */
export interface StoreManyOptions extends StoreOptions {
  /** Operations outstanding at once, within the negotiated window (default: the window). */
  concurrency?: number;
  /**
   * Sources prepared ahead while others are sent (a file opened and its meta
   * header read; a file up to 4 MiB read whole), default 2, at most 16: at
   * most `concurrency + prefetch` sources are open at a time. 0 prepares each
   * source only when its turn comes.
   */
  prefetch?: number;
  /** Called after each source. */
  onProgress?: (progress: StoreProgress) => void;
  /**
   * New associations opened when the association ends mid-batch (the peer's
   * A-ABORT, a reset), default 3: sources answered keep their outcome, each
   * one in flight is retried once alone, the rest go on. Only for a client
   * made by {@link Client.connect} (it knows how to connect again); 0 reports
   * the sources left failed at once.
   */
  retries?: number;
}

/** The outcome of a batch store: one entry per source, in order. */
export interface StoreManyResult {
  /** Sources stored with success or a warning. */
  stored: number;
  /** Sources that failed. */
  failed: number;
  /** Per source: its result or error. */
  results: (StoreResult | Error)[];
}

/** Which SOP class a query goes to: a model of PS3.4 Annex C.6, or any SOP class UID. */
export interface QueryTarget {
  /** Query/Retrieve information model (default `study`). */
  model?: QueryModel;
  /** Any SOP class UID instead of the model's (Modality Worklist, ...). */
  sopClassUid?: string;
  /** Sets Query/Retrieve Level (0008,0052) in the identifier. */
  level?: QueryLevel;
  /** Priority (0000,0700), default medium. */
  priority?: number;
  /** Aborting sends C-CANCEL-RQ (PS3.7 §9.3.2.3). */
  signal?: AbortSignal;
}

/** Options of `Client.find`. */
export interface FindOptions extends QueryTarget {
  /**
   * Yield DICOM JSON (default), DataSet objects, or objects by keyword
   * (`match.PatientName`, see `toKeywords` of `@dnet/dataset`).
   */
  as?: 'json' | 'dataset' | 'keywords';
}

/** Sub-operation counts of C-MOVE and C-GET responses (PS3.7 §9.3.3.2, §9.3.4.2). */
export interface RetrieveProgress {
  /** Status of the response (FF00H while pending). */
  status: number;
  /** Number of Remaining Sub-operations (0000,1020). */
  remaining: number | undefined;
  /** Number of Completed Sub-operations (0000,1021). */
  completed: number;
  /** Number of Failed Sub-operations (0000,1022). */
  failed: number;
  /** Number of Warning Sub-operations (0000,1023). */
  warning: number;
}

/** The final outcome of a C-MOVE or C-GET. */
export interface RetrieveResult extends RetrieveProgress {
  /** Failed SOP Instance UID List (0008,0058) when the peer sent it (PS3.4 §C.4.2.1.3.1). */
  failedSopInstanceUids: string[];
  /** True when the operation ended by C-CANCEL (FE00H). */
  cancelled: boolean;
}

/** Options of {@link Client.move}. */
export interface MoveOptions extends QueryTarget {
  /** Move Destination (0000,0600): the AE title the peer sends to. */
  destination: string;
  /** Called with each pending response's counts. */
  onProgress?: (progress: RetrieveProgress) => void;
}

/** Options of {@link Client.get}. */
export interface GetOptions extends QueryTarget {
  /** Where the C-STORE sub-operations go: a callback (returns a status) or `{ folder }`. */
  sink: InstanceSink;
  /** Called with each pending response's counts. */
  onProgress?: (progress: RetrieveProgress) => void;
}
