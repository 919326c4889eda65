/**
 * Test and benchmark support: a throwaway PostgreSQL server from the Debian
 * package (`/usr/lib/postgresql/<major>/bin`) on a free 127.0.0.1 port, with
 * its data folder in the system temp folder, always stopped and removed
 * afterwards. As root, `initdb` refuses to run: the server then runs as the
 * `postgres` user (spawned with its uid and gid). No vitest import, so that
 * `pnpm bench` can use it too; `describePostgres` is in `describe-postgres.ts`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

/** The folder of the newest installed PostgreSQL server binaries, or `undefined`. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(base, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

/** A running throwaway server. */
export interface TestPostgres {
  /** The port on 127.0.0.1. */
  port: number;
  /** A connection string for the database `postgres` (trust authentication, loopback only). */
  url: string;
  /** The server's output so far. */
  log(): string;
  /** A connection string for a new, empty database. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown, SIGKILL after 5 s) and removes its data folder. */
  stop(): Promise<void>;
}

const USER = 'postgres';

/** The uid and gid to run the server as: the `postgres` user when we are root, else ourselves. */
function serverUser(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', USER], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || uid <= 0) throw new Error(`no ${USER} user to run initdb as`);
  return { uid, gid };
}

/**
 * Starts a server: `initdb` (trust auth, UTF8) into a fresh temp folder, then
 * `postgres` listening on 127.0.0.1 only (no Unix socket outside the folder).
 * `fsync=off` by default: tests throw the data away.
 */
export async function startPostgres(
  options: { fsync?: boolean; startTimeoutMs?: number } = {},
): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server not installed');
  const root = mkdtempSync(join(tmpdir(), 'dnet-pg-'));
  const data = join(root, 'data');
  const user = serverUser();
  if (user.uid !== undefined) chownSync(root, user.uid, user.gid ?? user.uid);
  const initArgs = [
    '-D',
    data,
    '-U',
    USER,
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-instructions',
  ];
  const init = spawnSync(join(bin, 'initdb'), initArgs, {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: root,
    ...user,
  });
  if (init.status !== 0) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr}${init.stdout}`);
  }
  const port = await freePort();
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${root}`,
    '-c',
    `fsync=${options.fsync ? 'on' : 'off'}`,
    '-c',
    'max_connections=100',
  ];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...user,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      output += `\n[spawn error] ${e.message}`;
      resolve();
    });
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      process.off('exit', kill);
      if (child.exitCode === null && child.signalCode === null) {
        // SIGINT is PostgreSQL's "fast shutdown".
        child.kill('SIGINT');
        const timer = setTimeout(kill, 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(root, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    await Promise.race([
      waitForPort(port, { timeoutMs: options.startTimeoutMs ?? 30_000 }),
      exited.then(() => {
        throw new Error(`postgres exited before listening:\n${output}`);
      }),
    ]);
    // The port opens before recovery ends ("the database system is starting up").
    await untilReady(`postgres://${USER}@127.0.0.1:${port}/postgres`, options.startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
  return {
    port,
    url,
    log: () => output,
    stop,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const { Client } = (await import('pg')).default;
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://${USER}@127.0.0.1:${port}/${name}`;
    },
  };
}

/** Resolves once `SELECT 1` succeeds on `url`; rejects after `timeoutMs`. */
async function untilReady(url: string, timeoutMs = 30_000): Promise<void> {
  const { Client } = (await import('pg')).default;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
