import type { EventEmitter } from 'node:events';
import {
  type CCancelRq,
  CommandField,
  type DimseMessage,
  type DimseRequest,
  type DimseResponse,
  encodeMessage,
  isPending,
  MessageIdAllocator,
  Reassembler,
  type ReassemblyEvent,
} from '@dnet/dimse';
import type { PresentationDataValue } from '@dnet/pdu';
import type { AssociationEventMap } from './association-events.js';
import type { AssociationOptions } from './association-options.js';
import type {
  DataSetSource,
  IncomingRequest,
  IncomingResponse,
  RequestOptions,
  WithOptionalId,
} from './dimse-primitives.js';
import {
  AssociationError,
  AssociationErrorCode,
  NoPresentationContextError,
  type TimeoutError,
} from './errors.js';
import { IncomingDataSet } from './incoming-data-set.js';
import type { NegotiatedContext, Negotiation } from './negotiation.js';
import { type Timeouts, Timer } from './timer.js';
import { UpperLayer } from './upper-layer.js';

/** Default cap on outstanding DIMSE operations in each direction, see LIMITS.md. */
export const DEFAULT_MAX_OPERATIONS = 128;
/** Largest command set accepted (PS3.7 §6.3.1), see LIMITS.md. */
export const MAX_COMMAND_LENGTH = 65_536;

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

/** The error of a request cancelled by its signal. */
function cancelledBy(signal: AbortSignal): AssociationError {
  return new AssociationError(AssociationErrorCode.CANCELLED, 'request cancelled', {
    cause: signal.reason,
  });
}

/** Where received requests go: the association hands each to its handler. */
export type RequestSink = (request: IncomingRequest) => void;

/**
 * The DIMSE provider of one association (PS3.7 §7, the DIMSE of
 * pynetdicom): Message IDs, the asynchronous operations window (PS3.7
 * Annex D.3.3.3), the DIMSE timer, C-CANCEL, reassembly of received messages
 * (PS3.8 Annex E) with data sets delivered as streams, and the responses
 * matched to our requests. It writes through the {@link UpperLayer}.
 */
