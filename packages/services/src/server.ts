import { EventEmitter } from 'node:events';
import {
  type AcceptorPolicy,
  Association,
  authorizationRejection,
  decideAssociation,
  type IncomingRequest,
  type Rejection,
  type SupportedContext,
} from '@dnet/association';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { DataSet } from '@dnet/dataset';
import {
  type AnsweredRequest,
  type CFindRq,
  type CGetRq,
  type CMoveRq,
  commandName,
  type DimseResponse,
  type ResponseFields,
  respondTo,
  Status,
} from '@dnet/dimse';
import { type AAssociateRq, RejectReason, RejectResult, RejectSource } from '@dnet/pdu';
import type { Connection, Listener, PeerCertificate, Transport } from '@dnet/transport';
import { publishOperation, channels as serviceChannels } from './diagnostics.js';
import { errorCommentFor, errorCommentText } from './error-comment.js';
import { ClosedError, InvalidArgumentError, SubAssociationError } from './errors.js';
import {
  agreedQueryExtendedNegotiation,
  agreedRetrieveExtendedNegotiation,
  answerExtendedNegotiation,
} from './extended-negotiation.js';
import {
  decodeIdentifier,
  encodeIdentifier,
  identifierJson,
  levelOf,
  readIdentifierBytes,
} from './identifier.js';
import { nServiceContexts, serveNServices, statusOfError } from './n-services.js';
import { requestAssociation, storeOver } from './outbound.js';
import { answerStore } from './received-instance.js';
import { QUERY_MODELS, SopClass, storageSopClasses } from './sop-class.js';
import { nServicesOfServer } from './storage-commitment.js';
import {
  type ResolvedSource,
  resolveSource,
  type StoreSource,
  transferSyntaxesFor,
} from './store-source.js';
import { WatchedSource } from './sub-operation-source.js';

/** Default cap on concurrent associations of a server, see LIMITS.md. */
export const DEFAULT_MAX_ASSOCIATIONS = 64;
/** Default deadline of {@link Server.close} for in-flight operations, in ms. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

import type { RequestContext } from './request-context.js';
import type {
  AeTableEntry,
  ServerEventMap,
  ServerHandlers,
  ServerOptions,
} from './server-types.js';

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

const ANY_TS = ['*'];
const QUERY_TS = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

/** Sub-operation counts of each C-MOVE/C-GET performed, for its operation record. */
const retrieveCounts = new WeakMap<
  IncomingRequest,
  { completed: number; failed: number; warning: number }
>();

/** Status sent when a handler throws: C000H unable to process (PS3.4 §C.4.1.1.4). */
const HANDLER_FAILED = Status.CANNOT_UNDERSTAND;

function comment(error: unknown): string {
  return errorCommentFor(error);
}

