import { CommandField, respondTo } from '@dnet/dimse';
import { type Connection, memory, type Transport } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association } from './association.js';
import type { AcceptorPolicy } from './negotiation.js';

// A peer that accepted the association and then stops reading: its reader no
// longer pulls, the memory transport's queue fills, and our writes wait for a
// drain that never comes. The send deadline must end that wait.

const SC_IMAGE = '1.2.840.10008.5.1.4.1.1.7';
const STUDY_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const IMPLICIT = '1.2.840.10008.1.2';

const policy: AcceptorPolicy = {
  contexts: [
    { abstractSyntax: SC_IMAGE, transferSyntaxes: [IMPLICIT] },
    { abstractSyntax: STUDY_FIND, transferSyntaxes: [IMPLICIT] },
  ],
  calledAeTitles: ['SCP'],
  maxPduLength: 64 * 1024,
};

const proposal = {
  callingAeTitle: 'SCU',
  calledAeTitle: 'SCP',
  maxPduLength: 64 * 1024,
  contexts: [
    { abstractSyntax: SC_IMAGE, transferSyntaxes: [IMPLICIT] },
    { abstractSyntax: STUDY_FIND, transferSyntaxes: [IMPLICIT] },
  ],
};

/** A connection whose reader can be held: `gate` is awaited before each chunk is pulled. */
interface Held {
  connection: Connection;
  gate: (() => Promise<void>) | undefined;
}

function holdable(inner: Connection): Held {
  const held: Held = { connection: undefined as unknown as Connection, gate: undefined };
  const closed = inner.closed;
  held.connection = {
    write: (chunks) => inner.write(chunks),
    drained: () => inner.drained(),
    flushed: inner.flushed ? () => inner.flushed!() : undefined,
    queuedBytes: inner.queuedBytes ? () => inner.queuedBytes!() : undefined,
    close: () => inner.close(),
    abort: (reason) => inner.abort(reason),
    closed,
    get info() {
      return inner.info;
    },
    [Symbol.asyncIterator]() {
      const it = inner[Symbol.asyncIterator]();
      return {
        async next() {
          // Held until the gate opens or the connection is gone.
          if (held.gate) await Promise.race([held.gate(), closed]);
          return it.next();
        },
        return: () => it.return?.() ?? Promise.resolve({ done: true, value: undefined }),
      };
    },
  } as Connection;
  return held;
}

const STORE_RQ = {
  commandField: CommandField.C_STORE_RQ,
  affectedSopClassUid: SC_IMAGE,
  affectedSopInstanceUid: '1.2.3',
  priority: 0,
  hasDataSet: true,
} as const;

const forever = () => new Promise<void>(() => {});
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** An acceptor whose reading the test holds; `onAccepted` gets its association. */
async function heldAcceptor(
  transport: Transport,
  onAccepted: (a: Association, held: Held) => void = () => {},
  timeouts = {},
) {
  const helds: Held[] = [];
  const listener = await transport.listen({ port: 0 }, (c) => {
    const held = holdable(c);
    helds.push(held);
    Association.accept(held.connection, { policy, timeouts })
      .then((a) => onAccepted(a, held))
      .catch(() => {});
  });
  cleanup.push(() => listener.close());
  return { listener, helds };
}

async function requestor(transport: Transport, port: number, timeouts: object) {
  const a = await Association.request({
    transport,
    host: '127.0.0.1',
    port,
    timeouts,
    proposal,
  });
  cleanup.push(async () => {
    a.abort();
    await a.closed;
  });
  return a;
}

