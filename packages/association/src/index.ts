/**
 * @packageDocumentation
 * `@dnet/association`: PS3.8 association state machine, negotiation, timers and DIMSE exchange.
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/association';
