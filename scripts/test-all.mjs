#!/usr/bin/env node
// The whole check, as the README's test command runs it: build, lint,
// typecheck, package hygiene (publint + arethetypeswrong, then the packed
// tarballs installed and used as a user would: scripts/check-tarballs.mjs),
// the API reports
// (API Extractor: each published package's surface against its committed
// etc/*.api.md, see CONTRIBUTING.md), the API documentation (TypeDoc, no
// warning), a `pnpm publish -r --dry-run`, then every vitest project. Every step runs even when an earlier one failed, so one run shows
// everything that is wrong. The last line is `N passed, N failed[, N skipped]`,
// counted from vitest's JSON report; a failed non-test step counts as a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const report = '.vitest-report.json';
const steps = [
  ['build', ['pnpm', 'run', 'build']],
  ['lint', ['pnpm', 'run', 'lint']],
  ['typecheck', ['pnpm', 'run', 'typecheck']],
  ['package checks', ['pnpm', 'run', 'check:packages']],
  ['api reports', ['pnpm', 'run', 'api']],
  // TypeDoc over every published package; any warning (an undocumented export,
  // a link that does not resolve) fails it (typedoc.json: treatWarningsAsErrors).
  ['api docs', ['pnpm', 'run', 'docs']],
  // What `pnpm publish -r` would publish, without publishing (CONTRIBUTING.md: release).
  ['release dry run', ['pnpm', 'run', 'release:dry']],
  [
    'tests',
    [
      'pnpm',
      'exec',
      'vitest',
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
  ],
];

rmSync(report, { force: true });
const failedSteps = [];
const timings = [];
for (const [name, [cmd, ...args]] of steps) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const started = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  timings.push(`${name} ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (r.status !== 0) failedSteps.push(name);
}
// Each step's time, so a run that nears CI's time budget shows where it goes.
console.log(`\nsteps: ${timings.join(', ')}`);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  failed = json.numFailedTests;
  skipped = json.numPendingTests + json.numTodoTests;
  // A test file that failed to load has no tests in the counts: count it.
  for (const file of json.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed += 1;
  }
}
const stepFailures = failedSteps.filter((s) => s !== 'tests').length;
if (failedSteps.length > 0) console.log(`\nfailed steps: ${failedSteps.join(', ')}`);
const total = failed + stepFailures;
console.log(`${passed} passed, ${total} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failedSteps.length > 0 || total > 0 ? 1 : 0);
