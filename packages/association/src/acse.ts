import type { EventEmitter } from 'node:events';
import {
  type AAssociateAc,
  type AAssociateRj,
  type AAssociateRq,
  AbortSource,
  PduType,
} from '@dnet/pdu';
import type { Connection } from '@dnet/transport';
import type { AssociationEventMap } from './association-events.js';
import type { AssociationOptions, RequestAssociationOptions } from './association-options.js';
import { channels } from './diagnostics.js';
import { AssociationRejectedError, ConnectionLostError, InvalidStateError } from './errors.js';
import { buildAssociateRq, type Negotiation, readNegotiation } from './negotiation.js';
import type { Event, State } from './state-machine.js';
import { type Timeouts, Timer } from './timer.js';
import type { AcseEffect, UpperLayer } from './upper-layer.js';

/** What `Acse.associate` needs: where to connect and what to propose. */
export type AssociateOptions = Omit<RequestAssociationOptions, keyof AssociationOptions>;

/**
 * The Association Control Service Element of one association (PS3.8 §7.1
 * to §7.3, the ACSE of pynetdicom): A-ASSOCIATE request and response,
 * A-RELEASE request and response, under the ACSE timer; it carries out the
 * A-ASSOCIATE and A-RELEASE effects of Table 9-10 the {@link UpperLayer}
 * hands up. A-ABORT is the upper layer's own ({@link UpperLayer.abort}).
 */
export class Acse {
  /** The A-ASSOCIATE-RQ sent (requestor) or received (acceptor). */
  rq: AAssociateRq | undefined;
  /** The A-ASSOCIATE-AC or -RJ sent (acceptor) or received (requestor). */
  response: AAssociateAc | AAssociateRj | undefined;
  /** The negotiation result once established. */
  negotiation: Negotiation | undefined;
  readonly #ul: UpperLayer;
  readonly #events: EventEmitter<AssociationEventMap>;
  readonly #requestor: boolean;
  readonly #options: AssociationOptions;
  readonly #timeouts: Timeouts;
  readonly #onEstablished: (negotiation: Negotiation, peerMaxPduLength: number) => void;
  /** Bounds the wait for the peer's (or the local user's) answer to an A-ASSOCIATE or A-RELEASE request. */
  readonly #timer: Timer;
  /** The A-ASSOCIATE response the local user chose (Evt7 / Evt8). */
  #pendingOut: AAssociateAc | AAssociateRj | undefined;
  #established: { resolve: (n: Negotiation) => void; reject: (e: Error) => void } | undefined;
  #releaseWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;

  /**
   * @param onEstablished Called when the association is established, before anyone is told.
   */
  constructor(
    ul: UpperLayer,
    events: EventEmitter<AssociationEventMap>,
    requestor: boolean,
    options: AssociationOptions,
    timeouts: Timeouts,
    onEstablished: (negotiation: Negotiation, peerMaxPduLength: number) => void,
  ) {
    this.#ul = ul;
    this.#events = events;
    this.#requestor = requestor;
    this.#options = options;
    this.#timeouts = timeouts;
    this.#onEstablished = onEstablished;
    this.#timer = new Timer('acse', timeouts.acseMs, (e) => ul.localAbort(e));
  }

  /** Whether someone waits for establishment or for the release to complete. */
  get pending(): boolean {
    return (
      this.#established !== undefined || (this.#releaseWaiter !== undefined && !this.#ul.released)
    );
  }

  /** Stops the ACSE timer. */
  stop(): void {
    this.#timer.stop();
  }

  /** The association ended with `error`: the waits for establishment and release reject. */
  fail(error: Error): void {
    if (this.#established) {
      this.#established.reject(error);
      this.#established = undefined;
    }
    if (this.#releaseWaiter && !this.#ul.released) {
      this.#releaseWaiter.reject(error);
      this.#releaseWaiter = undefined;
    }
  }

