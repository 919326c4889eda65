import diagnosticsChannel from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import {
  type CCancelRq,
  type CEchoRq,
  type CFindRq,
  type CGetRq,
  type CMoveRq,
  CommandField,
  type CStoreRq,
  type DataSetSource,
  type DimseMessage,
  type DimseRequest,
  type DimseResponse,
  encodeMessage,
  fragmentMessage,
  fragmentMessageAsync,
  isPending,
  MessageIdAllocator,
  type NActionRq,
  type NCreateRq,
  type NDeleteRq,
  type NEventReportRq,
  type NGetRq,
  type NSetRq,
  Reassembler,
  type ReassemblyEvent,
} from '@dnet/dimse';
import {
  type AAssociateAc,
  type AAssociateRj,
  type AAssociateRq,
  AbortReason,
  AbortSource,
  decodePdu,
  encodePDataTf,
  encodePdu,
  isPduError,
  type PDataTf,
  type Pdu,
  PduDecoder,
  PduType,
  type PresentationDataValue,
} from '@dnet/pdu';
import type { Connection, ConnectionInfo, PeerCertificate, Transport } from '@dnet/transport';
import {
  AssociationAbortedError,
  AssociationError,
  AssociationErrorCode,
  AssociationRejectedError,
  AssociationReleasedError,
  ConnectionLostError,
  type DnetError,
  InvalidStateError,
  NoPresentationContextError,
  TimeoutError,
} from './errors.js';
import { IncomingDataSet } from './incoming-data-set.js';
import {
  type AcceptorPolicy,
  type AssociationProposal,
  buildAssociateRq,
  DEFAULT_MAX_PDU_LENGTH,
  decideAssociation,
  type NegotiatedContext,
  type Negotiation,
  readNegotiation,
} from './negotiation.js';
import { SendDeadline } from './send-deadline.js';
import {
  type Action,
  type Event,
  type State,
  type TransitionContext,
  transition,
} from './state-machine.js';
import { defaultTimeouts, type Timeouts, Timer } from './timer.js';

/** Default cap on outstanding DIMSE operations in each direction, see LIMITS.md. */
export const DEFAULT_MAX_OPERATIONS = 128;
/** Largest command set accepted (PS3.7 §6.3.1), see LIMITS.md. */
export const MAX_COMMAND_LENGTH = 65_536;

/** Diagnostics channels published by every association (node:diagnostics_channel). */
export const channels = {
  /** `{ association, from, event, action, to }` for every state transition. */
  transition: diagnosticsChannel.channel('dnet:association:transition'),
  /** `{ association, pdu }` for every PDU sent. */
  pduSent: diagnosticsChannel.channel('dnet:association:pdu-sent'),
  /** `{ association, pdu }` for every PDU received. */
  pduReceived: diagnosticsChannel.channel('dnet:association:pdu-received'),
  /** `{ association, rq }` when an A-ASSOCIATE-RQ is sent or received. */
  requested: diagnosticsChannel.channel('dnet:association:requested'),
  /** `{ association, negotiation }` when the association is established. */
  accepted: diagnosticsChannel.channel('dnet:association:accepted'),
  /** `{ association, error }` when the association is rejected. */
  rejected: diagnosticsChannel.channel('dnet:association:rejected'),
  /** `{ association }` when the association is released. */
  released: diagnosticsChannel.channel('dnet:association:released'),
  /** `{ association, error }` when the association is aborted (A-ABORT or A-P-ABORT). */
  aborted: diagnosticsChannel.channel('dnet:association:aborted'),
} as const;

/** A data set to send: bytes, or chunks (sync or async) streamed with backpressure (@dnet/dimse's). */
export type { DataSetSource };

/** One state transition, as observed. */
export interface TransitionRecord {
  /** State before. */
  from: State;
  /** The event. */
  event: Event;
  /** The action of Table 9-10. */
  action: Action;
  /** State after. */
  to: State;
}

/** A DIMSE request received, with the means to answer it. */
export interface IncomingRequest<M extends DimseRequest = DimseRequest> {
  /** The decoded request. */
  message: M;
  /** Presentation context it arrived on. */
  contextId: number;
  /** The negotiated context. */
  context: NegotiatedContext;
  /** The data set, streamed; read it to the end or discard it. */
  dataSet: IncomingDataSet | undefined;
  /**
   * Aborted on a C-CANCEL-RQ naming this request (C-FIND, C-GET, C-MOVE: the
   * requests PS3.7 §9.3.2.3, §9.3.3.3 and §9.3.4.3 let the peer cancel), or
   * when the association ends. Requests that cannot be cancelled share one
   * signal per association, aborted when it ends.
   */
  signal: AbortSignal;
  /**
   * Sends a response on the same context (PS3.7 §9.1.1.1.3). Pending
   * responses (FF00H/FF01H) may be sent many times; the final one ends the
   * operation.
   */
  respond(response: DimseResponse, dataSet?: DataSetSource): Promise<void>;
}

/** A DIMSE response received for one of our requests. */
export interface IncomingResponse<M extends DimseResponse = DimseResponse> {
  /** The decoded response. */
  message: M;
  /** Presentation context it arrived on. */
  contextId: number;
  /** The data set (C-FIND identifiers, N-GET attributes...), streamed. */
  dataSet: IncomingDataSet | undefined;
}

/** Options of one outgoing DIMSE request. */
export interface RequestOptions {
  /** The data set to send with the request. */
  dataSet?: DataSetSource;
  /** Presentation context to use; by default the first accepted one for the SOP class where we may be SCU. */
  contextId?: number;
  /** Prefer a context with this transfer syntax. */
  transferSyntax?: string;
  /** Cancels: C-CANCEL for C-FIND/C-GET/C-MOVE (the final response still settles), otherwise rejects locally. */
  signal?: AbortSignal;
  /** Called with each pending response (awaited: backpressure); without it pending data sets are discarded. */
  onPending?: (response: IncomingResponse) => void | Promise<void>;
}

/** Request types with a Message ID, accepted without one (it is allocated). */
type WithOptionalId<M> = M extends { messageId: number }
  ? Omit<M, 'messageId'> & { messageId?: number }
  : M;

/** The typed events of an {@link Association}. */
export interface AssociationEventMap {
  /** Every state transition of PS3.8 Table 9-10. */
  transition: [TransitionRecord];
  /** Every PDU sent. */
  'pdu-sent': [Pdu];
  /** Every PDU received. */
  'pdu-received': [Pdu];
  /** A-ASSOCIATE indication (acceptor, Sta3): answer with `acceptAssociation` or `rejectAssociation`. */
  requested: [AAssociateRq];
  /** The association is established (both roles). */
  accepted: [Negotiation];
  /** The association was rejected (either side). */
  rejected: [AssociationRejectedError];
  /** A-RELEASE indication; with `manualRelease` answer with `releaseResponse()`. */
  'release-requested': [{ collision: boolean }];
  /** The association was released. */
  released: [];
  /** A-ABORT or A-P-ABORT indication. */
  aborted: [DnetError];
  /** The transport connection is closed and everything is settled. */
  closed: [];
  /** P-DATA indication: the PDVs of each P-DATA-TF received. */
  'p-data': [PresentationDataValue[]];
  /** Any DIMSE request received (after its typed event). */
  request: [IncomingRequest];
  /**
   * A listener threw or rejected. For a request event, a request not yet
   * answered is answered with a processing failure (0110H) so the peer is not
   * left waiting.
   */
  'listener-error': [{ error: unknown; event: string }];
  /** Any DIMSE response received for one of our requests. */
  response: [IncomingResponse];
  /** C-STORE-RQ received. */
  'C-STORE-RQ': [IncomingRequest<CStoreRq>];
  /** C-FIND-RQ received. */
  'C-FIND-RQ': [IncomingRequest<CFindRq>];
  /** C-GET-RQ received. */
  'C-GET-RQ': [IncomingRequest<CGetRq>];
  /** C-MOVE-RQ received. */
  'C-MOVE-RQ': [IncomingRequest<CMoveRq>];
  /** C-ECHO-RQ received (answered with success when nobody listens). */
  'C-ECHO-RQ': [IncomingRequest<CEchoRq>];
  /** C-CANCEL-RQ received; the named request's `signal` is aborted too. */
  'C-CANCEL-RQ': [IncomingRequest<CCancelRq>];
  /** N-EVENT-REPORT-RQ received. */
  'N-EVENT-REPORT-RQ': [IncomingRequest<NEventReportRq>];
  /** N-GET-RQ received. */
  'N-GET-RQ': [IncomingRequest<NGetRq>];
  /** N-SET-RQ received. */
  'N-SET-RQ': [IncomingRequest<NSetRq>];
  /** N-ACTION-RQ received. */
  'N-ACTION-RQ': [IncomingRequest<NActionRq>];
  /** N-CREATE-RQ received. */
  'N-CREATE-RQ': [IncomingRequest<NCreateRq>];
  /** N-DELETE-RQ received. */
  'N-DELETE-RQ': [IncomingRequest<NDeleteRq>];
}

