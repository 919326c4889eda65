import { EventEmitter } from 'node:events';
import {
  type AcceptorDecision,
  type AcceptorPolicy,
  Association,
  AssociationRejectedError,
  authorizationRejection,
  DEFAULT_MAX_ASSOCIATIONS,
  type IncomingRequest,
  type Rejection,
} from '@dnet/association';
import { commandName } from '@dnet/dimse';
import type { AAssociateRq } from '@dnet/pdu';
import type { Connection, Listener, PeerCertificate, Transport } from '@dnet/transport';
import { localLimitRejection } from './admission.js';
import { publishOperation, channels as serviceChannels } from './diagnostics.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import { answerFind } from './find-scp.js';
import { ended, refuseRole } from './handler-status.js';
import { serveNServices } from './n-services.js';
import { answerStore } from './received-instance.js';
import type { RequestContext } from './request-context.js';
import { Retrieval, retrieveCountsOf } from './retrieve-scp.js';
import { serverPolicy } from './server-policy.js';
import type { ServerEventMap, ServerOptions } from './server-types.js';
import { nServicesOfServer } from './storage-commitment.js';
import { answerEcho } from './verification-scp.js';

/** Default cap on concurrent associations of a server (the association package's), see LIMITS.md. */
export { DEFAULT_MAX_ASSOCIATIONS };
/** Default deadline of {@link Server.close} for in-flight operations, in ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

export type { RequestContext } from './request-context.js';
export type {
  AeTableEntry,
  FindMatches,
  FindRequest,
  RejectedAssociation,
  RetrieveRequest,
  RetrieveSources,
  ServerEventMap,
  ServerHandlers,
  ServerOptions,
} from './server-types.js';

/**
 * A DICOM application entity acting as SCP (PS3.4): accepts associations by
 * a policy, answers each service through its handler, runs C-MOVE and C-GET
 * sub-operations, and closes gracefully.
 *
 * @example
 * ```ts
 * const server = await Server.listen({ transport: tcp(), port: 11112, aeTitle: 'DNET',
 *   handlers: {
 *     store: async (instance) => { for await (const chunk of instance.dataSet) file.write(chunk); return 0; },
 *   } });
 * // ...
 * await server.close();
 * ```
 */
export class Server extends EventEmitter<ServerEventMap> {
  readonly #options: ServerOptions;
  readonly #policy: AcceptorPolicy;
  #listener!: Listener;
  #closing = false;
  /** Associations in progress (negotiating or established) with their in-flight operation count. */
  readonly #associations = new Map<Association, { inFlight: number }>();
  #pending = 0;
  #idleWaiters: (() => void)[] = [];
  /** Associations accepted (or being accepted) per calling AE title, for `maxAssociationsPerAe`. */
  readonly #perAe = new Map<string, number>();
  /** The C-MOVE/C-GET engine (PS3.4 §C.4.2, §C.4.3). */
  readonly #retrieval: Retrieval;

  private constructor(options: ServerOptions) {
    super();
    this.#options = options;
    this.#policy = Server.policyFor(options);
    this.#retrieval = new Retrieval({ options, emitError: (e) => this.#emitError(e) });
  }

