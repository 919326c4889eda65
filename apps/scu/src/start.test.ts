import { type LoadedModules, loadedModules } from '@dnet/testkit/loaded-modules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './main.js';
import { cliPath, tempDir, useBuiltCli } from './scu-cli.test-support.js';

/** What `dnet-scu ...args` loaded (`loadedModules` of @dnet/testkit). */
const loadedBy = (args: string[], dir: string): Promise<LoadedModules> =>
  loadedModules(cliPath(), args, dir);

/** What must not load for `--help`: the codecs, TLS and SQLite. */
function heavy(loaded: LoadedModules): string[] {
  const found: string[] = [];
  if (/packages\/codecs\/|@dnet\/codecs/.test(loaded.text)) found.push('@dnet/codecs');
  if (/packages\/tls\/|@dnet\/tls/.test(loaded.text)) found.push('@dnet/tls');
  if (loaded.modules.some((m) => m === 'NativeModule tls' || m === 'node:tls'))
    found.push('node:tls');
  if (
    loaded.modules.some((m) => m.includes('better-sqlite3')) ||
    loaded.text.includes('better-sqlite3')
  )
    found.push('better-sqlite3');
  return found;
}

describe('dnet-scu start', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let built: AsyncDisposable;
  beforeAll(async () => {
    dir = await tempDir();
    built = await useBuiltCli();
  }, 60_000);
  afterAll(async () => {
    await built?.[Symbol.asyncDispose]();
    await dir?.[Symbol.asyncDispose]();
  });

  it('--help and --version load neither the codecs, nor TLS, nor SQLite', async () => {
    for (const args of [['--help'], ['--version']]) {
      const loaded = await loadedBy(args, dir.path);
      expect(loaded.code, loaded.stderr).toBe(0);
      // The hook saw the CLI itself: an empty record would pass for nothing.
      expect(loaded.modules.some((m) => m.endsWith('/cli.js'))).toBe(true);
      expect(heavy(loaded), args.join(' ')).toEqual([]);
    }
  }, 60_000);

  it('a store without a progress bar (no terminal, or -q) does not load the bar', async () => {
    const store = await loadedBy(['store', '--help'], dir.path);
    expect(store.code, store.stderr).toBe(0);
    // The store command itself was loaded: its chunk holds the command's usage text.
    expect(store.text).toContain('dnet-scu store');
    expect(store.modules.filter((m) => m.includes('cli-progress'))).toEqual([]);
  }, 60_000);

  it('loads them when a command needs them (so the checks above can fail)', async () => {
    const convert = await loadedBy(['convert', '--help'], dir.path);
    expect(convert.code, convert.stderr).toBe(0);
    expect(heavy(convert)).toContain('@dnet/codecs');
    // TLS only when asked for: an echo over TLS to a closed port still loads it (and fails).
    const plain = await loadedBy(['echo', '--help'], dir.path);
    expect(plain.code, plain.stderr).toBe(0);
    expect(heavy(plain)).toEqual([]);
    const overTls = await loadedBy(['echo', '127.0.0.1', '1', '--tls'], dir.path);
    expect(overTls.code).not.toBe(0);
    expect(heavy(overTls)).toContain('@dnet/tls');
    expect(heavy(overTls)).not.toContain('@dnet/codecs');
  }, 60_000);
});

describe('the command list', () => {
  it.each(Object.keys(COMMANDS))('%s: the summary in --help is the command’s own', async (name) => {
    const entry = COMMANDS[name]!;
    expect(entry.summary).toBe((await entry.load()).summary);
  });
});
