import type { Io } from './options.js';

/** Counts and bytes of a running transfer, shown as a bar on a terminal. */
export interface Progress {
  /** Sets the total count (it may grow, as C-MOVE/C-GET responses tell more). */
  total(n: number): void;
  /** Sets the counts done and failed, and the bytes moved so far. */
  update(done: number, failed: number, bytes?: number): void;
  /** Ends the bar (the summary line follows). */
  stop(): void;
}

const NONE: Progress = { total() {}, update() {}, stop() {} };

/** Megabytes per second, one decimal. */
export function mbPerSecond(bytes: number, ms: number): string {
  return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : '0.0';
}

/**
 * A progress bar (cli-progress) with counts and MB/s on `io.progress`, the
 * terminal; nothing at all when the output is not a TTY or with `--quiet`.
 * The bar's module is loaded only then: a run without a bar starts sooner.
 */
export async function progressBar(
  io: Io,
  label: string,
  quiet = false,
  total = 0,
): Promise<Progress> {
  if (!io.progress || quiet) return NONE;
  const { default: cliProgress } = await import('cli-progress');
  const started = performance.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: io.progress,
      format: `${label} {bar} {value}/{total} | {failed} failed | {rate} MB/s | {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { failed: 0, rate: '0.0' });
  return {
    total: (n) => bar.setTotal(n),
    update: (done, failed, bytes = 0) =>
      bar.update(done, { failed, rate: mbPerSecond(bytes, performance.now() - started) }),
    stop: () => bar.stop(),
  };
}
