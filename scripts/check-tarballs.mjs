#!/usr/bin/env node
// What a user meets from the registry, checked from the packed tarballs (run
// `pnpm build` first): every published package and app is packed, each tarball
// must carry LICENSE, README.md, CHANGELOG.md and the repository metadata, and the tarballs
// are installed together into a fresh folder outside the workspace. There:
// `npx dnet-scu --help` and `npx dnet-scp --help` must run; every package must
// import under ESM and require under CommonJS; a consumer importing every
// package must type-check under `node16`, `bundler` and `node10` resolution
// (node10 without `esModuleInterop`, the setting that once broke on a default
// import in the `.d.cts` files); and every ```ts block of the READMEs
// (scripts/readme-blocks.mjs) must type-check against the installed packages.
// Exits non-zero on the first failed check, naming it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeBlocks } from './readme-blocks.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const keep = process.argv.includes('--keep');

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) {
    const what = `${cmd} ${args.join(' ')}${options.cwd ? ` (in ${options.cwd})` : ''}`;
    throw new Error(`${what} failed:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r.stdout;
}

/** Like run(), without blocking: lets independent checks share the machine's cores. */
function runAsync(cmd, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status === 0) resolvePromise(out);
      else reject(Object.assign(new Error(`${cmd} ${args.join(' ')} failed:\n${out}`), { out }));
    });
  });
}

function publishedPackages() {
  const found = [];
  for (const parent of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, parent))) {
      const dir = join(root, parent, name);
      let json;
      try {
        json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      if (json.private) continue;
      found.push({ dir, rel: `${parent}/${name}`, json });
    }
  }
  return found;
}

const work = mkdtempSync(join(tmpdir(), 'dnet-tarballs-'));
const failures = [];
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}\n${error instanceof Error ? error.message : error}`);
  }
}

