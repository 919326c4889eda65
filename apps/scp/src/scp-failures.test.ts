import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperationFailedError, storage as storageContexts } from '@dnet/services';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE } from './folder-lock.js';
import {
  connectClient,
  describeWithMounts,
  type InProcessScp,
  mountTmpfs,
  startInProcess,
  startOnLoopback,
  type TestMount,
} from './in-process-scp.test-support.js';
import { main } from './main.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE, syntheticImages } from './synthetic-images.js';

/** Runs dnet-scp expecting it not to start: its exit code, stderr lines and raw log lines. */
async function failedStart(args: string[]) {
  const err: string[] = [];
  const lines: string[] = [];
  const stop = new AbortController();
  const code = await main(['--host', '127.0.0.1', '--port', '0', ...args], {
    out: () => undefined,
    err: (l) => err.push(l),
    signal: stop.signal,
    log: { write: (line: string) => void lines.push(line) },
    onListening: () => stop.abort(),
  });
  return { code, err, lines, logs: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The start-up failure is one line on stderr and one JSON log line without a stack. */
function expectOneLine(r: Awaited<ReturnType<typeof failedStart>>) {
  expect(r.code).toBe(1);
  expect(r.err).toHaveLength(1);
  const fatal = r.logs.find((l) => l.level === 60);
  expect(fatal).toBeDefined();
  expect(fatal).not.toHaveProperty('err');
  expect(JSON.stringify(fatal)).not.toContain('    at ');
  return fatal!;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnet-scp-fail-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('one dnet-scp per storage folder (embedded index)', () => {
  it('a second one refuses to start, naming the folder and the pid; the first keeps storing', async () => {
    const storage = join(dir, 'storage');
    const images = await syntheticImages(join(dir, 'in'), { count: 2 });
    const first = await startOnLoopback([storage]);
    try {
      const client = await connectClient(first.port, [
        storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
      ]);
      try {
        expect((await client.store(images[0]!.path)).status).toBe(0);
        const second = await failedStart(['--storage', storage]);
        const fatal = expectOneLine(second);
        expect(second.err[0]).toBe(
          `dnet-scp: cannot start: ${storage} is in use by another dnet-scp (pid ${process.pid}); ` +
            `if that process is gone, delete its ${LOCK_FILE}`,
        );
        expect(fatal).toMatchObject({ code: 'DNET_SCP_FOLDER_LOCKED', msg: 'cannot start' });
        // The first one's temporary file made ahead is still there: its next C-STORE succeeds.
        expect((await client.store(images[1]!.path)).status).toBe(0);
      } finally {
        await client.release();
      }
    } finally {
      expect(await first.stop()).toBe(0);
    }
    // Released at stop: the folder can be served again.
    expect(await readdir(storage)).not.toContain(LOCK_FILE);
    const again = await startOnLoopback([storage]);
    expect(await again.stop()).toBe(0);
  });

  it('takes over the lock of a dnet-scp that died', async () => {
    const storage = join(dir, 'storage');
    await mkdir(storage, { recursive: true });
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    await writeFile(join(storage, LOCK_FILE), `${r.stdout}\n${hostname()}\n`);
    const scp = await startInProcess(['--host', '127.0.0.1', '--port', '0', '--storage', storage]);
    expect(await scp.stop()).toBe(0);
  });
});

describeWithMounts('errors that say their cause (read-only and full file systems)', () => {
  let mount: TestMount;
  let scp: InProcessScp | undefined;
  beforeEach(async () => {
    await mkdir(join(dir, 'mnt'));
    const m = mountTmpfs(join(dir, 'mnt'), '1m');
    if ('reason' in m) throw new Error(m.reason);
    mount = m;
  });
  afterEach(async () => {
    await scp?.stop();
    scp = undefined;
    mount?.unmount();
  });

  it('a storage folder on a read-only file system: EROFS and the path, not ENOENT', async () => {
    mount.remount('ro');
    const storage = join(mount.dir, 'data');
    const r = await failedStart(['--storage', storage]);
    const fatal = expectOneLine(r);
    expect(r.err[0]).toBe(
      `dnet-scp: cannot start: cannot create ${storage}: read-only file system (EROFS)`,
    );
    expect(fatal).toMatchObject({ errno: 'EROFS', syscall: 'mkdir', path: storage });
  });

  it('an index on a read-only file system: the database path and EROFS', async () => {
    await mkdir(join(mount.dir, 'db'));
    mount.remount('ro');
    const db = join(mount.dir, 'db', 'index.sqlite');
    const r = await failedStart(['--storage', join(dir, 'storage'), '--db', db]);
    const fatal = expectOneLine(r);
    expect(r.err[0]).toBe(
      `dnet-scp: cannot start: cannot open the index ${db}: unable to open database file ` +
        '(read-only file system, EROFS)',
    );
    expect(fatal).toMatchObject({ code: 'DNET_ARCHIVE_INDEX_OPEN', errno: 'EROFS' });
  });

  it('a full disk: A700H with the cause in the Error Comment, logged as an error with errno and path', async () => {
    const storage = join(mount.dir, 'data');
    // 1 MiB of file system, a 2 MiB image; the index lives elsewhere.
    const [big] = await syntheticImages(join(dir, 'in'), { count: 1, size: 1024 });
    const [small] = await syntheticImages(join(dir, 'small'), { count: 1, size: 16 });
    scp = await startOnLoopback([storage, '--db', join(dir, 'index.sqlite')]);
    const client = await connectClient(scp.port, [
      storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
    ]);
    try {
      const failure = await client.store(big!.path).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(OperationFailedError);
      expect(failure).toMatchObject({
        status: 0xa700,
        errorComment: 'cannot store: no space left on device (ENOSPC)',
      });
      const line = scp.logs.find((l) => l.op === 'C-STORE' && l.status === '0xa700');
      expect(line).toMatchObject({
        level: 50,
        errno: 'ENOSPC',
        syscall: 'write',
        code: 'DNET_ARCHIVE_STORAGE_FAILED',
        path: expect.stringContaining(join(storage, '.incoming')),
      });
      expect(String(line?.error)).toContain('no space left on device');
      // The partial file went with the failure: there is room for a small object again.
      expect((await client.store(small!.path)).status).toBe(0);
    } finally {
      await client.release();
    }
  });
});
