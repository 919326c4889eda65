import { Server } from '@dnet/services';
import { IMPLICIT_LE, rawAssociateRq, rawPData, VERIFICATION } from '@dnet/testkit/raw-pdus';
import type { Connection } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoStatus } from './support/server-under-test.js';

const ARTIM_MS = 300;
const IDLE_MS = 600;
const MAX_ASSOCIATIONS = 4;

/** Resolves with ms until the server closed `conn`, or 'open' after `deadlineMs`. */
async function timeToClose(conn: Connection, deadlineMs: number): Promise<number | 'open'> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'open'>((r) => {
    timer = setTimeout(() => r('open'), deadlineMs);
  });
  const drained = (async () => {
    try {
      for await (const _ of conn) {
        // ignore what it says
      }
    } catch {
      // reset
    }
    return Date.now() - start;
  })();
  const r = await Promise.race([drained, deadline]);
  clearTimeout(timer);
  return r;
}

/** Writes `bytes` one byte every `everyMs` until done or the connection ends. */
async function drip(conn: Connection, bytes: Uint8Array, everyMs: number, stop: { done: boolean }) {
  for (let i = 0; i < bytes.length && !stop.done; i++) {
    try {
      conn.write(bytes.subarray(i, i + 1));
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('slow and idle peers (TCP)', () => {
  const transport = tcp();
  let server: Server;
  const rq = rawAssociateRq({
    called: 'SCP',
    calling: 'SLOW',
    contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
  });

  beforeAll(async () => {
    server = await Server.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'SCP',
      handlers: { echo: () => 0 },
      maxAssociations: MAX_ASSOCIATIONS,
      timeouts: { artimMs: ARTIM_MS, idleMs: IDLE_MS, acseMs: 1000, dimseMs: 1000 },
    });
  });
  afterAll(async () => {
    await server.close({ timeoutMs: 1000 });
  });

  const open = () => transport.connect({ host: '127.0.0.1', port: server.port });

  it('a peer that connects and sends nothing is closed by ARTIM (PS3.8 §9.1.5)', async () => {
    const conn = await open();
    const ms = await timeToClose(conn, 5000);
    conn.abort();
    expect(ms).not.toBe('open');
  });

  it('a peer that sends its A-ASSOCIATE-RQ one byte at a time is closed by ARTIM', async () => {
    const conn = await open();
    const stop = { done: false };
    void drip(conn, rq, 50, stop);
    const ms = await timeToClose(conn, 5000);
    stop.done = true;
    conn.abort();
    expect(ms).not.toBe('open');
  });

  it('an established peer that drips a P-DATA-TF one byte at a time is aborted by the idle timer', async () => {
    const conn = await open();
    conn.write(rq);
    const stop = { done: false };
    // The A-ASSOCIATE-AC comes back first; then a P-DATA-TF of 2000 bytes at one byte per 50 ms.
    setTimeout(() => void drip(conn, rawPData(1, true, true, new Uint8Array(2000)), 50, stop), 100);
    const ms = await timeToClose(conn, 6000);
    stop.done = true;
    conn.abort();
    expect(ms).not.toBe('open');
  });

  it(`${MAX_ASSOCIATIONS * 3} idle connections at once: a real requestor is served once ARTIM clears them`, async () => {
    const idle = await Promise.all(Array.from({ length: MAX_ASSOCIATIONS * 3 }, open));
    const closing = idle.map((c) => timeToClose(c, 5000));
    // Bounded retries: A-ASSOCIATE-RJ (transient, local-limit-exceeded) is allowed while they hold the slots.
    let status: number | undefined;
    const end = Date.now() + 5000;
    while (status === undefined && Date.now() < end) {
      status = await echoStatus(transport, server.port).catch(() => undefined);
      if (status === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(0);
    const times = await Promise.all(closing);
    for (const c of idle) c.abort();
    expect(times.filter((t) => t === 'open')).toEqual([]);
  });
});
