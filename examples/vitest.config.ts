import { project } from '../vitest.shared';

// The examples run as programs (through tsx) against real peers: one test file.
export default project(import.meta.dirname, { include: ['examples.test.ts'] });
