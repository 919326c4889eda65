import { project } from '../vitest.shared.js';

// The harness's own unit tests (pure functions only: no process is started).
// In the root's project list, so `pnpm test` runs them; alone:
// `pnpm --filter @dnet/bench test` (or `npx vitest run --project bench`).
export default project(import.meta.dirname, { include: ['*.test.ts'] });
