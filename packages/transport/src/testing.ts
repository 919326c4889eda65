/**
 * The transport compliance suite: one set of vitest tests that pins the
 * {@link Transport} contract (docs/architecture.md, "The transport seam"). Every transport
 * (memory, TCP, TLS, yours) runs it:
 *
 * @example
 * ```ts
 * import { transportCompliance } from '@dnet/transport/testing';
 * import { tcp } from '@dnet/transport-tcp';
 * transportCompliance('tcp', () => tcp());
 * ```
 *
 * @packageDocumentation
 */

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionInfo, PeerCertificate } from './connection.js';
import { isDnetError, TransportErrorCode } from './errors.js';
import type { ConnectOptions, Listener, ListenOptions, Transport } from './transport.js';

/** The two transports a test uses: one dials, one listens (the same object is fine). */
export interface TransportPair {
  /** Dials. */
  client: Transport;
  /** Listens. */
  server: Transport;
}

/** Options of {@link transportCompliance}. */
export interface ComplianceOptions {
  /** Host to listen on and dial (default `127.0.0.1`). */
  host?: string;
  /** Whether connections must report `info.encrypted` (default false). */
  encrypted?: boolean;
  /** Size of the large transfer (default 1 GiB). */
  largeTransferBytes?: number;
  /**
   * Whether `abort()` must surface at the peer as a read error with code
   * `DNET_TRANSPORT_CONNECTION_RESET` (default false: over TCP, a reset that arrives
   * behind unread data reads as a plain end on Linux; the memory transport
   * guarantees it).
   */
  abortResetsPeer?: boolean;
}

/** The name of the `describe` block {@link transportCompliance} registers. */
/** The types the suite drives (from the package's main entry). */
export type {
  Connection,
  ConnectionInfo,
  ConnectOptions,
  Listener,
  ListenOptions,
  PeerCertificate,
  Transport,
};

