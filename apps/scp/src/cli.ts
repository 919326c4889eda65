import { packageName } from '@dnet/services';
import { youngGenerationCollector } from '@dnet/services/internal';
import { applyHeapSettings } from './heap.js';
import { main } from './main.js';
import { runWorker, startWorkers, WORKER_ENV } from './workers.js';

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

if (process.env[WORKER_ENV] !== undefined) {
  // A worker of --workers: exits once stopped (its IPC channel would keep it alive).
  process.exit(
    await runWorker({ signal: stop.signal, collectYoungGeneration: youngGenerationCollector() }),
  );
}

process.exitCode = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  services: packageName,
  signal: stop.signal,
  // Bounds the socket read buffers awaiting collection while objects arrive (heap.ts).
  collectYoungGeneration: youngGenerationCollector(),
  // --workers above 1: this process is the primary of the workers (workers.ts).
  startWorkers,
});
