// Bench role: the plain-Node ceiling for small objects, request and answer,
// in two processes like the DICOM pairs. No DICOM at all: the client writes
// an object of --size bytes (one buffer, from memory) and the server answers
// each --size bytes received with 128 bytes (a C-STORE-RSP is about that);
// the client keeps --window objects outstanding.
//   node bench/.build/objects.js --serve P --size S
//   node bench/.build/objects.js --send P --size S --count N [--window W] [--warmup N]
//     [--files LIST]
//     prints one JSON line {"ms", "count", "cpuMs", "rssKb"}
// With --files, the objects are the files of LIST (one path a line, at least
// --size bytes each, their first --size bytes sent in turn): each is read as
// dnet's SCU (the dnet-scu app, `blockingFileReads`) reads a small file: open,
// fstat, read into a reused buffer, close, blocking calls (a third of the CPU
// of node:fs callbacks on the thread pool), two files ahead of those in
// flight, as storeMany prefetches them.
import * as fs from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    send: { type: 'string' },
    size: { type: 'string', default: String(512 * 1024) },
    count: { type: 'string', default: '200' },
    window: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '300' },
    files: { type: 'string' },
  },
});
const size = Number(values.size);
const ANSWER = 128;

if (values.serve) {
  const answer = new Uint8Array(ANSWER);
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    let pending = 0;
    socket.on('data', (d: Buffer) => {
      pending += d.length;
      while (pending >= size) {
        pending -= size;
        socket.write(answer);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  server.listen(Number(values.serve), '127.0.0.1', () => process.stdout.write('listening\n'));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else if (values.send) {
  const port = Number(values.send);
  const object = new Uint8Array(size).fill(0x5a);
  const files = values.files
    ? fs.readFileSync(values.files, 'utf8').split('\n').filter(Boolean)
    : undefined;
  /** The i-th file read into `into`: open, fstat, read, close (blocking calls). */
  const readFile = async (i: number, into: Uint8Array): Promise<Uint8Array> => {
    const fd = fs.openSync(files![i % files!.length]!, 'r');
    try {
      const n = fs.fstatSync(fd).size;
      let at = 0;
      while (at < n) {
        const got = fs.readSync(fd, into, at, n - at, at);
        if (got === 0) break;
        at += got;
      }
      // The server counts --size bytes an object: the first --size of the file.
      return into.subarray(0, Math.min(at, size));
    } finally {
      fs.closeSync(fd);
    }
  };
  /** Sends `count` objects, `window` outstanding; resolves when every answer came back. */
  const run = async (count: number, window: number): Promise<void> => {
    const socket: Socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((r) => socket.once('connect', r));
    // With files: a buffer for each object in flight or read ahead, reused once answered.
    const ahead = window + 2;
    const buffers = Array.from({ length: ahead + window }, () =>
      Buffer.allocUnsafeSlow(size + 64 * 1024),
    );
    const reads: Promise<Uint8Array>[] = [];
    let readIndex = 0;
    const readAhead = () => {
      while (files && reads.length < ahead && readIndex < count) {
        reads.push(readFile(readIndex, buffers[readIndex % buffers.length]!));
        readIndex++;
      }
    };
    const next = async (): Promise<Uint8Array> => {
      if (!files) return object;
      readAhead();
      const bytesRead = await reads.shift()!;
      readAhead();
      return bytesRead;
    };
    let sent = 0;
    let answered = 0;
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const send = () => {
        sent++;
        next().then((o) => socket.write(o), reject);
      };
      socket.on('data', (d: Buffer) => {
        bytes += d.length;
        while (bytes >= ANSWER) {
          bytes -= ANSWER;
          if (++answered === count) return resolve();
          if (sent < count) send();
        }
      });
      while (sent < Math.min(window, count)) send();
    });
    socket.destroy();
  };
  const window = Number(values.window);
  if (Number(values.warmup) > 0) await run(Number(values.warmup), window);
  const count = Number(values.count);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run(count, window);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ ms, count, cpuMs: (cpu.user + cpu.system) / 1000, rssKb: process.resourceUsage().maxRSS })}\n`,
  );
}
