import type { Row } from './rows.js';

/** A benchmark's figures: median, min and max of several runs. */
export interface Result {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of `samples`. */
export function summarize(name: string, unit: string, samples: number[]): Result {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { name, unit, median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * A table row of `samples` (one per run of `runs`; fewer when some failed),
 * or undefined when no run succeeded.
 */
export function sampledRow(
  runs: number,
  group: string,
  name: string,
  unit: string,
  samples: number[],
  extra: Partial<Row> = {},
): Row | undefined {
  if (!samples.length) return undefined;
  const s = summarize(name, unit, samples);
  return {
    group,
    name,
    unit,
    median: s.median,
    min: s.min,
    max: s.max,
    failures: runs - samples.length,
    ...extra,
  };
}
