import { constants, PerformanceObserver } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GcPacer, YOUNG_GC_EVERY_BYTES, youngGenerationCollector } from './gc-pacing.js';

describe('GcPacer', () => {
  it('collects once each time the interval is reached, all callers together', () => {
    let runs = 0;
    const pacer = new GcPacer(() => runs++, 10);
    pacer.received(4);
    pacer.received(5);
    expect(runs).toBe(0);
    pacer.received(1); // 10 bytes
    expect(runs).toBe(1);
    pacer.received(9);
    expect(runs).toBe(1);
    pacer.received(64); // one chunk larger than the interval: one collection, count restarts
    expect(runs).toBe(2);
    pacer.received(9);
    expect(runs).toBe(2);
    expect(pacer.collections).toBe(2);
  });

  it('defaults to 8 MiB and refuses an interval that is not positive', () => {
    let runs = 0;
    const pacer = new GcPacer(() => runs++);
    pacer.received(YOUNG_GC_EVERY_BYTES - 1);
    expect(runs).toBe(0);
    pacer.received(1);
    expect(runs).toBe(1);
    expect(() => new GcPacer(() => undefined, 0)).toThrow(RangeError);
    expect(() => new GcPacer(() => undefined, Number.NaN)).toThrow(RangeError);
  });
});

describe('youngGenerationCollector', () => {
  it('runs a young-generation collection (a minor GC entry is observed)', async () => {
    const collect = youngGenerationCollector();
    const seen = new Promise<void>((resolve) => {
      const observer = new PerformanceObserver((list) => {
        const minor = list
          .getEntries()
          .some(
            (e) =>
              (e as { detail?: { kind?: number } }).detail?.kind ===
              constants.NODE_PERFORMANCE_GC_MINOR,
          );
        if (minor) {
          observer.disconnect();
          resolve();
        }
      });
      observer.observe({ entryTypes: ['gc'] });
    });
    collect();
    await seen;
  });

  it('leaves no gc function on the global object nor in contexts created afterwards', () => {
    const before = typeof (globalThis as { gc?: unknown }).gc;
    youngGenerationCollector();
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(before);
    if (before === 'undefined') expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});
