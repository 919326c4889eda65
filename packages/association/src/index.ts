/**
 * @packageDocumentation
 * `@dnet/association`: the PS3.8 §9.2 upper layer state machine (Table 9-10
 * as data), association negotiation (requestor proposal and acceptor
 * policy), ARTIM and the other timers, and DIMSE message exchange over an
 * association, for both roles, on any `@dnet/transport` Transport.
 *
 * An {@link Association} is a small facade over the three roles of PS3.8:
 * the upper layer (`upper-layer.ts`: read loop, PDU decoder, Table 9-10
 * applied, write path), ACSE (`acse.ts`: A-ASSOCIATE, A-RELEASE) and the
 * DIMSE provider (`dimse-provider.ts`: Message IDs, operations window, DIMSE
 * timer, C-CANCEL, data sets as streams). Requests of the peer go to one
 * handler per command ({@link Association.handle}); events are notifications.
 *
 * @example
 * ```ts
 * import { Association, listenForAssociations } from '@dnet/association';
 * import { respondTo } from '@dnet/dimse';
 * import { tcp } from '@dnet/transport-tcp';
 *
 * // Acceptor: verification and CT storage.
 * const scp = await listenForAssociations(tcp(), {
 *   port: 11112,
 *   policy: { contexts: [
 *     { abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
 *     { abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1'] },
 *   ] },
 * }, (association) => {
 *   association.handle('C-STORE', async (rq) => {
 *     for await (const chunk of rq.dataSet!) save(chunk);
 *     await rq.respond(respondTo(rq.message, { status: 0x0000 }));
 *   });
 * });
 *
 * // Requestor.
 * const a = await Association.request({
 *   transport: tcp(), host: '127.0.0.1', port: 11112,
 *   proposal: { callingAeTitle: 'DNET', calledAeTitle: 'SCP',
 *     contexts: [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }] },
 * });
 * await a.cEcho();
 * await a.release();
 * ```
 */

export type { AssociateOptions } from './acse.js';
export * from './association.js';
export type { AssociationEventMap } from './association-events.js';
export type {
  AcceptAssociationOptions,
  AssociationInfo,
  AssociationOptions,
  RequestAssociationOptions,
} from './association-options.js';
export { channels, type TransitionRecord } from './diagnostics.js';
export type {
  DataSetSource,
  IncomingRequest,
  IncomingResponse,
  RequestOptions,
  WithOptionalId,
} from './dimse-primitives.js';
export { DEFAULT_MAX_OPERATIONS, MAX_COMMAND_LENGTH } from './dimse-provider.js';
export * from './errors.js';
export * from './incoming-data-set.js';
export * from './listen-for-associations.js';
export * from './negotiation.js';
export type { RequestCommand, RequestHandler, RequestOf } from './request-handlers.js';
export * from './send-deadline.js';
export * from './state-machine.js';
export * from './timer.js';

/** The package's name, for diagnostics. */
export const packageName = '@dnet/association';
