/** C-MOVE and C-GET as SCP: the sub-operation engine (PS3.4 §C.4.2, §C.4.3). */
import type { Association, IncomingRequest } from '@dnet/association';
import { DataSet } from '@dnet/dataset';
import {
  type AnsweredRequest,
  type CGetRq,
  type CMoveRq,
  type DimseResponse,
  type ResponseFields,
  respondTo,
  Status,
} from '@dnet/dimse';
import { errorCommentText } from './error-comment.js';
import { SubAssociationError } from './errors.js';
import { agreedRetrieveExtendedNegotiation } from './extended-negotiation.js';
import { readIdentifier } from './find-scp.js';
import { HANDLER_FAILED } from './handler-status.js';
import { encodeIdentifier, levelOf } from './identifier.js';
import { statusOfError } from './n-services.js';
import { requestAssociation, storeOver } from './outbound.js';
import type { RequestContext } from './request-context.js';
import type { AeTableEntry, ServerHandlers, ServerOptions } from './server-types.js';
import {
  type ResolvedSource,
  resolveSource,
  type StoreSource,
  transferSyntaxesFor,
} from './store-source.js';
import { WatchedSource } from './sub-operation-source.js';

/** Sub-operation counts of each C-MOVE/C-GET performed, for its operation record. */
const retrieveCounts = new WeakMap<
  IncomingRequest,
  { completed: number; failed: number; warning: number }
>();

/** The sub-operation counts of a C-MOVE/C-GET performed, for its operation record. */
export function retrieveCountsOf(
  rq: IncomingRequest,
): { completed: number; failed: number; warning: number } | undefined {
  return retrieveCounts.get(rq);
}

/** What the engine needs of its server: the options and where errors go. */
export interface RetrievalHost {
  /** The server's options (AE table, AE title, transport, sub-operation window). */
  readonly options: ServerOptions;
  /** Reports an error that does not end the operation (a lost sub-association...). */
  emitError(error: unknown): void;
}

/**
 * Performs C-MOVE and C-GET requests with the server's handlers: resolves
 * the sources, runs the C-STORE sub-operations (on a new association to the
 * move destination, or on the requestor's own association for C-GET),
 * reports progress and the final counts with the Failed SOP Instance UID List.
 */
export class Retrieval {
  readonly #host: RetrievalHost;

  /** @param host - the server's options and error sink */
  constructor(host: RetrievalHost) {
    this.#host = host;
  }

  /** Performs one C-MOVE or C-GET with `handler`; resolves with the final status sent. */
  async perform(
    rq: IncomingRequest,
    handler: NonNullable<ServerHandlers['move']>,
    context: RequestContext,
  ): Promise<number | undefined> {
    const message = rq.message as CMoveRq | CGetRq;
    const isMove = 'moveDestination' in message;
    const id = await readIdentifier(rq);
    if (!id) return Status.DOES_NOT_MATCH_SOP_CLASS;
    const destinationTitle = isMove ? (message as CMoveRq).moveDestination.trim() : undefined;
    const destination = destinationTitle
      ? this.#host.options.aeTable?.[destinationTitle]
      : undefined;
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
        this.#host.emitError(
          new SubAssociationError(destinationTitle!, host, port, 'connect', error),
        );
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
    const window = Math.max(1, Math.min(this.#host.options.subOperationWindow ?? 1, 128));
    const transcoder = this.#host.options.transcoder;
    const worker = async () => {
      while (next < resolved.length && !dead) {
        if (rq.signal.aborted) {
          cancelled = true;
          return;
        }
        const source = resolved[next++]!;
        const watched = new WatchedSource(source);
        try {
          const r = await storeOver(
            via,
            watched.source,
            {
              ...(isMove && {
                moveOriginator: { aeTitle: context.callingAeTitle, messageId: message.messageId },
              }),
            },
            // Lossless only: an archive's copy is never degraded on the way out.
            transcoder ? { transcoder } : {},
          );
          if (r.status === 0) completed++;
          else warning++;
        } catch (error) {
          failed++;
          failedUids.push(source.sopInstanceUid);
          if (!dead && watched.brokenBy) {
            // Its C-STORE-RQ went out incomplete, and no other message may follow one
            // (PS3.8 Annex E.2): the association carrying it is aborted.
            dead = true;
            this.#host.emitError(watched.brokenBy);
            via.abort();
          } else if (!dead && via.state !== 'Sta6' && via !== context.association) {
            // The destination association died: what was not started fails too.
            dead = true;
            const { host, port } = destination!;
            this.#host.emitError(
              new SubAssociationError(destinationTitle!, host, port, 'lost', error),
            );
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
      // With a transcoder, a compressed syntax comes with the uncompressed fallbacks.
      for (const ts of transferSyntaxesFor(s.transferSyntaxUid, this.#host.options.transcoder))
        set.add(ts);
      bySopClass.set(s.sopClassUid, set);
    }
    const window = Math.max(1, Math.min(this.#host.options.subOperationWindow ?? 1, 128));
    return requestAssociation({
      ...this.#host.options.moveAssociationOptions,
      ...(window > 1 && { maxOperations: window }),
      transport: entry.transport ?? this.#host.options.transport,
      host: entry.host,
      port: entry.port,
      callingAeTitle: this.#host.options.aeTitle,
      calledAeTitle: aeTitle,
      contexts: [...bySopClass].slice(0, 128).map(([abstractSyntax, ts]) => ({
        abstractSyntax,
        transferSyntaxes: [...ts],
      })),
    });
  }
}
