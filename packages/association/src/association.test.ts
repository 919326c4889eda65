import { CommandField } from '@dnet/dimse';
import { type Connection, memory } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association, responseFor, type TransitionRecord } from './association.js';
import { AssociationAbortedError, AssociationRejectedError } from './errors.js';
import type { AcceptorPolicy } from './negotiation.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';

const policy: AcceptorPolicy = {
  contexts: [
    { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
    { abstractSyntax: CT, transferSyntaxes: [EXPLICIT, IMPLICIT] },
    { abstractSyntax: FIND, transferSyntaxes: [IMPLICIT] },
  ],
  calledAeTitles: ['SCP'],
  asyncOperationsWindow: { maxInvoked: 0, maxPerformed: 0 },
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function pair(
  options: {
    policy?: AcceptorPolicy;
    transport?: ReturnType<typeof memory>;
    maxPduLength?: number;
  } = {},
) {
  const transport = options.transport ?? memory();
  const accepted: Promise<Association>[] = [];
  const listener = await transport.listen({ port: 0 }, (connection: Connection) => {
    const p = Association.accept(connection, { policy: options.policy ?? policy });
    p.catch(() => {});
    accepted.push(p);
  });
  cleanup.push(() => listener.close());
  const requestor = await Association.request({
    transport,
    host: listener.host,
    port: listener.port,
    proposal: {
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [
        { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
        { abstractSyntax: CT, transferSyntaxes: [IMPLICIT, EXPLICIT] },
        { abstractSyntax: FIND, transferSyntaxes: [IMPLICIT] },
      ],
      asyncOperationsWindow: { maxInvoked: 8, maxPerformed: 8 },
      ...(options.maxPduLength !== undefined && { maxPduLength: options.maxPduLength }),
    },
  });
  const acceptor = await accepted[0]!;
  return { requestor, acceptor, transport, listener };
}

describe('Association over the memory transport', () => {
  it('negotiates, echoes and releases, walking the table', async () => {
    const { requestor, acceptor } = await pair();
    const transitions: TransitionRecord[] = [];
    requestor.on('transition', (t) => transitions.push(t));
    expect(requestor.state).toBe('Sta6');
    expect(acceptor.state).toBe('Sta6');
    const info = requestor.info;
    expect(info.contexts.map((c) => [c.id, c.accepted, c.transferSyntax])).toEqual([
      [1, true, IMPLICIT],
      [3, true, EXPLICIT],
      [5, true, IMPLICIT],
    ]);
    expect(info.asyncOperationsWindow).toEqual({ maxInvoked: 8, maxPerformed: 8 });
    expect(info.calledAeTitle).toBe('SCP');
    expect(acceptor.info.callingAeTitle).toBe('SCU');
    expect(info.connection?.remotePort).toBe(acceptor.info.connection?.localPort);
    const rsp = await requestor.cEcho();
    expect(rsp.message.commandField).toBe(CommandField.C_ECHO_RSP);
    expect(rsp.message.status).toBe(0);
    const released: string[] = [];
    acceptor.on('released', () => released.push('acceptor'));
    await requestor.release();
    await acceptor.closed;
    expect(requestor.state).toBe('Sta1');
    expect(acceptor.state).toBe('Sta1');
    expect(released).toEqual(['acceptor']);
    expect(transitions.map((t) => `${t.from}/${t.event}/${t.action}`)).toEqual(
      expect.arrayContaining(['Sta6/Evt11/AR-1', 'Sta7/Evt13/AR-3']),
    );
  });

  it('rejects with a typed error carrying result, source and reason', async () => {
    const transport = memory();
    const listener = await transport.listen({ port: 0 }, (connection) => {
      Association.accept(connection, { policy }).catch(() => {});
    });
    cleanup.push(() => listener.close());
    const error = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'WRONG',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error).toMatchObject({
      result: 1,
      source: 1,
      reason: 7,
      code: 'DNET_ASSOCIATION_REJECTED',
    });
  });

  it('stores a data set streamed in fragments of the peer maximum PDU length', async () => {
    const { requestor, acceptor } = await pair({ maxPduLength: 1000 });
    const size = 300_000;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = i % 251;
    let received: Uint8Array | undefined;
    let pdvMax = 0;
    requestor.on('p-data', (pdvs) => {
      for (const p of pdvs) pdvMax = Math.max(pdvMax, p.data.length);
    });
    acceptor.on('C-STORE-RQ', async (rq) => {
      received = await rq.dataSet!.bytes();
      await rq.respond(responseFor(rq.message, 0x0000));
    });
    let sentMax = 0;
    acceptor.on('p-data', (pdvs) => {
      for (const p of pdvs) sentMax = Math.max(sentMax, p.data.length);
    });
    const chunks = [data.subarray(0, 7), data.subarray(7, 200_000), data.subarray(200_000)];
    const rsp = await requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2.3',
        priority: 0,
        hasDataSet: true,
      },
      (async function* () {
        yield* chunks;
      })(),
    );
    expect(rsp.message.status).toBe(0);
    expect(received).toEqual(data);
    // The acceptor announced 256 KiB; the requestor 1000: responses come within 994 bytes of data.
    expect(sentMax).toBeLessThanOrEqual(262_144 - 6);
    expect(pdvMax).toBeLessThanOrEqual(994);
    await requestor.release();
  });

  it('runs several operations at once, matched by message ID, and routes C-CANCEL', async () => {
    const { requestor, acceptor } = await pair();
    const order: number[] = [];
    acceptor.on('C-ECHO-RQ', (rq) => {
      const id = (rq.message as { messageId: number }).messageId;
      // Answer in reverse order of arrival.
      setTimeout(
        () => {
          order.push(id);
          rq.respond(responseFor(rq.message, 0)).catch(() => {});
        },
        30 - id * 5,
      );
    });
    const results = await Promise.all([requestor.cEcho(), requestor.cEcho(), requestor.cEcho()]);
    expect(results.map((r) => r.message.messageIdBeingRespondedTo)).toEqual([1, 2, 3]);
    expect(order).toEqual([3, 2, 1]);

    const cancelled: number[] = [];
    acceptor.on('C-FIND-RQ', async (rq) => {
      await rq.dataSet?.bytes();
      const pending = responseFor(rq.message, 0xff00);
      await rq.respond({ ...pending, hasDataSet: true }, new Uint8Array([1, 2, 3, 4]));
      await new Promise<void>((resolve) =>
        rq.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      cancelled.push((rq.message as { messageId: number }).messageId);
      await rq.respond(responseFor(rq.message, 0xfe00));
    });
    const controller = new AbortController();
    const pendings: Uint8Array[] = [];
    const final = await requestor.cFind(
      {
        commandField: CommandField.C_FIND_RQ,
        affectedSopClassUid: FIND,
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array([8, 0, 0x52, 0, 0, 0, 0, 0]),
      {
        signal: controller.signal,
        onPending: async (rsp) => {
          pendings.push(await rsp.dataSet!.bytes());
          controller.abort();
        },
      },
    );
    expect(pendings).toEqual([new Uint8Array([1, 2, 3, 4])]);
    expect(final.message.status).toBe(0xfe00);
    expect(cancelled).toEqual([final.message.messageIdBeingRespondedTo]);
    await requestor.release();
  });

  it('settles every pending operation with a typed error when the peer aborts', async () => {
    const { requestor, acceptor } = await pair();
    acceptor.on('C-ECHO-RQ', () => {
      acceptor.abort();
    });
    const aborted: unknown[] = [];
    requestor.on('aborted', (e) => aborted.push(e));
    const error = await requestor.cEcho().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssociationAbortedError);
    expect(error).toMatchObject({ source: 0, local: false });
    await requestor.closed;
    await acceptor.closed;
    expect(aborted).toHaveLength(1);
    expect(requestor.state).toBe('Sta1');
  });

  it('releases cleanly on a release collision', async () => {
    const { requestor, acceptor } = await pair();
    const states: string[] = [];
    requestor.on('transition', (t) => states.push(`R:${t.action}`));
    acceptor.on('transition', (t) => states.push(`A:${t.action}`));
    await Promise.all([requestor.release(), acceptor.release()]);
    await Promise.all([requestor.closed, acceptor.closed]);
    expect(states).toEqual(expect.arrayContaining(['R:AR-8', 'A:AR-8', 'R:AR-9', 'A:AR-10']));
    expect(requestor.state).toBe('Sta1');
    expect(acceptor.state).toBe('Sta1');
  });
});
