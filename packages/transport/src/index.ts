/**
 * @packageDocumentation
 * `@dnet/transport`: The dnet transport seam: Transport and Connection interfaces, in-memory transport, compliance suite.
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/transport';
