import type { EventEmitter } from 'node:events';
import { commandOnlyPdu, fragmentMessage, fragmentMessageAsync } from '@dnet/dimse';
import {
  AbortReason,
  AbortSource,
  decodePdu,
  encodePDataTf,
  encodePdu,
  isPduError,
  type Pdu,
  PduDecoder,
  PduType,
  type PresentationDataValue,
} from '@dnet/pdu';
import type { Connection } from '@dnet/transport';
import type { AssociationEventMap } from './association-events.js';
import type { AssociationOptions } from './association-options.js';
import { channels, type TransitionRecord } from './diagnostics.js';
import type { DataSetSource } from './dimse-primitives.js';
import {
  AssociationAbortedError,
  AssociationError,
  AssociationErrorCode,
  ConnectionLostError,
  type DnetError,
  InvalidStateError,
  TimeoutError,
} from './errors.js';
import { SendDeadline } from './send-deadline.js';
import {
  type Effect,
  type Event,
  type State,
  type TransitionContext,
  transition,
} from './state-machine.js';
import { type Timeouts, Timer } from './timer.js';

/** The effects of Table 9-10 that belong to ACSE: A-ASSOCIATE and A-RELEASE PDUs, indications and confirmations. */
export type AcseEffect = Extract<
  Effect,
  | 'send-a-associate-rq'
  | 'send-a-associate-ac'
  | 'send-a-associate-rj'
  | 'send-a-release-rq'
  | 'send-a-release-rp'
  | 'indicate-a-associate'
  | 'confirm-a-associate-accept'
  | 'confirm-a-associate-reject'
  | 'indicate-a-release'
  | 'indicate-a-release-collision'
  | 'confirm-a-release'
>;

/**
 * What the upper layer hands up: the ACSE effects of each transition, the
 * P-DATA indications, and the end. Implemented by the association, which
 * routes them to its ACSE and DIMSE provider.
 */
export interface UpperLayerUser {
  /** Carries out one ACSE effect of the transition caused by `event`. */
  acse(effect: AcseEffect, event: Event): void;
  /** P-DATA indication (DT-2); returns a promise only when reading must wait (backpressure). */
  pData(pdvs: PresentationDataValue[]): Promise<void> | undefined;
  /** Whether operations are outstanding in either direction. */
  readonly busy: boolean;
  /** Whether a DIMSE message is half received. */
  readonly midMessage: boolean;
  /** The association no longer exists (Sta13 or Sta1): settle what is pending. */
  terminated(): void;
  /** Sta1 and the connection closed: announce the end once. */
  finished(): void;
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

const RESOLVED: Promise<void> = Promise.resolve();
const REQUESTOR_CONTEXT: TransitionContext = Object.freeze({ requestor: true });
const ACCEPTOR_CONTEXT: TransitionContext = Object.freeze({ requestor: false });
const noop = (): void => {};

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
 * The upper layer protocol machine of PS3.8 §9.2 for one association (the
 * DUL of pynetdicom): the read loop and the PDU decoder, the pure
 * {@link transition} of Table 9-10 applied, the write path with
 * backpressure and the send deadline, ARTIM and the idle timer. ACSE and
 * DIMSE effects go up to its {@link UpperLayerUser}.
 */
export class UpperLayer {
  /** Current state (PS3.8 §9.2.1). */
  state: State = 'Sta1';
  /** The transport connection, once there is one. */
  connection: Connection | undefined;
  /** Why the association ended (or is ending): the first cause recorded wins. */
  end: DnetError | undefined;
  /** An A-RELEASE completed (AR-3 or AR-4): the close that follows is no loss. */
  released = false;
  /** The PDU whose event is being dispatched. */
  lastPdu: Pdu | undefined;
  /** True while reading waits on our own consumer (backpressure), not on the peer. */
  holdingBack = false;
  /** The A-ABORT fields of the next AA-1 / AA-7 / AA-8. */
  #abortFields: { source: number; reason: number } = { source: 0, reason: 0 };
  #decoder: PduDecoder | undefined;
  readonly #requestor: boolean;
  readonly #user: UpperLayerUser;
  readonly #events: EventEmitter<AssociationEventMap>;
  readonly #options: AssociationOptions;
  readonly #timeouts: Timeouts;
  readonly #artim: Timer;
  readonly #idle: Timer;
  /** Bounds every wait for the transport to take our bytes (a peer that stops reading). */
  readonly #send: SendDeadline;
  #pDataDelivery: Promise<void> | undefined;
  #finished = false;
  #writable = true;
  /** Bytes written since the transport last reported room (see `#mustDrain`). */
  #unflushed = 0;
  /** The messages being written, in order; undefined when nothing is. */
  #writeTail: Promise<void> | undefined;
  #outChunks: Uint8Array[] | undefined;

