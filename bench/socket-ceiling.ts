// The Node net.Socket loopback ceiling: a plain client pushes large buffers to
// a plain server, in another process, that discards them. dnet's throughput is
// judged against this figure, so it must be what Node itself can do:
//
// - two processes (client and server on one thread would share one core and
//   measure half the ceiling at best);
// - large writes (4 MiB) with several MiB queued (writable high-water mark
//   8 MiB), so the kernel's send buffer never runs dry while the client's
//   event loop turns, as a DICOM sender with a large PDU keeps it full;
// - a warm-up push on the same connection set-up first (untimed): JIT and the
//   server's young generation are warm, as in the DICOM runs (which send 10
//   images first);
// - timed from connect to the server's last byte: the server answers the
//   client's FIN with its own once it has read everything, and the clock stops
//   when that FIN arrives.
//
// As a role (as the bench's roles/, one process each):
//   node --import tsx bench/socket-ceiling.ts --serve PORT [--tls CERT,KEY]
//   node --import tsx bench/socket-ceiling.ts --push PORT --bytes N [--warmup N] [--tls CA]
//     prints one JSON line {"ms": ..., "rssKb": ...} (ms of the timed push)
// As a module: socketCeiling() starts the server in a child process and
// pushes from this one, five runs (pnpm bench --micro).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type NetConnectOpts, type Socket } from 'node:net';
import * as tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Result, summarize } from './stats.js';

/** Each write: 4 MiB (one buffer, written again and again). */
export const CEILING_CHUNK = 4 * 1024 * 1024;
/** Bytes the client queues before waiting for 'drain'. */
export const CEILING_HIGH_WATER_MARK = 8 * 1024 * 1024;

/** PEM certificate and key of a TLS server. */
export interface CeilingTls {
  cert: Buffer;
  key: Buffer;
}

/**
 * Accepts connections on 127.0.0.1:`port`, discards what arrives, answers a
 * FIN with a FIN. With `tlsCredentials`, over TLS (Node's defaults: TLS 1.3,
 * TLS_AES_256_GCM_SHA384 first, as dnet's default profile negotiates).
 */
export function serveDiscard(
  port: number,
  tlsCredentials?: CeilingTls,
): Promise<() => Promise<void>> {
  const onSocket = (socket: Socket) => {
    socket.on('data', () => {});
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  };
  const server = tlsCredentials
    ? tls.createServer({ allowHalfOpen: true, noDelay: true, ...tlsCredentials }, onSocket)
    : createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve(() => new Promise<void>((r) => server.close(() => r()))),
    );
  });
}

/**
 * Pushes `bytes` to 127.0.0.1:`port` (over TLS, trusting `ca`, when given);
 * resolves the ms from connect to the server's FIN.
 */
export async function push(port: number, bytes: number, ca?: Buffer): Promise<number> {
  const chunk = new Uint8Array(CEILING_CHUNK).fill(0xa5);
  const t0 = performance.now();
  // highWaterMark reaches the socket's Duplex (not in @types/node's connect options).
  const options = {
    host: '127.0.0.1',
    port,
    noDelay: true,
    allowHalfOpen: true,
    highWaterMark: CEILING_HIGH_WATER_MARK,
  } as NetConnectOpts;
  const socket: Socket = ca
    ? tls.connect({ ...(options as tls.ConnectionOptions), ca, servername: 'localhost' })
    : createConnection(options);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(ca ? 'secureConnect' : 'connect', resolve);
      socket.once('error', reject);
    });
    for (let sent = 0; sent < bytes; ) {
      const n = Math.min(chunk.length, bytes - sent);
      sent += n;
      if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        await new Promise((r) => socket.once('drain', r));
      }
    }
    // The server's FIN comes once it has read our last byte.
    const ended = new Promise<void>((resolve, reject) => {
      socket.once('end', resolve);
      socket.once('error', reject);
      socket.resume();
    });
    socket.end();
    await ended;
    return performance.now() - t0;
  } finally {
    socket.destroy();
  }
}

/** MB/s (10^6 bytes) of `bytes` pushed in `ms`. */
export function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/**
 * MB/s of 1 GiB over loopback from this process to a discarding server in a
 * child process, five runs, each after an untimed 64 MiB warm-up push.
 */
export async function socketCeiling(): Promise<Result> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [...process.execArgv, new URL(import.meta.url).pathname, '--serve', String(port)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ceiling server did not start')), 20_000);
      child.stdout.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => reject(new Error('ceiling server exited')));
    });
    const bytes = 1024 * 1024 * 1024;
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      await push(port, 64 * 1024 * 1024);
      samples.push(megabytesPerSecond(bytes, await push(port, bytes)));
    }
    return summarize('node net.Socket loopback ceiling (two processes)', 'MB/s', samples);
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      push: { type: 'string' },
      bytes: { type: 'string' },
      warmup: { type: 'string', default: String(64 * 1024 * 1024) },
      // --serve: CERT,KEY (PEM files); --push: the CA's PEM file.
      tls: { type: 'string' },
    },
  });
  const [certFile, keyFile] = values.tls?.split(',') ?? [];
  if (values.serve) {
    const close = await serveDiscard(
      Number(values.serve),
      certFile && keyFile
        ? { cert: readFileSync(certFile), key: readFileSync(keyFile) }
        : undefined,
    );
    process.stdout.write(`listening on 127.0.0.1:${values.serve}\n`);
    process.once('SIGTERM', () => void close().then(() => process.exit(0)));
  } else if (values.push) {
    const port = Number(values.push);
    const warmup = Number(values.warmup);
    const ca = certFile ? readFileSync(certFile) : undefined;
    if (warmup > 0) await push(port, warmup, ca);
    const ms = await push(port, Number(values.bytes), ca);
    process.stdout.write(`${JSON.stringify({ ms, rssKb: process.resourceUsage().maxRSS })}\n`);
  } else {
    const r = await socketCeiling();
    console.log(
      `${r.name}: median ${r.median.toFixed(0)}, min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)} ${r.unit}`,
    );
  }
}
