import { project } from '../vitest.shared';

// The examples run as programs (through tsx) against real peers: one test file. Each run is
// bounded by its own deadline (examples.test.ts), under the test's, so a hung example is
// reported with its output.
export default project(import.meta.dirname, { include: ['examples.test.ts'], testTimeout: 60_000 });