  /**
   * @param requestor Whether we are the association-requestor.
   * @param user Where ACSE and DIMSE effects go.
   * @param events The association: its events and the `association` of diagnostics messages.
   */
  constructor(
    requestor: boolean,
    user: UpperLayerUser,
    events: EventEmitter<AssociationEventMap>,
    options: AssociationOptions,
    timeouts: Timeouts,
  ) {
    this.#requestor = requestor;
    this.#user = user;
    this.#events = events;
    this.#options = options;
    this.#timeouts = timeouts;
    // PS3.8 §9.1.5: ARTIM expiry is Evt18.
    this.#artim = new Timer('artim', timeouts.artimMs, () => this.dispatch('Evt18'));
    // Idle means no PDU and nothing outstanding: a long operation is the DIMSE timer's business.
    // A peer that stops in the middle of a message (its command or data set half received)
    // while we are reading is stalled, not busy: that is bounded by the idle timer too, so
    // one silent peer cannot hold an association (and a handler, a temp file) forever.
    // When we ourselves hold the reading back (a slow data set consumer), nothing is stalled.
    // A send that waits for a peer reading nothing is stalled too (the send deadline being
    // off): abort and drop the connection, as the send deadline does.
    this.#idle = new Timer('idle', timeouts.idleMs, (e) => {
      const stalled = this.#user.midMessage && !this.holdingBack;
      if (this.#send.waiting) this.sendStalled(e);
      else if (!stalled && this.#user.busy) this.#idle.start();
      else this.localAbort(e);
    });
    this.#send = new SendDeadline(timeouts.sendMs ?? timeouts.dimseMs, (e) => this.sendStalled(e));
  }

  /** Restarts the idle timer (traffic, or our own reading resumed). */
  restartIdle(): void {
    this.#idle.start();
  }

  // ----- the state machine driver ------------------------------------------

