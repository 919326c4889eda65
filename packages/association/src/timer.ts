import { TimeoutError } from './errors.js';

/** The timers of an association. */
export type TimerName = 'artim' | 'connect' | 'acse' | 'dimse' | 'idle' | 'send';

/**
 * The configurable timeouts of an association, in milliseconds; `0` turns a
 * timer off. Defaults in {@link defaultTimeouts} and LIMITS.md.
 */
export interface Timeouts {
  /** ARTIM, the association request/reject/release timer of PS3.8 §9.1.5. */
  artimMs: number;
  /** Transport connection establishment (requestor, AE-1). */
  connectMs: number;
  /** Waiting for the A-ASSOCIATE-AC/RJ (requestor, Sta5) or the A-RELEASE-RP (Sta7). */
  acseMs: number;
  /** Waiting for each DIMSE response (PS3.7 §9.1); restarted by each pending response. */
  dimseMs: number;
  /** No PDU received or sent on an established association for this long: abort. */
  idleMs: number;
  /**
   * Send deadline: while we have bytes to send, the transport must take at
   * least one more every `sendMs` (a peer that stops reading is aborted).
   * Default: `dimseMs`, the time a user already allows a peer to answer.
   */
  sendMs?: number;
}

/** Default timeouts (see LIMITS.md). */
export const defaultTimeouts: Readonly<Timeouts> = {
  artimMs: 30_000,
  connectMs: 30_000,
  acseMs: 30_000,
  dimseMs: 60_000,
  idleMs: 300_000,
};

/**
 * One restartable timer whose expiry aborts an `AbortSignal` with a
 * {@link TimeoutError} (and calls `onExpire`). The timer is `unref`ed: it never
 * keeps the process alive by itself. Each `start()` after an expiry makes a
 * fresh signal.
 *
 * Restarting is cheap: `start()` on a running timer only moves its deadline
 * forward; the pending `setTimeout` stays, and when it fires before the
 * deadline it re-arms itself for the time left. An association restarts its
 * idle timer on every PDU, so this saves a `clearTimeout` + `setTimeout` pair
 * per message. The expiry is never early and at most one timer is pending.
 *
 * @example
 * ```ts
 * const artim = new Timer('artim', 30_000, () => closeTransport());
 * artim.start();   // PS3.8 §9.1.5: AE-5, AE-8, AR-4, AA-1, AA-8
 * artim.stop();    // AE-6, AR-5, AA-2, AA-5
 * ```
 */
export class Timer {
  /** Which timer this is. */
  readonly name: TimerName;
  /** Duration in ms; 0 disables the timer (start does nothing). */
  readonly ms: number;
  #onExpire: ((error: TimeoutError) => void) | undefined;
  #handle: ReturnType<typeof setTimeout> | undefined;
  /** When the pending `setTimeout` fires (performance.now() time). */
  #fireAt = 0;
  /** When the current run expires (performance.now() time). */
  #deadline = 0;
  /** Created on first use of {@link Timer.signal}: most runs never need one. */
  #controller: AbortController | undefined;
  #expired = false;
  readonly #fire = (): void => this.#onTimeout();

  /** @param name - which timer; @param ms - duration (0 = off); @param onExpire - called once per expiry */
  constructor(name: TimerName, ms: number, onExpire?: (error: TimeoutError) => void) {
    this.name = name;
    this.ms = ms;
    this.#onExpire = onExpire;
  }

  /** Aborted (with a {@link TimeoutError}) when the current run expires. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#expired) this.#controller.abort(new TimeoutError(this.name, this.ms));
    }
    return this.#controller.signal;
  }

  /** Whether the timer is running. */
  get running(): boolean {
    return this.#handle !== undefined;
  }

  /**
   * Starts the timer, or restarts it if it is running (PS3.8 §9.1.5 "start or
   * restart"): it expires `ms` from now (the timer's own duration by default).
   */
  start(ms: number = this.ms): void {
    if (this.ms <= 0) return;
    if (this.#expired) {
      this.#expired = false;
      this.#controller = undefined;
    }
    const now = performance.now();
    this.#deadline = now + ms;
    // A pending timeout that fires no later than the new deadline re-arms itself then.
    if (this.#handle !== undefined) {
      if (this.#fireAt <= this.#deadline) return;
      clearTimeout(this.#handle);
    }
    this.#arm(ms, now);
  }

  /** Stops the timer if it runs. */
  stop(): void {
    if (this.#handle === undefined) return;
    clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #arm(ms: number, now: number): void {
    this.#fireAt = now + ms;
    this.#handle = setTimeout(this.#fire, ms);
    this.#handle.unref?.();
  }

  #onTimeout(): void {
    const now = performance.now();
    // Restarted meanwhile: wait for the rest (setTimeout may fire a little early, by < 1 ms).
    const left = this.#deadline - now;
    if (left >= 1) {
      this.#arm(Math.ceil(left), now);
      return;
    }
    this.#handle = undefined;
    this.#expired = true;
    const error = new TimeoutError(this.name, this.ms);
    if (this.#controller && !this.#controller.signal.aborted) this.#controller.abort(error);
    this.#onExpire?.(error);
  }
}
