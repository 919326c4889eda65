import { type CEchoRq, CommandField, respondTo } from '@dnet/dimse';
import { type Connection, memory } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association } from './association.js';
import { channels, type TransitionRecord } from './diagnostics.js';
import type { IncomingRequest } from './dimse-primitives.js';
import { AssociationAbortedError, AssociationRejectedError } from './errors.js';
import { listenForAssociations } from './listen-for-associations.js';
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
    expect(requestor.associateRequest?.calledAeTitle).toBe('SCP');
    expect(requestor.associateResponse?.type).toBe(2);
    expect(acceptor.associateResponse).toEqual(requestor.associateResponse);
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

  it('lets authorize reject before the policy, or answer with its decision', async () => {
    const transport = memory();
    const seen: string[] = [];
    const listener = await transport.listen({ port: 0 }, (connection) => {
      Association.accept(connection, {
        policy,
        authorize: async (rq, decide) => {
          seen.push(rq.callingAeTitle.trim());
          if (rq.callingAeTitle.trim() === 'DENIED')
            return { accepted: false, rejection: { result: 1, source: 1, reason: 3 } };
          return decide();
        },
      }).catch(() => {});
    });
    cleanup.push(() => listener.close());
    const request = (callingAeTitle: string) =>
      Association.request({
        transport,
        host: listener.host,
        port: listener.port,
        proposal: {
          callingAeTitle,
          calledAeTitle: 'SCP',
          contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
        },
      });
    // PS3.8 Table 9-21: rejected-permanent, service-user, calling AE title not recognized.
    const error = await request('DENIED').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error).toMatchObject({ result: 1, source: 1, reason: 3 });
    const ok = await request('SCU');
    expect(ok.established).toBe(true);
    await ok.release();
    expect(seen).toEqual(['DENIED', 'SCU']);
  });

  it('rejects (permanent, service-user, no reason) when authorize throws', async () => {
    const transport = memory();
    const accepting: Promise<unknown>[] = [];
    const listener = await transport.listen({ port: 0 }, (connection) => {
      const p = Association.accept(connection, {
        policy,
        authorize: async () => {
          throw new Error('directory unreachable');
        },
      });
      p.catch(() => {});
      accepting.push(p);
    });
    cleanup.push(() => listener.close());
    const error = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ result: 1, source: 1, reason: 1 });
    expect(accepting).toHaveLength(1);
    await expect(accepting[0]).rejects.toThrow('directory unreachable');
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
    acceptor.handle('C-STORE', async (rq) => {
      received = await rq.dataSet!.bytes();
      await rq.respond(respondTo(rq.message, { status: 0x0000 }));
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
    expect(Buffer.compare(received!, data)).toBe(0);
    // The acceptor announced 256 KiB; the requestor 1000: responses come within 994 bytes of data.
    expect(sentMax).toBeLessThanOrEqual(262_144 - 6);
    expect(pdvMax).toBeLessThanOrEqual(994);
    await requestor.release();
  });

  it('runs several operations at once, matched by message ID, and routes C-CANCEL', async () => {
    const { requestor, acceptor } = await pair();
    const order: number[] = [];
    const held: IncomingRequest<CEchoRq>[] = [];
    acceptor.handle('C-ECHO', (rq) => {
      held.push(rq);
      if (held.length < 3) return;
      // All three are outstanding at once: answer them in reverse order of arrival.
      for (const r of held.reverse()) {
        order.push((r.message as { messageId: number }).messageId);
        r.respond(respondTo(r.message, { status: 0 })).catch(() => {});
      }
    });
    const results = await Promise.all([requestor.cEcho(), requestor.cEcho(), requestor.cEcho()]);
    expect(results.map((r) => r.message.messageIdBeingRespondedTo)).toEqual([1, 2, 3]);
    expect(order).toEqual([3, 2, 1]);

    const cancelled: number[] = [];
    acceptor.handle('C-FIND', async (rq) => {
      await rq.dataSet?.bytes();
      const pending = respondTo(rq.message, { status: 0xff00, hasDataSet: true });
      await rq.respond(pending, new Uint8Array([1, 2, 3, 4]));
      await new Promise<void>((resolve) =>
        rq.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      cancelled.push((rq.message as { messageId: number }).messageId);
      await rq.respond(respondTo(rq.message, { status: 0xfe00 }));
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

  it('gives requests that cannot be cancelled one signal, aborted only when the association ends', async () => {
    const { requestor, acceptor } = await pair();
    const held: IncomingRequest<CEchoRq>[] = [];
    const arrived = new Promise<void>((resolve) =>
      acceptor.handle('C-ECHO', (rq) => {
        held.push(rq);
        if (held.length === 2) resolve();
      }),
    );
    const cancelSeen = new Promise<void>((resolve) => acceptor.on('C-CANCEL-RQ', () => resolve()));
    const first = requestor.cEcho();
    const second = requestor.cEcho();
    first.catch(() => {});
    await arrived;
    const [a, b] = held as [IncomingRequest<CEchoRq>, IncomingRequest<CEchoRq>];
    expect(a.signal).toBe(b.signal);
    // PS3.7 §9.3.2.3: C-CANCEL applies to C-FIND, C-GET and C-MOVE; naming a C-ECHO changes nothing.
    await requestor.cCancel((a.message as { messageId: number }).messageId);
    await cancelSeen;
    expect(a.signal.aborted).toBe(false);
    await b.respond(respondTo(b.message, { status: 0 }));
    await second;
    requestor.abort();
    await acceptor.closed;
    expect(a.signal.aborted).toBe(true);
  });

  it('reads no further response until onPending has settled (backpressure on C-FIND)', async () => {
    const { requestor, acceptor } = await pair();
    acceptor.handle('C-FIND', async (rq) => {
      await rq.dataSet?.bytes();
      for (let i = 1; i <= 3; i++) {
        await rq.respond(
          respondTo(rq.message, { status: 0xff00, hasDataSet: true }),
          new Uint8Array([i, 0]),
        );
      }
      await rq.respond(respondTo(rq.message, { status: 0 }));
    });
    const seen: number[] = [];
    const releases: (() => void)[] = [];
    const done = requestor.cFind(
      {
        commandField: CommandField.C_FIND_RQ,
        affectedSopClassUid: FIND,
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array([8, 0, 0x52, 0, 0, 0, 0, 0]),
      {
        onPending: async (rsp) => {
          seen.push((await rsp.dataSet!.bytes())[0]!);
          await new Promise<void>((resolve) => releases.push(resolve));
        },
      },
    );
    let settled = false;
    void done.then(() => {
      settled = true;
    });
    for (let i = 1; i <= 3; i++) {
      await until(() => releases.length === i);
      // While the consumer holds match i, neither match i+1 nor the final response is delivered.
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([1, 2, 3].slice(0, i));
      expect(settled).toBe(false);
      releases[i - 1]!();
    }
    expect((await done).message.status).toBe(0);
    await requestor.release();
  });

  it('settles every pending operation with a typed error when the peer aborts', async () => {
    const { requestor, acceptor } = await pair();
    acceptor.handle('C-ECHO', () => {
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

describe('timers, backpressure, roles and the N-services', () => {
  it('aborts with a TimeoutError when the DIMSE response does not come', async () => {
    const transport = memory();
    let acceptor: Association | undefined;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, { policy }).then((a) => {
        acceptor = a;
        a.handle('C-ECHO', () => {}); // never answers
      });
    });
    cleanup.push(() => listener.close());
    const requestor = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      timeouts: { dimseMs: 50 },
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      },
    });
    const error = await requestor.cEcho().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'dimse' });
    await requestor.closed;
    await acceptor?.closed;
    expect(acceptor?.state).toBe('Sta1');
  });

  it('aborts an idle association and a requestor whose A-ASSOCIATE-AC never comes', async () => {
    const transport = memory();
    const listener = await transport.listen({ port: 0 }, () => {
      // a peer that accepts the connection and never answers
    });
    cleanup.push(() => listener.close());
    const error = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      timeouts: { acseMs: 30 },
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'acse' });

    const t2 = memory();
    const l2 = await t2.listen({ port: 0 }, (c) => {
      Association.accept(c, { policy, timeouts: { idleMs: 40 } }).catch(() => {});
    });
    cleanup.push(() => l2.close());
    const a = await Association.request({
      transport: t2,
      host: l2.host,
      port: l2.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      },
    });
    const aborted = await new Promise<unknown>((resolve) => a.once('aborted', resolve));
    expect(aborted).toBeInstanceOf(AssociationAbortedError);
    expect(aborted).toMatchObject({ source: 0 });
  });

  it('pauses reading while a data set consumer lags (bounded buffer)', async () => {
    const transport = memory();
    let acceptor!: Association;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, { policy, dataSetHighWaterMark: 64 * 1024 }).then((a) => {
        acceptor = a;
      });
    });
    cleanup.push(() => listener.close());
    const requestor = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT] }],
        maxPduLength: 16384,
      },
    });
    await new Promise((r) => setTimeout(r, 5));
    let maxBuffered = 0;
    let total = 0;
    acceptor.handle('C-STORE', async (rq) => {
      for await (const chunk of rq.dataSet!) {
        maxBuffered = Math.max(maxBuffered, rq.dataSet!.buffered);
        total += chunk.length;
        await new Promise((r) => setImmediate(r));
      }
      await rq.respond(respondTo(rq.message, { status: 0 }));
    });
    const size = 4 * 1024 * 1024;
    const rsp = await requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2.3.4',
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array(size),
    );
    expect(rsp.message.status).toBe(0);
    expect(total).toBe(size);
    // At most the high-water mark plus one PDU of the acceptor's maximum length.
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + 262_144);
    await requestor.release();
  });

  it('does not take a slow local data set consumer for a stalled peer (idle timer)', async () => {
    const transport = memory();
    let acceptor!: Association;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, {
        policy,
        dataSetHighWaterMark: 16 * 1024,
        timeouts: { idleMs: 60 },
      }).then((a) => {
        acceptor = a;
      });
    });
    cleanup.push(() => listener.close());
    const requestor = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT] }],
        maxPduLength: 16384,
      },
    });
    await new Promise((r) => setTimeout(r, 5));
    let total = 0;
    acceptor.handle('C-STORE', async (rq) => {
      // The consumer takes far longer than idleMs in all, holding the reading back.
      for await (const chunk of rq.dataSet!) {
        total += chunk.length;
        await new Promise((r) => setTimeout(r, 10));
      }
      await rq.respond(respondTo(rq.message, { status: 0 }));
    });
    const size = 512 * 1024;
    const rsp = await requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2.3.4',
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array(size),
    );
    expect(rsp.message.status).toBe(0);
    expect(total).toBe(size);
    await requestor.release();
  });

  it('carries the user identity and the 59H server response', async () => {
    const transport = memory();
    const seen: string[] = [];
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, {
        policy: {
          ...policy,
          verifyUserIdentity: (id) => {
            seen.push(new TextDecoder().decode(id.primaryField));
            return { accepted: true, serverResponse: new Uint8Array([0x4a, 0x57, 0x54]) };
          },
        },
      }).catch(() => {});
    });
    cleanup.push(() => listener.close());
    const a = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
        userIdentity: {
          type: 5,
          positiveResponseRequested: true,
          primaryField: new TextEncoder().encode('token'),
          secondaryField: new Uint8Array(0),
        },
      },
    });
    expect(seen).toEqual(['token']);
    expect(a.negotiation?.userIdentityResponse?.serverResponse).toEqual(
      new Uint8Array([0x4a, 0x57, 0x54]),
    );
    expect(a.info.userIdentity?.type).toBe(5);
    await a.release();
  });

  it('runs a C-GET whose C-STORE sub-operation flows back on the same association (SCP role)', async () => {
    const GET = '1.2.840.10008.5.1.4.1.2.2.3';
    const transport = memory();
    let acceptor!: Association;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, {
        policy: {
          contexts: [
            { abstractSyntax: GET, transferSyntaxes: [IMPLICIT] },
            { abstractSyntax: CT, transferSyntaxes: [IMPLICIT], scpRole: true },
          ],
        },
      }).then((a) => {
        acceptor = a;
        a.handle('C-GET', async (rq) => {
          await rq.dataSet?.bytes();
          const sub = await a.cStore(
            {
              commandField: CommandField.C_STORE_RQ,
              affectedSopClassUid: CT,
              affectedSopInstanceUid: '9.9.9',
              priority: 0,
              hasDataSet: true,
            },
            new Uint8Array([1, 2, 3, 4]),
          );
          await rq.respond(
            respondTo(rq.message, {
              status: 0,
              numberOfRemainingSuboperations: 0,
              numberOfCompletedSuboperations: sub.message.status === 0 ? 1 : 0,
              numberOfFailedSuboperations: 0,
              numberOfWarningSuboperations: 0,
            }),
          );
        });
      });
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
          { abstractSyntax: GET, transferSyntaxes: [IMPLICIT] },
          { abstractSyntax: CT, transferSyntaxes: [IMPLICIT] },
        ],
        roleSelections: [{ sopClassUid: CT, scuRole: false, scpRole: true }],
      },
    });
    const ct = requestor.info.contexts.find((c) => c.abstractSyntax === CT)!;
    expect([ct.requestorScu, ct.requestorScp]).toEqual([false, true]);
    const stored: Uint8Array[] = [];
    requestor.handle('C-STORE', async (rq) => {
      stored.push(await rq.dataSet!.bytes());
      await rq.respond(respondTo(rq.message, { status: 0 }));
    });
    const final = await requestor.cGet(
      {
        commandField: CommandField.C_GET_RQ,
        affectedSopClassUid: GET,
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array([8, 0, 0x52, 0, 6, 0, 0, 0, ...new TextEncoder().encode('STUDY ')]),
    );
    expect(final.message.status).toBe(0);
    expect(final.message).toMatchObject({ numberOfCompletedSuboperations: 1 });
    expect(stored).toEqual([new Uint8Array([1, 2, 3, 4])]);
    // The requestor may not invoke C-STORE on CT: its SCU role was not proposed.
    await expect(
      requestor.cStore(
        {
          commandField: CommandField.C_STORE_RQ,
          affectedSopClassUid: CT,
          affectedSopInstanceUid: '1',
          priority: 0,
          hasDataSet: true,
        },
        new Uint8Array(2),
      ),
    ).rejects.toMatchObject({ code: 'DNET_ASSOCIATION_NO_PRESENTATION_CONTEXT' });
    expect(acceptor.outstanding).toEqual({ invoked: 0, performing: 0 });
    await requestor.release();
  });

  it('exchanges N-ACTION and N-EVENT-REPORT (storage commitment shape) in both directions', async () => {
    const COMMITMENT = '1.2.840.10008.1.20.1';
    const INSTANCE = '1.2.840.10008.1.20.1.1';
    const transport = memory();
    let acceptor!: Association;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, {
        policy: {
          contexts: [{ abstractSyntax: COMMITMENT, transferSyntaxes: [IMPLICIT], scpRole: true }],
        },
      }).then((a) => {
        acceptor = a;
        a.handle('N-ACTION', async (rq) => {
          const info = await rq.dataSet!.bytes();
          await rq.respond(respondTo(rq.message, { status: 0 }));
          await a.nEventReport(
            {
              commandField: CommandField.N_EVENT_REPORT_RQ,
              affectedSopClassUid: COMMITMENT,
              affectedSopInstanceUid: INSTANCE,
              eventTypeId: 1,
              hasDataSet: true,
            },
            { dataSet: info },
          );
        });
      });
    });
    cleanup.push(() => listener.close());
    const requestor = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: COMMITMENT, transferSyntaxes: [IMPLICIT] }],
        roleSelections: [{ sopClassUid: COMMITMENT, scuRole: true, scpRole: true }],
      },
    });
    const report = new Promise<Uint8Array>((resolve) => {
      requestor.handle('N-EVENT-REPORT', async (rq) => {
        const data = await rq.dataSet!.bytes();
        await rq.respond(respondTo(rq.message, { status: 0 }));
        resolve(data);
      });
    });
    const rsp = await requestor.nAction(
      {
        commandField: CommandField.N_ACTION_RQ,
        requestedSopClassUid: COMMITMENT,
        requestedSopInstanceUid: INSTANCE,
        actionTypeId: 1,
        hasDataSet: true,
      },
      { dataSet: new Uint8Array([0x08, 0x00, 0x95, 0x11, 0, 0, 0, 0]) },
    );
    expect(rsp.message).toMatchObject({ status: 0, actionTypeId: 1 });
    expect(await report).toEqual(new Uint8Array([0x08, 0x00, 0x95, 0x11, 0, 0, 0, 0]));
    await new Promise((r) => setTimeout(r, 5));
    expect(acceptor.outstanding.invoked).toBe(0);
    await requestor.release();
  });

  it('keeps within an asynchronous operations window of 1 and leaves no timer behind', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const { requestor, acceptor } = await pair({
      policy: { ...policy, asyncOperationsWindow: { maxInvoked: 1, maxPerformed: 1 } },
    });
    expect(requestor.info.asyncOperationsWindow).toEqual({ maxInvoked: 1, maxPerformed: 1 });
    let concurrent = 0;
    let peak = 0;
    acceptor.handle('C-ECHO', (rq) => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      setTimeout(() => {
        concurrent--;
        rq.respond(respondTo(rq.message, { status: 0 })).catch(() => {});
      }, 5);
    });
    await Promise.all([requestor.cEcho(), requestor.cEcho(), requestor.cEcho()]);
    expect(peak).toBe(1);
    await requestor.release();
    await acceptor.closed;
    await new Promise((r) => setTimeout(r, 10));
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    expect(requestor.listenerCount('transition')).toBe(0);
  });
});

