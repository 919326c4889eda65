/**
 * @packageDocumentation
 * `@dnet/tls`: TLS transport for dnet over node:tls with PS3.15 BCP 195 profiles.
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/tls';
