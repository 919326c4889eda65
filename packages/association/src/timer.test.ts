import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from './errors.js';
import { defaultTimeouts, Timer } from './timer.js';

describe('Timer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts its signal with a TimeoutError and calls onExpire', () => {
    const expired: TimeoutError[] = [];
    const t = new Timer('artim', 1000, (e) => expired.push(e));
    t.start();
    expect(t.running).toBe(true);
    vi.advanceTimersByTime(999);
    expect(t.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(t.signal.aborted).toBe(true);
    expect(t.signal.reason).toBeInstanceOf(TimeoutError);
    expect((t.signal.reason as TimeoutError).timer).toBe('artim');
    expect(expired).toHaveLength(1);
    expect(t.running).toBe(false);
  });

  it('restarts from zero and stops without firing', () => {
    const onExpire = vi.fn();
    const t = new Timer('dimse', 1000, onExpire);
    t.start();
    vi.advanceTimersByTime(800);
    t.start();
    vi.advanceTimersByTime(800);
    expect(onExpire).not.toHaveBeenCalled();
    t.stop();
    vi.advanceTimersByTime(5000);
    expect(onExpire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives a fresh signal after an expiry', () => {
    const t = new Timer('idle', 10);
    t.start();
    vi.advanceTimersByTime(10);
    const first = t.signal;
    t.start();
    expect(first.aborted).toBe(true);
    expect(t.signal.aborted).toBe(false);
    t.stop();
  });

  it('is off with 0 ms', () => {
    const t = new Timer('idle', 0);
    t.start();
    expect(t.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('has bounded defaults', () => {
    expect(defaultTimeouts.artimMs).toBeGreaterThan(0);
    expect(defaultTimeouts.acseMs).toBeGreaterThan(0);
  });
});
