/**
 * @packageDocumentation
 * `@dnet/transport-tcp`: TCP transport for dnet over node:net.
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/transport-tcp';
