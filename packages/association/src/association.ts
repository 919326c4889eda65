import { EventEmitter } from 'node:events';
import {
  type CEchoRq,
  type CFindRq,
  type CGetRq,
  type CMoveRq,
  CommandField,
  type CStoreRq,
  type DimseMessage,
  type DimseRequest,
  type NActionRq,
  type NCreateRq,
  type NDeleteRq,
  type NEventReportRq,
  type NGetRq,
  type NSetRq,
} from '@dnet/dimse';
import {
  type AAssociateAc,
  type AAssociateRj,
  type AAssociateRq,
  AbortSource,
  type PresentationDataValue,
} from '@dnet/pdu';
import type { Connection } from '@dnet/transport';
import { Acse, type AssociateOptions } from './acse.js';
import type { AssociationEventMap } from './association-events.js';
import type {
  AcceptAssociationOptions,
  AssociationInfo,
  AssociationOptions,
  RequestAssociationOptions,
} from './association-options.js';
import { channels } from './diagnostics.js';
import type {
  DataSetSource,
  IncomingResponse,
  RequestOptions,
  WithOptionalId,
} from './dimse-primitives.js';
import { DimseProvider } from './dimse-provider.js';
import {
  AssociationAbortedError,
  AssociationRejectedError,
  AssociationReleasedError,
  ConnectionLostError,
} from './errors.js';
import { DEFAULT_MAX_PDU_LENGTH, decideAssociation, type Negotiation } from './negotiation.js';
import { type RequestCommand, type RequestHandler, RequestHandlers } from './request-handlers.js';
import type { State } from './state-machine.js';
import { defaultTimeouts, type Timeouts } from './timer.js';
import { UpperLayer, type UpperLayerUser } from './upper-layer.js';

