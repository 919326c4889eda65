import type { Connection } from '@dnet/transport';
import type { TimeoutError } from './errors.js';
import { Timer } from './timer.js';

/**
 * The send deadline of an association: while we have bytes to send and wait
 * for the transport to take them (`Connection.drained()` of `@dnet/transport`), the transport
 * must take at least one more byte every `ms` milliseconds. A peer that
 * accepted the association and then stopped reading fills its receive
 * buffer and ours; without a deadline the writer would wait forever, since
 * the DIMSE timer (PS3.7 §9.1) only starts once a request is fully sent and
 * an acceptor writing responses has no DIMSE timer at all.
 *
 * Progress is read from `Connection.queuedBytes()` when the transport
 * offers it (the queue falls as the peer reads, one written chunk at a time);
 * without it, the whole wait for `drained()` must end within `ms`.
 *
 * On expiry `onExpire` gets a {@link TimeoutError} (timer `'send'`); the
 * association aborts (PS3.8 AA-1) and drops the connection, which the stalled
 * peer would never read an A-ABORT from.
 *
 * @example
 * ```ts
 * const deadline = new SendDeadline(60_000, (error) => abortAndDrop(error));
 * if (!connection.write(pdu)) await deadline.drained(connection);
 * ```
 */
export class SendDeadline {
  /** Longest time without progress, in ms; 0 turns the deadline off. */
  readonly ms: number;
  readonly #timer: Timer;
  #connection: Connection | undefined;
  /** Bytes queued at the last check. */
  #queued = 0;
  #waiting = 0;
  #expired: TimeoutError | undefined;

  /** @param ms - longest time without progress (0 = off); @param onExpire - called once per expiry */
  constructor(ms: number, onExpire: (error: TimeoutError) => void) {
    this.ms = ms;
    this.#timer = new Timer('send', ms, (error) => {
      if (this.#progressed()) this.#timer.start();
      else {
        this.#expired = error;
        onExpire(error);
      }
    });
  }

  /** True while a send waits for the transport to take our bytes (with the deadline on or off). */
  get waiting(): boolean {
    return this.#waiting > 0;
  }

  /**
   * Waits for `connection` to drain under the deadline. Rejects as
   * `drained()` does, or with the {@link TimeoutError} once the deadline
   * expired (and the connection was dropped).
   */
  async drained(connection: Connection): Promise<void> {
    const wait = connection.drained();
    this.#waiting++;
    if (this.#waiting === 1 && this.ms > 0) {
      this.#connection = connection;
      this.#queued = connection.queuedBytes?.() ?? 0;
      this.#timer.start();
    }
    try {
      await wait;
    } catch (error) {
      // The connection dropped on expiry: the caller learns why, not just that it closed.
      throw this.#expired ?? error;
    } finally {
      this.#waiting--;
      if (this.#waiting === 0) {
        this.#timer.stop();
        this.#connection = undefined;
      }
    }
  }

  /** Stops watching (the association ended). */
  stop(): void {
    this.#timer.stop();
  }

  /** Whether the transport took bytes since the last check; remembers the new level. */
  #progressed(): boolean {
    const queued = this.#connection?.queuedBytes?.();
    if (queued === undefined) return false;
    const moved = queued < this.#queued;
    this.#queued = queued;
    return moved;
  }
}
