import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ConnectionMessage,
  type FailureMessage,
  isDnetError,
  memory,
  TransportChannel,
} from './index.js';
import { patternBytes, readAll, transportCompliance } from './testing.js';

transportCompliance('memory', () => memory(), { abortResetsPeer: true });
transportCompliance('memory, 997-byte segments', () => memory({ maxChunkSize: 997 }), {
  largeTransferBytes: 64 * 1024 * 1024,
  abortResetsPeer: true,
});

describe('memory()', () => {
  it('splits writes into segments of at most maxChunkSize bytes', async () => {
    const net = memory({ maxChunkSize: 3 });
    const sizes: number[] = [];
    const listener = await net.listen({ port: 0 }, async (conn) => {
      for await (const chunk of conn) sizes.push(chunk.byteLength);
      await conn.close();
    });
    const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
    conn.write([new Uint8Array(7), new Uint8Array(2)]);
    await conn.close();
    expect(sizes).toEqual([3, 3, 1, 2]);
  });

  it('copies written bytes, so later changes by the writer do not leak', async () => {
    const net = memory();
    let got: Uint8Array | undefined;
    const listener = await net.listen({ port: 0 }, async (conn) => {
      got = await readAll(conn);
      await conn.close();
    });
    const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
    const bytes = new Uint8Array([1, 2, 3]);
    conn.write(bytes);
    bytes[0] = 9;
    await conn.close();
    expect(Array.from(got!)).toEqual([1, 2, 3]);
  });

  it('keeps networks apart: each memory() is its own', async () => {
    const a = memory();
    const b = memory();
    const listener = await a.listen({ port: 0 }, () => {});
    const error = await b.connect({ host: '127.0.0.1', port: listener.port }).catch((e) => e);
    expect(isDnetError(error)).toBe(true);
    await listener.close();
  });

  it('destroys a connection whose peer never closes, after closeTimeoutMs', async () => {
    const net = memory({ closeTimeoutMs: 20 });
    const listener = await net.listen({ port: 0 }, () => {});
    const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
    await conn.close();
    await conn.closed;
    await listener.close();
  });

  it('rejects nonsense options', () => {
    expect(() => memory({ highWaterMark: 0 })).toThrow(RangeError);
  });

  it('refuses a second reader', async () => {
    const net = memory();
    const listener = await net.listen({ port: 0 }, () => {});
    const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
    conn[Symbol.asyncIterator]();
    expect(() => conn[Symbol.asyncIterator]()).toThrow(TypeError);
    conn.abort();
    await listener.close();
  });
});

describe('diagnostics channels', () => {
  it('publish connections and failures', async () => {
    const seen: string[] = [];
    const onConnection = (m: unknown) => {
      const msg = m as ConnectionMessage;
      seen.push(`${msg.transport}:${msg.side}:${msg.connection.info.localPort > 0}`);
    };
    const onFailure = (m: unknown) => {
      const msg = m as FailureMessage;
      seen.push(`${msg.transport}:${msg.side}:${(msg.error as { code: string }).code}`);
    };
    subscribe(TransportChannel.CONNECTION, onConnection);
    subscribe(TransportChannel.FAILURE, onFailure);
    try {
      const net = memory();
      const listener = await net.listen({ port: 0 }, (c) => c.abort());
      const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
      await listener.close();
      await net.connect({ host: '127.0.0.1', port: listener.port }).catch(() => {});
      conn.abort();
    } finally {
      unsubscribe(TransportChannel.CONNECTION, onConnection);
      unsubscribe(TransportChannel.FAILURE, onFailure);
    }
    expect(seen).toEqual([
      'memory:accepted:true',
      'memory:dialled:true',
      'memory:connect:DNET_TRANSPORT_CONNECTION_REFUSED',
    ]);
  });
});

describe('memory() under random writes, segment sizes and reader pauses', () => {
  it('delivers every byte once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 70_000 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        async (writes, maxChunkSize, highWaterMark, pauses) => {
          const net = memory({ maxChunkSize, highWaterMark });
          let received: Uint8Array | undefined;
          const listener = await net.listen({ port: 0 }, async (conn) => {
            const parts: Uint8Array[] = [];
            let i = 0;
            for await (const chunk of conn) {
              parts.push(chunk);
              // A reader that sometimes lags: the writer must wait, not lose data.
              if (pauses[i++ % pauses.length]) await new Promise((r) => setImmediate(r));
            }
            received = Buffer.concat(parts);
            await conn.close();
          });
          const conn = await net.connect({ host: '127.0.0.1', port: listener.port });
          const sent: Uint8Array[] = [];
          let seed = 0;
          for (const sizes of writes) {
            const chunks = sizes.map((n) => patternBytes(n, seed++));
            sent.push(...chunks);
            if (!conn.write(chunks)) await conn.drained();
          }
          await conn.close();
          await listener.close();
          expect(Buffer.from(received!).equals(Buffer.concat(sent))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
