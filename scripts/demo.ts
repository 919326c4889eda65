// The README's demo: runs what dnet can do so far against itself and exits 0.
// (The dnet-scp issue turns this into echo/store/find/get/move against dnet-scp.)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

console.log('dnet packages:');
for (const folder of readdirSync('packages')) {
  const pkg = JSON.parse(readFileSync(`packages/${folder}/package.json`, 'utf8'));
  console.log(`  ${pkg.name.padEnd(22)} ${pkg.description}`);
}
for (const app of ['scu', 'scp']) {
  console.log(`\n$ dnet-${app} --help`);
  const r = spawnSync(process.execPath, [`apps/${app}/dist/cli.js`, '--help'], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