  /** Starts listening. */
  static async listen(options: ServerOptions): Promise<Server> {
    if (!options.aeTitle || options.aeTitle.length > 16) {
      throw new InvalidArgumentError('aeTitle must be 1 to 16 characters (PS3.8 §9.3.2)');
    }
    const server = new Server(options);
    server.#listener = await options.transport.listen(
      { port: options.port, ...(options.host && { host: options.host }) },
      (connection) => server.#onConnection(connection),
    );
    return server;
  }

  /** The acceptance policy derived from the handlers (PS3.8 §9.3.3.2), merged with `options.policy`. */
  static policyFor(
    options: Pick<
      ServerOptions,
      'handlers' | 'policy' | 'aeTitle' | 'storageTransferSyntaxes' | 'extendedNegotiation'
    >,
  ): AcceptorPolicy {
    return serverPolicy(options);
  }

  /** The bound port. */
  get port(): number {
    return this.#listener.port;
  }

  /** The bound address. */
  get host(): string {
    return this.#listener.host;
  }

  /**
   * The associations this server serves now, once negotiated (those still
   * negotiating are counted by {@link Server.associationCount} only). Read
   * each one's `info` (AE titles, addresses, negotiated contexts, TLS peer)
   * and `established`; the list is a copy, taken when read.
   */
  get associations(): Association[] {
    return [...this.#associations.keys()];
  }

  /** Associations open now (negotiating or established). */
  get associationCount(): number {
    return this.#associations.size + this.#pending;
  }

  #onConnection(connection: Parameters<Parameters<Transport['listen']>[1]>[0]): void {
    if (this.#closing) {
      connection.abort();
      return;
    }
    const max = this.#options.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS;
    // PS3.8 Table 9-21: transient rejection, local limit exceeded.
    const limitReached = this.associationCount >= max;
    this.#pending++;
    this.#accept(connection, limitReached).then(
      (association) => {
        this.#pending--;
        if (this.#closing) {
          association.abort();
          this.#notifyIdle();
        } else this.#serve(association);
      },
      () => {
        this.#pending--;
        this.#notifyIdle();
      },
    );
  }

  /**
   * The acceptor side of one connection (PS3.8 §9.2 AE-5 to AE-8), run by
   * `Association.accept` with this server's authorization around the policy
   * (TLS-only, the certificate hook, the per-AE limit); reports each
   * rejection. Resolves with the established association.
   */
  async #accept(connection: Connection, limitReached: boolean): Promise<Association> {
    const info = connection.info;
    let asked: AAssociateRq | undefined;
    let rejection: Rejection | undefined;
    let calling = '';
    let reserved = false;
    // The admission's release (admitAssociation), called once.
    let release: (() => void) | undefined;
    const unreserve = () => {
      const admitted = release;
      release = undefined;
      admitted?.();
      if (!reserved) return;
      reserved = false;
      const n = (this.#perAe.get(calling) ?? 1) - 1;
      if (n > 0) this.#perAe.set(calling, n);
      else this.#perAe.delete(calling);
    };
    const authorize = async (
      rq: AAssociateRq,
      decide: () => Promise<AcceptorDecision>,
    ): Promise<AcceptorDecision> => {
      asked = rq;
      calling = rq.callingAeTitle.trim();
      let decision: AcceptorDecision | undefined;
      try {
        if (this.#options.tlsOnly && !info.encrypted) {
          rejection = authorizationRejection('TLS is required (plaintext connection)');
        } else {
          decision = await decide();
          if (!decision.accepted) rejection = decision.rejection;
          else rejection = await this.#authorize(rq, info.peerCertificate);
        }
        // PS3.8 Table 9-21: over the per-AE limit, transient, local-limit-exceeded. Checked
        // and counted in one synchronous step, so concurrent requests cannot both pass.
        const perAe = this.#options.maxAssociationsPerAe;
        if (!rejection && perAe !== undefined) {
          const n = this.#perAe.get(calling) ?? 0;
          if (n >= perAe) {
            rejection = localLimitRejection(
              `${n} associations of ${calling} already open, at most ${perAe}`,
            );
          } else {
            this.#perAe.set(calling, n + 1);
            reserved = true;
          }
        }
        // Limits shared with other servers (admission.ts), asked last: only what would be accepted.
        if (!rejection && this.#options.admitAssociation) {
          const admission = await this.#options.admitAssociation({
            callingAeTitle: calling,
            calledAeTitle: rq.calledAeTitle.trim(),
            remoteAddress: info.remoteAddress,
            remotePort: info.remotePort,
          });
          if (admission.admitted) release = admission.release;
          else rejection = admission.rejection;
        }
      } catch (error) {
        // A policy callback failed: reject rather than hang in Sta3.
        this.#emitError(error);
        rejection = authorizationRejection(
          `access check failed: ${String((error as Error)?.message ?? error)}`,
        );
      }
      if (rejection || !decision?.accepted) {
        rejection ??= authorizationRejection('no answer');
        return { accepted: false, rejection };
      }
      return decision;
    };
    try {
      const a = await Association.accept(connection, {
        ...this.#options,
        policy: this.#policy,
        associationLimitReached: limitReached,
        authorize,
      });
      void a.closed.then(unreserve, unreserve);
      return a;
    } catch (error) {
      unreserve();
      // Only an A-ASSOCIATE-RJ we sent is reported (not a connection lost meanwhile).
      if (error instanceof AssociationRejectedError && asked && rejection)
        this.#reportRejection(asked, info, rejection);
      throw error;
    }
  }

  async #authorize(
    rq: AAssociateRq,
    certificate: PeerCertificate | undefined,
  ): Promise<Rejection | undefined> {
    const hook = this.#options.authorizePeerCertificate;
    if (!hook) return undefined;
    const verdict = await hook(certificate, {
      callingAeTitle: rq.callingAeTitle.trim(),
      calledAeTitle: rq.calledAeTitle.trim(),
    });
    const v = typeof verdict === 'boolean' ? { accepted: verdict } : verdict;
    if (v.accepted) return undefined;
    // PS3.7 Annex D.3.3.7: an authorization failure, rejected-permanent, ACSE-related source.
    return authorizationRejection(
      `peer certificate not authorized${'cause' in v && v.cause ? `: ${v.cause}` : ''}`,
    );
  }

  #reportRejection(rq: AAssociateRq, info: Connection['info'], r: Rejection): void {
    if (this.listenerCount('rejected') === 0) return;
    this.emit('rejected', {
      callingAeTitle: rq.callingAeTitle.trim(),
      calledAeTitle: rq.calledAeTitle.trim(),
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
      encrypted: info.encrypted,
      peerCertificate: info.peerCertificate,
      result: r.result,
      source: r.source,
      reason: r.reason,
      cause: r.cause ?? `result ${r.result}, source ${r.source}, reason ${r.reason}`,
    });
  }

  #serve(a: Association): void {
    const state = { inFlight: 0 };
    this.#associations.set(a, state);
    void a.closed.then(() => {
      this.#associations.delete(a);
      this.#notifyIdle();
    });
    const info = a.info;
    const context: RequestContext = {
      callingAeTitle: (info.callingAeTitle ?? '').trim(),
      calledAeTitle: (info.calledAeTitle ?? '').trim(),
      remoteAddress: info.connection?.remoteAddress ?? '',
      remotePort: info.connection?.remotePort ?? 0,
      encrypted: info.encrypted,
      peerCertificate: info.peerCertificate,
      userIdentity: info.userIdentity,
      association: a,
    };
    const run = (rq: IncomingRequest, work: () => Promise<number | undefined>) => {
      state.inFlight++;
      const started = performance.now();
      const m = rq.message as unknown as {
        affectedSopClassUid?: string;
        affectedSopInstanceUid?: string;
      };
      const failed = (error: unknown) => {
        rq.dataSet?.discard();
        // An answer that finds the association already gone (A-ABORT, A-P-ABORT) is
        // dropped quietly: the peer can no longer receive it (PS3.8 §9.2, Sta13/Sta1).
        if (!ended(a)) this.#emitError(error);
      };
      const settled = () => {
        state.inFlight--;
        this.#notifyIdle();
      };
      // One promise reaction per operation; the record is built only for a subscriber.
      work().then(
        (status) => {
          try {
            if (serviceChannels.operation.hasSubscribers)
              publishOperation({
                role: 'scp',
                operation: (
                  commandName[rq.message.commandField as keyof typeof commandName] ?? ''
                ).replace(/-RQ$/, ''),
                status,
                sopClassUid: m.affectedSopClassUid,
                ...(m.affectedSopInstanceUid && { sopInstanceUid: m.affectedSopInstanceUid }),
                peerAeTitle: context.callingAeTitle,
                durationMs: performance.now() - started,
                ...retrieveCountsOf(rq),
              });
          } catch (error) {
            failed(error);
          }
          settled();
        },
        (error: unknown) => {
          failed(error);
          settled();
        },
      );
    };
    const h = this.#options.handlers;
    // PS3.7 Annex D.3.3.4: the requestor invokes C-ECHO/STORE/FIND/MOVE/GET as SCU; on a
    // context where role selection left it only the SCP role, the request is refused with
    // 0124H Refused: Not Authorized (PS3.7 Annex C) rather than served.
    const scu = (rq: IncomingRequest, work: () => Promise<number | undefined>) => () =>
      rq.context.requestorScu ? work() : refuseRole(rq);
    a.handle('C-ECHO', (rq) =>
      run(
        rq,
        scu(rq, () => answerEcho(rq, h.echo, context)),
      ),
    );
    if (h.store) {
      const store = h.store;
      a.handle('C-STORE', (rq) =>
        run(
          rq,
          scu(rq, () => answerStore(rq, (instance) => store(instance, context, rq.signal))),
        ),
      );
    }
    if (h.find) {
      const find = h.find;
      a.handle('C-FIND', (rq) =>
        run(
          rq,
          scu(rq, () => answerFind(rq, find, context)),
        ),
      );
    }
    if (h.move) {
      const move = h.move;
      a.handle('C-MOVE', (rq) =>
        run(
          rq,
          scu(rq, () => this.#retrieval.perform(rq, move, context)),
        ),
      );
    }
    if (h.get) {
      const get = h.get;
      a.handle('C-GET', (rq) =>
        run(
          rq,
          scu(rq, () => this.#retrieval.perform(rq, get, context)),
        ),
      );
    }
    serveNServices(
      a,
      nServicesOfServer(this.#options, (e) => this.#emitError(e)),
      context,
      run,
    );
    this.emit('association', a);
  }

  #emitError(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error as Error);
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #busy(): boolean {
    if (this.#pending > 0) return true;
    for (const s of this.#associations.values()) if (s.inFlight > 0) return true;
    return false;
  }

  /**
   * Graceful close: stops accepting, lets in-flight operations finish within
   * `timeoutMs` (default {@link DEFAULT_CLOSE_TIMEOUT_MS}), then aborts every
   * association still open (A-ABORT, PS3.8 §7.3) and waits for them to end.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing) throw new ClosedError('the server is already closed');
    this.#closing = true;
    await this.#listener.close();
    const deadline = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadline);
    });
    let timedOut = false;
    void expired.then(() => {
      timedOut = true;
      this.#notifyIdle();
    });
    while (this.#busy() && !timedOut) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    clearTimeout(timer);
    const all = [...this.#associations.keys()];
    for (const a of all) a.abort();
    await Promise.all(all.map((a) => a.closed));
  }
}
