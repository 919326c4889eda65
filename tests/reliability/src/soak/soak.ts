import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, queryRetrieve, storage } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';
import { Random } from '../fuzz/random.js';
import { makeObject, SC_IMAGE } from '../support/objects.js';
import { filesUnder, partialFiles } from '../support/server-under-test.js';

/** The built dnet-scp binary (`pnpm --filter dnet-scp build`). */
export const SCP_CLI = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../apps/scp/dist/cli.js',
);

/** A running dnet-scp. */
export interface RunningScp {
  /** Its port. */
  port: number;
  /** Its process id. */
  pid: number;
  /** What it wrote to stderr and stdout. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves on exit. */
  stop(): Promise<void>;
}

/**
 * Starts the built dnet-scp on 127.0.0.1, a free port, storing into `storageDir`
 * (no vitest import here: `pnpm soak` runs outside vitest). Resolves once it prints
 * "listening on"; rejects after 20 s or if it exits first.
 */
export function startScp(storageDir: string, extra: readonly string[] = []): Promise<RunningScp> {
  const child = spawn(
    process.execPath,
    [
      SCP_CLI,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--storage',
      storageDir,
      '--aet',
      'DNETSCP',
      '--log-level',
      'warn',
      // One process: the pid the tests measure (VmHWM...) is the one serving the associations.
      '--workers',
      '1',
      ...extra,
    ],
    { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dnet-scp did not start in 20 s: ${output}`));
    }, 20_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on [^\s]*:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolvePromise({
          port: Number(m[1]),
          pid: child.pid as number,
          log: () => output,
          async stop() {
            if (child.exitCode !== null) return;
            child.kill('SIGTERM');
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(kill);
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dnet-scp exited (${code}): ${output}`));
    });
  });
}

/** Options of a soak run. */
export interface SoakOptions {
  /** Objects to store (each stored at most once with success). */
  objects: number;
  /** Concurrent associations. */
  concurrency: number;
  /** Chance that a store is aborted (A-ABORT) while in flight. */
  abortRate: number;
  /** Stop starting stores after this many ms. */
  timeLimitMs: number;
  /** Pixel data bytes per object. */
  pixelBytes: number;
  /** PRNG seed. */
  seed: number;
}

/** Figures of a soak run; `lost` must be 0. */
export interface SoakResult {
  /** Stores attempted. */
  attempted: number;
  /** Stores answered with success. */
  succeeded: number;
  /** Stores aborted on purpose (A-ABORT while in flight). */
  aborted: number;
  /** Stores that failed otherwise (typed errors), e.g. a transient rejection. */
  failed: number;
  /** Untyped errors (must be 0). */
  untyped: string[];
  /** Objects on disk. */
  onDisk: number;
  /** Instances in the index (C-FIND IMAGE level). */
  indexed: number;
  /** Successful stores missing from disk or index, or with another SHA-256. */
  lost: string[];
  /** Files on disk that are not in the index, or index rows without a file. */
  disagreements: string[];
  /** Temporary files of objects not committed, left in the incoming folder (see partialFiles). */
  partialFiles: number;
  /** Wall time, ms. */
  ms: number;
}

const STUDY = '1.2.826.0.1.3680043.13.77.1';
const SERIES = '1.2.826.0.1.3680043.13.77.1.1';
const ROOT = '1.2.826.0.1.3680043.13.77';

