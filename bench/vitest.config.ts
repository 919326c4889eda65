import { project } from '../vitest.shared.js';

// The harness's own unit tests (pure functions only: no process is started).
// Not in the root's project list (packages/*, apps/*, tests/*): run with
// `pnpm --filter @dnet/bench test` (or `npx vitest run --config bench/vitest.config.ts`).
export default project(import.meta.dirname, { include: ['*.test.ts'] });
