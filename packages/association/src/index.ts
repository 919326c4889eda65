/**
 * @packageDocumentation
 * `@dnet/association`: the PS3.8 §9.2 upper layer state machine, association
 * negotiation (requestor proposal and acceptor policy), timers, and DIMSE
 * message exchange over an association.
 *
 * @example
 * ```ts
 * import { transition } from '@dnet/association';
 * transition('Sta6', 'Evt12'); // { action: 'AR-2', next: 'Sta8', effects: ['indicate-a-release'] }
 * ```
 */

export * from './association.js';
export * from './errors.js';
export * from './incoming-data-set.js';
export * from './listen-for-associations.js';
export * from './negotiation.js';
export * from './state-machine.js';
export * from './timer.js';

/** The package's name, for diagnostics. */
export const packageName = '@dnet/association';
