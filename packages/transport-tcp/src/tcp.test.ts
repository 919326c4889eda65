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

  it('abort() resets the connection: a waiting peer read fails with DNET_TRANSPORT_CONNECTION_RESET', async () => {
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

  it('binds the local address and port asked for (connect({ localAddress, localPort }))', async () => {
    const transport = tcp();
    let server: Connection | undefined;
    const listener = await transport.listen({ port: 0 }, (c) => {
      server = c;
    });
    // A free port: bind to 0 and read back what the kernel chose.
    const spare = await transport.listen({ port: 0 }, (c) => c.abort());
    const localPort = spare.port;
    await spare.close();
    const client = await transport.connect({
      host: '127.0.0.1',
      port: listener.port,
      localAddress: '127.0.0.1',
      localPort,
    });
    for (let i = 0; i < 100 && !server; i++) await new Promise((r) => setImmediate(r));
    expect(client.info.localAddress).toBe('127.0.0.1');
    expect(client.info.localPort).toBe(localPort);
    expect(server?.info.remotePort).toBe(localPort);
    client.abort();
    server?.abort();
    await listener.close();
  });

  it('queuedBytes() counts what a peer that stops reading has not taken, and falls as it reads', async () => {
    const transport = tcp();
    let server: Connection | undefined;
    const listener = await transport.listen({ port: 0 }, (c) => {
      server = c;
    });
    const client = await transport.connect({ host: '127.0.0.1', port: listener.port });
    for (let i = 0; i < 100 && !server; i++) await new Promise((r) => setImmediate(r));
    // The server reads nothing: once the kernel's buffers are full, bytes stay queued.
    const chunk = new Uint8Array(256 * 1024);
    let queued = 0;
    for (let i = 0; i < 512 && queued === 0; i++) {
      client.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
      queued = client.queuedBytes?.() ?? 0;
    }
    expect(queued).toBeGreaterThan(0);
    const reading = (async () => {
      for await (const _ of server!) if ((client.queuedBytes?.() ?? 0) < queued) return true;
      return false;
    })();
    expect(await reading).toBe(true);
    client.abort();
    server?.abort();
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
