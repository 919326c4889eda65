// Child processes under `/usr/bin/time -v` (Debian package `time`): every
// role of a benchmark runs in its own process so its peak RSS ("Maximum
// resident set size") is its own. Every wait is bounded.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from '@dnet/testkit/node';
import { BUILD_DIR, type RoleName } from './build-roles.js';

/** GNU time's binary. */
export const TIME = '/usr/bin/time';

const timeDir = mkdtempSync(join(tmpdir(), 'dnet-bench-time-'));
let seq = 0;
/** Processes started and not yet closed: stopped if the harness is interrupted. */
const live = new Set<ChildProcess>();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => {
    for (const child of live) killTimed(child, 'SIGKILL');
    process.exit(130);
  });
}

/** Removes the folder of GNU time's reports. */
export function cleanupMeasure(): void {
  rmSync(timeDir, { recursive: true, force: true });
}

/**
 * Plain `node` on a role compiled by buildRoles() (bench/build-roles.ts, into bench/.build/ROLE.js):
 * no loader, the packages' built dist/ behind it.
 */
export function nodeRole(
  role: RoleName,
  args: string[],
  nodeFlags: readonly string[] = [],
): [string, string[]] {
  return [process.execPath, [...nodeFlags, join(BUILD_DIR, `${role}.js`), ...args]];
}

/**
 * Node flags of every receiving dnet process (the SCP role and dnet-scp), as
 * apps/scp/README.md advises for a server on a machine of few cores: V8's
 * garbage collector on the main thread only. Its helper threads (parallel
 * scavenges, concurrent marking and sweeping, array-buffer freeing) compete
 * with the sender for the two cores here. Measured 2026-12-04 on this
 * machine, storescu -> the SCP role, 500 x 512 KiB, 3 alternating rounds of 3:
 * 420-520 us of SCP CPU per image and 1 282-1 708 images/s with the flag,
 * 600-800 us and 1 058-1 374 images/s without. The small group keeps a row
 * without it (`DEFAULT_GC`) to show the difference in the same run.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** What a finished measured process reports. */
export interface Finished {
  /** Exit code. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size, MB (GNU time's "Maximum resident set size"). */
  rssMb: number;
  /** Wall time seen by the harness, ms (start-up included). */
  wallMs: number;
}

function readRss(file: string): number {
  try {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function start(command: string, args: string[], cwd?: string) {
  const report = join(timeDir, `${++seq}.txt`);
  const child = spawn(TIME, ['-v', '-o', report, command, ...args], {
    cwd,
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  live.add(child);
  child.once('close', () => live.delete(child));
  const t0 = performance.now();
  const closed = new Promise<Finished>((done) => {
    child.once('error', (err) =>
      done({ code: -1, stdout, stderr: `${stderr}\n${err.message}`, rssMb: Number.NaN, wallMs: 0 }),
    );
    child.once('close', (code) =>
      done({ code, stdout, stderr, rssMb: readRss(report), wallMs: performance.now() - t0 }),
    );
  });
  return { child, closed, out: () => stdout, err: () => stderr };
}

/** Runs a command to completion under GNU time, killed after `timeoutMs`. */
export async function runMeasured(
  command: string,
  args: string[],
  { timeoutMs = 120_000, cwd }: { timeoutMs?: number; cwd?: string } = {},
): Promise<Finished> {
  const p = start(command, args, cwd);
  const timer = setTimeout(() => killTimed(p.child, 'SIGKILL'), timeoutMs);
  const r = await p.closed;
  clearTimeout(timer);
  return r;
}

/** The process GNU time started (its only child), by parent PID. */
function measuredPid(timePid: number): number | undefined {
  try {
    const out = execFileSync('pgrep', ['-P', String(timePid)], { encoding: 'utf8' });
    const pid = Number(out.trim().split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Signals the measured process (not GNU time, which then reports and exits). */
function killTimed(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  const pid = measuredPid(child.pid);
  try {
    if (pid) process.kill(pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

/** A server process under GNU time. */
export interface MeasuredServer {
  port: number;
  /** SIGTERM to the server (SIGKILL after 5 s); resolves with its peak RSS. */
  stop(): Promise<Finished>;
  log(): string;
}

/** Starts a server under GNU time and waits until `port` accepts connections. */
export async function startMeasured(
  command: string,
  args: string[],
  port: number,
  { cwd, timeoutMs = 20_000 }: { cwd?: string; timeoutMs?: number } = {},
): Promise<MeasuredServer> {
  const p = start(command, args, cwd);
  const stop = async () => {
    killTimed(p.child, 'SIGTERM');
    const timer = setTimeout(() => killTimed(p.child, 'SIGKILL'), 5_000);
    const r = await p.closed;
    clearTimeout(timer);
    return r;
  };
  const failed = p.closed.then((r) => {
    throw new Error(`${command} exited (${r.code}) before listening:\n${r.stdout}${r.stderr}`);
  });
  failed.catch(() => {});
  try {
    await Promise.race([waitForPort(port, { timeoutMs }), failed]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, stop, log: () => p.out() + p.err() };
}

process.once('exit', () => cleanupMeasure());
