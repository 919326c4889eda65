/**
 * @packageDocumentation
 * `@dnet/association`: the PS3.8 §9.2 upper layer state machine (Table 9-10
 * as data), association negotiation (requestor proposal and acceptor
 * policy), ARTIM and the other timers, and DIMSE message exchange over an
 * association, for both roles, on any `@dnet/transport` Transport.
 *
 * @example
 * ```ts
 * import { Association, listenForAssociations, responseFor } from '@dnet/association';
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
 *   association.on('C-STORE-RQ', async (rq) => {
 *     for await (const chunk of rq.dataSet!) save(chunk);
 *     await rq.respond(responseFor(rq.message, 0x0000));
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

export * from './association.js';
export * from './errors.js';
export * from './incoming-data-set.js';
export * from './listen-for-associations.js';
export * from './negotiation.js';
export * from './send-deadline.js';
export * from './state-machine.js';
export * from './timer.js';

/** The package's name, for diagnostics. */
export const packageName = '@dnet/association';