/** Options common to both roles. */
export interface AssociationOptions {
  /** Timeouts; each defaults to {@link defaultTimeouts}. */
  timeouts?: Partial<Timeouts>;
  /** Largest A-ASSOCIATE PDU accepted (default 1 MiB, the pdu decoder's). */
  maxAssociationPduLength?: number;
  /** Cap on outstanding operations in each direction, whatever the window says (default 128). */
  maxOperations?: number;
  /** Unread bytes of an incoming data set above which reading pauses (default 1 MiB). */
  dataSetHighWaterMark?: number;
  /**
   * Do not answer an A-RELEASE-RQ at once (Sta8, and Sta9/Sta12 of a release
   * collision): emit `release-requested` and wait for `releaseResponse()`.
   */
  manualRelease?: boolean;
}

/** Where and how a requestor connects. */
export interface RequestAssociationOptions extends AssociationOptions {
  /** The transport to dial with (tcp(), tls(...), memory()). */
  transport: Transport;
  /** Peer host. */
  host: string;
  /** Peer port. */
  port: number;
  /** The proposal, or a complete A-ASSOCIATE-RQ for full control. */
  proposal: AssociationProposal | AAssociateRq;
  /** Cancels the attempt (connect and negotiation). */
  signal?: AbortSignal;
  /** Local address to connect from (default: the operating system's choice). */
  localAddress?: string;
  /** Local port to connect from (default: an ephemeral port). */
  localPort?: number;
}

/** How an acceptor decides. */
export interface AcceptAssociationOptions extends AssociationOptions {
  /** The acceptor policy. */
  policy: AcceptorPolicy;
  /** Reject with transient local-limit-exceeded (PS3.8 Table 9-21). */
  associationLimitReached?: boolean;
}

/** What an association knows about itself, readable at any time. */
export interface AssociationInfo {
  /** Which side we are. */
  role: 'requestor' | 'acceptor';
  /** Current state of PS3.8 §9.2. */
  state: State;
  /** Peer address and port, local address and port, TLS state. */
  connection: ConnectionInfo | undefined;
  /** Calling AE title (the requestor's). */
  callingAeTitle: string | undefined;
  /** Called AE title (the acceptor's). */
  calledAeTitle: string | undefined;
  /** Negotiated contexts with transfer syntaxes and roles (after establishment). */
  contexts: readonly NegotiatedContext[];
  /** Largest P-DATA-TF we receive (0 = unlimited). */
  localMaxPduLength: number | undefined;
  /** Largest P-DATA-TF the peer receives (0 = unlimited). */
  peerMaxPduLength: number | undefined;
  /** Negotiated asynchronous operations window. */
  asyncOperationsWindow: { maxInvoked: number; maxPerformed: number } | undefined;
  /** The requestor's user identity, if any. */
  userIdentity: AAssociateRq['userInformation']['userIdentity'];
  /** Whether the transport is TLS. */
  encrypted: boolean;
  /** The TLS peer's certificate. */
  peerCertificate: PeerCertificate | undefined;
}

interface OutgoingOperation {
  messageId: number;
  contextId: number;
  commandField: number;
  resolve: (response: IncomingResponse) => void;
  reject: (error: Error) => void;
  onPending: ((response: IncomingResponse) => void | Promise<void>) | undefined;
  /** When the DIMSE timer of this operation expires (performance.now() time; 0: not running). */
  deadline: number;
  /** The caller's signal and our listener on it, removed when the operation settles. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * An operation the peer invoked. Its AbortController is made only when
 * someone reads the request's `signal` (most C-ECHO and C-STORE handlers
 * never do): until then an abort only records its reason.
 */
interface IncomingOperation {
  controller: AbortController | undefined;
  reason: unknown;
  aborted: boolean;
  /** Cannot be cancelled: its signal is the association's (see {@link IncomingRequest.signal}). */
  shared: boolean;
}

/** Requests a C-CANCEL-RQ can cancel (PS3.7 §9.3.2.3 C-FIND, §9.3.3.3 C-GET, §9.3.4.3 C-MOVE). */
const CANCELLABLE: ReadonlySet<number> = new Set([
  CommandField.C_FIND_RQ,
  CommandField.C_GET_RQ,
  CommandField.C_MOVE_RQ,
]);

function incomingSignal(entry: IncomingOperation): AbortSignal {
  if (!entry.controller) {
    entry.controller = new AbortController();
    if (entry.aborted) entry.controller.abort(entry.reason);
  }
  return entry.controller.signal;
}

function abortIncoming(entry: IncomingOperation, reason: unknown): void {
  if (entry.aborted) return;
  entry.aborted = true;
  entry.reason = reason;
  entry.controller?.abort(reason);
}

const RESOLVED: Promise<void> = Promise.resolve();
const REQUESTOR_CONTEXT: TransitionContext = Object.freeze({ requestor: true });
const ACCEPTOR_CONTEXT: TransitionContext = Object.freeze({ requestor: false });
const noop = (): void => {};

/** Typed names of received requests, by Command Field. */
const requestEvent: Record<number, keyof AssociationEventMap> = {
  [CommandField.C_STORE_RQ]: 'C-STORE-RQ',
  [CommandField.C_FIND_RQ]: 'C-FIND-RQ',
  [CommandField.C_GET_RQ]: 'C-GET-RQ',
  [CommandField.C_MOVE_RQ]: 'C-MOVE-RQ',
  [CommandField.C_ECHO_RQ]: 'C-ECHO-RQ',
  [CommandField.C_CANCEL_RQ]: 'C-CANCEL-RQ',
  [CommandField.N_EVENT_REPORT_RQ]: 'N-EVENT-REPORT-RQ',
  [CommandField.N_GET_RQ]: 'N-GET-RQ',
  [CommandField.N_SET_RQ]: 'N-SET-RQ',
  [CommandField.N_ACTION_RQ]: 'N-ACTION-RQ',
  [CommandField.N_CREATE_RQ]: 'N-CREATE-RQ',
  [CommandField.N_DELETE_RQ]: 'N-DELETE-RQ',
};

const requestEventNames = new Set<string>([...Object.values(requestEvent), 'request']);

/** Cancellable with C-CANCEL-RQ (PS3.7 §9.3.2.3). */
const cancellable = new Set<number>([
  CommandField.C_FIND_RQ,
  CommandField.C_GET_RQ,
  CommandField.C_MOVE_RQ,
]);

/**
 * Builds the response to a request with a status (PS3.7 §9.3, §10.3): the
 * response's Command Field, Message ID Being Responded To, and the affected
 * SOP class and instance echoed.
 */
export function responseFor(
  request: DimseRequest,
  status: number,
  extra: Record<string, unknown> = {},
): DimseResponse {
  const rq = request as unknown as Record<string, unknown>;
  const rsp: Record<string, unknown> = {
    commandField: request.commandField | 0x8000,
    messageIdBeingRespondedTo: rq.messageId,
    status,
    hasDataSet: false,
  };
  const sopClass = rq.affectedSopClassUid ?? rq.requestedSopClassUid;
  if (sopClass !== undefined) rsp.affectedSopClassUid = sopClass;
  const instance = rq.affectedSopInstanceUid ?? rq.requestedSopInstanceUid;
  if (instance !== undefined && request.commandField !== CommandField.C_ECHO_RQ) {
    rsp.affectedSopInstanceUid = instance;
  }
  if (request.commandField === CommandField.N_EVENT_REPORT_RQ) rsp.eventTypeId = rq.eventTypeId;
  if (request.commandField === CommandField.N_ACTION_RQ) rsp.actionTypeId = rq.actionTypeId;
  return { ...rsp, ...extra } as unknown as DimseResponse;
}

/**
 * PDUs up to this size leave in one plain write of one buffer: copying a few
 * KiB costs less than a vectored write of several small pieces (PDU header,
 * PDV header, command set), which a round trip of small messages pays twice.
 * Larger PDUs are written gathered, their data never copied.
 */
const JOIN_LIMIT = 16 * 1024;

/** Bytes of P-DATA queued on the transport before a message waits for it to drain: 1 MiB. */
const WRITE_BUDGET = 1024 * 1024;

function joinSmall(chunks: Uint8Array[]): Uint8Array | Uint8Array[] {
  let length = 0;
  for (const c of chunks) length += c.length;
  if (length > JOIN_LIMIT) return chunks;
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** The error of a request cancelled by its signal. */
function cancelledBy(signal: AbortSignal): AssociationError {
  return new AssociationError(AssociationErrorCode.CANCELLED, 'request cancelled', {
    cause: signal.reason,
  });
}

/** The PDU of a gathered P-DATA-TF, decoded again for observers. */
function decodeGathered(chunks: Uint8Array[]): Pdu {
  let length = 0;
  for (const c of chunks) length += c.length;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  return decodePdu(bytes);
}

/**
 * One DICOM association over a transport {@link Connection}, driven by the
 * PS3.8 §9.2 state machine ({@link transition}). Both roles; DIMSE messages
 * sent and received through @dnet/dimse, several operations outstanding in
 * both directions within the negotiated asynchronous operations window.
 *
 * High level: {@link Association.request} and {@link Association.accept}.
 * Low level: {@link Association.requestor} / {@link Association.acceptor},
 * then one method per primitive, one typed event per received one.
 *
 * @example
 * ```ts
 * const a = await Association.request({ transport: tcp(), host: '127.0.0.1', port: 11112,
 *   proposal: { callingAeTitle: 'DNET', calledAeTitle: 'STORESCP',
 *     contexts: [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }] } });
 * const rsp = await a.cEcho();
 * await a.release();
 * ```
 */
export class Association extends EventEmitter<AssociationEventMap> {
  /** Which side we are. */
  readonly role: 'requestor' | 'acceptor';
  #state: State = 'Sta1';
  #connection: Connection | undefined;
  #decoder: PduDecoder | undefined;
  readonly #options: AssociationOptions;
  readonly #timeouts: Timeouts;
  readonly #artim: Timer;
  readonly #acse: Timer;
  readonly #idle: Timer;
  /** One DIMSE timer for all our outstanding operations: each has a deadline, checked on expiry. */
  readonly #dimse: Timer;
  /** Bounds every wait for the transport to take our bytes (a peer that stops reading). */
  readonly #send: SendDeadline;
  /** The peer's Maximum Length (PS3.8 Annex D.1), known once established (0 = unlimited). */
  #peerMaxPduLength = 0;
  /** Context picked for each SOP class and transfer syntax, once established. */
  #contextCache = new Map<string, number>();
  #rq: AAssociateRq | undefined;
  #negotiation: Negotiation | undefined;
  #contexts = new Map<number, NegotiatedContext>();
  #end: DnetError | undefined;
  #closedPromise: Promise<void>;
  #resolveClosed!: () => void;
  #established: { resolve: (n: Negotiation) => void; reject: (e: Error) => void } | undefined;
  #releaseWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #released = false;
  // Pending abort fields for the next AA-1/AA-7/AA-8.
  #abortFields: { source: number; reason: number } = { source: 0, reason: 0 };
  #pendingOut: AAssociateAc | AAssociateRj | undefined;
  #response: AAssociateAc | AAssociateRj | undefined;
  // DIMSE state
  readonly #ids = new MessageIdAllocator();
  readonly #outgoing = new Map<number, OutgoingOperation>();
  readonly #incoming = new Map<number, IncomingOperation>();
  /** Signal of the requests that cannot be cancelled: aborted when the association ends. */
  #endController: AbortController | undefined;
  /** Why the association ended, once it did (for a signal asked for afterwards). */
  #ended: { reason: unknown } | undefined;

  #endSignal(): AbortSignal {
    if (!this.#endController) {
      this.#endController = new AbortController();
      if (this.#ended) this.#endController.abort(this.#ended.reason);
    }
    return this.#endController.signal;
  }
  #windowWaiters: (() => void)[] = [];
  readonly #reassembler = new Reassembler({
    isAcceptedContext: (id) => this.#contexts.get(id)?.accepted === true,
    maxCommandLength: MAX_COMMAND_LENGTH,
  });
  #dataSet: { stream: IncomingDataSet; contextId: number } | undefined;