  /**
   * A-ASSOCIATE request (Evt1): connects (AE-1), sends the A-ASSOCIATE-RQ
   * (AE-2) and waits for the answer under the ACSE timer.
   */
  async associate(options: AssociateOptions): Promise<Negotiation> {
    const ul = this.#ul;
    if (ul.state !== 'Sta1' || !this.#requestor || this.rq) {
      throw new InvalidStateError(ul.state, 'Evt1', 'A-ASSOCIATE request');
    }
    const rq = 'type' in options.proposal ? options.proposal : buildAssociateRq(options.proposal);
    this.rq = rq;
    const established = new Promise<Negotiation>((resolve, reject) => {
      this.#established = { resolve, reject };
    });
    established.catch(() => {});
    ul.dispatch('Evt1');
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
      ul.end ??= error;
      if ((ul.state as State) === 'Sta4') ul.dispatch('Evt17');
      throw error;
    }
    if ((ul.state as State) !== 'Sta4') {
      connection.abort();
      throw ul.end ?? new ConnectionLostError('association aborted while connecting');
    }
    ul.attach(connection, rq.userInformation.maxLength);
    const onAbort = () => ul.abort(AbortSource.SERVICE_USER, 0);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      ul.dispatch('Evt2');
      return await established;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A-ASSOCIATE response (accept), Evt7 / AE-7: sends the A-ASSOCIATE-AC. */
  accept(ac: AAssociateAc): void {
    if (!this.rq) throw new InvalidStateError(this.#ul.state, 'Evt7', 'A-ASSOCIATE response');
    this.#pendingOut = ac;
    this.#ul.dispatch('Evt7');
  }

  /** A-ASSOCIATE response (reject), Evt8 / AE-8: sends the A-ASSOCIATE-RJ and waits for the close under ARTIM. */
  reject(rejection: { result: number; source: number; reason: number }): void {
    this.#pendingOut = { type: PduType.A_ASSOCIATE_RJ, ...rejection };
    this.#ul.dispatch('Evt8');
  }

  /** A-RELEASE request (Evt11, AR-1): resolves when the A-RELEASE-RP arrived (AR-3). */
  async release(): Promise<void> {
    if (this.#ul.end) throw this.#ul.end;
    const done = new Promise<void>((resolve, reject) => {
      this.#releaseWaiter = { resolve, reject };
    });
    done.catch(() => {});
    try {
      this.#ul.dispatch('Evt11');
    } catch (error) {
      this.#releaseWaiter = undefined;
      throw error;
    }
    await done;
  }

  /** A-RELEASE response (Evt14): answers the peer's A-RELEASE-RQ. */
  releaseResponse(): void {
    this.#ul.dispatch('Evt14');
  }

  /** Carries out one A-ASSOCIATE or A-RELEASE effect of Table 9-10. */
  perform(effect: AcseEffect, event: Event): void {
    const ul = this.#ul;
    // AE-6: the A-ASSOCIATE-RQ received in Sta2 is this association's.
    if (event === 'Evt6') this.rq = ul.lastPdu as AAssociateRq;
    switch (effect) {
      case 'send-a-associate-rq':
        ul.writePdu(this.rq!);
        this.#timer.start();
        if (channels.requested.hasSubscribers)
          channels.requested.publish({ association: this.#events, rq: this.rq });
        break;
      case 'send-a-associate-ac': {
        this.#timer.stop();
        const ac = this.#pendingOut as AAssociateAc;
        this.response = ac;
        ul.writePdu(ac);
        ul.useDecoder(ac.userInformation.maxLength);
        this.#establish(readNegotiation(this.rq!, ac));
        break;
      }
      case 'send-a-associate-rj': {
        this.#timer.stop();
        const rj =
          (this.#pendingOut as AAssociateRj | undefined) ??
          ({ type: PduType.A_ASSOCIATE_RJ, result: 1, source: 2, reason: 2 } as AAssociateRj);
        this.response = rj;
        ul.writePdu(rj);
        this.#rejected(new AssociationRejectedError(rj));
        break;
      }
      case 'send-a-release-rq':
        ul.writePdu({ type: PduType.A_RELEASE_RQ });
        this.#timer.start();
        break;
      case 'send-a-release-rp':
        ul.writePdu({ type: PduType.A_RELEASE_RP });
        ul.released = true;
        break;
      case 'indicate-a-associate':
        if (channels.requested.hasSubscribers)
          channels.requested.publish({ association: this.#events, rq: this.rq });
        // The local answer (Evt7/Evt8) is bounded by the ACSE timer too.
        if (ul.state === 'Sta3') this.#timer.start();
        this.#events.emit('requested', this.rq!);
        break;
      case 'confirm-a-associate-accept':
        this.#timer.stop();
        this.response = ul.lastPdu as AAssociateAc;
        this.#establish(readNegotiation(this.rq!, this.response));
        break;
      case 'confirm-a-associate-reject':
        this.#timer.stop();
        this.response = ul.lastPdu as AAssociateRj;
        this.#rejected(new AssociationRejectedError(this.response));
        break;
      case 'indicate-a-release':
      case 'indicate-a-release-collision': {
        const collision = effect === 'indicate-a-release-collision';
        this.#events.emit('release-requested', { collision });
        if (!this.#options.manualRelease) {
          // AR-2 / AR-8: answer at once (Evt14) unless the user answers; the acceptor of a collision waits for the RP first (Sta10).
          if (ul.state === 'Sta8' || ul.state === 'Sta9')
            queueMicrotask(() => ul.tryDispatch('Evt14'));
        }
        break;
      }
      case 'confirm-a-release':
        this.#timer.stop();
        ul.released = true;
        if (ul.state === 'Sta12' && !this.#options.manualRelease) {
          queueMicrotask(() => ul.tryDispatch('Evt14'));
        }
        this.#releaseWaiter?.resolve();
        this.#releaseWaiter = undefined;
        break;
    }
  }

  #rejected(error: AssociationRejectedError): void {
    this.#ul.end ??= error;
    if (channels.rejected.hasSubscribers)
      channels.rejected.publish({ association: this.#events, error });
    this.#events.emit('rejected', error);
  }

  #establish(negotiation: Negotiation): void {
    this.negotiation = negotiation;
    const peerMaxPduLength =
      (this.#requestor ? negotiation.acceptorMaxPduLength : negotiation.requestorMaxPduLength) ?? 0;
    this.#onEstablished(negotiation, peerMaxPduLength);
    this.#ul.restartIdle();
    if (channels.accepted.hasSubscribers)
      channels.accepted.publish({ association: this.#events, negotiation });
    this.#events.emit('accepted', negotiation);
    this.#established?.resolve(negotiation);
    this.#established = undefined;
  }
}
