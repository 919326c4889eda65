import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './main.js';
import { cliPath, tempDir, useBuiltCli } from './scu-cli.test-support.js';

// What a start of the built CLI loads. A module hook (node:module register(),
// in its own thread) appends every URL the ES module loader loads to a file;
// at exit the process appends the CommonJS modules it required and Node's
// own modules it loaded (process.moduleLoadList). The bundle marks each
// module it holds with a `// <path>` comment, so the text of the files loaded
// tells which packages they hold.
const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.DNET_LOADED, url + '\\n');
  return next(url, context);
}`;
const PRELOAD = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}));
const require = createRequire(process.cwd() + '/');
process.on('exit', () => {
  const lines = [...Object.keys(require.cache), ...process.moduleLoadList];
  appendFileSync(process.env.DNET_LOADED, lines.join('\\n') + '\\n');
});`;

/** What `dnet-scu ...args` loaded: module URLs and paths, Node's module names, the files' text. */
interface Loaded {
  code: number | null;
  stderr: string;
  /** ESM URLs, CommonJS paths and `NativeModule x` / `Internal Binding x` names, one each. */
  modules: string[];
  /** The text of every file loaded. */
  text: string;
}

async function loadedBy(args: string[], dir: string): Promise<Loaded> {
  const log = join(dir, `${args.join('-').replace(/\W/g, '_')}.log`);
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, cliPath(), ...args],
      { env: { ...process.env, DNET_LOADED: log }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const recorded = await readFile(log, 'utf8').catch(() => '');
  const modules = [...new Set(recorded.split('\n').filter(Boolean))];
  let text = '';
  for (const m of modules) {
    const path = m.startsWith('file:') ? fileURLToPath(m) : m.startsWith('/') ? m : undefined;
    if (path) text += await readFile(path, 'utf8');
  }
  return { code, stderr, modules, text };
}

/** What must not load for `--help`: the codecs, TLS and SQLite. */
function heavy(loaded: Loaded): string[] {
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