  /** Use {@link Association.requestor}, {@link Association.acceptor}, or the high-level entry points. */
  protected constructor(role: 'requestor' | 'acceptor', options: AssociationOptions = {}) {
    // An async listener that rejects lands in [captureRejectionSymbol], never unhandled.
    super({ captureRejections: true });
    this.role = role;
    this.#options = options;
    this.#timeouts = { ...defaultTimeouts, ...options.timeouts };
    // PS3.8 §9.1.5: ARTIM expiry is Evt18.
    this.#artim = new Timer('artim', this.#timeouts.artimMs, () => this.#dispatch('Evt18'));
    this.#acse = new Timer('acse', this.#timeouts.acseMs, (e) => this.#localAbort(e));
    // Idle means no PDU and nothing outstanding: a long operation is the DIMSE timer's business.
    // A peer that stops in the middle of a message (its command or data set half received)
    // while we are reading is stalled, not busy: that is bounded by the idle timer too, so
    // one silent peer cannot hold an association (and a handler, a temp file) forever.
    // When we ourselves hold the reading back (a slow data set consumer), nothing is stalled.
    // A send that waits for a peer reading nothing is stalled too (the send deadline being
    // off): abort and drop the connection, as the send deadline does.
    this.#idle = new Timer('idle', this.#timeouts.idleMs, (e) => {
      const stalled = this.#reassembler.state !== 'idle' && !this.#holdingBack;
      if (this.#send.waiting) this.#sendStalled(e);
      else if (!stalled && (this.#outgoing.size > 0 || this.#incoming.size > 0)) this.#idle.start();
      else this.#localAbort(e);
    });
    // PS3.7 §9.1: each operation waits for its (next) response at most dimseMs.
    this.#dimse = new Timer('dimse', this.#timeouts.dimseMs, (e) => this.#onDimseExpiry(e));
    this.#send = new SendDeadline(this.#timeouts.sendMs ?? this.#timeouts.dimseMs, (e) =>
      this.#sendStalled(e),
    );
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  // ----- entry points -------------------------------------------------------

  /** A requestor in Sta1; call {@link Association.associate} to connect and negotiate. */
  static requestor(options: AssociationOptions = {}): Association {
    return new Association('requestor', options);
  }

  /**
   * An acceptor for a connection just indicated by a listener (Evt5, AE-5:
   * ARTIM starts). Listen to `requested` and answer with
   * `acceptAssociation(ac)` or `rejectAssociation(rj)`.
   */
  static acceptor(connection: Connection, options: AssociationOptions = {}): Association {
    const a = new Association('acceptor', options);
    a.#attach(connection, DEFAULT_MAX_PDU_LENGTH);
    a.#dispatch('Evt5');
    return a;
  }

  /** Connects, negotiates and resolves with the established association; rejects with a typed error. */
  static async request(options: RequestAssociationOptions): Promise<Association> {
    const a = Association.requestor(options);
    await a.associate(options);
    return a;
  }

  /**
   * Runs the acceptor side on a new connection: waits for the A-ASSOCIATE-RQ
   * (ARTIM), decides it by the policy, answers AC or RJ. Resolves with the
   * established association; rejects with {@link AssociationRejectedError}
   * when we rejected, or the error that ended the attempt.
   */
  static async accept(
    connection: Connection,
    options: AcceptAssociationOptions,
  ): Promise<Association> {
    const a = Association.acceptor(connection, options);
    const rq = await new Promise<AAssociateRq>((resolve, reject) => {
      const onEnd = () => reject(a.#end ?? new ConnectionLostError());
      a.once('requested', (r) => {
        a.off('closed', onEnd);
        resolve(r);
      });
      a.once('closed', onEnd);
    });
    let decision: Awaited<ReturnType<typeof decideAssociation>>;
    try {
      decision = await decideAssociation(rq, options.policy, {
        associationLimitReached: options.associationLimitReached ?? false,
      });
    } catch (error) {
      // A policy callback failed: reject (service-user, no-reason-given) rather than hang in Sta3.
      if (a.state === 'Sta3') a.rejectAssociation({ result: 1, source: 1, reason: 1 });
      throw error;
    }
    if (a.state !== 'Sta3') throw a.#end ?? new ConnectionLostError();
    if (!decision.accepted) {
      a.rejectAssociation(decision.rejection);
      throw new AssociationRejectedError(decision.rejection);
    }
    a.acceptAssociation(decision.ac);
    return a;
  }

  /** @internal Rejections of async listeners (EventEmitter `captureRejections`). */
  override [EventEmitter.captureRejectionSymbol]<K>(
    error: Error,
    event: keyof AssociationEventMap | K,
    ...args: K extends keyof AssociationEventMap ? AssociationEventMap[K] : never
  ): void {
    const incoming = (args as unknown[])[0] as IncomingRequest | undefined;
    if (requestEventNames.has(String(event)) && incoming?.message) {
      const id = (incoming.message as { messageId?: number }).messageId;
      if (id !== undefined && this.#incoming.has(id)) {
        incoming.dataSet?.discard();
        // PS3.7 Annex C: processing failure.
        incoming.respond(responseFor(incoming.message, 0x0110)).catch(() => {});
      }
    }
    if (event !== 'listener-error') this.emit('listener-error', { error, event: String(event) });
  }

  // ----- information --------------------------------------------------------

  /** Current state (PS3.8 §9.2.1). */
  get state(): State {
    return this.#state;
  }

  /**
   * True while the association is established and ready for data transfer
   * (Sta6, PS3.8 Table 9-10): before negotiation ends, once a release or an
   * abort began, and after the end, false.
   */
  get established(): boolean {
    return this.#state === 'Sta6';
  }

  /** The A-ASSOCIATE-RQ sent (requestor) or received (acceptor), as a PDU. */
  get associateRequest(): AAssociateRq | undefined {
    return this.#rq;
  }

  /** The A-ASSOCIATE-AC or -RJ sent (acceptor) or received (requestor), as a PDU. */
  get associateResponse(): AAssociateAc | AAssociateRj | undefined {
    return this.#response;
  }

  /** The negotiation result once established. */
  get negotiation(): Negotiation | undefined {
    return this.#negotiation;
  }

  /** Settles when the association is over and its connection closed. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Everything known about the association, readable at any time. */
  get info(): AssociationInfo {
    const n = this.#negotiation;
    const local = this.role === 'requestor' ? n?.requestorMaxPduLength : n?.acceptorMaxPduLength;
    const peer = this.role === 'requestor' ? n?.acceptorMaxPduLength : n?.requestorMaxPduLength;
    const info = this.#connection?.info;
    return {
      role: this.role,
      state: this.#state,
      connection: info,
      callingAeTitle: this.#rq?.callingAeTitle,
      calledAeTitle: this.#rq?.calledAeTitle,
      contexts: n?.contexts ?? [],
      localMaxPduLength: local,
      peerMaxPduLength: peer,
      asyncOperationsWindow: n?.asyncOperationsWindow,
      userIdentity: this.#rq?.userInformation.userIdentity,
      encrypted: info?.encrypted ?? false,
      peerCertificate: info?.peerCertificate,
    };
  }

  /** Outstanding operations we invoked, and those the peer invoked. */
  get outstanding(): { invoked: number; performing: number } {
    return { invoked: this.#outgoing.size, performing: this.#incoming.size };
  }

  // ----- A-ASSOCIATE --------------------------------------------------------

  /**
   * A-ASSOCIATE request (Evt1): connects (AE-1), sends the A-ASSOCIATE-RQ
   * (AE-2) and waits for the answer under the ACSE timer. Resolves with the
   * negotiation (AE-3); rejects with {@link AssociationRejectedError} (AE-4),
   * {@link AssociationAbortedError}, {@link ConnectionLostError} or {@link TimeoutError}.
   */
  async associate(
    options: Omit<RequestAssociationOptions, keyof AssociationOptions>,
  ): Promise<Negotiation> {
    if (this.#state !== 'Sta1' || this.role !== 'requestor' || this.#rq) {
      throw new InvalidStateError(this.#state, 'Evt1', 'A-ASSOCIATE request');
    }
    const rq = 'type' in options.proposal ? options.proposal : buildAssociateRq(options.proposal);
    this.#rq = rq;
    const established = new Promise<Negotiation>((resolve, reject) => {
      this.#established = { resolve, reject };
    });
    established.catch(() => {});
    this.#dispatch('Evt1');
    let connection: Connection;
    try {
      options.signal?.throwIfAborted();
      connection = await options.transport.connect({
        host: options.host,
        port: options.port,
        ...(options.signal && { signal: options.signal }),
        ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
        ...(options.localPort !== undefined && { localPort: options.localPort }),
        ...(this.#timeouts.connectMs > 0 && { timeoutMs: this.#timeouts.connectMs }),
      });
    } catch (cause) {
      const error = new ConnectionLostError(`cannot connect to ${options.host}:${options.port}`, {
        cause,
      });
      this.#end ??= error;
      if ((this.#state as State) === 'Sta4') this.#dispatch('Evt17');
      throw error;
    }
    if ((this.#state as State) !== 'Sta4') {
      connection.abort();
      throw this.#end ?? new ConnectionLostError('association aborted while connecting');
    }
    this.#attach(connection, rq.userInformation.maxLength);
    const onAbort = () => this.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.#dispatch('Evt2');
      return await established;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A-ASSOCIATE response (accept), Evt7 / AE-7: sends the A-ASSOCIATE-AC. */
  acceptAssociation(ac: AAssociateAc): void {
    if (!this.#rq) throw new InvalidStateError(this.#state, 'Evt7', 'A-ASSOCIATE response');
    this.#pendingOut = ac;
    this.#dispatch('Evt7');
  }

  /** A-ASSOCIATE response (reject), Evt8 / AE-8: sends the A-ASSOCIATE-RJ and waits for the close under ARTIM. */
  rejectAssociation(rejection: { result: number; source: number; reason: number }): void {
    this.#pendingOut = { type: PduType.A_ASSOCIATE_RJ, ...rejection };
    this.#dispatch('Evt8');
  }

  // ----- A-RELEASE and A-ABORT ----------------------------------------------

  /**
   * A-RELEASE request (Evt11, AR-1): sends A-RELEASE-RQ and resolves when the
   * A-RELEASE-RP arrived (AR-3) and the connection is closed. Waits first for
   * our outstanding operations. Rejects if the association is aborted meanwhile.
   */
  async release(): Promise<void> {
    while (this.#outgoing.size > 0 && this.#state === 'Sta6') {
      await Promise.race([...this.#outgoing.values()].map((op) => this.#settled(op)));
    }
    if (this.#end) throw this.#end;
    const done = new Promise<void>((resolve, reject) => {
      this.#releaseWaiter = { resolve, reject };
    });
    done.catch(() => {});
    try {
      this.#dispatch('Evt11');
    } catch (error) {
      this.#releaseWaiter = undefined;
      throw error;
    }
    await done;
    await this.#closedPromise;
  }

  /** A-RELEASE response (Evt14): with `manualRelease`, answers the peer's A-RELEASE-RQ. */
  releaseResponse(): void {
    this.#dispatch('Evt14');
  }

  /**
   * A-ABORT request (Evt15, AA-1): sends A-ABORT (service-user source by
   * default) and closes. Every pending operation rejects with
   * {@link AssociationAbortedError}. Does nothing once the association is over.
   */
  abort(source: number = AbortSource.SERVICE_USER, reason = 0): void {
    if (this.#state === 'Sta1' || this.#state === 'Sta13' || this.#state === 'Sta2') {
      if (this.#state === 'Sta2') this.#connection?.abort();
      return;
    }
    this.#abortFields = { source, reason };
    this.#end ??= new AssociationAbortedError({ source, reason, local: true });
    this.#dispatch('Evt15');
  }

  // ----- P-DATA -------------------------------------------------------------

  /**
   * P-DATA request (Evt9, DT-1 or AR-7): sends one P-DATA-TF with these PDVs
   * as a gathered write, waiting for drain. Low level: DIMSE users call
   * {@link Association.send} or the request methods instead.
   */
  async sendPData(pdvs: readonly PresentationDataValue[]): Promise<void> {
    const chunks = encodePDataTf(pdvs);
    this.#dispatch('Evt9', undefined, () =>
      this.#write(chunks, () => ({ type: PduType.P_DATA_TF, pdvs: [...pdvs] })),
    );
    const c = this.#connection;
    if (c && !this.#writable) await this.#send.drained(c);
  }

  #writable = true;
  /** Bytes written since the transport last reported room (see `#mustDrain`). */
  #unflushed = 0;

  /**
   * True when nothing is being written and the transport has handed every
   * byte written so far to the operating system: the memory of data sets
   * sent so far may be reused. False when unknown (a transport without
   * `flushed`, such as the in-memory one, or no connection).
   */
  get flushed(): boolean {
    return this.#writeTail === undefined && this.transportFlushed;
  }

  /**
   * True when the transport has handed every byte written to it so far to the
   * operating system, even while a message is still being written: the
   * memory of the PDUs already written (a streamed data set's earlier chunks)
   * may be reused. False when unknown (see {@link Association.flushed}).
   */
  get transportFlushed(): boolean {
    return this.#connection?.flushed?.() === true;
  }

  // ----- DIMSE --------------------------------------------------------------

  /**
   * Sends one DIMSE message (command, then its data set) on a presentation
   * context, fragmented to the peer's maximum PDU length (PS3.8 Annex E).
   * Messages are never interleaved (one at a time on the wire).
   */
  send(contextId: number, message: DimseMessage, dataSet?: DataSetSource): Promise<void> {
    try {
      if (!this.#contexts.get(contextId)?.accepted) {
        throw new NoPresentationContextError(
          undefined,
          undefined,
          `presentation context ${contextId} is not accepted`,
        );
      }
      const hasDataSet = dataSet !== undefined;
      const command = encodeMessage(
        message.hasDataSet === hasDataSet ? message : ({ ...message, hasDataSet } as DimseMessage),
      );
      // Nothing being written: the message goes out now, synchronously when its
      // data set is in memory (no promise, no await: the per-message fast path).
      if (this.#writeTail === undefined) {
        const pending = this.#writeMessage(contextId, command, dataSet);
        if (pending === undefined) return RESOLVED;
        this.#queueWrite(pending);
        return pending;
      }
      const run = this.#writeTail.then(() => this.#writeMessage(contextId, command, dataSet));
      this.#queueWrite(run);
      return run;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The messages being written, in order; undefined when nothing is. */
  #writeTail: Promise<void> | undefined;

  #queueWrite(run: Promise<void>): void {
    const tail: Promise<void> = run.then(noop, noop).then(() => {
      if (this.#writeTail === tail) this.#writeTail = undefined;
    });
    this.#writeTail = tail;
  }

  /** Writes one message's PDUs; returns a promise only when it had to wait (drain, an async data set). */
  #writeMessage(
    contextId: number,
    command: Uint8Array,
    dataSet: DataSetSource | undefined,
  ): Promise<void> | undefined {
    // PS3.8 Annex D.1 and §9.3.5: P-DATA-TF PDUs within the peer's maximum length, cut by @dnet/dimse.
    const maxPduLength = this.#peerMaxPduLength;
    if (
      dataSet !== undefined &&
      !(dataSet instanceof Uint8Array) &&
      Symbol.asyncIterator in dataSet
    )
      return this.#writePdus(
        fragmentMessageAsync({ contextId, command, dataSet, maxPduLength })[Symbol.asyncIterator](),
      );
    const pdus = fragmentMessage({
      contextId,
      command,
      ...(dataSet !== undefined && { dataSet: dataSet as Uint8Array | Iterable<Uint8Array> }),
      maxPduLength,
    });
    let done = false;
    try {
      for (let r = pdus.next(); !r.done; r = pdus.next()) {
        this.#sendPDataTf(r.value);
        if (this.#mustDrain()) {
          done = true;
          return this.#writePdus(pdus, true);
        }
      }
      done = true;
    } finally {
      if (!done) pdus.return(undefined);
    }
    return undefined;
  }

  /** Writes the PDUs of a message with awaits: for drain, and for the chunks of an async data set. */
  async #writePdus(
    pdus: Iterator<Uint8Array[]> | AsyncIterator<Uint8Array[]>,
    waitFirst = false,
  ): Promise<void> {
    try {
      if (waitFirst) await this.#drained();
      for (let r = await pdus.next(); !r.done; r = await pdus.next()) {
        this.#sendPDataTf(r.value);
        if (this.#mustDrain()) await this.#drained();
      }
    } finally {
      await pdus.return?.(undefined);
    }
  }

  /** P-DATA request for one encoded P-DATA-TF (Evt9: DT-1 or AR-7). */
  #sendPDataTf(chunks: Uint8Array[]): void {
    this.#outChunks = chunks;
    try {
      this.#dispatch('Evt9', undefined, this.#writeOutChunks);
    } finally {
      this.#outChunks = undefined;
    }
  }

  /**
   * Whether to wait for the connection to drain before the next PDU: only once
   * more than {@link WRITE_BUDGET} bytes are queued beyond the transport's own
   * mark. Waiting at every PDU the transport calls "full" (a 16 KiB socket
   * mark: every data PDU) costs an event loop turn per PDU and leaves the
   * socket idle meanwhile; the budget keeps memory bounded all the same.
   */
  #mustDrain(): boolean {
    return !this.#writable && this.#unflushed > WRITE_BUDGET && this.#connection !== undefined;
  }

  async #drained(): Promise<void> {
    const c = this.#connection;
    if (c) await this.#send.drained(c);
    this.#unflushed = 0;
  }

  #outChunks: Uint8Array[] | undefined;
  readonly #writeOutChunks = (): void => {
    const chunks = this.#outChunks!;
    this.#write(chunks, () => decodeGathered(chunks));
  };

  /**
   * Sends a DIMSE request and resolves with its final response (PS3.7 §9.1):
   * allocates the Message ID when absent, waits for a slot of the
   * asynchronous operations window, picks the presentation context, and runs
   * the DIMSE timer between responses. Pending responses go to `onPending`.
   */
  request<M extends DimseRequest>(
    message: WithOptionalId<M>,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    if (this.#end) return Promise.reject(this.#end);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(cancelledBy(signal));
    let contextId: number;
    try {
      contextId =
        options.contextId ??
        this.#pickContext(message as unknown as Record<string, unknown>, options.transferSyntax);
    } catch (error) {
      return Promise.reject(error);
    }
    // A free slot of the window: no wait, no promise (the fast path).
    if (this.#outgoing.size + this.#reserved < this.#windowLimit())
      return this.#invoke(message as unknown as DimseRequest, contextId, options);
    return this.#windowSlot(signal).then(
      () => {
        this.#reserved--;
        // Cancelled while waiting for a slot: nothing was sent.
        if (signal?.aborted) throw cancelledBy(signal);
        return this.#invoke(message as unknown as DimseRequest, contextId, options);
      },
      (error: unknown) => {
        throw signal?.aborted ? cancelledBy(signal) : error;
      },
    );
  }

  /** Registers the operation, sends the request and returns the promise of its final response. */
  #invoke(
    message: DimseRequest,
    contextId: number,
    options: RequestOptions,
  ): Promise<IncomingResponse> {
    let messageId: number;
    try {
      messageId = this.#messageIdFor((message as { messageId?: number }).messageId);
    } catch (error) {
      return Promise.reject(error);
    }
    const full = { ...message, messageId } as DimseRequest;
    let resolve!: (response: IncomingResponse) => void;
    let reject!: (error: Error) => void;
    const result = new Promise<IncomingResponse>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const signal = options.signal;
    const op: OutgoingOperation = {
      messageId,
      contextId,
      commandField: message.commandField,
      resolve,
      reject,
      onPending: options.onPending,
      deadline: 0,
      signal,
      onAbort: undefined,
    };
    this.#outgoing.set(messageId, op);
    if (signal) {
      op.onAbort = () => {
        if (cancellable.has(message.commandField)) {
          this.cCancel(messageId, contextId).catch(() => {});
        } else {
          this.#settleOutgoing(op, undefined, cancelledBy(signal));
        }
      };
      signal.addEventListener('abort', op.onAbort, { once: true });
    }
    // The response may come before the data set is all sent (an early failure), and a
    // cancelled C-STORE settles at once: the DIMSE timer runs once the request is out.
    const sent = this.send(contextId, full, options.dataSet);
    if (sent === RESOLVED) this.#startDimse(op);
    else
      sent.then(
        () => {
          if (this.#outgoing.get(messageId) === op) this.#startDimse(op);
        },
        (error: unknown) => this.#settleOutgoing(op, undefined, error as Error),
      );
    return result;
  }

  /** Runs the DIMSE timer for one operation (PS3.7 §9.1): a deadline, checked when the association's timer fires. */
  #startDimse(op: OutgoingOperation): void {
    if (this.#timeouts.dimseMs <= 0) return;
    op.deadline = performance.now() + this.#timeouts.dimseMs;
    if (!this.#dimse.running) this.#dimse.start();
  }

  /** The DIMSE timer fired: abort if an operation is overdue, else wait for the next deadline. */
  #onDimseExpiry(error: TimeoutError): void {
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const op of this.#outgoing.values()) {
      if (op.deadline === 0) continue;
      if (op.deadline - now < 1) {
        this.#localAbort(error);
        return;
      }
      if (op.deadline < next) next = op.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#dimse.start(Math.ceil(next - now));
  }

  /** C-ECHO (PS3.7 §9.1.5): verification. */
  cEcho(options: RequestOptions = {}): Promise<IncomingResponse> {
    return this.request<CEchoRq>(
      {
        commandField: CommandField.C_ECHO_RQ,
        affectedSopClassUid: '1.2.840.10008.1.1',
        hasDataSet: false,
      },
      options,
    );
  }

  /** C-STORE (PS3.7 §9.1.1): the data set is streamed. */
  cStore(
    message: WithOptionalId<CStoreRq>,
    dataSet: DataSetSource,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<CStoreRq>({ ...message, hasDataSet: true }, { ...options, dataSet });
  }

  /** C-FIND (PS3.7 §9.1.2): pending responses with identifiers go to `onPending`; the signal sends C-CANCEL. */
  cFind(
    message: WithOptionalId<CFindRq>,
    identifier: DataSetSource,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<CFindRq>(
      { ...message, hasDataSet: true },
      { ...options, dataSet: identifier },
    );
  }

  /** C-GET (PS3.7 §9.1.3): the C-STORE sub-operations arrive as `C-STORE-RQ` events on this association. */
  cGet(
    message: WithOptionalId<CGetRq>,
    identifier: DataSetSource,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<CGetRq>(
      { ...message, hasDataSet: true },
      { ...options, dataSet: identifier },
    );
  }

  /** C-MOVE (PS3.7 §9.1.4). */
  cMove(
    message: WithOptionalId<CMoveRq>,
    identifier: DataSetSource,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<CMoveRq>(
      { ...message, hasDataSet: true },
      { ...options, dataSet: identifier },
    );
  }

  /** N-EVENT-REPORT (PS3.7 §10.1.1). */
  nEventReport(
    message: WithOptionalId<NEventReportRq>,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<NEventReportRq>(
      { ...message, hasDataSet: options.dataSet !== undefined },
      options,
    );
  }

  /** N-GET (PS3.7 §10.1.2). */
  nGet(message: WithOptionalId<NGetRq>, options: RequestOptions = {}): Promise<IncomingResponse> {
    return this.request<NGetRq>({ ...message, hasDataSet: false }, options);
  }

  /** N-SET (PS3.7 §10.1.3). */
  nSet(
    message: WithOptionalId<NSetRq>,
    dataSet: DataSetSource,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<NSetRq>({ ...message, hasDataSet: true }, { ...options, dataSet });
  }

  /** N-ACTION (PS3.7 §10.1.4). */
  nAction(
    message: WithOptionalId<NActionRq>,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<NActionRq>(
      { ...message, hasDataSet: options.dataSet !== undefined },
      options,
    );
  }

  /** N-CREATE (PS3.7 §10.1.5). */
  nCreate(
    message: WithOptionalId<NCreateRq>,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<NCreateRq>(
      { ...message, hasDataSet: options.dataSet !== undefined },
      options,
    );
  }

  /** N-DELETE (PS3.7 §10.1.6). */
  nDelete(
    message: WithOptionalId<NDeleteRq>,
    options: RequestOptions = {},
  ): Promise<IncomingResponse> {
    return this.request<NDeleteRq>({ ...message, hasDataSet: false }, options);
  }

  /** C-CANCEL-RQ (PS3.7 §9.3.2.3) for an outstanding C-FIND, C-GET or C-MOVE of ours. */
  async cCancel(messageId: number, contextId?: number): Promise<void> {
    const ctx = contextId ?? this.#outgoing.get(messageId)?.contextId;
    if (ctx === undefined)
      throw new AssociationError(
        AssociationErrorCode.INVALID_ARGUMENT,
        `no outstanding operation ${messageId}`,
      );
    await this.send(ctx, {
      commandField: CommandField.C_CANCEL_RQ,
      messageIdBeingRespondedTo: messageId,
      hasDataSet: false,
    });
  }

  /** The Message ID of a new request: the caller's if free (PS3.7 §9.1.1.1.1: unique among outstanding ones), else allocated. */
  #messageIdFor(requested: number | undefined): number {
    if (requested !== undefined) {
      if (this.#outgoing.has(requested)) {
        throw new AssociationError(
          AssociationErrorCode.INVALID_ARGUMENT,
          `message ID ${requested} is already outstanding`,
        );
      }
      return requested;
    }
    for (;;) {
      const id = this.#ids.allocate();
      if (!this.#outgoing.has(id)) return id;
    }
  }

  /** A presentation context accepted for the SOP class on which we may act as SCU. */
  #pickContext(msg: Record<string, unknown>, transferSyntax: string | undefined): number {
    const sopClass = (msg.affectedSopClassUid ?? msg.requestedSopClassUid) as string | undefined;
    const key = `${sopClass}|${transferSyntax ?? ''}|${msg.commandField === CommandField.N_EVENT_REPORT_RQ}`;
    const cached = this.#contextCache.get(key);
    if (cached !== undefined) return cached;
    const canInvoke = (c: NegotiatedContext) =>
      c.accepted &&
      c.abstractSyntax === sopClass &&
      (this.role === 'requestor'
        ? c.requestorScu
        : c.requestorScp || msg.commandField === CommandField.N_EVENT_REPORT_RQ);
    const candidates = [...this.#contexts.values()].filter(canInvoke);
    const chosen = candidates.find((c) => c.transferSyntax === transferSyntax) ?? candidates[0];
    if (!chosen) {
      throw new NoPresentationContextError(sopClass);
    }
    // Contexts are fixed once established (PS3.8 §7.1.1.13); before that nothing is accepted.
    this.#contextCache.set(key, chosen.id);
    return chosen.id;
  }

  /** Our limit of outstanding invoked operations (PS3.7 Annex D.3.3.3; 0 = unlimited). */
  #windowLimit(): number {
    const w = this.#negotiation?.asyncOperationsWindow;
    const cap = this.#options.maxOperations ?? DEFAULT_MAX_OPERATIONS;
    const negotiated = this.role === 'requestor' ? w?.maxInvoked : w?.maxPerformed;
    return negotiated ? Math.min(negotiated, cap) : cap;
  }

  /** Waits for a free slot of the window and reserves it (released when the operation registers). */
  async #windowSlot(signal: AbortSignal | undefined): Promise<void> {
    while (this.#outgoing.size + this.#reserved >= this.#windowLimit()) {
      if (this.#end) throw this.#end;
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => this.#windowWaiters.push(resolve));
    }
    if (this.#end) throw this.#end;
    this.#reserved++;
  }

  #reserved = 0;

  #settled(op: OutgoingOperation): Promise<void> {
    return new Promise((resolve) => {
      const check = () =>
        this.#outgoing.get(op.messageId) === op ? this.#windowWaiters.push(check) : resolve();
      check();
    });
  }

  #settleOutgoing(
    op: OutgoingOperation,
    response: IncomingResponse | undefined,
    error?: Error,
  ): void {
    if (this.#outgoing.get(op.messageId) !== op) return;
    this.#outgoing.delete(op.messageId);
    this.#ids.release(op.messageId);
    if (op.onAbort) op.signal!.removeEventListener('abort', op.onAbort);
    if (error) op.reject(this.#end && !(error instanceof AssociationError) ? this.#end : error);
    else op.resolve(response!);
    if (this.#windowWaiters.length === 0) return;
    const waiters = this.#windowWaiters;
    this.#windowWaiters = [];
    for (const w of waiters) w();
  }

  // ----- the state machine driver ------------------------------------------

  #attach(connection: Connection, localMaxPduLength: number): void {
    this.#connection = connection;
    this.#useDecoder(localMaxPduLength);
    void this.#readLoop(connection);
  }

  /**
   * A decoder whose P-DATA-TF cap is the maximum length we announce (PS3.8
   * Annex D.1; 0 announces no limit). The acceptor learns it when it sends
   * the A-ASSOCIATE-AC; nothing can be pending then (the peer waits for it).
   */
  #useDecoder(localMaxPduLength: number): void {
    if (this.#decoder && this.#decoder.pending > 0) return;
    this.#decoder = new PduDecoder({
      maxPduLength: localMaxPduLength > 0 ? localMaxPduLength : 0xffffffff,
      ...(this.#options.maxAssociationPduLength && {
        maxAssociationPduLength: this.#options.maxAssociationPduLength,
      }),
    });
  }

  async #readLoop(connection: Connection): Promise<void> {
    let cause: unknown;
    try {
      for await (const chunk of connection) {
        let pdus: Pdu[];
        try {
          pdus = this.#decoder!.push(chunk);
        } catch (error) {
          // PS3.8 §9.2.3 Evt19: unrecognized or invalid PDU.
          const reason = isPduError(error) ? error.abortReason : AbortReason.UNRECOGNIZED_PDU;
          this.#abortFields = { source: AbortSource.SERVICE_PROVIDER, reason };
          this.#end ??= new AssociationAbortedError(
            { source: AbortSource.SERVICE_PROVIDER, reason, local: true },
            'invalid PDU received',
            { cause: error },
          );
          this.#dispatch('Evt19');
          break;
        }
        for (const pdu of pdus) {
          // Waits only for backpressure (a slow data set consumer, a pending match not taken).
          const waiting = this.#receive(pdu);
          if (waiting) await waiting;
          if (this.#state === 'Sta1') break;
        }
        if (this.#state === 'Sta1') break;
      }
    } catch (error) {
      cause = error;
    }
    if (this.#state !== 'Sta1') {
      // After our A-RELEASE-RP (Sta13, AR-5) the peer's close is the normal end, not a loss.
      if (!(this.#released && this.#state === 'Sta13' && !cause))
        this.#end ??= new ConnectionLostError(
          'transport connection closed',
          cause ? { cause } : undefined,
        );
      this.#dispatch('Evt17');
    }
    this.#finish();
  }

  #receive(pdu: Pdu): Promise<void> | undefined {
    if (channels.pduReceived.hasSubscribers)
      channels.pduReceived.publish({ association: this, pdu });
    this.emit('pdu-received', pdu);
    if (this.#state === 'Sta6') this.#idle.start();
    switch (pdu.type) {
      case PduType.A_ASSOCIATE_RQ:
        if (this.#state === 'Sta2') this.#rq = pdu;
        return this.#onPdu('Evt6', pdu, {
          acceptable: (pdu.protocolVersion & 1) === 1 || this.#state !== 'Sta2',
        });
      case PduType.A_ASSOCIATE_AC:
        return this.#onPdu('Evt3', pdu);
      case PduType.A_ASSOCIATE_RJ:
        return this.#onPdu('Evt4', pdu);
      case PduType.P_DATA_TF:
        return this.#onPdu('Evt10', pdu);
      case PduType.A_RELEASE_RQ:
        return this.#onPdu('Evt12', pdu);
      case PduType.A_RELEASE_RP:
        return this.#onPdu('Evt13', pdu);
      case PduType.A_ABORT:
        this.#end ??= new AssociationAbortedError({ source: pdu.source, reason: pdu.reason });
        return this.#onPdu('Evt16', pdu, {
          userInitiatedAbort: pdu.source === AbortSource.SERVICE_USER,
        });
    }
  }

  #lastPdu: Pdu | undefined;
  #pDataDelivery: Promise<void> | undefined = undefined;
  /** True while reading waits on our own consumer (backpressure), not on the peer. */
  #holdingBack = false;
  /** The promise of the last `onPending` call, awaited before the next message is read. */
  #pendingDelivery: Promise<void> | undefined;

  #onPdu(event: Event, pdu: Pdu, ctx?: TransitionContext): Promise<void> | undefined {
    this.#lastPdu = pdu;
    // AA-8 / AA-1 / AA-7 triggered by a valid but unexpected PDU: unexpected-PDU.
    this.#abortFields = {
      source: AbortSource.SERVICE_PROVIDER,
      reason: AbortReason.UNEXPECTED_PDU,
    };
    this.#dispatch(event, ctx);
    const delivery = this.#pDataDelivery;
    this.#pDataDelivery = undefined;
    return delivery;
  }

  /**
   * The peer took none of our bytes in time (send deadline, or idle with a
   * send waiting): A-ABORT (AA-1; our writes are whole PDUs, so it queues at
   * a PDU boundary), then the connection is dropped at once as ARTIM expiry
   * would (AA-2): a peer that reads nothing never reads the A-ABORT.
   */
  #sendStalled(error: TimeoutError): void {
    this.#localAbort(error);
    this.#connection?.abort(error);
  }

  #localAbort(error: DnetError): void {
    this.#end ??= error;
    if (this.#state === 'Sta2' || this.#state === 'Sta13' || this.#state === 'Sta1') {
      this.#connection?.abort(error);
      return;
    }
    this.#abortFields = { source: AbortSource.SERVICE_USER, reason: 0 };
    this.#dispatch('Evt15');
  }

  /** Runs one event through {@link transition} and performs the effects. */
  #dispatch(event: Event, ctx?: TransitionContext, sendPData?: () => void): void {
    const from = this.#state;
    const t = transition(
      from,
      event,
      ctx ? { requestor: this.role === 'requestor', ...ctx } : this.#baseContext,
    );
    if (!t) {
      // A blank cell: a local primitive not allowed here (PDU events cannot reach blank cells).
      if (this.#end && (event === 'Evt9' || event === 'Evt11' || event === 'Evt14'))
        throw this.#end;
      throw new InvalidStateError(from, event, event);
    }
    this.#state = t.next;
    const publish = channels.transition.hasSubscribers;
    if (publish || this.listenerCount('transition') > 0) {
      const record: TransitionRecord = { from, event, action: t.action, to: t.next };
      if (publish) channels.transition.publish({ association: this, ...record });
      this.emit('transition', record);
    }
    for (const effect of t.effects) {
      switch (effect) {
        case 'transport-connect':
        case 'transport-respond':
          break; // done by associate() / the listener
        case 'transport-close':
          if (event === 'Evt18')
            this.#connection?.abort(new TimeoutError('artim', this.#timeouts.artimMs));
          else void this.#connection?.close();
          break;
        case 'send-a-associate-rq':
          this.#writePdu(this.#rq!);
          this.#acse.start();
          if (channels.requested.hasSubscribers)
            channels.requested.publish({ association: this, rq: this.#rq });
          break;
        case 'send-a-associate-ac': {
          this.#acse.stop();
          const ac = this.#pendingOut as AAssociateAc;
          this.#response = ac;
          this.#writePdu(ac);
          this.#useDecoder(ac.userInformation.maxLength);
          this.#establish(readNegotiation(this.#rq!, ac));
          break;
        }
        case 'send-a-associate-rj': {
          this.#acse.stop();
          const rj =
            (this.#pendingOut as AAssociateRj | undefined) ??
            ({ type: PduType.A_ASSOCIATE_RJ, result: 1, source: 2, reason: 2 } as AAssociateRj);
          this.#response = rj;
          this.#writePdu(rj);
          const error = new AssociationRejectedError(rj);
          this.#end ??= error;
          if (channels.rejected.hasSubscribers)
            channels.rejected.publish({ association: this, error });
          this.emit('rejected', error);
          break;
        }
        case 'send-p-data-tf':
          sendPData?.();
          break;
        case 'send-a-release-rq':
          this.#writePdu({ type: PduType.A_RELEASE_RQ });
          this.#acse.start();
          break;
        case 'send-a-release-rp':
          this.#writePdu({ type: PduType.A_RELEASE_RP });
          this.#released = true;
          break;
        case 'send-a-abort-user':
          // AA-1: service-user source for a local abort; provider source when the provider detects (Sta2).
          this.#writePdu({
            type: PduType.A_ABORT,
            ...(event === 'Evt15' ? this.#abortFields : this.#providerAbort()),
          });
          break;
        case 'send-a-abort-provider':
          this.#writePdu({ type: PduType.A_ABORT, ...this.#providerAbort() });
          break;
        case 'indicate-a-associate':
          if (channels.requested.hasSubscribers)
            channels.requested.publish({ association: this, rq: this.#rq });
          // The local answer (Evt7/Evt8) is bounded by the ACSE timer too.
          if (this.#state === 'Sta3') this.#acse.start();
          this.emit('requested', this.#rq!);
          break;
        case 'confirm-a-associate-accept': {
          this.#acse.stop();
          this.#response = this.#lastPdu as AAssociateAc;
          this.#establish(readNegotiation(this.#rq!, this.#response));
          break;
        }
        case 'confirm-a-associate-reject': {
          this.#acse.stop();
          this.#response = this.#lastPdu as AAssociateRj;
          const error = new AssociationRejectedError(this.#response);
          this.#end ??= error;
          if (channels.rejected.hasSubscribers)
            channels.rejected.publish({ association: this, error });
          this.emit('rejected', error);
          break;
        }
        case 'indicate-p-data':
          this.#pDataDelivery = this.#onPData((this.#lastPdu as PDataTf).pdvs);
          break;
        case 'indicate-a-release':
        case 'indicate-a-release-collision': {
          const collision = effect === 'indicate-a-release-collision';
          this.emit('release-requested', { collision });
          if (!this.#options.manualRelease) {
            // AR-2 / AR-8: answer at once (Evt14) unless the user answers; the acceptor of a collision waits for the RP first (Sta10).
            if (this.#state === 'Sta8' || this.#state === 'Sta9')
              queueMicrotask(() => this.#tryDispatch('Evt14'));
          }
          break;
        }
        case 'confirm-a-release':
          this.#acse.stop();
          this.#released = true;
          if (this.#state === 'Sta12' && !this.#options.manualRelease) {
            queueMicrotask(() => this.#tryDispatch('Evt14'));
          }
          this.#releaseWaiter?.resolve();
          this.#releaseWaiter = undefined;
          break;
        case 'indicate-a-abort':
        case 'indicate-a-p-abort':
          // The error was recorded where the event arose (A-ABORT PDU, transport loss, invalid PDU).
          this.#end ??= new AssociationAbortedError({
            source: AbortSource.SERVICE_PROVIDER,
            reason: 0,
          });
          break;
        case 'start-artim':
          this.#artim.start();
          break;
        case 'stop-artim':
          this.#artim.stop();
          break;
        case 'ignore-pdu':
          break;
      }
    }
    if (t.next === 'Sta13' || t.next === 'Sta1') this.#terminate();
  }

  /** The transition context of events that need nothing but the role. */
  get #baseContext(): TransitionContext {
    return this.role === 'requestor' ? REQUESTOR_CONTEXT : ACCEPTOR_CONTEXT;
  }

  #tryDispatch(event: Event): void {
    try {
      this.#dispatch(event);
    } catch {
      // the association moved on meanwhile
    }
  }

  #providerAbort(): { source: number; reason: number } {
    return this.#abortFields.source === AbortSource.SERVICE_PROVIDER
      ? this.#abortFields
      : { source: AbortSource.SERVICE_PROVIDER, reason: AbortReason.NOT_SPECIFIED };
  }

  #establish(negotiation: Negotiation): void {
    this.#negotiation = negotiation;
    this.#contexts = new Map(negotiation.contexts.map((c) => [c.id, c]));
    this.#contextCache.clear();
    this.#peerMaxPduLength =
      (this.role === 'requestor'
        ? negotiation.acceptorMaxPduLength
        : negotiation.requestorMaxPduLength) ?? 0;
    this.#idle.start();
    if (channels.accepted.hasSubscribers)
      channels.accepted.publish({ association: this, negotiation });
    this.emit('accepted', negotiation);
    this.#established?.resolve(negotiation);
    this.#established = undefined;
  }

  #writePdu(pdu: Pdu): void {
    this.#write([encodePdu(pdu)], () => pdu);
  }

  /** Writes one PDU; `describe` builds the PDU object for observers only when someone listens. */
  #write(chunks: Uint8Array[], describe: () => Pdu): void {
    const c = this.#connection;
    if (!c) return;
    try {
      this.#writable = c.write(chunks.length > 1 ? joinSmall(chunks) : chunks);
      if (this.#writable) this.#unflushed = 0;
      else for (const chunk of chunks) this.#unflushed += chunk.length;
    } catch (error) {
      this.#end ??= new ConnectionLostError('write failed', { cause: error });
      return;
    }
    if (this.#state === 'Sta6') this.#idle.start();
    const channel = channels.pduSent.hasSubscribers;
    if (!channel && this.listenerCount('pdu-sent') === 0) return;
    const pdu = describe();
    if (channel) channels.pduSent.publish({ association: this, pdu });
    this.emit('pdu-sent', pdu);
  }

  /**
   * The association no longer exists (Sta13 or Sta1): every pending
   * operation settles with the reason, timers other than ARTIM stop.
   */
  #terminate(): void {
    this.#acse.stop();
    this.#idle.stop();
    this.#dimse.stop();
    this.#send.stop();
    const waiters = this.#windowWaiters;
    this.#windowWaiters = [];
    // The error is made (a stack trace captured) only when something is left to settle:
    // a clean release has nothing, and ends a few hundred times a second (assoc/s bench).
    if (
      this.#outgoing.size > 0 ||
      this.#incoming.size > 0 ||
      this.#dataSet ||
      this.#established ||
      (this.#releaseWaiter && !this.#released)
    ) {
      const error =
        this.#end ?? (this.#released ? new AssociationReleasedError() : new ConnectionLostError());
      for (const op of [...this.#outgoing.values()]) this.#settleOutgoing(op, undefined, error);
      for (const inc of this.#incoming.values()) abortIncoming(inc, error);
      this.#incoming.clear();
      this.#ended = { reason: error };
      this.#endController?.abort(error);
      this.#dataSet?.stream.fail(error);
      this.#dataSet = undefined;
      if (this.#established) {
        this.#established.reject(error);
        this.#established = undefined;
      }
      if (this.#releaseWaiter && !this.#released) {
        this.#releaseWaiter.reject(error);
        this.#releaseWaiter = undefined;
      }
    }
    for (const w of waiters) w();
    if (this.#state === 'Sta1' && this.#connection === undefined) this.#finish();
  }

  #finished = false;

  /** Sta1 and the read loop is over: announce the end once and settle `closed`. */
  #finish(): void {
    if (this.#finished) return;
    if (this.#state !== 'Sta1') return;
    this.#finished = true;
    this.#artim.stop();
    this.#terminate();
    const done = () => {
      if (this.#released && !(this.#end instanceof AssociationAbortedError)) {
        if (channels.released.hasSubscribers) channels.released.publish({ association: this });
        this.emit('released');
      } else if (this.#end && !(this.#end instanceof AssociationRejectedError)) {
        if (channels.aborted.hasSubscribers)
          channels.aborted.publish({ association: this, error: this.#end });
        this.emit('aborted', this.#end);
      }
      this.emit('closed');
      this.#resolveClosed();
    };
    if (this.#connection) void this.#connection.close().then(done, done);
    else done();
  }

  // ----- DIMSE reception (PS3.8 Annex E, PS3.7 §6.3.1) ---------------------

  /** P-DATA indication: hands the messages on; returns a promise only when reading must wait. */
  #onPData(pdvs: PresentationDataValue[]): Promise<void> | undefined {
    this.emit('p-data', pdvs);
    if (this.#state !== 'Sta6' && this.#state !== 'Sta7') return undefined;
    let events: ReassemblyEvent[];
    try {
      // PS3.8 Annex E.2, PS3.7 §6.3: order, contexts and command size checked by @dnet/dimse.
      events = this.#reassembler.push(pdvs);
    } catch (error) {
      this.#protocolAbort(`invalid P-DATA: ${(error as Error).message}`, error);
      return undefined;
    }
    return this.#deliver(events, 0);
  }

  /** Delivers reassembly events from `from` on, synchronously until something must be waited for. */
  #deliver(events: ReassemblyEvent[], from: number): Promise<void> | undefined {
    let full: IncomingDataSet | undefined;
    for (let i = from; i < events.length; i++) {
      const event = events[i]!;
      if (event.type === 'command') {
        // Backpressure for pending responses: the next message waits until the
        // consumer has taken the previous match (its data set is complete by now).
        const held = this.#pendingDelivery;
        if (held) {
          this.#pendingDelivery = undefined;
          return this.#deliverAfter(held, events, i);
        }
        let stream: IncomingDataSet | undefined;
        if (event.message.hasDataSet) {
          stream = new IncomingDataSet(
            this.#options.dataSetHighWaterMark
              ? { highWaterMark: this.#options.dataSetHighWaterMark }
              : {},
          );
          this.#dataSet = { stream, contextId: event.contextId };
        }
        this.#onMessage(event.message, this.#contexts.get(event.contextId)!, stream);
      } else if (event.type === 'data') {
        const stream = this.#dataSet?.stream;
        if (stream) full = stream.push(event.data) ? undefined : stream;
      } else if (this.#dataSet) {
        this.#dataSet.stream.end();
        this.#dataSet = undefined;
      }
    }
    // Backpressure: stop reading while the consumer lags behind (the stream is above its mark).
    return full ? this.#drain(full) : undefined;
  }

  async #deliverAfter(held: Promise<void>, events: ReassemblyEvent[], from: number): Promise<void> {
    this.#holdingBack = true;
    try {
      await held;
    } finally {
      this.#holdingBack = false;
    }
    const more = this.#deliver(events, from);
    if (more) await more;
  }

  async #drain(stream: IncomingDataSet): Promise<void> {
    this.#holdingBack = true;
    try {
      await stream.drained();
    } finally {
      this.#holdingBack = false;
      // The state may have moved on while we waited (the type narrowing above does not know).
      const state = this.#state as string;
      if (state === 'Sta6' || state === 'Sta8') this.#idle.start();
    }
  }

  #protocolAbort(message: string, cause?: unknown): void {
    this.#end ??= new AssociationError(
      AssociationErrorCode.PROTOCOL,
      message,
      cause ? { cause } : undefined,
    );
    this.abort(AbortSource.SERVICE_PROVIDER, AbortReason.NOT_SPECIFIED);
  }

  #onMessage(
    message: DimseMessage,
    context: NegotiatedContext,
    dataSet: IncomingDataSet | undefined,
  ): void {
    if (message.commandField & 0x8000) {
      const rsp = message as DimseResponse;
      const response: IncomingResponse = { message: rsp, contextId: context.id, dataSet };
      this.emit('response', response);
      const op = this.#outgoing.get(rsp.messageIdBeingRespondedTo);
      if (!op) {
        dataSet?.discard();
        return;
      }
      if (isPending(rsp.status)) {
        this.#startDimse(op);
        if (op.onPending) {
          const r = op.onPending(response);
          if (r instanceof Promise) this.#pendingDelivery = r.catch(() => {});
        } else dataSet?.discard();
        return;
      }
      this.#settleOutgoing(op, response);
      return;
    }
    const rq = message as DimseRequest;
    if (rq.commandField === CommandField.C_CANCEL_RQ) {
      const target = this.#incoming.get(rq.messageIdBeingRespondedTo);
      // A C-CANCEL-RQ naming a request that cannot be cancelled changes nothing.
      if (target && !target.shared)
        abortIncoming(
          target,
          new AssociationError(AssociationErrorCode.CANCELLED, 'C-CANCEL-RQ received'),
        );
      const cancel: IncomingRequest = {
        message: rq,
        contextId: context.id,
        context,
        dataSet,
        signal: new AbortController().signal,
        respond: async () => {
          throw new AssociationError(
            AssociationErrorCode.INVALID_ARGUMENT,
            'C-CANCEL-RQ has no response (PS3.7 §9.3.2.3)',
          );
        },
      };
      this.emit('C-CANCEL-RQ', cancel as IncomingRequest<CCancelRq>);
      this.emit('request', cancel);
      return;
    }
    const messageId = (rq as { messageId: number }).messageId;
    const maxOps = this.#options.maxOperations ?? DEFAULT_MAX_OPERATIONS;
    if (this.#incoming.size >= maxOps) {
      dataSet?.discard();
      this.#protocolAbort(`more than ${maxOps} operations outstanding from the peer`);
      return;
    }
    // Only C-FIND, C-GET and C-MOVE get a signal of their own; creating an
    // AbortController per C-STORE or C-ECHO costs more than the rest of its dispatch.
    const entry: IncomingOperation = {
      controller: undefined,
      reason: undefined,
      aborted: false,
      shared: !CANCELLABLE.has(rq.commandField),
    };
    this.#incoming.set(messageId, entry);
    const endSignal = () => this.#endSignal();
    const incoming: IncomingRequest = {
      message: rq,
      contextId: context.id,
      context,
      dataSet,
      get signal() {
        return entry.shared ? endSignal() : incomingSignal(entry);
      },
      respond: (response, rspDataSet) => {
        if (!isPending(response.status) && this.#incoming.get(messageId) === entry)
          this.#incoming.delete(messageId);
        return this.send(context.id, response, rspDataSet);
      },
    };
    const name = requestEvent[rq.commandField];
    const handled = (name ? this.listenerCount(name) : 0) + this.listenerCount('request') > 0;
    if (name) (this.emit as (n: string, r: IncomingRequest) => boolean)(name, incoming);
    this.emit('request', incoming);
    if (!handled) {
      dataSet?.discard();
      // PS3.7 §9.1.5: C-ECHO succeeds; anything else is refused (unrecognized operation, 0211H).
      const status = rq.commandField === CommandField.C_ECHO_RQ ? 0x0000 : 0x0211;
      incoming.respond(responseFor(rq, status)).catch(() => {});
    }
  }
}