/**
 * One DICOM association over a transport `Connection` (`@dnet/transport`): a small facade
 * over its three PS3.8 roles, the `UpperLayer` (state machine, read
 * loop, write path), the `Acse` (A-ASSOCIATE, A-RELEASE) and the
 * `DimseProvider` (DIMSE messages, several operations outstanding in
 * both directions within the negotiated asynchronous operations window).
 *
 * High level: `Association.request` and {@link Association.accept}.
 * Low level: {@link Association.requestor} / {@link Association.acceptor},
 * then one method per primitive; requests of the peer go to one handler
 * per command ({@link Association.handle}), notifications are events.
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
  readonly #ul: UpperLayer;
  readonly #acse: Acse;
  readonly #dimse: DimseProvider;
  readonly #handlers: RequestHandlers;
  readonly #closedPromise: Promise<void>;
  #resolveClosed!: () => void;

  /** Use {@link Association.requestor}, {@link Association.acceptor}, or the high-level entry points. */
  protected constructor(role: 'requestor' | 'acceptor', options: AssociationOptions = {}) {
    // An async listener that rejects lands in [captureRejectionSymbol], never unhandled.
    super({ captureRejections: true });
    this.role = role;
    const requestor = role === 'requestor';
    const timeouts: Timeouts = { ...defaultTimeouts, ...options.timeouts };
    const user: UpperLayerUser = {
      acse: (effect, event) => this.#acse.perform(effect, event),
      pData: (pdvs) => this.#dimse.pData(pdvs),
      get busy() {
        return dimse().busy;
      },
      get midMessage() {
        return dimse().midMessage;
      },
      terminated: () => this.#terminated(),
      finished: () => this.#finished(),
    };
    const dimse = () => this.#dimse;
    this.#ul = new UpperLayer(requestor, user, this, options, timeouts);
    this.#handlers = new RequestHandlers(
      (error, command) => this.emit('handler-error', { error, command }),
      (rq) => !this.#dimse.performing((rq.message as { messageId: number }).messageId),
    );
    this.#dimse = new DimseProvider(this.#ul, this, requestor, options, timeouts, (rq) =>
      this.#handlers.dispatch(rq),
    );
    this.#acse = new Acse(this.#ul, this, requestor, options, timeouts, (n, peerMax) =>
      this.#dimse.establish(n, peerMax),
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
    a.#ul.attach(connection, DEFAULT_MAX_PDU_LENGTH);
    a.#ul.dispatch('Evt5');
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
   * (ARTIM), decides it by the policy (and `options.authorize`, around it),
   * answers AC or RJ. Resolves with the
   * established association; rejects with {@link AssociationRejectedError}
   * when we rejected, or the error that ended the attempt.
   */
  static async accept(
    connection: Connection,
    options: AcceptAssociationOptions,
  ): Promise<Association> {
    const a = Association.acceptor(connection, options);
    const rq = await new Promise<AAssociateRq>((resolve, reject) => {
      const onEnd = () => reject(a.#ul.end ?? new ConnectionLostError());
      a.once('requested', (r) => {
        a.off('closed', onEnd);
        resolve(r);
      });
      a.once('closed', onEnd);
    });
    let decision: Awaited<ReturnType<typeof decideAssociation>>;
    try {
      const decide = () =>
        decideAssociation(rq, options.policy, {
          associationLimitReached: options.associationLimitReached ?? false,
        });
      decision = await (options.authorize ? options.authorize(rq, decide) : decide());
    } catch (error) {
      // A policy or authorize callback failed: reject (service-user, no-reason-given) rather than hang in Sta3.
      if (a.state === 'Sta3') a.rejectAssociation({ result: 1, source: 1, reason: 1 });
      throw error;
    }
    if (a.state !== 'Sta3') throw a.#ul.end ?? new ConnectionLostError();
    if (!decision.accepted) {
      a.rejectAssociation(decision.rejection);
      throw new AssociationRejectedError(decision.rejection);
    }
    a.acceptAssociation(decision.ac);
    return a;
  }

  /** @internal Rejections of async notification listeners (EventEmitter `captureRejections`). */
  override [EventEmitter.captureRejectionSymbol]<K>(
    error: Error,
    event: keyof AssociationEventMap | K,
    ..._args: K extends keyof AssociationEventMap ? AssociationEventMap[K] : never
  ): void {
    if (event !== 'listener-error') this.emit('listener-error', { error, event: String(event) });
  }

  /**
   * Registers the one handler of a DIMSE command the peer may request
   * (PS3.7 §9.1, §10.1): it performs each such request and answers it with
   * `request.respond`. A second handler for the same command throws. A
   * request without a handler is answered as PS3.7 prescribes: C-ECHO with
   * success (§9.1.5), any other with 0211H Unrecognized operation. A handler
   * that throws or rejects before its final response gets 0110H Processing
   * failure sent for it, and a `handler-error` event.
   *
   * @example
   * ```ts
   * association.handle('C-STORE', async (rq) => {
   *   await save(rq.dataSet!);
   *   await rq.respond(respondTo(rq.message, { status: 0x0000 }));
   * });
   * ```
   */
  handle<C extends RequestCommand>(command: C, handler: RequestHandler<C>): this {
    this.#handlers.set(command, handler);
    return this;
  }

  /** Removes the handler of `command`: its requests are answered as if none had been registered. */
  unhandle(command: RequestCommand): this {
    this.#handlers.delete(command);
    return this;
  }

  /** Whether `command` has a handler. */
  handles(command: RequestCommand): boolean {
    return this.#handlers.has(command);
  }

  /**
   * The association no longer exists (Sta13 or Sta1): every pending
   * operation settles with the reason, timers other than ARTIM stop.
   */
  #terminated(): void {
    this.#acse.stop();
    this.#dimse.stop();
    // The error is made (a stack trace captured) only when something is left to settle:
    // a clean release has nothing, and ends a few hundred times a second (assoc/s bench).
    if (this.#dimse.pending || this.#acse.pending) {
      const ul = this.#ul;
      const error =
        ul.end ?? (ul.released ? new AssociationReleasedError() : new ConnectionLostError());
      this.#dimse.fail(error);
      this.#acse.fail(error);
    }
  }

  /** Sta1 and the connection is closed: announce the end once and settle `closed`. */
  #finished(): void {
    const end = this.#ul.end;
    if (this.#ul.released && !(end instanceof AssociationAbortedError)) {
      if (channels.released.hasSubscribers) channels.released.publish({ association: this });
      this.emit('released');
    } else if (end && !(end instanceof AssociationRejectedError)) {
      if (channels.aborted.hasSubscribers)
        channels.aborted.publish({ association: this, error: end });
      this.emit('aborted', end);
    }
    this.emit('closed');
    this.#resolveClosed();
  }

  // ----- information --------------------------------------------------------

  /** Current state (PS3.8 §9.2.1). */
  get state(): State {
    return this.#ul.state;
  }

  /**
   * True while the association is established and ready for data transfer
   * (Sta6, PS3.8 Table 9-10): before negotiation ends, once a release or an
   * abort began, and after the end, false.
   */
  get established(): boolean {
    return this.#ul.state === 'Sta6';
  }

  /** The A-ASSOCIATE-RQ sent (requestor) or received (acceptor), as a PDU. */
  get associateRequest(): AAssociateRq | undefined {
    return this.#acse.rq;
  }

  /** The A-ASSOCIATE-AC or -RJ sent (acceptor) or received (requestor), as a PDU. */
  get associateResponse(): AAssociateAc | AAssociateRj | undefined {
    return this.#acse.response;
  }

  /** The negotiation result once established. */
  get negotiation(): Negotiation | undefined {
    return this.#acse.negotiation;
  }

  /** Settles when the association is over and its connection closed. */
  get closed(): Promise<void> {
    return this.#closedPromise;
  }

  /** Everything known about the association, readable at any time. */
  get info(): AssociationInfo {
    const n = this.#acse.negotiation;
    const rq = this.#acse.rq;
    const local = this.role === 'requestor' ? n?.requestorMaxPduLength : n?.acceptorMaxPduLength;
    const peer = this.role === 'requestor' ? n?.acceptorMaxPduLength : n?.requestorMaxPduLength;
    const info = this.#ul.connection?.info;
    return {
      role: this.role,
      state: this.#ul.state,
      connection: info,
      callingAeTitle: rq?.callingAeTitle,
      calledAeTitle: rq?.calledAeTitle,
      contexts: n?.contexts ?? [],
      localMaxPduLength: local,
      peerMaxPduLength: peer,
      asyncOperationsWindow: n?.asyncOperationsWindow,
      userIdentity: rq?.userInformation.userIdentity,
      encrypted: info?.encrypted ?? false,
      peerCertificate: info?.peerCertificate,
    };
  }

  /** Outstanding operations we invoked, and those the peer invoked. */
  get outstanding(): { invoked: number; performing: number } {
    return this.#dimse.outstanding;
  }

  /**
   * True when nothing is being written and the transport has handed every
   * byte written so far to the operating system: the memory of data sets
   * sent so far may be reused. False when unknown (a transport without
   * `flushed`, such as the in-memory one, or no connection).
   */
  get flushed(): boolean {
    return !this.#ul.writing && this.#ul.transportFlushed;
  }

  /**
   * True when the transport has handed every byte written to it so far to the
   * operating system, even while a message is still being written: the
   * memory of the PDUs already written (a streamed data set's earlier chunks)
   * may be reused. False when unknown (see {@link Association.flushed}).
   */
  get transportFlushed(): boolean {
    return this.#ul.transportFlushed;
  }

  // ----- A-ASSOCIATE, A-RELEASE, A-ABORT (ACSE) -----------------------------

  /**
   * A-ASSOCIATE request (Evt1): connects (AE-1), sends the A-ASSOCIATE-RQ
   * (AE-2) and waits for the answer under the ACSE timer. Resolves with the
   * negotiation (AE-3); rejects with {@link AssociationRejectedError} (AE-4),
   * {@link AssociationAbortedError}, {@link ConnectionLostError} or {@link TimeoutError}.
   */
  associate(options: AssociateOptions): Promise<Negotiation> {
    return this.#acse.associate(options);
  }

  /** A-ASSOCIATE response (accept), Evt7 / AE-7: sends the A-ASSOCIATE-AC. */
  acceptAssociation(ac: AAssociateAc): void {
    this.#acse.accept(ac);
  }

  /** A-ASSOCIATE response (reject), Evt8 / AE-8: sends the A-ASSOCIATE-RJ and waits for the close under ARTIM. */
  rejectAssociation(rejection: { result: number; source: number; reason: number }): void {
    this.#acse.reject(rejection);
  }

  /**
   * A-RELEASE request (Evt11, AR-1): sends A-RELEASE-RQ and resolves when the
   * A-RELEASE-RP arrived (AR-3) and the connection is closed. Waits first for
   * our outstanding operations. Rejects if the association is aborted meanwhile.
   */
  async release(): Promise<void> {
    // Nothing outstanding: the A-RELEASE-RQ leaves synchronously (the state is Sta7 on return).
    if (this.#dimse.outstanding.invoked > 0) await this.#dimse.settled();
    await this.#acse.release();
    await this.#closedPromise;
  }

  /** A-RELEASE response (Evt14): with `manualRelease`, answers the peer's A-RELEASE-RQ. */
  releaseResponse(): void {
    this.#acse.releaseResponse();
  }

  /**
   * A-ABORT request (Evt15, AA-1): sends A-ABORT (service-user source by
   * default) and closes. Every pending operation rejects with
   * {@link AssociationAbortedError}. Does nothing once the association is over.
   */
  abort(source: number = AbortSource.SERVICE_USER, reason = 0): void {
    this.#ul.abort(source, reason);
  }

  // ----- P-DATA and DIMSE ---------------------------------------------------

  /**
   * P-DATA request (Evt9, DT-1 or AR-7): sends one P-DATA-TF with these PDVs
   * as a gathered write, waiting for drain. Low level: DIMSE users call
   * {@link Association.send} or the request methods instead.
   */
  sendPData(pdvs: readonly PresentationDataValue[]): Promise<void> {
    return this.#ul.sendPData(pdvs);
  }

  /**
   * Sends one DIMSE message (command, then its data set) on a presentation
   * context, fragmented to the peer's maximum PDU length (PS3.8 Annex E).
   * Messages are never interleaved (one at a time on the wire).
   */
  send(contextId: number, message: DimseMessage, dataSet?: DataSetSource): Promise<void> {
    return this.#dimse.send(contextId, message, dataSet);
  }

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
    return this.#dimse.request(message, options);
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

  /** C-GET (PS3.7 §9.1.3): the C-STORE sub-operations go to this association's `C-STORE` handler. */
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
  cCancel(messageId: number, contextId?: number): Promise<void> {
    return this.#dimse.cCancel(messageId, contextId);
  }
}