function asStatus(r: unknown): { status: number; errorComment?: string } {
  if (typeof r === 'number') return { status: r };
  if (r && typeof r === 'object') return r as { status: number; errorComment?: string };
  return { status: 0 };
}

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

  private constructor(options: ServerOptions) {
    super();
    this.#options = options;
    this.#policy = Server.policyFor(options);
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
    const h = options.handlers;
    const contexts: SupportedContext[] = [
      { abstractSyntax: SopClass.VERIFICATION, transferSyntaxes: ANY_TS },
    ];
    if (h.store || h.get) {
      const ts = options.storageTransferSyntaxes ?? ANY_TS;
      for (const uid of storageSopClasses()) {
        contexts.push({
          abstractSyntax: uid,
          transferSyntaxes: ts,
          scuRole: !!h.store,
          scpRole: !!h.get,
        });
      }
    }
    for (const model of Object.values(QUERY_MODELS)) {
      if (h.find) contexts.push({ abstractSyntax: model.find, transferSyntaxes: QUERY_TS });
      if (h.move) contexts.push({ abstractSyntax: model.move, transferSyntaxes: QUERY_TS });
      if (h.get) contexts.push({ abstractSyntax: model.get, transferSyntaxes: QUERY_TS });
    }
    if (h.find) {
      contexts.push({
        abstractSyntax: SopClass.MODALITY_WORKLIST_FIND,
        transferSyntaxes: QUERY_TS,
      });
    }
    contexts.push(
      ...nServiceContexts(
        nServicesOfServer({ handlers: h, transport: undefined as never, aeTitle: options.aeTitle }),
      ),
    );
    return {
      contexts,
      calledAeTitles: [options.aeTitle],
      asyncOperationsWindow: { maxInvoked: 16, maxPerformed: 1 },
      // PS3.4 §B.3.1.4: a newer Storage SOP class is accepted as its related general class.
      relatedGeneralSopClasses: true,
      ...(options.extendedNegotiation && {
        extendedNegotiation: answerExtendedNegotiation(options.extendedNegotiation),
      }),
      ...options.policy,
    };
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
   * The acceptor side of one connection (PS3.8 §9.2 AE-5 to AE-8): waits for
   * the A-ASSOCIATE-RQ under ARTIM, decides it (TLS-only, the policy, the
   * certificate hook, the per-AE limit), answers AC or RJ, and reports each
   * rejection. Resolves with the established association.
   */
  async #accept(connection: Connection, limitReached: boolean): Promise<Association> {
    const a = Association.acceptor(connection, this.#options);
    const rq = await new Promise<AAssociateRq>((resolve, reject) => {
      const onEnd = () => reject(new Error('the connection ended before an A-ASSOCIATE-RQ'));
      a.once('requested', (r) => {
        a.off('closed', onEnd);
        resolve(r);
      });
      a.once('closed', onEnd);
    });
    const info = connection.info;
    const calling = rq.callingAeTitle.trim();
    let rejection: Rejection | undefined;
    let reserved = false;
    let ac: Parameters<Association['acceptAssociation']>[0] | undefined;
    try {
      if (this.#options.tlsOnly && !info.encrypted) {
        rejection = authorizationRejection('TLS is required (plaintext connection)');
      } else {
        const decision = await decideAssociation(rq, this.#policy, {
          associationLimitReached: limitReached,
        });
        if (!decision.accepted) rejection = decision.rejection;
        else {
          rejection = await this.#authorize(rq, info.peerCertificate);
          ac = decision.ac;
        }
      }
      // PS3.8 Table 9-21: over the per-AE limit, transient, local-limit-exceeded. Checked
      // and counted in one synchronous step, so concurrent requests cannot both pass.
      const perAe = this.#options.maxAssociationsPerAe;
      if (!rejection && perAe !== undefined) {
        const n = this.#perAe.get(calling) ?? 0;
        if (n >= perAe) {
          rejection = {
            result: RejectResult.REJECTED_TRANSIENT,
            source: RejectSource.SERVICE_PROVIDER_PRESENTATION,
            reason: RejectReason.SERVICE_PROVIDER_PRESENTATION.LOCAL_LIMIT_EXCEEDED,
            cause: `${n} associations of ${calling} already open, at most ${perAe}`,
          };
        } else {
          this.#perAe.set(calling, n + 1);
          reserved = true;
        }
      }
    } catch (error) {
      // A policy callback failed: reject rather than hang in Sta3.
      this.#emitError(error);
      rejection = authorizationRejection(
        `access check failed: ${String((error as Error)?.message ?? error)}`,
      );
    }
    const unreserve = () => {
      if (!reserved) return;
      reserved = false;
      const n = (this.#perAe.get(calling) ?? 1) - 1;
      if (n > 0) this.#perAe.set(calling, n);
      else this.#perAe.delete(calling);
    };
    if (a.state !== 'Sta3') {
      unreserve();
      throw new Error('the association ended while it was being decided');
    }
    if (rejection || !ac) {
      const r = rejection ?? authorizationRejection('no answer');
      a.rejectAssociation({ result: r.result, source: r.source, reason: r.reason });
      this.#reportRejection(rq, info, r);
      void a.closed.catch(() => {});
      throw new Error(`association rejected: ${r.cause ?? ''}`);
    }
    void a.closed.then(unreserve, unreserve);
    a.acceptAssociation(ac);
    return a;
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
                ...retrieveCounts.get(rq),
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
        scu(rq, async () => {
          let r: { status: number; errorComment?: string };
          try {
            r = asStatus(await h.echo?.(context));
          } catch (error) {
            r = { status: HANDLER_FAILED, errorComment: comment(error) };
          }
          await rq.respond(respondTo(rq.message, { status: r.status, ...extra(r) }));
          return r.status;
        }),
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
          scu(rq, () => this.#find(rq, find, context)),
        ),
      );
    }
    if (h.move) {
      const move = h.move;
      a.handle('C-MOVE', (rq) =>
        run(
          rq,
          scu(rq, () => this.#retrieve(rq, move, context)),
        ),
      );
    }
    if (h.get) {
      const get = h.get;
      a.handle('C-GET', (rq) =>
        run(
          rq,
          scu(rq, () => this.#retrieve(rq, get, context)),
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

  async #readIdentifier(
    rq: IncomingRequest,
  ): Promise<{ dataSet: DataSet; json: DicomJsonDataSet } | undefined> {
    try {
      const bytes = rq.dataSet ? await readIdentifierBytes(rq.dataSet) : new Uint8Array(0);
      const dataSet = decodeIdentifier(bytes, rq.context.transferSyntax);
      return { dataSet, json: identifierJson(dataSet) };
    } catch (error) {
      // PS3.4 §C.4.1.1.4: A900H identifier does not match SOP class.
      await rq.respond(
        respondTo(
          rq.message as AnsweredRequest,
          {
            status: Status.DOES_NOT_MATCH_SOP_CLASS,
            errorComment: comment(error),
          } as ResponseFields<AnsweredRequest>,
        ),
      );
      return undefined;
    }
  }

  async #find(
    rq: IncomingRequest,
    find: NonNullable<ServerHandlers['find']>,
    context: RequestContext,
  ): Promise<number | undefined> {
    const message = rq.message as CFindRq;
    const id = await this.#readIdentifier(rq);
    if (!id) return Status.DOES_NOT_MATCH_SOP_CLASS;
    const ts = rq.context.transferSyntax;
    let status = 0;
    let errorComment: string | undefined;
    let offendingElement: number[] | undefined;
    try {
      const matches = await find(
        {
          sopClassUid: message.affectedSopClassUid,
          level: levelOf(id.json),
          identifier: id.json,
          dataSet: id.dataSet,
          message,
          extendedNegotiation: agreedQueryExtendedNegotiation(
            context.association.negotiation,
            message.affectedSopClassUid,
          ),
        },
        context,
        rq.signal,
      );
      for await (const match of matches as AsyncIterable<DicomJsonDataSet | DataSet>) {
        if (rq.signal.aborted) break;
        // PS3.4 §C.4.1.1.4: FF00H pending, one response per match with its Identifier.
        await rq.respond(
          respondTo(message, { status: Status.PENDING, hasDataSet: true }),
          encodeIdentifier(match, ts),
        );
      }
    } catch (error) {
      if (!rq.signal.aborted) {
        // The error's own status (A900H with Offending Element...), else C000H (PS3.4 §C.4.1.1.4).
        ({ status, errorComment, offendingElement } = statusOfError(error, HANDLER_FAILED));
      }
    }
    // PS3.4 §C.4.1.1.4: FE00H matching terminated due to cancel.
    if (rq.signal.aborted) status = Status.CANCEL;
    if (a(context).state !== 'Sta6') return undefined;
    await rq.respond(
      respondTo(message, {
        status,
        ...(errorComment && { errorComment }),
        ...(offendingElement && { offendingElement }),
      }),
    );
    return status;
  }

  async #retrieve(
    rq: IncomingRequest,
    handler: NonNullable<ServerHandlers['move']>,
    context: RequestContext,
  ): Promise<number | undefined> {
    const message = rq.message as CMoveRq | CGetRq;
    const isMove = 'moveDestination' in message;
    const id = await this.#readIdentifier(rq);
    if (!id) return Status.DOES_NOT_MATCH_SOP_CLASS;
    const destinationTitle = isMove ? (message as CMoveRq).moveDestination.trim() : undefined;
    const destination = destinationTitle ? this.#options.aeTable?.[destinationTitle] : undefined;
    if (isMove && !destination) {
      // PS3.4 §C.4.2.1.5: A801H move destination unknown.
      await rq.respond(
        respondTo(message as AnsweredRequest, {
          status: Status.MOVE_DESTINATION_UNKNOWN,
          errorComment: errorCommentText(`unknown move destination ${destinationTitle}`),
        }),
      );
      return Status.MOVE_DESTINATION_UNKNOWN;
    }
    const sources: StoreSource[] = [];
    try {
      const list = await handler(
        {
          sopClassUid: message.affectedSopClassUid,
          level: levelOf(id.json),
          identifier: id.json,
          dataSet: id.dataSet,
          message,
          ...(destinationTitle && { destination: destinationTitle }),
          extendedNegotiation: agreedRetrieveExtendedNegotiation(
            context.association.negotiation,
            message.affectedSopClassUid,
          ),
        },
        context,
        rq.signal,
      );
      for await (const s of list as AsyncIterable<StoreSource>) sources.push(s);
    } catch (error) {
      // PS3.4 §C.4.2.1.5: the error's own status (A900H...), else C000H unable to process.
      const f = statusOfError(error, HANDLER_FAILED);
      await rq.respond(
        respondTo(message as AnsweredRequest, { ...f } as ResponseFields<AnsweredRequest>),
      );
      return f.status;
    }
    let completed = 0;
    let failed = 0;
    let warning = 0;
    const failedUids: string[] = [];
    const counts = (remaining?: number) => ({
      ...(remaining !== undefined && { numberOfRemainingSuboperations: remaining }),
      numberOfCompletedSuboperations: completed,
      numberOfFailedSuboperations: failed,
      numberOfWarningSuboperations: warning,
    });
    let sub: Association | undefined;
    let via: Association = context.association;
    const resolved: ResolvedSource[] = [];
    for (const s of sources) {
      try {
        resolved.push(await resolveSource(s));
      } catch {
        failed++;
        // PS3.4 §C.4.2.1.3.1: every failed instance is listed, when its UID is known.
        const uid = (s as { sopInstanceUid?: unknown } | null)?.sopInstanceUid;
        if (typeof uid === 'string') failedUids.push(uid);
      }
    }
    if (isMove && resolved.length > 0) {
      try {
        sub = await this.#connectDestination(destinationTitle!, destination!, resolved);
        via = sub;
      } catch (error) {
        const { host, port } = destination!;
        this.#emitError(new SubAssociationError(destinationTitle!, host, port, 'connect', error));
        failed += resolved.length;
        for (const r of resolved) failedUids.push(r.sopInstanceUid);
        resolved.length = 0;
      }
    }
    let done = 0;
    let next = 0;
    let cancelled = false;
    let dead = false;
    // Sub-operations run `window` at a time (each C-STORE still waits for a slot of the
    // negotiated asynchronous operations window, PS3.7 Annex D.3.3.3).
    const window = Math.max(1, Math.min(this.#options.subOperationWindow ?? 1, 128));
    const worker = async () => {
      while (next < resolved.length && !dead) {
        if (rq.signal.aborted) {
          cancelled = true;
          return;
        }
        const source = resolved[next++]!;
        const watched = new WatchedSource(source);
        try {
          const r = await storeOver(via, watched.source, {
            ...(isMove && {
              moveOriginator: { aeTitle: context.callingAeTitle, messageId: message.messageId },
            }),
          });
          if (r.status === 0) completed++;
          else warning++;
        } catch (error) {
          failed++;
          failedUids.push(source.sopInstanceUid);
          if (!dead && watched.brokenBy) {
            // Its C-STORE-RQ went out incomplete, and no other message may follow one
            // (PS3.8 Annex E.2): the association carrying it is aborted.
            dead = true;
            this.#emitError(watched.brokenBy);
            via.abort();
          } else if (!dead && via.state !== 'Sta6' && via !== context.association) {
            // The destination association died: what was not started fails too.
            dead = true;
            const { host, port } = destination!;
            this.#emitError(new SubAssociationError(destinationTitle!, host, port, 'lost', error));
          }
        }
        done++;
        const remaining = resolved.length - done;
        if (remaining > 0 && !dead && context.association.state === 'Sta6') {
          // PS3.4 §C.4.2.1.5 / §C.4.3.1.4: FF00H pending with the sub-operation counts.
          await rq.respond(
            respondTo(
              message as AnsweredRequest,
              {
                status: Status.PENDING,
                ...counts(remaining),
              } as ResponseFields<AnsweredRequest>,
            ),
          );
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(window, resolved.length) }, worker));
      if (dead) {
        for (const rest of resolved.slice(next)) failedUids.push(rest.sopInstanceUid);
        failed += resolved.length - next;
        done = resolved.length;
      }
    } finally {
      if (sub) await sub.release().catch(() => sub?.abort());
    }
    retrieveCounts.set(rq, { completed, failed, warning });
    if (context.association.state !== 'Sta6') return undefined;
    let status: number;
    if (cancelled) status = Status.CANCEL;
    else if (failed > 0 && completed + warning === 0)
      status = Status.OUT_OF_RESOURCES_SUB_OPERATIONS;
    else if (failed > 0 || warning > 0) status = Status.WARNING_B000;
    else status = 0;
    const rsp = respondTo(
      message as AnsweredRequest,
      {
        status,
        ...counts(cancelled ? resolved.length - done : undefined),
        // PS3.4 §C.4.2.1.3.1: the Failed SOP Instance UID List goes in an Identifier.
        hasDataSet: failedUids.length > 0,
      } as ResponseFields<AnsweredRequest>,
    ) as DimseResponse;
    if (failedUids.length > 0) {
      // PS3.4 §C.4.2.1.3.1: Failed SOP Instance UID List (0008,0058) in the final Identifier.
      const ds = new DataSet();
      ds.setString('FailedSOPInstanceUIDList', failedUids, 'UI');
      await rq.respond(rsp, encodeIdentifier(ds, rq.context.transferSyntax));
    } else {
      await rq.respond(rsp);
    }
    return status;
  }

  async #connectDestination(
    aeTitle: string,
    entry: AeTableEntry,
    sources: readonly Awaited<ReturnType<typeof resolveSource>>[],
  ): Promise<Association> {
    const bySopClass = new Map<string, Set<string>>();
    for (const s of sources) {
      const set = bySopClass.get(s.sopClassUid) ?? new Set<string>();
      for (const ts of transferSyntaxesFor(s.transferSyntaxUid)) set.add(ts);
      bySopClass.set(s.sopClassUid, set);
    }
    const window = Math.max(1, Math.min(this.#options.subOperationWindow ?? 1, 128));
    return requestAssociation({
      ...this.#options.moveAssociationOptions,
      ...(window > 1 && { maxOperations: window }),
      transport: entry.transport ?? this.#options.transport,
      host: entry.host,
      port: entry.port,
      callingAeTitle: this.#options.aeTitle,
      calledAeTitle: aeTitle,
      contexts: [...bySopClass].slice(0, 128).map(([abstractSyntax, ts]) => ({
        abstractSyntax,
        transferSyntaxes: [...ts],
      })),
    });
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

/** Status 0124H Refused: Not Authorized (PS3.7 Annex C). */
const NOT_AUTHORIZED = Status.NOT_AUTHORIZED;

/** Answers a request the requestor may not invoke on its context (no SCU role): 0124H. */
async function refuseRole(rq: IncomingRequest): Promise<number> {
  rq.dataSet?.discard();
  await rq.respond(
    respondTo(rq.message as AnsweredRequest, {
      status: NOT_AUTHORIZED,
      errorComment: errorCommentText('no SCU role on this context (PS3.7 D.3.3.4)'),
    }),
  );
  return NOT_AUTHORIZED;
}

/** Whether an association is over or closing, so nothing can be sent on it any more. */
function ended(association: Association): boolean {
  const state = association.state;
  return state === 'Sta1' || state === 'Sta2' || state === 'Sta13';
}

function a(context: RequestContext): Association {
  return context.association;
}

function extra(r: { errorComment?: string }): Record<string, unknown> {
  return r.errorComment ? { errorComment: errorCommentText(r.errorComment) } : {};
}
