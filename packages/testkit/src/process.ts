import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, waitForPort } from './ports.js';

/** How to start a peer. */
export interface PeerOptions {
  /** Executable, e.g. `storescp` or `Orthanc`. */
  command: string;
  /** Arguments, given the port chosen for the peer. */
  args: (port: number) => string[];
  /** Port to use; a free one when absent. */
  port?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Wait until the port accepts connections (default true). */
  waitForListen?: boolean;
  /** Startup deadline in ms (default 20 000). */
  startTimeoutMs?: number;
}

/** A started peer. `stop()` (or `await using`) kills it by its PID. */
export interface RunningPeer extends AsyncDisposable {
  port: number;
  process: ChildProcess;
  /** Everything the peer wrote to stdout and stderr so far. */
  log(): string;
  /** Kills the peer (SIGTERM, then SIGKILL after 3 s) and waits for its exit. */
  stop(): Promise<void>;
  /** Resolves with the exit code when the peer exits on its own. */
  exited: Promise<number | null>;
}

const running = new Set<RunningPeer>();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const peer of running) peer.process.kill('SIGKILL');
  });
}

/**
 * Starts a peer on 127.0.0.1 with `TCP_NODELAY=1` (see docs/architecture.md, "Real peers": Debian's
 * DCMTK and Orthanc otherwise wait on delayed ACKs) and waits until it listens.
 */
export async function startPeer(options: PeerOptions): Promise<RunningPeer> {
  hookExit();
  const port = options.port ?? (await freePort());
  const child = spawn(options.command, options.args(port), {
    cwd: options.cwd,
    env: { ...process.env, TCP_NODELAY: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      output += `\n[spawn error] ${err.message}`;
      resolve(-1);
    });
  });
  const stop = async () => {
    running.delete(peer);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  const peer: RunningPeer = {
    port,
    process: child,
    log: () => output,
    stop,
    exited,
    [Symbol.asyncDispose]: stop,
  };
  running.add(peer);
  if (options.waitForListen !== false) {
    const failed = exited.then((code) => {
      throw new Error(`${options.command} exited (${code}) before listening:\n${output}`);
    });
    try {
      await Promise.race([
        waitForPort(port, { timeoutMs: options.startTimeoutMs ?? 20_000 }),
        failed,
      ]);
    } catch (err) {
      await stop();
      throw err;
    } finally {
      failed.catch(() => {});
    }
  }
  return peer;
}

/** Runs a tool to completion (bounded by `timeoutMs`) and returns its exit code and output. */
export function runTool(
  command: string,
  args: string[],
  {
    cwd,
    timeoutMs = 60_000,
    env,
  }: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, TCP_NODELAY: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: `${stderr}\n[spawn error] ${err.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