  /**
   * Runs one event through {@link transition} and performs the effects.
   * Throws {@link InvalidStateError} for a blank cell (a local primitive not
   * allowed in this state), or the end's error for a late send or release.
   */
  dispatch(event: Event, ctx?: TransitionContext, sendPData?: () => void): void {
    const from = this.state;
    const t = transition(
      from,
      event,
      ctx
        ? { requestor: this.#requestor, ...ctx }
        : this.#requestor
          ? REQUESTOR_CONTEXT
          : ACCEPTOR_CONTEXT,
    );
    if (!t) {
      // A blank cell: a local primitive not allowed here (PDU events cannot reach blank cells).
      if (this.end && (event === 'Evt9' || event === 'Evt11' || event === 'Evt14')) throw this.end;
      throw new InvalidStateError(from, event, event);
    }
    this.state = t.next;
    const publish = channels.transition.hasSubscribers;
    if (publish || this.#events.listenerCount('transition') > 0) {
      const record: TransitionRecord = { from, event, action: t.action, to: t.next };
      if (publish) channels.transition.publish({ association: this.#events, ...record });
      this.#events.emit('transition', record);
    }
    for (const effect of t.effects) {
      switch (effect) {
        case 'transport-connect':
        case 'transport-respond':
          break; // done by the A-ASSOCIATE request / the listener
        case 'transport-close':
          if (event === 'Evt18')
            this.connection?.abort(new TimeoutError('artim', this.#timeouts.artimMs));
          else void this.connection?.close();
          break;
        case 'send-p-data-tf':
          sendPData?.();
          break;
        case 'send-a-abort-user':
          // AA-1: service-user source for a local abort; provider source when the provider detects (Sta2).
          this.writePdu({
            type: PduType.A_ABORT,
            ...(event === 'Evt15' ? this.#abortFields : this.#providerAbort()),
          });
          break;
        case 'send-a-abort-provider':
          this.writePdu({ type: PduType.A_ABORT, ...this.#providerAbort() });
          break;
        case 'indicate-p-data':
          this.#pDataDelivery = this.#user.pData(
            (this.lastPdu as Pdu & { pdvs: PresentationDataValue[] }).pdvs,
          );
          break;
        case 'indicate-a-abort':
        case 'indicate-a-p-abort':
          // The error was recorded where the event arose (A-ABORT PDU, transport loss, invalid PDU).
          this.end ??= new AssociationAbortedError({
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
        default:
          this.#user.acse(effect, event);
      }
    }
    if (t.next === 'Sta13' || t.next === 'Sta1') this.#terminate();
  }

  /** {@link UpperLayer.dispatch}, when the association may have moved on meanwhile. */
  tryDispatch(event: Event): void {
    try {
      this.dispatch(event);
    } catch {
      // the association moved on meanwhile
    }
  }

  #providerAbort(): { source: number; reason: number } {
    return this.#abortFields.source === AbortSource.SERVICE_PROVIDER
      ? this.#abortFields
      : { source: AbortSource.SERVICE_PROVIDER, reason: AbortReason.NOT_SPECIFIED };
  }

  /**
   * A-ABORT request (Evt15, AA-1) with these fields. Does nothing once the
   * association is over; in Sta2 drops the connection.
   */
  abort(source: number, reason: number): void {
    if (this.state === 'Sta1' || this.state === 'Sta13' || this.state === 'Sta2') {
      if (this.state === 'Sta2') this.connection?.abort();
      return;
    }
    this.#abortFields = { source, reason };
    this.end ??= new AssociationAbortedError({ source, reason, local: true });
    this.dispatch('Evt15');
  }

  /** A protocol violation found above the PDU codec: A-ABORT (provider, not specified). */
  protocolAbort(message: string, cause?: unknown): void {
    this.end ??= new AssociationError(
      AssociationErrorCode.PROTOCOL,
      message,
      cause ? { cause } : undefined,
    );
    this.abort(AbortSource.SERVICE_PROVIDER, AbortReason.NOT_SPECIFIED);
  }

  /** A local timer expired (ACSE, DIMSE, idle): A-ABORT, or drop the connection where none can be sent. */
  localAbort(error: DnetError): void {
    this.end ??= error;
    if (this.state === 'Sta2' || this.state === 'Sta13' || this.state === 'Sta1') {
      this.connection?.abort(error);
      return;
    }
    this.#abortFields = { source: AbortSource.SERVICE_USER, reason: 0 };
    this.dispatch('Evt15');
  }

  /**
   * The peer took none of our bytes in time (send deadline, or idle with a
   * send waiting): A-ABORT (AA-1; our writes are whole PDUs, so it queues at
   * a PDU boundary), then the connection is dropped at once as ARTIM expiry
   * would (AA-2): a peer that reads nothing never reads the A-ABORT.
   */
  sendStalled(error: TimeoutError): void {
    this.localAbort(error);
    this.connection?.abort(error);
  }

  /**
   * The association no longer exists (Sta13 or Sta1): every pending
   * operation settles with the reason, timers other than ARTIM stop.
   */
  #terminate(): void {
    this.#idle.stop();
    this.#send.stop();
    this.#user.terminated();
    if (this.state === 'Sta1' && this.connection === undefined) this.#finish();
  }

  /** Sta1 and the read loop is over: close the connection and announce the end once. */
  #finish(): void {
    if (this.#finished) return;
    if (this.state !== 'Sta1') return;
    this.#finished = true;
    this.#artim.stop();
    this.#terminate();
    const done = () => this.#user.finished();
    if (this.connection) void this.connection.close().then(done, done);
    else done();
  }

  // ----- reading ------------------------------------------------------------

  /** Takes the connection (AE-2 / AE-5) and starts reading it. */
  attach(connection: Connection, localMaxPduLength: number): void {
    this.connection = connection;
    this.useDecoder(localMaxPduLength);
    void this.#readLoop(connection);
  }

  /**
   * A decoder whose P-DATA-TF cap is the maximum length we announce (PS3.8
   * Annex D.1; 0 announces no limit). The acceptor learns it when it sends
   * the A-ASSOCIATE-AC; nothing can be pending then (the peer waits for it).
   */
  useDecoder(localMaxPduLength: number): void {
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
          this.end ??= new AssociationAbortedError(
            { source: AbortSource.SERVICE_PROVIDER, reason, local: true },
            'invalid PDU received',
            { cause: error },
          );
          this.dispatch('Evt19');
          break;
        }
        for (const pdu of pdus) {
          // Waits only for backpressure (a slow data set consumer, a pending match not taken).
          const waiting = this.#receive(pdu);
          if (waiting) await waiting;
          if (this.state === 'Sta1') break;
        }
        if (this.state === 'Sta1') break;
      }
    } catch (error) {
      cause = error;
    }
    if (this.state !== 'Sta1') {
      // After our A-RELEASE-RP (Sta13, AR-5) the peer's close is the normal end, not a loss.
      if (!(this.released && this.state === 'Sta13' && !cause))
        this.end ??= new ConnectionLostError(
          'transport connection closed',
          cause ? { cause } : undefined,
        );
      this.dispatch('Evt17');
    }
    this.#finish();
  }

  /** One PDU received: its event of PS3.8 §9.2.3 dispatched. */
  #receive(pdu: Pdu): Promise<void> | undefined {
    if (channels.pduReceived.hasSubscribers)
      channels.pduReceived.publish({ association: this.#events, pdu });
    this.#events.emit('pdu-received', pdu);
    if (this.state === 'Sta6') this.#idle.start();
    switch (pdu.type) {
      case PduType.A_ASSOCIATE_RQ:
        return this.#onPdu('Evt6', pdu, {
          acceptable: (pdu.protocolVersion & 1) === 1 || this.state !== 'Sta2',
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
        this.end ??= new AssociationAbortedError({ source: pdu.source, reason: pdu.reason });
        return this.#onPdu('Evt16', pdu, {
          userInitiatedAbort: pdu.source === AbortSource.SERVICE_USER,
        });
    }
  }

  #onPdu(event: Event, pdu: Pdu, ctx?: TransitionContext): Promise<void> | undefined {
    this.lastPdu = pdu;
    // AA-8 / AA-1 / AA-7 triggered by a valid but unexpected PDU: unexpected-PDU.
    this.#abortFields = {
      source: AbortSource.SERVICE_PROVIDER,
      reason: AbortReason.UNEXPECTED_PDU,
    };
    this.dispatch(event, ctx);
    const delivery = this.#pDataDelivery;
    this.#pDataDelivery = undefined;
    return delivery;
  }

  // ----- writing ------------------------------------------------------------

  /** Writes one PDU (A-ASSOCIATE, A-RELEASE, A-ABORT). */
  writePdu(pdu: Pdu): void {
    this.#write([encodePdu(pdu)], () => pdu);
  }

  /** Writes one PDU; `describe` builds the PDU object for observers only when someone listens. */
  #write(chunks: Uint8Array[], describe: () => Pdu): void {
    const c = this.connection;
    if (!c) return;
    try {
      this.#writable = c.write(chunks.length > 1 ? joinSmall(chunks) : chunks);
      if (this.#writable) this.#unflushed = 0;
      else for (const chunk of chunks) this.#unflushed += chunk.length;
    } catch (error) {
      this.end ??= new ConnectionLostError('write failed', { cause: error });
      return;
    }
    if (this.state === 'Sta6') this.#idle.start();
    const channel = channels.pduSent.hasSubscribers;
    if (!channel && this.#events.listenerCount('pdu-sent') === 0) return;
    const pdu = describe();
    if (channel) channels.pduSent.publish({ association: this.#events, pdu });
    this.#events.emit('pdu-sent', pdu);
  }

  /** P-DATA request (Evt9, DT-1 or AR-7) of one P-DATA-TF with these PDVs, waiting for drain. */
  async sendPData(pdvs: readonly PresentationDataValue[]): Promise<void> {
    const chunks = encodePDataTf(pdvs);
    this.dispatch('Evt9', undefined, () =>
      this.#write(chunks, () => ({ type: PduType.P_DATA_TF, pdvs: [...pdvs] })),
    );
    const c = this.connection;
    if (c && !this.#writable) await this.#send.drained(c);
  }

  /** Whether a message is being written. */
  get writing(): boolean {
    return this.#writeTail !== undefined;
  }

  /** Whether the transport has handed every byte written to it so far to the operating system. */
  get transportFlushed(): boolean {
    return this.connection?.flushed?.() === true;
  }

  /**
   * Writes one DIMSE message, its command set encoded, then its data set,
   * in P-DATA-TF PDUs within the peer's maximum length (`maxPduLength`, 0 =
   * unlimited). Messages are never interleaved (one at a time on the wire).
   * Resolves at once (the same settled promise) when nothing had to wait.
   */
  sendMessage(
    contextId: number,
    command: Uint8Array,
    dataSet: DataSetSource | undefined,
    maxPduLength: number,
  ): Promise<void> {
    // Nothing being written: the message goes out now, synchronously when its
    // data set is in memory (no promise, no await: the per-message fast path).
    if (this.#writeTail === undefined) {
      const pending = this.#writeMessage(contextId, command, dataSet, maxPduLength);
      if (pending === undefined) return RESOLVED;
      this.#queueWrite(pending);
      return pending;
    }
    const run = this.#writeTail.then(() =>
      this.#writeMessage(contextId, command, dataSet, maxPduLength),
    );
    this.#queueWrite(run);
    return run;
  }

  /** Whether `sent` is the settled promise {@link UpperLayer.sendMessage} returns when nothing waited. */
  static sentAtOnce(sent: Promise<void>): boolean {
    return sent === RESOLVED;
  }

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
    maxPduLength: number,
  ): Promise<void> | undefined {
    // Most responses and every C-ECHO: one PDU, without the fragmenter's generator.
    const single = dataSet === undefined && commandOnlyPdu(contextId, command, maxPduLength);
    if (single) {
      this.#sendPDataTf(single);
      return this.#mustDrain() ? this.#drained() : undefined;
    }
    // PS3.8 Annex D.1 and §9.3.5: P-DATA-TF PDUs within the peer's maximum length, cut by @dnet/dimse.
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
      this.dispatch('Evt9', undefined, this.#writeOutChunks);
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
    return !this.#writable && this.#unflushed > WRITE_BUDGET && this.connection !== undefined;
  }

  async #drained(): Promise<void> {
    const c = this.connection;
    if (c) await this.#send.drained(c);
    this.#unflushed = 0;
  }

  readonly #writeOutChunks = (): void => {
    const chunks = this.#outChunks!;
    this.#write(chunks, () => decodeGathered(chunks));
  };
}