export class DimseProvider {
  readonly #ul: UpperLayer;
  readonly #events: EventEmitter<AssociationEventMap>;
  readonly #requestor: boolean;
  readonly #options: AssociationOptions;
  readonly #timeouts: Timeouts;
  readonly #sink: RequestSink;
  /** One DIMSE timer for all our outstanding operations: each has a deadline, checked on expiry. */
  readonly #timer: Timer;
  readonly #ids = new MessageIdAllocator();
  readonly #outgoing = new Map<number, OutgoingOperation>();
  readonly #incoming = new Map<number, IncomingOperation>();
  /** Negotiated contexts by ID, once established. */
  #contexts = new Map<number, NegotiatedContext>();
  /** Context picked for each SOP class and transfer syntax, once established. */
  readonly #contextCache = new Map<string, number>();
  /** The peer's Maximum Length (PS3.8 Annex D.1), known once established (0 = unlimited). */
  #peerMaxPduLength = 0;
  #window: { maxInvoked: number; maxPerformed: number } | undefined;
  /** Signal of the requests that cannot be cancelled: aborted when the association ends. */
  #endController: AbortController | undefined;
  /** Why the association ended, once it did (for a signal asked for afterwards). */
  #ended: { reason: unknown } | undefined;
  #windowWaiters: (() => void)[] = [];
  #reserved = 0;
  readonly #reassembler = new Reassembler({
    isAcceptedContext: (id) => this.#contexts.get(id)?.accepted === true,
    maxCommandLength: MAX_COMMAND_LENGTH,
  });
  #dataSet: { stream: IncomingDataSet; contextId: number } | undefined;
  /** The promise of the last `onPending` call, awaited before the next message is read. */
  #pendingDelivery: Promise<void> | undefined;

  /**
   * @param ul The upper layer written through.
   * @param events The association, for its notifications.
   * @param sink Where each received request (other than C-CANCEL) goes.
   */
  constructor(
    ul: UpperLayer,
    events: EventEmitter<AssociationEventMap>,
    requestor: boolean,
    options: AssociationOptions,
    timeouts: Timeouts,
    sink: RequestSink,
  ) {
    this.#ul = ul;
    this.#events = events;
    this.#requestor = requestor;
    this.#options = options;
    this.#timeouts = timeouts;
    this.#sink = sink;
    // PS3.7 §9.1: each operation waits for its (next) response at most dimseMs.
    this.#timer = new Timer('dimse', timeouts.dimseMs, (e) => this.#onTimerExpiry(e));
  }

  /** The association is established: its contexts, the peer's PDU length, the window. */
  establish(negotiation: Negotiation, peerMaxPduLength: number): void {
    this.#contexts = new Map(negotiation.contexts.map((c) => [c.id, c]));
    this.#contextCache.clear();
    this.#peerMaxPduLength = peerMaxPduLength;
    this.#window = negotiation.asyncOperationsWindow;
  }

  /** Outstanding operations we invoked, and those the peer invoked. */
  get outstanding(): { invoked: number; performing: number } {
    return { invoked: this.#outgoing.size, performing: this.#incoming.size };
  }

  /** Whether operations are outstanding in either direction. */
  get busy(): boolean {
    return this.#outgoing.size > 0 || this.#incoming.size > 0;
  }

  /** Whether a message is half received. */
  get midMessage(): boolean {
    return this.#reassembler.state !== 'idle';
  }

  /** Whether anything would be left unsettled by the end (operations, a data set being received). */
  get pending(): boolean {
    return this.#outgoing.size > 0 || this.#incoming.size > 0 || this.#dataSet !== undefined;
  }

  /** Signal aborted when the association ends. */
  endSignal(): AbortSignal {
    if (!this.#endController) {
      this.#endController = new AbortController();
      if (this.#ended) this.#endController.abort(this.#ended.reason);
    }
    return this.#endController.signal;
  }

  /** Stops the DIMSE timer and wakes whoever waits for a slot of the window. */
  stop(): void {
    this.#timer.stop();
    const waiters = this.#windowWaiters;
    this.#windowWaiters = [];
    for (const w of waiters) w();
  }

  /** The association ended with `error`: every operation and data set settles with it. */
  fail(error: Error): void {
    for (const op of [...this.#outgoing.values()]) this.#settleOutgoing(op, undefined, error);
    for (const inc of this.#incoming.values()) abortIncoming(inc, error);
    this.#incoming.clear();
    this.#ended = { reason: error };
    this.#endController?.abort(error);
    this.#dataSet?.stream.fail(error);
    this.#dataSet = undefined;
  }

  /** Resolves once none of our operations is outstanding (or the association left Sta6). */
  async settled(): Promise<void> {
    while (this.#outgoing.size > 0 && this.#ul.state === 'Sta6') {
      await Promise.race([...this.#outgoing.values()].map((op) => this.#settled(op)));
    }
  }

  /** Whether the peer's request with this Message ID is still being performed (not finally answered). */
  performing(messageId: number): boolean {
    return this.#incoming.has(messageId);
  }

  // ----- sending ------------------------------------------------------------

  /**
   * Sends one DIMSE message (command, then its data set) on a presentation
   * context, fragmented to the peer's maximum PDU length (PS3.8 Annex E).
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
      return this.#ul.sendMessage(contextId, command, dataSet, this.#peerMaxPduLength);
    } catch (error) {
      return Promise.reject(error);
    }
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
    if (this.#ul.end) return Promise.reject(this.#ul.end);
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
        if (CANCELLABLE.has(message.commandField)) {
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
    if (UpperLayer.sentAtOnce(sent)) this.#startTimer(op);
    else
      sent.then(
        () => {
          if (this.#outgoing.get(messageId) === op) this.#startTimer(op);
        },
        (error: unknown) => this.#settleOutgoing(op, undefined, error as Error),
      );
    return result;
  }

  /** Runs the DIMSE timer for one operation (PS3.7 §9.1): a deadline, checked when the association's timer fires. */
  #startTimer(op: OutgoingOperation): void {
    if (this.#timeouts.dimseMs <= 0) return;
    op.deadline = performance.now() + this.#timeouts.dimseMs;
    if (!this.#timer.running) this.#timer.start();
  }

  /** The DIMSE timer fired: abort if an operation is overdue, else wait for the next deadline. */
  #onTimerExpiry(error: TimeoutError): void {
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const op of this.#outgoing.values()) {
      if (op.deadline === 0) continue;
      if (op.deadline - now < 1) {
        this.#ul.localAbort(error);
        return;
      }
      if (op.deadline < next) next = op.deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#timer.start(Math.ceil(next - now));
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
      (this.#requestor
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
    const w = this.#window;
    const cap = this.#options.maxOperations ?? DEFAULT_MAX_OPERATIONS;
    const negotiated = this.#requestor ? w?.maxInvoked : w?.maxPerformed;
    return negotiated ? Math.min(negotiated, cap) : cap;
  }

  /** Waits for a free slot of the window and reserves it (released when the operation registers). */
  async #windowSlot(signal: AbortSignal | undefined): Promise<void> {
    while (this.#outgoing.size + this.#reserved >= this.#windowLimit()) {
      if (this.#ul.end) throw this.#ul.end;
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => this.#windowWaiters.push(resolve));
    }
    if (this.#ul.end) throw this.#ul.end;
    this.#reserved++;
  }

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
    const end = this.#ul.end;
    if (error) op.reject(end && !(error instanceof AssociationError) ? end : error);
    else op.resolve(response!);
    if (this.#windowWaiters.length === 0) return;
    const waiters = this.#windowWaiters;
    this.#windowWaiters = [];
    for (const w of waiters) w();
  }

  // ----- reception (PS3.8 Annex E, PS3.7 §6.3.1) ---------------------------

  /** P-DATA indication: hands the messages on; returns a promise only when reading must wait. */
  pData(pdvs: PresentationDataValue[]): Promise<void> | undefined {
    this.#events.emit('p-data', pdvs);
    const state = this.#ul.state;
    if (state !== 'Sta6' && state !== 'Sta7') return undefined;
    let events: ReassemblyEvent[];
    try {
      // PS3.8 Annex E.2, PS3.7 §6.3: order, contexts and command size checked by @dnet/dimse.
      events = this.#reassembler.push(pdvs);
    } catch (error) {
      this.#ul.protocolAbort(`invalid P-DATA: ${(error as Error).message}`, error);
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
    this.#ul.holdingBack = true;
    try {
      await held;
    } finally {
      this.#ul.holdingBack = false;
    }
    const more = this.#deliver(events, from);
    if (more) await more;
  }

  async #drain(stream: IncomingDataSet): Promise<void> {
    this.#ul.holdingBack = true;
    try {
      await stream.drained();
    } finally {
      this.#ul.holdingBack = false;
      const state = this.#ul.state;
      if (state === 'Sta6' || state === 'Sta8') this.#ul.restartIdle();
    }
  }

  #onMessage(
    message: DimseMessage,
    context: NegotiatedContext,
    dataSet: IncomingDataSet | undefined,
  ): void {
    if (message.commandField & 0x8000) {
      this.#onResponse(message as DimseResponse, context, dataSet);
      return;
    }
    const rq = message as DimseRequest;
    if (rq.commandField === CommandField.C_CANCEL_RQ) {
      this.#onCancel(rq, context, dataSet);
      return;
    }
    const messageId = (rq as { messageId: number }).messageId;
    const maxOps = this.#options.maxOperations ?? DEFAULT_MAX_OPERATIONS;
    if (this.#incoming.size >= maxOps) {
      dataSet?.discard();
      this.#ul.protocolAbort(`more than ${maxOps} operations outstanding from the peer`);
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
    const endSignal = () => this.endSignal();
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
    this.#sink(incoming);
  }

  #onResponse(
    rsp: DimseResponse,
    context: NegotiatedContext,
    dataSet: IncomingDataSet | undefined,
  ): void {
    const response: IncomingResponse = { message: rsp, contextId: context.id, dataSet };
    this.#events.emit('response', response);
    const op = this.#outgoing.get(rsp.messageIdBeingRespondedTo);
    if (!op) {
      dataSet?.discard();
      return;
    }
    if (isPending(rsp.status)) {
      this.#startTimer(op);
      if (op.onPending) {
        const r = op.onPending(response);
        if (r instanceof Promise) this.#pendingDelivery = r.catch(() => {});
      } else dataSet?.discard();
      return;
    }
    this.#settleOutgoing(op, response);
  }

  /** C-CANCEL-RQ received (PS3.7 §9.3.2.3): the named request's signal aborts; notified as an event. */
  #onCancel(rq: DimseRequest, context: NegotiatedContext, dataSet: IncomingDataSet | undefined) {
    const target = this.#incoming.get((rq as CCancelRq).messageIdBeingRespondedTo);
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
    this.#events.emit('C-CANCEL-RQ', cancel as IncomingRequest<CCancelRq>);
  }
}