try {
  const packages = publishedPackages();
  const packs = join(work, 'tarballs');
  mkdirSync(packs);
  // Each package packs into a folder of its own, four at a time.
  const tarballs = new Map();
  const queue = [...packages];
  const packer = async () => {
    for (let pkg = queue.shift(); pkg; pkg = queue.shift()) {
      const dest = join(packs, pkg.json.name.replace('/', '__'));
      mkdirSync(dest);
      await runAsync('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.dir });
      const [made] = readdirSync(dest);
      if (!made) throw new Error(`pnpm pack made no tarball for ${pkg.json.name}`);
      tarballs.set(pkg.json.name, join(dest, made));
    }
  };
  await Promise.all([packer(), packer(), packer(), packer()]);

  for (const pkg of packages) {
    await check(
      `${pkg.json.name}: LICENSE, README.md, CHANGELOG.md and metadata in the tarball`,
      () => {
        const tarball = tarballs.get(pkg.json.name);
        const files = run('tar', ['tzf', tarball]).split('\n');
        for (const f of [
          'package/LICENSE',
          'package/README.md',
          'package/CHANGELOG.md',
          'package/package.json',
        ]) {
          if (!files.includes(f)) throw new Error(`${f} missing from ${tarball}`);
        }
        const json = JSON.parse(run('tar', ['xzOf', tarball, 'package/package.json']));
        const problems = [];
        if (json.license !== 'MIT') problems.push('license is not MIT');
        if (json.repository?.directory !== pkg.rel)
          problems.push(`repository.directory is not ${pkg.rel}`);
        if (!json.homepage) problems.push('no homepage');
        if (!json.bugs?.url) problems.push('no bugs.url');
        if (!json.engines?.node) problems.push('no engines.node');
        if (!Array.isArray(json.keywords) || json.keywords.length === 0)
          problems.push('no keywords');
        if (problems.length > 0) throw new Error(problems.join('; '));
      },
    );
  }

  // The consumer: every tarball a dependency, and the tarballs standing in
  // for the registry versions the packages name for each other.
  const consumer = join(work, 'consumer');
  mkdirSync(consumer);
  const files = Object.fromEntries([...tarballs].map(([name, path]) => [name, `file:${path}`]));
  const rootJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // What the README examples import beside dnet: pino (the archive's logger), as dnet-scp pins it.
  const scpJson = JSON.parse(readFileSync(join(root, 'apps', 'scp', 'package.json'), 'utf8'));
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify(
      {
        name: 'dnet-consumer',
        private: true,
        type: 'module',
        dependencies: {
          ...files,
          '@types/node': rootJson.devDependencies['@types/node'],
          pino: scpJson.dependencies.pino,
        },
        pnpm: { overrides: files, onlyBuiltDependencies: ['better-sqlite3'] },
      },
      null,
      2,
    ),
  );
  run('pnpm', ['install', '--prefer-offline', '--config.confirmModulesPurge=false'], {
    cwd: consumer,
  });

  for (const app of ['dnet-scu', 'dnet-scp']) {
    await check(`npx ${app} --help`, () => {
      const out = run('npx', ['--no-install', app, '--help'], { cwd: consumer });
      if (!out.includes(app)) throw new Error(`--help does not name ${app}:\n${out}`);
    });
  }

  const libraries = packages.filter((p) => p.json.exports);
  const entries = libraries.flatMap((p) =>
    Object.keys(p.json.exports)
      .filter((sub) => sub !== './package.json')
      .map((sub) => (sub === '.' ? p.json.name : `${p.json.name}/${sub.slice(2)}`)),
  );
  // The `testing` entries import vitest, an optional peer dependency a user
  // of them has; the import checks leave them out.
  const runtimeEntries = entries.filter((e) => !e.endsWith('/testing'));
  await check('every package imports under ESM', () => {
    const code = runtimeEntries.map((e) => `await import(${JSON.stringify(e)});`).join('\n');
    run('node', ['--input-type=module', '-e', code], { cwd: consumer });
  });
  await check('every package requires under CommonJS', () => {
    const code = runtimeEntries.map((e) => `require(${JSON.stringify(e)});`).join('\n');
    run('node', ['--input-type=commonjs', '-e', code], { cwd: consumer });
  });

  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const mains = libraries.map((p) => p.json.name);
  const importAll = (names) =>
    `${names.map((n, i) => `import * as m${i} from ${JSON.stringify(n)};`).join('\n')}\nexport const all = [${names.map((_, i) => `m${i}`).join(', ')}];\n`;
  // node10 reads `main`/`types` only: subpath exports are out of its reach. It
  // checks the declaration files themselves (skipLibCheck off), where TS1192
  // was; the other two check that every entry resolves to its types.
  const resolutions = {
    node10: {
      files: mains,
      module: 'commonjs',
      moduleResolution: 'node10',
      esModuleInterop: false,
      skipLibCheck: false,
    },
    node16: { files: entries, module: 'node16', moduleResolution: 'node16' },
    bundler: { files: entries, module: 'esnext', moduleResolution: 'bundler' },
  };
  const typeChecks = Object.entries(resolutions).map(([name, { files: names, ...options }]) =>
    check(`a consumer of every package type-checks under moduleResolution ${name}`, () => {
      const dir = join(consumer, `types-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'consumer.ts'), importAll(names));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022'],
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
            ...options,
          },
          files: ['consumer.ts'],
        }),
      );
      return runAsync('node', [tsc, '-p', dir], { cwd: consumer });
    }),
  );

  const readmeCheck = check('every ```ts block of the READMEs type-checks', async () => {
    const dir = join(consumer, 'readmes');
    mkdirSync(dir);
    const blocks = readmeBlocks(root);
    if (blocks.length === 0) throw new Error('no ```ts block found');
    const names = blocks.map((block, i) => {
      const file = `block-${String(i).padStart(3, '0')}.ts`;
      writeFileSync(
        join(dir, file),
        `// ${block.source}:${block.line}\n${block.code}\nexport {};\n`,
      );
      return file;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: names,
      }),
    );
    try {
      await runAsync('node', [tsc, '-p', dir], { cwd: consumer });
    } catch (error) {
      // Name the README and line of each error rather than the temporary file.
      const out = String(error.out ?? error).replace(
        /(?:readmes\/)?block-(\d{3})\.ts\((\d+),(\d+)\)/g,
        (_, n, line, col) => {
          const block = blocks[Number(n)];
          return `${block.source}:${block.line + Number(line) - 2}:${col}`;
        },
      );
      throw new Error(out);
    }
  });
  await Promise.all([...typeChecks, readmeCheck]);
} catch (error) {
  failures.push('set-up');
  console.log(`FAIL set-up\n${error instanceof Error ? error.message : error}`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.log(`\n${failures.length} tarball check(s) failed: ${failures.join(', ')}`);
  process.exit(1);
}
