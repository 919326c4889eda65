import type { Connection, Listener, Transport } from '@dnet/transport';

/** Which way bytes flow through the proxy. */
export type Direction = 'up' | 'down';

/** What the proxy does once `afterBytes` bytes went through in `direction`. */
export interface Fault {
  /** 'up' = requestor to acceptor, 'down' = the answers. */
  direction: Direction;
  /** Bytes let through in that direction before the fault. */
  afterBytes?: number;
  /** Instead of `afterBytes`: whole PDUs let through (1 = the A-ASSOCIATE-RQ, or its AC). */
  afterPdus?: number;
  /**
   * close: FIN both ways; reset: abort both connections; stall: stop forwarding
   * (both ways) but keep reading and discarding, connections open; freeze: stop
   * reading in that direction, as a peer that stops reading (the sender's
   * writes back up once the kernel buffers are full), the other direction
   * flowing; inject: send `bytes` instead of the rest.
   */
  action: 'close' | 'reset' | 'stall' | 'freeze' | 'inject';
  /** Bytes sent in place of the rest for 'inject'. */
  bytes?: Uint8Array;
}

/** A running proxy: where to connect, and the byte counts it saw. */
export interface FaultProxy {
  /** Port to connect to (on the proxy's listen transport). */
  port: number;
  /** PDU boundaries seen per direction on the first connection (byte offsets after each PDU). */
  boundaries: Record<Direction, number[]>;
  /** Whether the fault fired. */
  fired(): boolean;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Tracks PDU boundaries in a byte stream (PS3.8 §9.3.1: 6-byte header with a 4-byte length). */
class BoundaryTracker {
  readonly offsets: number[] = [];
  #total = 0;
  #header: number[] = [];
  #remaining = 0;
  push(chunk: Uint8Array) {
    for (let i = 0; i < chunk.length; ) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, chunk.length - i);
        this.#remaining -= n;
        i += n;
        this.#total += n;
        if (this.#remaining === 0) this.offsets.push(this.#total);
        continue;
      }
      this.#header.push(chunk[i] as number);
      i++;
      this.#total++;
      if (this.#header.length === 6) {
        const h = this.#header;
        this.#remaining =
          (((h[2] as number) << 24) |
            ((h[3] as number) << 16) |
            ((h[4] as number) << 8) |
            (h[5] as number)) >>>
          0;
        this.#header = [];
        if (this.#remaining === 0) this.offsets.push(this.#total);
      }
    }
  }
}

/**
 * A man-in-the-middle between a requestor and an acceptor that injects one
 * fault: after N bytes in one direction it closes, resets, stalls, or sends
 * other bytes. With no fault it records where the PDUs end, which is how a
 * test finds every PDU boundary to cut at.
 */
export async function startFaultProxy(options: {
  listen: Transport;
  connect: Transport;
  targetPort: number;
  fault?: Fault;
}): Promise<FaultProxy> {
  const boundaries: Record<Direction, number[]> = { up: [], down: [] };
  const open = new Set<Connection>();
  let fired = false;
  let first = true;
  // Frozen pumps wait for this: the proxy's close.
  let thaw: () => void = () => {};
  const closing = new Promise<void>((resolve) => {
    thaw = resolve;
  });
  const listener: Listener = await options.listen.listen({ host: '127.0.0.1', port: 0 }, (down) => {
    const record = first;
    first = false;
    open.add(down);
    void (async () => {
      let up: Connection;
      try {
        up = await options.connect.connect({ host: '127.0.0.1', port: options.targetPort });
      } catch {
        down.abort();
        return;
      }
      open.add(up);
      let stalled = false;
      const pump = async (from: Connection, to: Connection, direction: Direction) => {
        const tracker = new BoundaryTracker();
        const pdus = new BoundaryTracker();
        let passed = 0;
        try {
          for await (const chunk of from) {
            if (stalled) continue;
            if (record) tracker.push(chunk);
            const f = options.fault;
            pdus.push(chunk);
            const after =
              f?.afterPdus !== undefined
                ? (pdus.offsets[f.afterPdus - 1] ?? Number.POSITIVE_INFINITY)
                : (f?.afterBytes ?? 0);
            if (f && !fired && f.direction === direction && passed + chunk.length > after) {
              fired = true;
              const keep = chunk.subarray(0, after - passed);
              if (keep.length > 0) to.write(keep);
              if (f.action === 'close') {
                await Promise.allSettled([to.close(), from.close()]);
              } else if (f.action === 'reset') {
                to.abort();
                from.abort();
              } else if (f.action === 'stall') {
                stalled = true;
              } else if (f.action === 'freeze') {
                stalled = true;
                // No more reads from the sender until the proxy closes.
                await closing;
              } else {
                to.write(f.bytes ?? new Uint8Array(0));
                stalled = true;
              }
              continue;
            }
            passed += chunk.length;
            if (!to.write(chunk)) await to.drained();
          }
          if (!stalled) await to.close();
        } catch {
          if (!stalled) to.abort();
        } finally {
          if (record) boundaries[direction] = tracker.offsets;
        }
      };
      await Promise.allSettled([pump(down, up, 'up'), pump(up, down, 'down')]);
      open.delete(up);
      open.delete(down);
    })();
  });
  return {
    port: listener.port,
    boundaries,
    fired: () => fired,
    async close() {
      thaw();
      for (const c of open) c.abort();
      open.clear();
      await listener.close();
    },
  };
}
