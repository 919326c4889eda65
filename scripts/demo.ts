// The README's demo (`pnpm demo`, after the build): starts the built dnet-scp on
// a free port with a temporary storage folder, generates a few synthetic CT
// images, and runs dnet-scu echo, store, find, get and move against it (the move
// goes to a second dnet-scp), printing what happened; then it stops both
// servers and exits 0. Everything is bounded by a deadline, and the servers
// are always stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticImages } from '../apps/scp/src/synthetic-images.js';

const DEADLINE_MS = 120_000;
const STEP_TIMEOUT_MS = 30_000;
const SCP = join('apps', 'scp', 'dist', 'cli.js');
const SCU = join('apps', 'scu', 'dist', 'cli.js');

const servers: ChildProcess[] = [];
let folder: string | undefined;

function stopServers(signal: NodeJS.Signals): Promise<void> {
  return Promise.all(
    servers.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill(signal);
        }),
    ),
  ).then(() => undefined);
}

const deadline = setTimeout(() => {
  console.error(`\ndemo: deadline of ${DEADLINE_MS / 1000} s passed; stopping`);
  for (const child of servers) child.kill('SIGKILL');
  process.exit(1);
}, DEADLINE_MS);

/** Starts a dnet-scp and resolves its port once it prints `listening on host:port`. */
function startScp(args: string[], log: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCP, '--host', '127.0.0.1', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    servers.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error('dnet-scp did not start in 15 s')), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      log.push(...String(d).split('\n').filter(Boolean));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dnet-scp exited with ${code}`));
    });
  });
}

/** Runs one dnet-scu command, echoing the command line and its output. */
function scu(args: string[]): Promise<void> {
  console.log(`\n$ dnet-scu ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCU, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`dnet-scu ${args[0]} exited with ${code}`));
    });
  });
}

async function run(): Promise<void> {
  folder = await mkdtemp(join(tmpdir(), 'dnet-demo-'));
  const images = await syntheticImages(join(folder, 'images'), { count: 12, perSeries: 3 });
  console.log(`generated ${images.length} synthetic CT images in ${join(folder, 'images')}`);

  const destLog: string[] = [];
  const destPort = await startScp(
    ['--aet', 'DNETDEST', '--storage', join(folder, 'dest')],
    destLog,
  );
  const log: string[] = [];
  const port = await startScp(
    [
      '--aet',
      'DNETSCP',
      '--storage',
      join(folder, 'archive'),
      '--peer',
      `DNETDEST=127.0.0.1:${destPort}`,
    ],
    log,
  );
  console.log(
    `dnet-scp DNETSCP listening on 127.0.0.1:${port} (storage ${join(folder, 'archive')})`,
  );
  console.log(`dnet-scp DNETDEST listening on 127.0.0.1:${destPort} (the C-MOVE destination)`);

  const at = ['127.0.0.1', String(port), '--aec', 'DNETSCP'];
  const [first, second] = [images[0]!, images.at(-1)!];
  await scu(['echo', ...at]);
  await scu(['store', ...at, join(folder, 'images')]);
  await scu([
    'find',
    ...at,
    '-S',
    '-k',
    'PatientName',
    '-k',
    'PatientID',
    '-k',
    'StudyDate',
    '-k',
    'StudyDescription',
    '-k',
    'NumberOfStudyRelatedInstances',
  ]);
  await scu([
    'find',
    ...at,
    '-S',
    '--level',
    'SERIES',
    '-k',
    `StudyInstanceUID=${first.studyInstanceUid}`,
    '-k',
    'SeriesNumber',
    '-k',
    'SeriesDescription',
    '-k',
    'NumberOfSeriesRelatedInstances',
  ]);
  const got = join(folder, 'got');
  await scu(['get', ...at, '--out', got, '-k', `StudyInstanceUID=${first.studyInstanceUid}`]);
  console.log(`(C-GET wrote ${(await readdir(got)).length} files to ${got})`);
  await scu([
    'move',
    ...at,
    '--dest',
    'DNETDEST',
    '-k',
    `StudyInstanceUID=${second.studyInstanceUid}`,
  ]);
  await scu([
    'find',
    '127.0.0.1',
    String(destPort),
    '--aec',
    'DNETDEST',
    '-S',
    '-k',
    'StudyInstanceUID',
    '-k',
    'StudyDescription',
    '-k',
    'NumberOfStudyRelatedInstances',
  ]);

  await stopServers('SIGTERM');
  const operations = log
    .map((l) => JSON.parse(l) as { op?: string; status?: string })
    .filter((l) => l.op && l.status !== 'started'); // C-MOVE/C-GET log a start and an end line
  const byOp = new Map<string, number>();
  for (const o of operations) byOp.set(o.op!, (byOp.get(o.op!) ?? 0) + 1);
  console.log(
    `\ndnet-scp logged ${log.length} JSON lines on stderr, operations: ` +
      [...byOp].map(([op, n]) => `${op} x${n}`).join(', '),
  );
  const codes = servers.map((c) => c.exitCode);
  if (codes.some((c) => c !== 0)) throw new Error(`a dnet-scp exited with ${codes.join(', ')}`);
  console.log('both servers stopped on SIGTERM (graceful shutdown), exit code 0; demo done');
}

try {
  await run();
  clearTimeout(deadline);
} catch (error) {
  console.error(`\ndemo failed: ${(error as Error).message}`);
  await stopServers('SIGKILL');
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  if (folder) await rm(folder, { recursive: true, force: true });
}
