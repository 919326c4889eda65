import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScpErrorCode } from './errors.js';
import { LOCK_FILE, lockFolder } from './folder-lock.js';

/** The pid of a process that has ended (so no process has it, barring reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return Number(r.stdout);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnet-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lockFolder', () => {
  it('writes our pid and host, refuses a second lock naming folder and pid, and releases', async () => {
    const lock = await lockFolder(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n${hostname()}\n`);
    const refused = lockFolder(dir);
    await expect(refused).rejects.toMatchObject({
      code: ScpErrorCode.FOLDER_LOCKED,
      pid: process.pid,
      folder: dir,
    });
    await expect(refused).rejects.toThrow(
      `${dir} is in use by another dnet-scp (pid ${process.pid})`,
    );
    await lock.release();
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    await (await lockFolder(dir)).release();
  });

  it('refuses a lock of a live process', async () => {
    await writeFile(join(dir, LOCK_FILE), `4242\n${hostname()}\n`);
    await expect(lockFolder(dir, { isAlive: (pid) => pid === 4242 })).rejects.toMatchObject({
      code: ScpErrorCode.FOLDER_LOCKED,
      pid: 4242,
    });
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`4242\n${hostname()}\n`);
  });

  it('takes over the lock of a process that is gone, and of this pid before a restart', async () => {
    const gone = deadPid();
    await writeFile(join(dir, LOCK_FILE), `${gone}\n${hostname()}\n`);
    const lock = await lockFolder(dir);
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n${hostname()}\n`);
    await lock.release();
    // In a container the restarted process may get the pid of the one that died.
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n${hostname()}\n`);
    await (await lockFolder(dir)).release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("never takes over another host's lock (its processes cannot be seen)", async () => {
    await writeFile(join(dir, LOCK_FILE), `${deadPid()}\nelsewhere\n`);
    await expect(lockFolder(dir)).rejects.toThrow(/on elsewhere/);
  });

  it('lets one of many concurrent starters win', async () => {
    const results = await Promise.allSettled([lockFolder(dir), lockFolder(dir), lockFolder(dir)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect(await readdir(dir)).toEqual([]);
  });
});