export const complianceSuiteName = 'dnet transport compliance';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Bytes `count` long whose value depends on `seed` and the position. */
export function patternBytes(count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count);
  let x = (seed * 2_654_435_761 + 1) >>> 0;
  for (let i = 0; i < count; i++) {
    // xorshift32: cheap and not periodic at chunk boundaries.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** Reads the whole connection into one array (small transfers only). */
export async function readAll(connection: Connection, limit = 64 * MiB): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of connection) {
    total += chunk.byteLength;
    if (total > limit) throw new Error(`readAll: more than ${limit} bytes`);
    parts.push(chunk);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Writes `chunks`, waiting on `drained()` whenever `write()` asks for it. */
export async function writeAll(
  connection: Connection,
  chunks: Iterable<Uint8Array | readonly Uint8Array[]>,
): Promise<void> {
  for (const chunk of chunks) {
    if (!connection.write(chunk)) await connection.drained();
  }
}

/** A queue of the connections a listener accepted. */
class Accepted {
  #queue: Connection[] = [];
  #waiters: ((c: Connection) => void)[] = [];
  readonly all: Connection[] = [];
  push = (connection: Connection): void => {
    this.all.push(connection);
    const waiter = this.#waiters.shift();
    if (waiter) waiter(connection);
    else this.#queue.push(connection);
  };
  next(): Promise<Connection> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** Settles with 'pending' unless `promise` settles within a few turns of the event loop. */
async function stateAfterTurns(promise: Promise<unknown>, turns = 20): Promise<string> {
  let state = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  for (let i = 0; i < turns && state === 'pending'; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return state;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Collects a reader's outcome: the bytes it saw and how it ended. */
async function drain(connection: Connection): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of connection) bytes += chunk.byteLength;
    return { bytes };
  } catch (error) {
    return { bytes, error };
  }
}

/**
 * Registers the compliance tests of a transport: connect and info, ordering,
 * gathered writes, backpressure, half-close, abort, a 1 GiB streamed transfer,
 * connect abort and refusal, listener close.
 *
 * @param name - shown in the test names
 * @param make - creates the transport(s) under test, once per test
 * @param options - what to expect of this transport
 */
export function transportCompliance(
  name: string,
  make: () => Transport | TransportPair | Promise<Transport | TransportPair>,
  options: ComplianceOptions = {},
): void {
  const host = options.host ?? '127.0.0.1';
  const encrypted = options.encrypted ?? false;
  const largeBytes = options.largeTransferBytes ?? GiB;
  const abortResetsPeer = options.abortResetsPeer ?? false;

  describe(`${complianceSuiteName}: ${name}`, () => {
    const cleanups: (() => unknown)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(): Promise<{
      pair: TransportPair;
      listener: Listener;
      accepted: Accepted;
      dial: () => Promise<Connection>;
    }> {
      const made = await make();
      const pair = 'connect' in made ? { client: made, server: made } : made;
      const accepted = new Accepted();
      const listener = await pair.server.listen({ host, port: 0 }, accepted.push);
      cleanups.push(() => listener.close());
      cleanups.push(() => {
        for (const c of accepted.all) c.abort();
      });
      const dial = async () => {
        const c = await pair.client.connect({ host, port: listener.port, timeoutMs: 10_000 });
        cleanups.push(() => c.abort());
        return c;
      };
      return { pair, listener, accepted, dial };
    }

    it('connects and describes both ends', async () => {
      const { pair, listener, accepted, dial } = await setup();
      expect(typeof pair.client.name).toBe('string');
      expect(listener.port).toBeGreaterThan(0);
      const client = await dial();
      const server = await accepted.next();
      expect(client.info.remotePort).toBe(listener.port);
      expect(client.info.remoteAddress).toBe(host);
      expect(server.info.localPort).toBe(listener.port);
      expect(server.info.localAddress).toBe(host);
      expect(server.info.remotePort).toBe(client.info.localPort);
      expect(server.info.remoteAddress).toBe(client.info.localAddress);
      expect(client.info.encrypted).toBe(encrypted);
      expect(server.info.encrypted).toBe(encrypted);
      if (encrypted) {
        expect(client.info.protocol).toMatch(/^TLSv1\.[23]$/);
        expect(client.info.cipher).toBeTruthy();
      }
    });

    it('delivers bytes in order, gathered writes included', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const received = readAll(server);
      const chunks: (Uint8Array | Uint8Array[])[] = [];
      const expected: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) {
        const size = 1 + ((i * 7919) % 5000);
        const a = patternBytes(size, i);
        if (i % 3 === 0) {
          const b = patternBytes(i % 17, i + 1000);
          const c = patternBytes(100, i + 2000);
          chunks.push([a, b, c]);
          expected.push(a, b, c);
        } else {
          chunks.push(a);
          expected.push(a);
        }
      }
      await writeAll(client, chunks);
      const clientClosed = client.close();
      const got = await received;
      await server.close();
      await clientClosed;
      const want = Buffer.concat(expected);
      expect(got.byteLength).toBe(want.byteLength);
      expect(Buffer.from(got).equals(want)).toBe(true);
    });

    it('carries data both ways at once', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const up = patternBytes(3 * MiB + 17, 1);
      const down = patternBytes(2 * MiB + 5, 2);
      const serverRead = readAll(server);
      const clientRead = readAll(client);
      const slices = (bytes: Uint8Array) => {
        const out: Uint8Array[] = [];
        for (let o = 0; o < bytes.byteLength; o += 100_000)
          out.push(bytes.subarray(o, o + 100_000));
        return out;
      };
      await Promise.all([writeAll(client, slices(up)), writeAll(server, slices(down))]);
      await Promise.all([client.close(), server.close(), serverRead, clientRead]);
      expect(Buffer.from(await serverRead).equals(up)).toBe(true);
      expect(Buffer.from(await clientRead).equals(down)).toBe(true);
    });

    it('reports backpressure when the reader stops pulling, and drains when it resumes', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const chunk = patternBytes(64 * KiB, 7);
      let written = 0;
      let drained: Promise<void> | undefined;
      // Nobody reads on the server: the socket must pause and, once the
      // buffers on the way are full, drained() must stay pending (bounded: 512 MiB).
      for (let i = 0; i < 8192 && !drained; i++) {
        written += chunk.byteLength;
        if (client.write(chunk)) continue;
        const wait = client.drained();
        if ((await stateAfterTurns(wait, 50)) === 'pending') drained = wait;
      }
      expect(drained).toBeDefined();
      // A transport that reports flushed(): not while bytes wait in its buffers,
      // and again once they drained (everything written has left).
      if (client.flushed) expect(client.flushed()).toBe(false);
      const read = drain(server);
      await drained;
      if (client.flushed) expect(client.flushed()).toBe(true);
      const clientClosed = client.close();
      const outcome = await read;
      await server.close();
      await clientClosed;
      expect(outcome.error).toBeUndefined();
      expect(outcome.bytes).toBe(written);
    });

    it('drained() resolves at once when nothing is queued', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      await accepted.next();
      expect(await stateAfterTurns(client.drained(), 1)).toBe('resolved');
    });

    it('half-closes: the peer reads to our FIN and can still answer', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const clientRead = readAll(client);
      client.write(new TextEncoder().encode('hello'));
      const clientClosed = client.close();
      expect(() => client.write(new Uint8Array(1))).toThrow(
        expect.objectContaining({ code: TransportErrorCode.CONNECTION_CLOSED }),
      );
      const fromClient = await readAll(server);
      expect(new TextDecoder().decode(fromClient)).toBe('hello');
      // Our FIN is in; the server's direction is still open.
      server.write(new TextEncoder().encode('bye'));
      expect(await stateAfterTurns(clientClosed, 5)).toBe('pending');
      await server.close();
      await clientClosed;
      expect(new TextDecoder().decode(await clientRead)).toBe('bye');
      await server.closed;
      await client.closed;
    });

    it('closes quickly when the reader left its loop early', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      server.write(patternBytes(1000, 3));
      for await (const chunk of client) {
        expect(chunk.byteLength).toBeGreaterThan(0);
        break;
      }
      server.write(patternBytes(1000, 4));
      const serverRead = drain(server);
      await Promise.all([client.close(), server.close()]);
      expect((await serverRead).error).toBeUndefined();
    });

    it('close() without a reader discards incoming data and completes', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      server.write(patternBytes(10_000, 5));
      const serverRead = drain(server);
      const closing = client.close();
      await serverRead;
      await server.close();
      await closing;
      await client.closed;
    });

    it('aborts: local I/O fails, the peer sees the connection go, both settle', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const serverRead = drain(server);
      client.write(patternBytes(1000, 6));
      const reason = new Error('test abort');
      client.abort(reason);
      await client.closed;
      expect(() => client.write(new Uint8Array(1))).toThrow(
        expect.objectContaining({ code: TransportErrorCode.CONNECTION_CLOSED }),
      );
      const outcome = await serverRead;
      if (abortResetsPeer) {
        expect(outcome.error).toMatchObject({ code: TransportErrorCode.CONNECTION_RESET });
      }
      // Over TCP a reset that arrives behind unread data reads as a plain end (Linux).
      if (outcome.error !== undefined) expect(isDnetError(outcome.error)).toBe(true);
      expect(outcome.bytes).toBeLessThanOrEqual(1000);
      // Closing after the fact is harmless and settles.
      await server.close();
      await server.closed;
      await client.close();
      client.abort();
    });

    it('abort() fails a pending read and a pending drained() on the aborting side', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      await accepted.next();
      const read = client[Symbol.asyncIterator]().next();
      const chunk = patternBytes(64 * KiB, 8);
      for (let i = 0; i < 1024 && client.write(chunk); i++);
      const drained = client.drained();
      client.abort(new Error('stop'));
      expect(await rejection(read)).toMatchObject({
        code: TransportErrorCode.CONNECTION_ABORTED,
      });
      expect(isDnetError(await rejection(drained))).toBe(true);
    });

    it('the peer abort ends a blocked writer', async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const chunk = patternBytes(64 * KiB, 9);
      let drained: Promise<void> | undefined;
      for (let i = 0; i < 8192 && !drained; i++) {
        if (client.write(chunk)) continue;
        const wait = client.drained();
        if ((await stateAfterTurns(wait, 50)) === 'pending') drained = wait;
      }
      expect(drained).toBeDefined();
      const clientRead = drain(client);
      server.abort();
      if (abortResetsPeer) {
        expect(await rejection(drained!)).toMatchObject({
          code: TransportErrorCode.CONNECTION_RESET,
        });
      } else {
        // Without a reset (TLS) the peer's FIN arrives; the writer learns on
        // its next write or when it closes.
        await drained!.catch((error) => expect(isDnetError(error)).toBe(true));
      }
      const outcome = await clientRead;
      if (outcome.error !== undefined) expect(isDnetError(outcome.error)).toBe(true);
      await client.close();
      await client.closed;
    });

    it(`streams ${largeBytes} bytes with bounded memory`, { timeout: 120_000 }, async () => {
      const { accepted, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      const block = 256 * KiB;
      const blocks = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => patternBytes(block, 100 + i));
      const baseline = process.memoryUsage().arrayBuffers;
      let peak = baseline;
      const receiving = (async () => {
        const hash = createHash('sha1');
        let bytes = 0;
        let n = 0;
        for await (const chunk of server) {
          hash.update(chunk);
          bytes += chunk.byteLength;
          if (++n % 256 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        }
        return { bytes, digest: hash.digest('hex') };
      })();
      const hash = createHash('sha1');
      let sent = 0;
      let i = 0;
      while (sent < largeBytes) {
        const gather: Uint8Array[] = [];
        for (let k = 0; k < 4 && sent < largeBytes; k++) {
          const b = blocks[i++ % blocks.length]!;
          const piece = sent + b.byteLength > largeBytes ? b.subarray(0, largeBytes - sent) : b;
          gather.push(piece);
          hash.update(piece);
          sent += piece.byteLength;
        }
        if (!client.write(gather)) await client.drained();
      }
      const clientClosed = client.close();
      const result = await receiving;
      expect(result.bytes).toBe(largeBytes);
      expect(result.digest).toBe(hash.digest('hex'));
      // Streaming, not accumulating: far less than the transfer was ever held.
      expect(peak - baseline).toBeLessThan(Math.max(256 * MiB, largeBytes / 4));
      await server.close();
      await clientClosed;
    });

    it('connect honours an AbortSignal aborted before or during the connect', async () => {
      const { pair, listener } = await setup();
      const before = new AbortController();
      before.abort(new Error('before'));
      const e1 = await rejection(
        pair.client.connect({ host, port: listener.port, signal: before.signal }),
      );
      expect(e1).toMatchObject({ code: TransportErrorCode.CONNECT_ABORTED });
      const during = new AbortController();
      const connecting = pair.client.connect({ host, port: listener.port, signal: during.signal });
      during.abort(new Error('during'));
      const e2 = await rejection(connecting);
      expect(isDnetError(e2)).toBe(true);
      expect(e2).toMatchObject({ code: TransportErrorCode.CONNECT_ABORTED });
    });

    it('connect to a port nobody listens on is refused', async () => {
      const { pair, listener } = await setup();
      const port = listener.port;
      await listener.close();
      const error = await rejection(pair.client.connect({ host, port, timeoutMs: 10_000 }));
      expect(error).toMatchObject({ code: TransportErrorCode.CONNECTION_REFUSED });
    });

    it('listener close stops new connections and keeps open ones', async () => {
      const { accepted, listener, dial } = await setup();
      const client = await dial();
      const server = await accepted.next();
      await listener.close();
      await listener.close();
      const echo = (async () => {
        for await (const chunk of server) if (!server.write(chunk)) await server.drained();
        await server.close();
      })();
      const read = readAll(client);
      client.write(new TextEncoder().encode('still here'));
      const clientClosed = client.close();
      expect(new TextDecoder().decode(await read)).toBe('still here');
      await echo;
      await clientClosed;
    });

    it('listen takes an AbortSignal, and a port in use is refused', async () => {
      const { pair, listener } = await setup();
      const taken = await rejection(pair.server.listen({ host, port: listener.port }, () => {}));
      expect(taken).toMatchObject({ code: TransportErrorCode.ADDRESS_IN_USE });
      const controller = new AbortController();
      const second = await pair.server.listen(
        { host, port: 0, signal: controller.signal },
        () => {},
      );
      controller.abort();
      // The listener goes away: its port is free to listen on again.
      let relisten: Listener | undefined;
      for (let i = 0; i < 50 && !relisten; i++) {
        relisten = await pair.server
          .listen({ host, port: second.port }, () => {})
          .catch(() => undefined);
        if (!relisten) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      expect(relisten?.port).toBe(second.port);
      await relisten?.close();
    });

    it('serves many connections at once', async () => {
      const { accepted, dial } = await setup();
      const count = 16;
      const serving = (async () => {
        const tasks: Promise<void>[] = [];
        for (let i = 0; i < count; i++) {
          const conn = await accepted.next();
          tasks.push(
            (async () => {
              for await (const chunk of conn) if (!conn.write(chunk)) await conn.drained();
              await conn.close();
            })(),
          );
        }
        await Promise.all(tasks);
      })();
      const results = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const c = await dial();
          const payload = patternBytes(10_000 + i, i);
          const read = readAll(c);
          await writeAll(c, [payload]);
          await c.close();
          return Buffer.from(await read).equals(payload);
        }),
      );
      expect(results.every(Boolean)).toBe(true);
      await serving;
    });
  });
}
