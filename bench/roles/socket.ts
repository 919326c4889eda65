// Bench role: the Node net.Socket loopback ceiling, in two processes like the
// DICOM pairs. `--serve P` accepts connections and discards what arrives;
// `--push P --bytes N` writes N bytes in 256 KiB chunks, waiting on drain,
// and prints one JSON line with its timing (connect to the server's FIN).
// The round-trip ceiling: `--serve P --echo` writes back what arrives;
// `--pingpong P --count N` sends N 80-byte messages (an A-ECHO-RQ's size),
// each after the previous one came back, on one connection, after `--warm N`
// untimed round trips on it (default 3000, as the C-ECHO role's warm-up).
import { createConnection, createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    echo: { type: 'boolean', default: false },
    push: { type: 'string' },
    bytes: { type: 'string' },
    pingpong: { type: 'string' },
    count: { type: 'string', default: '1000' },
    warm: { type: 'string', default: '3000' },
  },
});

if (values.serve) {
  const server = createServer((socket) => {
    if (values.echo) socket.on('data', (d) => socket.write(d));
    else socket.resume();
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  server.listen(Number(values.serve), '127.0.0.1');
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else if (values.pingpong) {
  const count = Number(values.count);
  const socket = createConnection({
    host: '127.0.0.1',
    port: Number(values.pingpong),
    noDelay: true,
  });
  await new Promise<void>((r) => socket.once('connect', r));
  const message = new Uint8Array(80);
  const pingpong = (n: number) =>
    new Promise<void>((resolve) => {
      let received = 0;
      let done = 0;
      const onData = (d: Buffer) => {
        received += d.length;
        while (received >= message.length) {
          received -= message.length;
          if (++done === n) {
            socket.off('data', onData);
            return resolve();
          }
          socket.write(message);
        }
      };
      socket.on('data', onData);
      socket.write(message);
    });
  const warm = Number(values.warm);
  if (warm > 0) await pingpong(warm);
  const t0 = performance.now();
  await pingpong(count);
  const ms = performance.now() - t0;
  socket.destroy();
  process.stdout.write(`${JSON.stringify({ ms, count, rssKb: process.resourceUsage().maxRSS })}\n`);
} else {
  const bytes = Number(values.bytes);
  const chunk = new Uint8Array(256 * 1024);
  const t0 = performance.now();
  const socket = createConnection({ host: '127.0.0.1', port: Number(values.push), noDelay: true });
  await new Promise<void>((r) => socket.once('connect', r));
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  await new Promise((r) => socket.once('close', r));
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ ms, rssKb: process.resourceUsage().maxRSS })}\n`);
}