describe('listenForAssociations', () => {
  it('rejects one association too many with transient / local-limit-exceeded', async () => {
    const transport = memory();
    const errors: unknown[] = [];
    const scp = await listenForAssociations(
      transport,
      { port: 0, policy, maxAssociations: 1 },
      () => {},
      (e) => errors.push(e),
    );
    const request = () =>
      Association.request({
        transport,
        host: scp.host,
        port: scp.port,
        proposal: {
          callingAeTitle: 'SCU',
          calledAeTitle: 'SCP',
          contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
        },
      });
    const first = await request();
    const second = await request().catch((e: unknown) => e);
    expect(second).toBeInstanceOf(AssociationRejectedError);
    expect(second).toMatchObject({ result: 2, source: 3, reason: 2 });
    expect(scp.associations.size).toBe(1);
    await first.release();
    await until(() => scp.associations.size === 0);
    const third = await request();
    expect((await third.cEcho()).message.status).toBe(0);
    await third.release();
    await scp.close();
    expect(errors).toHaveLength(1);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

describe('maximum PDU lengths', () => {
  it('receives P-DATA-TF PDUs up to the length the acceptor announced, above the default', async () => {
    const big = 1024 * 1024;
    const { requestor, acceptor } = await pair({ policy: { ...policy, maxPduLength: big } });
    expect(requestor.info.peerMaxPduLength).toBe(big);
    expect(acceptor.info.localMaxPduLength).toBe(big);
    let largest = 0;
    acceptor.on('p-data', (pdvs) => {
      for (const p of pdvs) largest = Math.max(largest, p.data.length);
    });
    acceptor.handle('C-STORE', async (rq) => {
      await rq.dataSet!.bytes();
      await rq.respond(respondTo(rq.message, { status: 0 }));
    });
    const rsp = await requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2',
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array(3 * big),
    );
    expect(rsp.message.status).toBe(0);
    expect(largest).toBeGreaterThan(262_144);
    expect(largest).toBeLessThanOrEqual(big - 6);
    await requestor.release();
  });
});

describe('request handlers', () => {
  it('answers 0110H when a request handler rejects, and reports it', async () => {
    const { requestor, acceptor } = await pair();
    const reported: string[] = [];
    acceptor.on('handler-error', ({ command }) => reported.push(command));
    acceptor.handle('C-STORE', async () => {
      throw new Error('disk full');
    });
    const rsp = await requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2',
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array(100),
    );
    expect(rsp.message.status).toBe(0x0110);
    expect(reported).toEqual(['C-STORE']);
    expect((await requestor.cEcho()).message.status).toBe(0);
    await requestor.release();
  });

  it('takes one handler per command: a second registration throws', async () => {
    const { requestor, acceptor } = await pair();
    acceptor.handle('C-ECHO', (rq) => rq.respond(respondTo(rq.message, { status: 0 })));
    expect(() => acceptor.handle('C-ECHO', () => {})).toThrow(/already has a handler/);
    expect(acceptor.handles('C-ECHO')).toBe(true);
    acceptor.unhandle('C-ECHO');
    expect(acceptor.handles('C-ECHO')).toBe(false);
    acceptor.handle('C-ECHO', (rq) => rq.respond(respondTo(rq.message, { status: 0x0001 })));
    expect((await requestor.cEcho()).message.status).toBe(0x0001);
    await requestor.release();
  });

  it('answers a request nobody handles as PS3.7 prescribes: C-ECHO success, others 0211H', async () => {
    const { requestor } = await pair();
    // PS3.7 §9.1.5: verification succeeds with no handler.
    expect((await requestor.cEcho()).message.status).toBe(0);
    const rsp = await requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2',
        priority: 0,
        hasDataSet: true,
      },
      new Uint8Array(100),
    );
    // PS3.7 Annex C: 0211H Unrecognized operation.
    expect(rsp.message.status).toBe(0x0211);
    expect(rsp.message).toMatchObject({ affectedSopInstanceUid: '1.2', affectedSopClassUid: CT });
    await requestor.release();
  });
});