/**
 * Starts dnet-scp on a fresh folder, stores objects from `concurrency`
 * associations at once with random A-ABORTs, then checks that every object
 * that got a success response is on disk with a matching SHA-256 and in the
 * index, and that disk and index agree.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const start = Date.now();
  const folder = mkdtempSync(join(tmpdir(), 'dnet-soak-'));
  const storageDir = join(folder, 'storage');
  const scp = await startScp(storageDir, ['--max-associations', String(options.concurrency + 8)]);
  const transport = tcp();
  const rng = new Random(options.seed);
  const result: SoakResult = {
    attempted: 0,
    succeeded: 0,
    aborted: 0,
    failed: 0,
    untyped: [],
    onDisk: 0,
    indexed: 0,
    lost: [],
    disagreements: [],
    partialFiles: 0,
    ms: 0,
  };
  const succeeded = new Map<string, string>();
  const sentSize = new Map<string, number>();
  let next = 0;
  const deadline = start + options.timeLimitMs;
  const connect = () =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'SOAK',
      calledAeTitle: 'DNETSCP',
      contexts: [storage(SC_IMAGE)],
      timeouts: { connectMs: 10_000, acseMs: 10_000, dimseMs: 30_000 },
    });
  const classify = (e: unknown) => {
    const err = e as { code?: string; constructor?: { name: string }; message?: string };
    if (typeof err?.code === 'string' && err.code.startsWith('DNET_')) result.failed++;
    else if (result.untyped.length < 20)
      result.untyped.push(`${err?.constructor?.name}: ${err?.message}`);
  };
  const worker = async () => {
    let client: Client | undefined;
    while (next < options.objects && Date.now() < deadline) {
      const n = next++;
      const object = makeObject(ROOT, n, options.pixelBytes, STUDY, SERIES);
      sentSize.set(object.instance.sopInstanceUid, object.instance.dataSet.length);
      result.attempted++;
      try {
        client ??= await connect();
      } catch (e) {
        classify(e);
        client = undefined;
        continue;
      }
      const abort = rng.next() < options.abortRate;
      const c = client;
      const store = c.store(object.instance);
      if (abort) {
        const delay = rng.int(3);
        setTimeout(() => c.abort(), delay);
        client = undefined;
      }
      try {
        await store;
        result.succeeded++;
        succeeded.set(object.instance.sopInstanceUid, object.sha256);
      } catch (e) {
        if (abort) result.aborted++;
        else {
          classify(e);
          c.abort();
          client = undefined;
        }
      }
    }
    await client?.release().catch(() => client?.abort());
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    // Let the archive finish the associations we aborted.
    await new Promise((r) => setTimeout(r, 500));

    // The index: every instance of the study (C-FIND IMAGE level, Study Root).
    const indexed = new Set<string>();
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'SOAK',
      calledAeTitle: 'DNETSCP',
      contexts: [queryRetrieve('study', { operations: ['find'] })],
    });
    for await (const m of client.find(
      {
        '0020000D': { vr: 'UI', Value: [STUDY] },
        '0020000E': { vr: 'UI', Value: [SERIES] },
        '00080018': { vr: 'UI' },
      },
      { level: 'IMAGE', model: 'study' },
    )) {
      const uid = (m['00080018']?.Value as string[] | undefined)?.[0];
      if (uid) indexed.add(uid);
    }
    await client.release();
    result.indexed = indexed.size;

    // The disk.
    const files = filesUnder(storageDir);
    result.partialFiles = partialFiles(storageDir).length;
    const onDisk = new Map<string, string>();
    for (const f of files.filter((f) => f.endsWith('.dcm')))
      onDisk.set(basename(f, '.dcm'), join(storageDir, f));
    result.onDisk = onDisk.size;

    const hashOf = (sop: string) => {
      const path = onDisk.get(sop);
      const size = sentSize.get(sop);
      if (!path || size === undefined || !existsSync(path)) return undefined;
      const bytes = readFileSync(path);
      // The data set is stored as received after the File Meta Information (bit-preserving).
      return createHash('sha256')
        .update(bytes.subarray(bytes.length - size))
        .digest('hex');
    };
    for (const [sop, sha] of succeeded) {
      if (!indexed.has(sop)) result.lost.push(`${sop}: not in the index`);
      const h = hashOf(sop);
      if (h === undefined) result.lost.push(`${sop}: not on disk`);
      else if (h !== sha) result.lost.push(`${sop}: SHA-256 differs`);
    }
    for (const sop of onDisk.keys())
      if (!indexed.has(sop)) result.disagreements.push(`${sop}: on disk, not indexed`);
    for (const sop of indexed)
      if (!onDisk.has(sop)) result.disagreements.push(`${sop}: indexed, not on disk`);
  } finally {
    await scp.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  result.ms = Date.now() - start;
  return result;
}
