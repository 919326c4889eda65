import type { AcceptorPolicy, Association, AssociationOptions } from '@dnet/association';
import type { DataSet, DicomJsonDataSet } from '@dnet/dataset';
import type { CFindRq, CGetRq, CMoveRq } from '@dnet/dimse';
import type { PeerCertificate, Transport } from '@dnet/transport';
import type { CertificateAuthorizer } from './access-control.js';
import type { AssociationAdmitter } from './admission.js';
import type {
  QueryExtendedNegotiation,
  RetrieveExtendedNegotiation,
  SupportedExtendedNegotiation,
} from './extended-negotiation.js';
import type { Query } from './identifier.js';
import type { NService } from './n-services.js';
import type { ReceivedInstance, StoreStatus } from './received-instance.js';
import type { RequestContext } from './request-context.js';
import type { StorageCommitmentHandler } from './storage-commitment.js';
import type { StoreSource } from './store-source.js';
import type { Transcoder } from './transcoding.js';

/** A C-FIND request as a handler sees it (PS3.4 §C.4.1). */
export interface FindRequest {
  /** The SOP class: which information model (PS3.4 Annex C.6, K.6...). */
  sopClassUid: string;
  /** Query/Retrieve Level (0008,0052), upper case, if present. */
  level: string | undefined;
  /** The Identifier as DICOM JSON. */
  identifier: DicomJsonDataSet;
  /** The Identifier as a data set. */
  dataSet: DataSet;
  /** The C-FIND-RQ. */
  message: CFindRq;
  /**
   * The C-FIND options agreed for this SOP class on this association (PS3.4
   * §C.5.1.1): with `relationalQueries` the Identifier may leave out the
   * unique keys above its level (PS3.4 §C.4.1.2.2, §C.4.1.3.2).
   */
  extendedNegotiation: QueryExtendedNegotiation;
}

/** A C-MOVE or C-GET request as a handler sees it (PS3.4 §C.4.2, §C.4.3). */
export interface RetrieveRequest {
  /** The SOP class (information model). */
  sopClassUid: string;
  /** Query/Retrieve Level (0008,0052), upper case, if present. */
  level: string | undefined;
  /** The Identifier as DICOM JSON. */
  identifier: DicomJsonDataSet;
  /** The Identifier as a data set. */
  dataSet: DataSet;
  /** The C-MOVE-RQ or C-GET-RQ. */
  message: CMoveRq | CGetRq;
  /** Move Destination (C-MOVE only). */
  destination?: string;
  /**
   * The retrieve options agreed for this SOP class (PS3.4 §C.5.2.1,
   * §C.5.3.1): with `relationalRetrieval` the Identifier may leave out the
   * unique keys above its level (PS3.4 §C.4.2.2.2, §C.4.3.2.2).
   */
  extendedNegotiation: RetrieveExtendedNegotiation;
}

/**
 * Matches a find handler yields: by keyword, DICOM JSON or data sets, each
 * sent as a pending response.
 */
export type FindMatches = Iterable<Query> | AsyncIterable<Query>;

/** Instances a move or get handler returns, each sent as one C-STORE sub-operation. */
export type RetrieveSources = Iterable<StoreSource> | AsyncIterable<StoreSource>;

/**
 * One handler per service (PS3.4): each receives the request, the
 * association's {@link RequestContext}, and an AbortSignal that fires on
 * C-CANCEL-RQ or when the association ends.
 */
export interface ServerHandlers {
  /** C-ECHO (PS3.4 Annex A): return a status (default success). */
  echo?: (context: RequestContext) => StoreStatus | Promise<StoreStatus> | void | Promise<void>;
  /**
   * C-STORE (PS3.4 Annex B): consume the data set stream, then return a
   * status. The stream is checked complete as it is read: a cut or malformed
   * data set makes the loop throw before its end and is answered C000H
   * naming the cut, whatever is returned (`CompletenessGuard`).
   */
  store?: (
    instance: ReceivedInstance,
    context: RequestContext,
    signal: AbortSignal,
  ) => StoreStatus | Promise<StoreStatus> | void | Promise<void>;
  /** C-FIND (PS3.4 §C.4.1): yield the matches. */
  find?: (
    request: FindRequest,
    context: RequestContext,
    signal: AbortSignal,
  ) => FindMatches | Promise<FindMatches>;
  /** C-MOVE (PS3.4 §C.4.2): return the instances; the server sends them to the destination. */
  move?: (
    request: RetrieveRequest,
    context: RequestContext,
    signal: AbortSignal,
  ) => RetrieveSources | Promise<RetrieveSources>;
  /** C-GET (PS3.4 §C.4.3): return the instances; the server sends them on this association. */
  get?: (
    request: RetrieveRequest,
    context: RequestContext,
    signal: AbortSignal,
  ) => RetrieveSources | Promise<RetrieveSources>;
  /** DIMSE-N services (PS3.7 §10): `MppsScp.service`, `CommitmentListener.service`, your own. */
  nServices?: readonly NService[];
  /**
   * Storage Commitment Push Model SCP (PS3.4 Annex J): decide per instance; the
   * server answers the N-ACTION and sends the N-EVENT-REPORT (same association, or
   * a new one to the requestor found in `aeTable`).
   */
  storageCommitment?: StorageCommitmentHandler;
}

/** Where a move destination AE is (host, port, and a transport when not the server's). */
export interface AeTableEntry {
  /** Host. */
  host: string;
  /** Port. */
  port: number;
  /** Transport to reach it; the server's by default. */
  transport?: Transport;
}

