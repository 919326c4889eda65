import { spawn, spawnSync } from 'node:child_process';
import {
  type Connection,
  ConnectionResetError,
  ConnectTimeoutError,
  isDnetError,
  TransportErrorCode,
} from '@dnet/transport';
import { transportCompliance } from '@dnet/transport/testing';
import { describe, expect, it } from 'vitest';
import { defaultSocketOptions, tcp, toTransportError } from './index.js';

transportCompliance('tcp over IPv4', () => tcp());
transportCompliance('tcp over IPv6', () => tcp(), {
  host: '::1',
  largeTransferBytes: 64 * 1024 * 1024,
});

describe('defaultSocketOptions()', () => {
  it('turns TCP_NODELAY and keep-alive on, as DICOM over loopback needs', () => {
    expect(defaultSocketOptions()).toEqual({
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelayMs: 60_000,
    });
  });

  it('returns a fresh object each time', () => {
    const a = defaultSocketOptions();
    a.noDelay = false;
    expect(defaultSocketOptions().noDelay).toBe(true);
  });
});

describe('tcp()', () => {
  it('rejects nonsense limits', () => {
    expect(() => tcp({ connectTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => tcp({ readHighWaterMark: Number.NaN })).toThrow(RangeError);
  });

  it('reports IPv6 addresses', async () => {
    const transport = tcp();
    let server: Connection | undefined;
    const listener = await transport.listen({ host: '::1', port: 0 }, (c) => {
      server = c;
    });
    const conn = await transport.connect({ host: '::1', port: listener.port });
    expect(conn.info.remoteAddress).toBe('::1');
    expect(conn.info.localAddress).toBe('::1');
    expect(listener.host).toBe('::1');
    conn.abort();
    server?.abort();
    await listener.close();
  });

  it('abort() resets the connection: a waiting peer read fails with DNET_CONNECTION_RESET', async () => {
    const transport = tcp();
    let server: Connection | undefined;
    const listener = await transport.listen({ port: 0 }, (c) => {
      server = c;
    });
    const client = await transport.connect({ host: '127.0.0.1', port: listener.port });
    for (let i = 0; i < 100 && !server; i++) await new Promise((r) => setImmediate(r));
    const read = server![Symbol.asyncIterator]().next();
    client.abort(new Error('enough'));
    const error = await read.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: TransportErrorCode.CONNECTION_RESET });
    expect(error).toBeInstanceOf(ConnectionResetError);
    await server!.closed;
    await listener.close();
  });

  it('close() gives up on a peer that never closes, after closeTimeoutMs', async () => {
    const transport = tcp({ closeTimeoutMs: 100 });
    let server: Connection | undefined;
    const listener = await transport.listen({ port: 0 }, (c) => {
      server = c;
    });
    const client = await transport.connect({ host: '127.0.0.1', port: listener.port });
    for (let i = 0; i < 100 && !server; i++) await new Promise((r) => setImmediate(r));
    const serverRead = (async () => {
      for await (const _ of server!) {
        // reads end at the client's FIN; the server never closes its side
      }
    })();
    await client.close();
    await client.closed;
    await serverRead.catch(() => {});
    server!.abort();
    await listener.close();
  });

  it('maps node errors to transport errors', () => {
    const refused = toTransportError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }));
    expect(refused.code).toBe(TransportErrorCode.CONNECTION_REFUSED);
    const reset = toTransportError(Object.assign(new Error('x'), { code: 'EPIPE' }));
    expect(reset.code).toBe(TransportErrorCode.CONNECTION_RESET);
    const other = toTransportError(new Error('odd'));
    expect(other.code).toBe(TransportErrorCode.TRANSPORT_FAILED);
    expect(isDnetError(other)).toBe(true);
  });

  // A listener that never accepts: once its queue is full, the kernel drops
  // further SYNs and connect() hangs, which only the timeout ends.
  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)('times out a connect that does not complete', async () => {
    const child = spawn(
      'python3',
      [
        '-c',
        'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', () => reject(new Error('python exited')));
      });
      const transport = tcp();
      const filled: Connection[] = [];
      let error: unknown;
      // Fill the accept queue; a later connect hangs and must time out.
      for (let i = 0; i < 8 && !error; i++) {
        try {
          filled.push(await transport.connect({ host: '127.0.0.1', port, timeoutMs: 300 }));
        } catch (e) {
          error = e;
        }
      }
      expect(error).toBeInstanceOf(ConnectTimeoutError);
      expect(error).toMatchObject({ code: TransportErrorCode.CONNECT_TIMEOUT, port });
      for (const c of filled) c.abort();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
