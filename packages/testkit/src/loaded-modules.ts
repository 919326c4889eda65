/**
 * What a Node command loads: every module URL the ES module loader loads (a
 * module hook in its own thread appends them to a file), the CommonJS modules
 * it required and Node's own modules (`process.moduleLoadList`, appended at
 * exit), and the text of every script loaded, so a test can tell which
 * packages a bundle's chunks hold (esbuild marks each bundled module with a
 * `// <path>` comment). Node only; every wait bounded.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** What `node <script> ...args` loaded. */
export interface LoadedModules {
  /** The exit code (`null` when killed). */
  code: number | null;
  stderr: string;
  /** ESM URLs, CommonJS paths and `NativeModule x` / `Internal Binding x` names, one each. */
  modules: string[];
  /** The text of every script loaded (JavaScript files, not JSON). */
  text: string;
}

/**
 * Runs `node <script> ...args` (killed after `timeoutMs`), recording what it
 * loads into a file of `dir`.
 */
export async function loadedModules(
  script: string,
  args: readonly string[],
  dir: string,
  timeoutMs = 30_000,
): Promise<LoadedModules> {
  const log = join(
    dir,
    `${args.join('-').replace(/\W/g, '_') || 'none'}-${process.hrtime.bigint()}.log`,
  );
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, script, ...args],
      { env: { ...process.env, DNET_LOADED: log }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
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
    // Scripts only: a package.json read for its version names packages it does not load.
    if (path && /\.[cm]?js$/.test(path)) text += await readFile(path, 'utf8');
  }
  return { code, stderr, modules, text };
}
