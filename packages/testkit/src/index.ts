/**
 * @packageDocumentation
 * Private test support for dnet's interop tests: a free loopback port, a real
 * peer (DCMTK tool or Orthanc) started on 127.0.0.1 and awaited until it
 * listens, its log kept, and the process always killed by its own PID.
 * Vitest-free entries: `@dnet/testkit/node` (these helpers but
 * `describePeer`), `@dnet/testkit/pki` (a throw-away openssl PKI) and
 * `@dnet/testkit/orthanc` (Orthanc started with its REST API),
 * `@dnet/testkit/postgres` (a throwaway PostgreSQL server) and
 * `@dnet/testkit/cut-data-sets` (data sets encoded by hand for the "every
 * cut" tests).
 *
 * @example
 * ```ts
 * import { describePeer, startPeer } from '@dnet/testkit';
 * describePeer(['storescp'], 'store to DCMTK', () => {
 *   it('stores', async () => {
 *     await using scp = await startPeer({ command: 'storescp', args: (port) => [String(port)] });
 *   });
 * });
 * ```
 */

export { hasCommand, missingPeers } from './commands.js';
export { describePostgres } from './describe-postgres.js';
export { describePeer } from './peers.js';
export { freePort, waitForPort } from './ports.js';
export { type PeerOptions, type RunningPeer, runTool, startPeer } from './process.js';