/** Options of {@link Server.listen}. */
export interface ServerOptions extends AssociationOptions {
  /** The transport to listen with (`tcp()`, `tls(...)`, `memory()`). */
  transport: Transport;
  /** Address to bind (the transport's default: 127.0.0.1). */
  host?: string;
  /** Port; 0 picks a free one (read {@link Server.port}). */
  port: number;
  /** Our AE title; by default only associations calling it are accepted (PS3.8 Table 9-21 reason 7 otherwise). */
  aeTitle: string;
  /** The handlers; a service without one is not accepted. */
  handlers: ServerHandlers;
  /**
   * Acceptance policy (PS3.8 §7.1.1). The policy derived from the handlers
   * (Verification always, the Storage classes for `store` and with the SCP
   * role for `get`, the Query/Retrieve models for `find`, `move`, `get`, the
   * called AE title `aeTitle`, a 16/1 operations window, the answer to
   * extended negotiation from `extendedNegotiation`, SOP classes accepted
   * through their related general class) is used, each field given here
   * replacing the derived one (see {@link Server.policyFor}).
   */
  policy?: Partial<AcceptorPolicy>;
  /**
   * The Query/Retrieve extended behaviours the handlers implement (PS3.4
   * §C.5): each SOP Class Extended Negotiation sub-item proposed for a
   * Query/Retrieve SOP class is answered with what is both proposed and
   * supported (PS3.7 Annex D.3.3.5); handlers read what was agreed in
   * `request.extendedNegotiation`. Default none: no sub-item is answered,
   * so every query is baseline.
   */
  extendedNegotiation?: SupportedExtendedNegotiation;
  /** Transfer syntaxes accepted for storage; `['*']` (default) takes the requestor's first. */
  storageTransferSyntaxes?: readonly string[];
  /** Most concurrent associations (default `DEFAULT_MAX_ASSOCIATIONS`); more are rejected transient. */
  maxAssociations?: number;
  /** Move destinations by AE title (PS3.4 §C.4.2.1.1). */
  aeTable?: Readonly<Record<string, AeTableEntry>>;
  /** Timeouts and options of the associations the server opens for C-MOVE. */
  moveAssociationOptions?: AssociationOptions;
  /**
   * C-STORE sub-operations of one C-MOVE or C-GET kept outstanding at once
   * (default 1, at most 128). Above 1 the C-MOVE association proposes that
   * asynchronous operations window (PS3.7 Annex D.3.3.3); each C-STORE still
   * waits for a slot of the window the peer granted.
   */
  subOperationWindow?: number;
  /**
   * The pixel transcoder (`transcoder()` of `@dnet/codecs`) for C-MOVE and
   * C-GET sub-operations: each instance goes in a transfer syntax the
   * destination accepted, transcoded losslessly when its stored syntax was
   * not (see `chooseTransferSyntax`), and a C-MOVE sub-association proposes
   * the uncompressed fallbacks beside a compressed stored syntax. Without
   * it, compressed instances go only in their stored syntax.
   */
  transcoder?: Transcoder;
  /**
   * Accept associations only over an encrypted connection (PS3.15 Annex B):
   * one whose transport is not TLS is rejected (rejected-permanent,
   * service-provider ACSE, no-reason-given). A `tls()` listener never hands
   * over a plaintext connection (the handshake fails first); this guards a
   * transport that could.
   */
  tlsOnly?: boolean;
  /**
   * Authorizes the TLS peer by its certificate at association time, before
   * any handler runs (see {@link allowCertificates}); a refusal is an
   * A-ASSOCIATE-RJ rejected-permanent, service-provider (ACSE related),
   * no-reason-given (PS3.7 Annex D.3.3.7).
   */
  authorizePeerCertificate?: CertificateAuthorizer;
  /**
   * Most concurrent associations per calling AE title (default: no limit
   * but `maxAssociations`); over it: rejected-transient, service-provider
   * (presentation), local-limit-exceeded (PS3.8 Table 9-21).
   */
  maxAssociationsPerAe?: number;
  /**
   * Limits kept outside this server (several servers, in several processes,
   * serving one archive): asked for each A-ASSOCIATE-RQ once the policy, the
   * access checks and this server's own limits accepted it; an admitted
   * association's `release` is called when it ends. A refusal is sent as
   * the A-ASSOCIATE-RJ it names (for a shared limit, `localLimitRejection`:
   * rejected-transient, local-limit-exceeded, PS3.8 Table 9-21). See
   * {@link AssociationAdmitter}.
   */
  admitAssociation?: AssociationAdmitter;
}

/** An association the server refused, as the `rejected` event reports it. */
export interface RejectedAssociation {
  /** The requestor's AE title. */
  callingAeTitle: string;
  /** The AE title the requestor called. */
  calledAeTitle: string;
  /** The peer's address. */
  remoteAddress: string;
  /** The peer's port. */
  remotePort: number;
  /** Whether the connection was TLS. */
  encrypted: boolean;
  /** The TLS peer's certificate, if any. */
  peerCertificate: PeerCertificate | undefined;
  /** A-ASSOCIATE-RJ result, 1 rejected-permanent, 2 rejected-transient (PS3.8 Table 9-21). */
  result: number;
  /** A-ASSOCIATE-RJ source (1 service-user, 2 provider ACSE, 3 provider presentation). */
  source: number;
  /** A-ASSOCIATE-RJ reason/diagnostic. */
  reason: number;
  /** Why, in words. */
  cause: string;
}

/** Events of a {@link Server}. */
export interface ServerEventMap {
  /** An association was accepted. */
  association: [Association];
  /** An A-ASSOCIATE-RQ was answered with an A-ASSOCIATE-RJ (PS3.8 §9.3.4). */
  rejected: [RejectedAssociation];
  /** A handler or an association failed (the server keeps running). */
  error: [Error];
}
