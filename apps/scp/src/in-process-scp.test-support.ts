import { spawnSync } from 'node:child_process';
import { Client, type ClientOptions } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';
import { describe, it } from 'vitest';
import { type Io, main } from './main.js';
import type { RunningScp } from './scp.js';

/** A client association from TESTSCU to dnet-scp (AE DNETSCP) on 127.0.0.1:`port`. */
export function connectClient(port: number, contexts: ClientOptions['contexts']): Promise<Client> {
  return Client.connect({
    transport: tcp(),
    host: '127.0.0.1',
    port,
    callingAeTitle: 'TESTSCU',
    calledAeTitle: 'DNETSCP',
    contexts,
  });
}

/** dnet-scp started in-process by {@link startInProcess}. */
export interface InProcessScp {
  /** The running archive. */
  scp: RunningScp;
  /** Its port. */
  port: number;
  /** The JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** The same lines as written (to check what JSON.parse would hide, such as a repeated key). */
  lines: string[];
  /** What it printed on stdout. */
  out: string[];
  /** Stops it (as SIGTERM does) and resolves its exit code. */
  stop(): Promise<number>;
}

/**
 * Runs `main()` with `args` until {@link InProcessScp.stop}; rejects if it does not listen within 10 s.
 * `io` adds the process-level hooks the CLI passes (e.g. `collectYoungGeneration`).
 */
export async function startInProcess(
  args: string[],
  io: Pick<Io, 'collectYoungGeneration'> = {},
): Promise<InProcessScp> {
  const stop = new AbortController();
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  let listening!: (scp: RunningScp) => void;
  const ready = new Promise<RunningScp>((resolve) => {
    listening = resolve;
  });
  const exit = main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    signal: stop.signal,
    log: {
      write: (line: string) => {
        lines.push(line);
        logs.push(JSON.parse(line));
      },
    },
    onListening: (scp) => listening(scp),
    ...io,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const scp = await Promise.race([
    ready,
    exit.then((code) => {
      throw new Error(`dnet-scp exited with ${code}: ${err.join('\n')}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('dnet-scp did not listen within 10 s')), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    scp,
    port: scp.port,
    logs,
    lines,
    out,
    stop: () => {
      stop.abort();
      return exit;
    },
  };
}

/** Waits until `check()` is true, polling every 20 ms, for at most `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A tmpfs mounted for a test; `unmount()` removes it (idempotent). */
export interface TestMount {
  /** The mount point. */
  dir: string;
  /** Remounts it read-only (or read-write again). */
  remount(options: 'ro' | 'rw'): void;
  /** Unmounts it. */
  unmount(): void;
}

/**
 * Mounts a small tmpfs at `dir` (which must exist) of `size` (e.g. `'1m'`),
 * `ro` or not; returns the reason when it cannot (only root mounts, and a
 * container may forbid it). A read-only or full file system cannot be
 * faked otherwise: root writes through `chmod`.
 */
export function mountTmpfs(
  dir: string,
  size: string,
  mode: 'ro' | 'rw' = 'rw',
): TestMount | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root' };
  const run = (args: string[]) => spawnSync('mount', args, { encoding: 'utf8', timeout: 10_000 });
  const r = run(['-t', 'tmpfs', '-o', `size=${size},${mode}`, 'tmpfs', dir]);
  if (r.status !== 0)
    return { reason: `mount failed: ${(r.stderr || r.error?.message || '').trim()}` };
  let mounted = true;
  return {
    dir,
    remount: (options) => {
      run(['-o', `remount,${options}`, dir]);
    },
    unmount: () => {
      if (!mounted) return;
      mounted = false;
      spawnSync('umount', ['-l', dir], { timeout: 10_000 });
    },
  };
}

/**
 * A `describe` block that needs {@link mountTmpfs}: when mounting cannot work
 * (not root) it is skipped with a printed reason, unless `CI` is set, where it fails.
 */
export function describeWithMounts(name: string, body: () => void): void {
  if (process.getuid?.() === 0) {
    describe(name, body);
    return;
  }
  const reason = 'mounting a tmpfs (read-only or full file system) needs root';
  if (process.env.CI) {
    describe(name, () => {
      it('can mount a tmpfs', () => {
        throw new Error(`CI is set and ${reason}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${name}: ${reason}`);
  describe.skip(`${name} (skipped: ${reason})`, body);
}

/** The final C-STORE-RSP of {@link storeRaw}: its status and Error Comment. */
export interface RawStoreResponse {
  /** Status (0000,0900). */
  status: number;
  /** Error Comment (0000,0902), if any. */
  errorComment: string | undefined;
}

/**
 * Sends `dataSet` as it is (any bytes, even a cut data set) in one C-STORE-RQ
 * on the client's association, through the association-level API: no source
 * resolution, no check of ours on the sending side.
 */
export async function storeRaw(
  client: Client,
  sopClassUid: string,
  sopInstanceUid: string,
  dataSet: Uint8Array,
): Promise<RawStoreResponse> {
  const rsp = await client.association.cStore(
    {
      commandField: 0x0001, // C-STORE-RQ (PS3.7 §9.3.1.1)
      affectedSopClassUid: sopClassUid,
      affectedSopInstanceUid: sopInstanceUid,
      priority: 0, // MEDIUM
      hasDataSet: true,
    },
    dataSet,
  );
  const message = rsp.message as { status: number; errorComment?: string };
  return { status: message.status, errorComment: message.errorComment };
}

/**
 * {@link startInProcess} on 127.0.0.1 and a free port with `storage` as its
 * storage folder; `args` add to or override the rest.
 */
export function startOnLoopback(
  [storage, ...args]: [string, ...string[]],
  io: Pick<Io, 'collectYoungGeneration'> = {},
): Promise<InProcessScp> {
  return startInProcess(['--host', '127.0.0.1', '--port', '0', '--storage', storage, ...args], io);
}
