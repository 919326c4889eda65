// The Node net.Socket loopback ceiling: a plain client pushes bytes to a plain
// server that discards them. dnet's throughput is judged against this figure.
import { createConnection, createServer } from 'node:net';
import { type Result, summarize } from './stats.js';

async function once(bytes: number, chunk: Uint8Array): Promise<number> {
  const server = createServer((socket) => socket.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((r) => socket.once('connect', r));
  const start = process.hrtime.bigint();
  let sent = 0;
  while (sent < bytes) {
    sent += chunk.length;
    if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
  }
  await new Promise<void>((r) => socket.end(r));
  await new Promise((r) => socket.once('close', r));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await new Promise((r) => server.close(r));
  return bytes / seconds / 1e6;
}

/** MB/s of 1 GiB over loopback in 256 KiB writes, five runs. */
export async function socketCeiling(): Promise<Result> {
  const chunk = new Uint8Array(256 * 1024);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) samples.push(await once(1024 * 1024 * 1024, chunk));
  return summarize('node net.Socket loopback ceiling', 'MB/s', samples);
}
