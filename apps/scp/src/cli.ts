import { applyHeapSettings } from './heap.js';
import { answerAlone, main } from './main.js';
import { WORKER_ENV } from './worker-env.js';

// Single-threaded scavenges: cheaper for the small young generation of this server (heap.ts).
applyHeapSettings();

// SIGINT / SIGTERM: stop accepting, finish what is in flight, close the database.
// A second signal exits at once.
const stop = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  });
}

// What serves associations is loaded only to serve them: `--help` and
// `--version` start without the archive, the codecs, TLS or SQLite (main.ts).
const serving = async () => {
  const [{ youngGenerationCollector }, workers] = await Promise.all([
    import('@dnet/services/internal'),
    import('./workers.js'),
  ]);
  return { collectYoungGeneration: youngGenerationCollector(), workers };
};

if (process.env[WORKER_ENV] !== undefined) {
  // A worker of --workers: exits once stopped (its IPC channel would keep it alive).
  const { collectYoungGeneration, workers } = await serving();
  process.exit(await workers.runWorker({ signal: stop.signal, collectYoungGeneration }));
}

const argv = process.argv.slice(2);
const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
  signal: stop.signal,
};
if (answerAlone(argv) !== undefined) process.exitCode = await main(argv, io);
else {
  const { collectYoungGeneration, workers } = await serving();
  process.exitCode = await main(argv, {
    ...io,
    // Bounds the socket read buffers awaiting collection while objects arrive (heap.ts).
    collectYoungGeneration,
    // --workers above 1: this process is the primary of the workers (workers.ts).
    startWorkers: workers.startWorkers,
  });
}
