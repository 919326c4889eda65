// `pnpm bench`: every benchmark of the repository, figures printed side by
// side. Each package may ship `bench/*.ts` modules exporting
// `run(): Promise<Result[]>`; they run here after the socket ceiling, in the
// folder order of the packages.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { socketCeiling } from './socket-ceiling.js';
import type { Result } from './stats.js';

const only = process.argv[2]; // optional filter: a substring of the module path
const results: Result[] = [];
if (!only || 'socket'.includes(only)) results.push(await socketCeiling());

for (const folder of readdirSync('packages').sort()) {
  const dir = join('packages', folder, 'bench');
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const path = join(dir, file);
    if (only && !path.includes(only)) continue;
    const mod = (await import(pathToFileURL(resolve(path)).href)) as {
      run?: () => Promise<Result[]>;
    };
    if (typeof mod.run !== 'function') continue;
    console.log(`running ${path}`);
    results.push(...(await mod.run()));
  }
}

console.log(
  `\n${'benchmark'.padEnd(56)} ${'median'.padStart(10)} ${'min'.padStart(10)} ${'max'.padStart(10)}`,
);
for (const r of results) {
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toPrecision(3)).padStart(10);
  console.log(`${r.name.padEnd(56)} ${f(r.median)} ${f(r.min)} ${f(r.max)}  ${r.unit}`);
}
