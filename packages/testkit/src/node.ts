/**
 * The helpers of `@dnet/testkit` that need no test runner (no vitest import),
 * for scripts such as the benchmark harness.
 */
export { hasCommand, missingPeers } from './commands.js';
export { freePort, waitForPort } from './ports.js';
export { type PeerOptions, type RunningPeer, runTool, startPeer } from './process.js';