describe('observers', () => {
  it('publishes transitions, PDUs and the association lifecycle on diagnostics channels', async () => {
    const seen: string[] = [];
    const on = (name: string) => (message: unknown) => {
      const m = message as { pdu?: { type: number }; action?: string };
      seen.push(m.pdu ? `${name}:${m.pdu.type}` : m.action ? `${name}:${m.action}` : name);
    };
    const handlers = Object.entries(channels).map(([name, channel]) => {
      const h = on(name);
      channel.subscribe(h);
      return () => channel.unsubscribe(h);
    });
    try {
      const { requestor } = await pair();
      const events: string[] = [];
      requestor.on('pdu-sent', (p) => events.push(`sent:${p.type}`));
      requestor.on('pdu-received', (p) => events.push(`received:${p.type}`));
      requestor.on('released', () => events.push('released'));
      await requestor.cEcho();
      await requestor.release();
      expect(events).toEqual(['sent:4', 'received:4', 'sent:5', 'received:6', 'released']);
      expect(seen).toEqual(
        expect.arrayContaining([
          'requested',
          'accepted',
          'transition:AE-2',
          'transition:AE-3',
          'pduSent:1',
          'pduReceived:2',
          'transition:AR-1',
          'released',
        ]),
      );
    } finally {
      for (const off of handlers) off();
    }
  });
});

