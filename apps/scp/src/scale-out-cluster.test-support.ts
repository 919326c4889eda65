/**
 * Test and benchmark support for the deployment of docs/scale-out.md: the
 * built dnet-scp CLI started as a node (`--db postgres://... --node-id`),
 * HAProxy in TCP mode with the documented DICOM health check in front, and
 * HAProxy's `show stat` (testkit's `haproxyServers`) to see which nodes are UP. Every process is started on
 * 127.0.0.1, killed by its PID, and every wait is bounded. No vitest import:
 * `pnpm bench` uses it too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type HaproxyServer, haproxyServers } from '@dnet/testkit/haproxy';
import { freePort, type RunningPeer, startPeer } from '@dnet/testkit/node';

/** The built CLI (`pnpm build` makes it; the README's test command builds first). */
export const SCP_CLI = resolve(import.meta.dirname, '../dist/cli.js');

/** docs/scale-out.md, whose HAProxy lines are the ones run here. */
export const SCALE_OUT_DOC = resolve(import.meta.dirname, '../../../docs/scale-out.md');

/** The `tcp-check` lines of docs/scale-out.md: the deployment tested is the one documented. */
export function documentedTcpCheck(doc = SCALE_OUT_DOC): string[] {
  const text = readFileSync(doc, 'utf8');
  const block = /<!-- tcp-check:begin -->\s*```[a-z]*\n([\s\S]*?)```/.exec(text);
  if (!block?.[1]) throw new Error(`${doc} has no tcp-check block`);
  return block[1]
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** HAProxy in front of the nodes. */
export interface RunningHaproxy {
  /** The frontend port on 127.0.0.1. */
  port: number;
  peer: RunningPeer;
  /** The nodes as `show stat` reports them (backend `dicom`). */
  stat(): Promise<HaproxyServer[]>;
  /** Resolves once every server of `names` has `status` (exactly); rejects after `timeoutMs`. */
  waitFor(names: string[], status: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startHaproxy}. */
export interface HaproxyOptions {
  /** A folder for the configuration and the admin socket. */
  dir: string;
  /** The nodes, by name and port on 127.0.0.1. */
  servers: { name: string; port: number }[];
  /** `roundrobin` (default: spreads simultaneous associations evenly) or `leastconn`. */
  balance?: 'roundrobin' | 'leastconn';
  /** Health check interval, ms (default 300: tests need DOWN quickly). */
  interMs?: number;
}

/**
 * Starts HAProxy (`-db`: foreground) in TCP mode on a free port with the
 * DICOM health check of docs/scale-out.md and waits until every node is UP.
 */
export async function startHaproxy(options: HaproxyOptions): Promise<RunningHaproxy> {
  const { dir, servers } = options;
  const socket = join(dir, 'haproxy-admin.sock');
  const port = await freePort();
  const config = [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout check 2s',
    'listen dicom',
    `  bind 127.0.0.1:${port}`,
    `  balance ${options.balance ?? 'roundrobin'}`,
    ...documentedTcpCheck().map((l) => `  ${l}`),
    `  default-server check inter ${options.interMs ?? 300}ms fall 2 rise 1 on-marked-down shutdown-sessions`,
    ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const peer = await startPeer({ command: 'haproxy', port, args: () => ['-db', '-f', file] });
  const stat = () => haproxyServers(socket, 'dicom');
  const waitFor = async (names: string[], status: 'UP' | 'DOWN', timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await stat().catch(() => [] as HaproxyServer[]);
      if (names.every((n) => rows.some((r) => r.name === n && r.status === status))) return;
      if (Date.now() > deadline) {
        throw new Error(
          `HAProxy: ${names.join(', ')} not ${status} after ${timeoutMs} ms: ${JSON.stringify(rows)}\n${peer.log()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    await waitFor(
      servers.map((s) => s.name),
      'UP',
    );
  } catch (error) {
    await peer.stop();
    throw error;
  }
  return { port, peer, stat, waitFor, stop: () => peer.stop() };
}

/** A dnet-scp node: the built CLI in its own process. */
export interface ScpNode {
  name: string;
  port: number;
  peer: RunningPeer;
  /** SOP Instance UIDs this node answered C-STORE Success for (from its JSON log). */
  stored(): Set<string>;
  /** SIGKILL: no shutdown at all, as in a crash or power loss. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after 3 s. */
  stop(): Promise<void>;
}

/** Options of {@link startScpNode}. */
export interface ScpNodeOptions {
  /** `--node-id`. */
  name: string;
  /** `--db`: the shared PostgreSQL. */
  db: string;
  /** `--storage`: the shared storage root. */
  storage: string;
  /** Port (default a free one). */
  port?: number;
  /** `--aet` (default DNETSCP). */
  aeTitle?: string;
  /** `--peer AET=host:port`, C-MOVE destinations. */
  peers?: Record<string, number>;
  /** `--log-level` (default info: the C-STORE lines tell what the node stored). */
  logLevel?: string;
  /** More arguments. */
  args?: string[];
}

/** Starts `node apps/scp/dist/cli.js` as one node of the cluster and waits until it listens. */
export async function startScpNode(options: ScpNodeOptions): Promise<ScpNode> {
  if (!existsSync(SCP_CLI)) {
    throw new Error(`${SCP_CLI} is missing: run pnpm build first (the README's test command does)`);
  }
  const peer = await startPeer({
    command: process.execPath,
    ...(options.port !== undefined && { port: options.port }),
    args: (port) => [
      SCP_CLI,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--aet',
      options.aeTitle ?? 'DNETSCP',
      '--storage',
      options.storage,
      '--db',
      options.db,
      '--node-id',
      options.name,
      '--log-level',
      options.logLevel ?? 'info',
      // One process per node, as docs/scale-out.md deploys and the tests inspect it
      // (its temporary folder .incoming/<node-id>, its pid); `args` may ask for --workers.
      '--workers',
      '1',
      ...Object.entries(options.peers ?? {}).flatMap(([ae, p]) => [
        '--peer',
        `${ae}=127.0.0.1:${p}`,
      ]),
      ...(options.args ?? []),
    ],
    startTimeoutMs: 30_000,
  });
  return {
    name: options.name,
    port: peer.port,
    peer,
    stored() {
      const out = new Set<string>();
      for (const line of peer.log().split('\n')) {
        if (!line.includes('"C-STORE"')) continue;
        try {
          const entry = JSON.parse(line) as {
            op?: string;
            status?: string;
            sopInstanceUid?: string;
          };
          if (entry.op === 'C-STORE' && entry.status === '0x0000' && entry.sopInstanceUid) {
            out.add(entry.sopInstanceUid);
          }
        } catch {
          // not a JSON line (or cut by the kill)
        }
      }
      return out;
    },
    async kill() {
      if (peer.process.exitCode === null && peer.process.signalCode === null) {
        peer.process.kill('SIGKILL');
        await peer.exited;
      }
      await peer.stop(); // forgets it
    },
    stop: () => peer.stop(),
  };
}
