import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadedModules, loadedModules } from '@dnet/testkit/loaded-modules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCP_CLI } from './scale-out-cluster.test-support.js';

// What a start of the built CLI loads (`pnpm build` makes it; the README's test command builds first).

/** What must not load for `--help` and `--version`: what serves associations. */
function serving(loaded: LoadedModules): string[] {
  const found: string[] = [];
  // The packages are dependencies of dnet-scp, not bundled: their files are modules of their own.
  for (const name of ['archive', 'codecs', 'tls', 'services'])
    if (
      loaded.modules.some((m) => m.includes(`/packages/${name}/`) || m.includes(`/@dnet/${name}/`))
    )
      found.push(`@dnet/${name}`);
  if (loaded.modules.some((m) => m.includes('better-sqlite3'))) found.push('better-sqlite3');
  if (loaded.modules.some((m) => m.includes('/pino/'))) found.push('pino');
  return found;
}

describe('dnet-scp start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-start-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help and --version load nothing that serves associations', async () => {
    for (const args of [['--help'], ['--version']]) {
      const loaded = await loadedModules(SCP_CLI, args, dir);
      expect(loaded.code, loaded.stderr).toBe(0);
      // The hook saw the CLI itself: an empty record would pass for nothing.
      expect(loaded.modules.some((m) => m.endsWith('/cli.js'))).toBe(true);
      expect(serving(loaded), args.join(' ')).toEqual([]);
    }
  }, 60_000);

  it('loads them to describe or serve (so the check above can fail)', async () => {
    const loaded = await loadedModules(SCP_CLI, ['conformance'], dir);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(serving(loaded)).toEqual(expect.arrayContaining(['@dnet/archive', '@dnet/services']));
  }, 60_000);
});