describe('acceptor robustness', () => {
  it('rejects (no-reason) when a policy callback throws, and keeps an idle timer off while operations run', async () => {
    const transport = memory();
    const failures: unknown[] = [];
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, {
        policy: {
          ...policy,
          verifyUserIdentity: () => {
            throw new Error('directory down');
          },
        },
      }).catch((e: unknown) => failures.push(e));
    });
    cleanup.push(() => listener.close());
    const error = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
        userIdentity: {
          type: 1,
          positiveResponseRequested: false,
          primaryField: new Uint8Array([0x61]),
          secondaryField: new Uint8Array(0),
        },
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'DNET_ASSOCIATION_REJECTED',
      result: 1,
      source: 1,
      reason: 1,
    });
    expect(failures).toHaveLength(1);

    // An operation that outlasts the idle timeout is not cut off by it.
    const t2 = memory();
    const l2 = await t2.listen({ port: 0 }, (c) => {
      Association.accept(c, { policy, timeouts: { idleMs: 20 } }).then((a) => {
        a.handle('C-ECHO', (rq) => {
          setTimeout(() => rq.respond(respondTo(rq.message, { status: 0 })).catch(() => {}), 80);
        });
      });
    });
    cleanup.push(() => l2.close());
    const a = await Association.request({
      transport: t2,
      host: l2.host,
      port: l2.port,
      timeouts: { idleMs: 20 },
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      },
    });
    expect((await a.cEcho()).message.status).toBe(0);
    a.abort();
    await a.closed;
  });
});

