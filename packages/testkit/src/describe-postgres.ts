/**
 * `describePostgres`, for tests that need the throwaway server of
 * `postgres.ts`. Test code only (it imports vitest).
 */
import { describe, it } from 'vitest';
import { postgresBinDir } from './postgres.js';

/**
 * `describe` for tests that need PostgreSQL (testkit's `describePeer`
 * pattern): skipped with a printed reason when the server is not installed,
 * failing when `CI` is set (CI installs it).
 */
export function describePostgres(name: string, body: () => void): void {
  if (postgresBinDir()) {
    describe(name, body);
    return;
  }
  const reason = 'PostgreSQL server not installed (apt-get install -y postgresql)';
  if (process.env.CI) {
    describe(name, () => {
      it('has PostgreSQL installed', () => {
        throw new Error(`CI is set and ${reason}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}