describe('send deadline (a peer that stops reading)', () => {
  it('aborts a C-STORE to an acceptor that stopped reading with a send TimeoutError', async () => {
    const transport = memory();
    const { listener } = await heldAcceptor(transport, (_a, held) => {
      held.gate = forever;
    });
    const a = await requestor(transport, listener.port, { dimseMs: 200 });
    const aborted = new Promise((r) => a.once('aborted', r));
    const error = await a
      .cStore(STORE_RQ, new Uint8Array(4 * 1024 * 1024))
      .catch((e: unknown) => e);
    // The default send deadline is the DIMSE timeout.
    expect(error).toMatchObject({
      code: 'DNET_ASSOCIATION_TIMEOUT',
      timer: 'send',
      timeoutMs: 200,
    });
    expect(await aborted).toBe(error);
    await a.closed;
    expect(a.state).toBe('Sta1');
    expect(a.established).toBe(false);
  });

  it('aborts an acceptor whose C-FIND responses a requestor stopped reading', async () => {
    const transport = memory();
    let acceptor: Association | undefined;
    let settle: (value: unknown) => void = () => {};
    const respondError = new Promise<unknown>((resolve) => {
      settle = resolve;
    });
    const { listener } = await heldAcceptor(
      transport,
      (a) => {
        acceptor = a;
        a.handle('C-FIND', async (rq) => {
          await rq.dataSet?.discard();
          try {
            for (let i = 0; i < 1000; i++)
              await rq.respond(
                respondTo(rq.message, { status: 0xff00, hasDataSet: true }),
                new Uint8Array(32 * 1024),
              );
            settle(undefined);
          } catch (e) {
            settle(e);
          }
        });
      },
      { sendMs: 200 },
    );
    let held: Held | undefined;
    const requestorTransport: Transport = {
      name: 'held',
      connect: async (o) => {
        held = holdable(await transport.connect(o));
        return held.connection;
      },
      listen: (o, cb) => transport.listen(o, cb),
    };
    const a = await requestor(requestorTransport, listener.port, { dimseMs: 0 });
    // Once the request is out, the requestor stops reading.
    const find = a
      .cFind(
        {
          commandField: CommandField.C_FIND_RQ,
          affectedSopClassUid: STUDY_FIND,
          priority: 0,
          hasDataSet: true,
        },
        new Uint8Array(0),
        {
          onPending: () => {},
        },
      )
      .catch((e: unknown) => e);
    held!.gate = forever;
    expect(await respondError).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'send' });
    await acceptor!.closed;
    expect(acceptor!.established).toBe(false);
    a.abort();
    await find;
  });

  it('lets a slow peer that keeps reading finish: progress restarts the deadline', async () => {
    const transport = memory();
    const { listener } = await heldAcceptor(transport, (a, held) => {
      // One chunk every 40 ms: the whole drain takes far longer than the deadline.
      held.gate = () => new Promise((r) => setTimeout(r, 40));
      a.handle('C-STORE', async (rq) => {
        await rq.dataSet?.discard();
        await rq.respond(respondTo(rq.message, { status: 0 }));
      });
    });
    const a = await requestor(transport, listener.port, { dimseMs: 5000, sendMs: 150 });
    const rsp = await a.cStore(STORE_RQ, new Uint8Array(2 * 1024 * 1024));
    expect(rsp.message).toMatchObject({ status: 0 });
    await a.release();
  });

  it('with the send deadline and DIMSE timer off, the idle timer no longer re-arms while nothing moves', async () => {
    const transport = memory();
    const { listener } = await heldAcceptor(transport, (_a, held) => {
      held.gate = forever;
    });
    const a = await requestor(transport, listener.port, { dimseMs: 0, sendMs: 0, idleMs: 200 });
    const error = await a
      .cStore(STORE_RQ, new Uint8Array(4 * 1024 * 1024))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'idle' });
  });

  it('established says whether data may be exchanged (Sta6)', async () => {
    const transport = memory();
    const { listener } = await heldAcceptor(transport);
    const a = await requestor(transport, listener.port, {});
    expect(a.established).toBe(true);
    const releasing = a.release();
    expect(a.established).toBe(false);
    await releasing;
    expect(a.established).toBe(false);
  });
});