describe('cancellation', () => {
  it('settles a cancelled C-STORE at once while its data set finishes, and the association goes on', async () => {
    const { requestor, acceptor } = await pair();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    acceptor.handle('C-STORE', async (rq) => {
      await rq.dataSet!.bytes();
      await rq.respond(respondTo(rq.message, { status: 0 }));
    });
    const controller = new AbortController();
    async function* slow() {
      // dimse sends full PDUs and looks one chunk ahead: two chunks above the peer's
      // maximum length (256 KiB) let the first PDU go before the gate.
      yield new Uint8Array(300_000);
      yield new Uint8Array(300_000);
      await gate;
      yield new Uint8Array(1000);
    }
    let sentFirst!: () => void;
    const first = new Promise<void>((resolve) => {
      sentFirst = resolve;
    });
    requestor.on('pdu-sent', (pdu) => {
      if (pdu.type === 4 && pdu.pdvs.some((p) => !p.command)) sentFirst();
    });
    const store = requestor.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: '1.2',
        priority: 0,
        hasDataSet: true,
      },
      slow(),
      { signal: controller.signal },
    );
    await first; // part of the data set is on the wire
    controller.abort();
    await expect(store).rejects.toMatchObject({ code: 'DNET_ASSOCIATION_CANCELLED' });
    release();
    expect((await requestor.cEcho()).message.status).toBe(0);
    expect(requestor.outstanding.invoked).toBe(0);
    await requestor.release();
  });

  it('does not send a request whose signal is already aborted', async () => {
    const { requestor } = await pair();
    const sent: number[] = [];
    requestor.on('pdu-sent', (pdu) => sent.push(pdu.type));
    await expect(requestor.cEcho({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'DNET_ASSOCIATION_CANCELLED',
    });
    expect(sent).toEqual([]);
    await requestor.release();
  });
});

describe('bounded', () => {
  it('aborts a peer that keeps more operations outstanding than maxOperations', async () => {
    const transport = memory();
    let acceptor!: Association;
    const listener = await transport.listen({ port: 0 }, (c) => {
      Association.accept(c, { policy, maxOperations: 2 }).then((a) => {
        acceptor = a;
        a.handle('C-ECHO', () => {
          // hold every request
        });
      });
    });
    cleanup.push(() => listener.close());
    const requestor = await Association.request({
      transport,
      host: listener.host,
      port: listener.port,
      proposal: {
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
        asyncOperationsWindow: { maxInvoked: 8, maxPerformed: 8 },
      },
    });
    const results = await Promise.allSettled([
      requestor.cEcho(),
      requestor.cEcho(),
      requestor.cEcho(),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({
      code: 'DNET_ASSOCIATION_ABORTED',
      source: 2,
    });
    await acceptor.closed;
    expect(acceptor.outstanding).toEqual({ invoked: 0, performing: 0 });
  });
});
