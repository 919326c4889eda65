import { type CEchoRq, CommandField, respondTo } from '@dnet/dimse';
import { memory } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association } from './association.js';
import {
  CT,
  cleanup,
  EXPLICIT,
  FIND,
  IMPLICIT,
  pair,
  policy,
  runCleanup,
  until,
  VERIFICATION,
} from './association.test-support.js';
import { channels, type TransitionRecord } from './diagnostics.js';
import type { IncomingRequest } from './dimse-primitives.js';
import { AssociationAbortedError, AssociationRejectedError } from './errors.js';

afterEach(runCleanup);

// The association over the memory transport: negotiation, rejection, operations, release; its observers.
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

  it('sends a command set without a data set as one PDV with the command and last bits, or cut when the peer takes less', async () => {
    const sent: { pdvs: { command: boolean; last: boolean; data: Uint8Array }[] }[] = [];
    for (const maxPduLength of [0, 16384, 32]) {
      sent.length = 0;
      // maxPduLength is what the acceptor announces: the requestor cuts by it.
      const { requestor } = await pair({ policy: { ...policy, maxPduLength } });
      requestor.on('pdu-sent', (p) => {
        if (p.type === 4) sent.push(p as unknown as (typeof sent)[number]);
      });
      expect((await requestor.cEcho()).message.status).toBe(0);
      await requestor.release();
      const pdvs = sent.flatMap((p) => p.pdvs);
      expect(pdvs.every((v) => v.command)).toBe(true);
      expect(pdvs.map((v) => v.last)).toEqual([...pdvs.slice(1).map(() => false), true]);
      if (maxPduLength === 32) {
        // PS3.8 Annex D.1: no PDU longer than the peer's maximum, so the command set spans PDVs.
        expect(pdvs.length).toBeGreaterThan(1);
        expect(pdvs.every((v) => v.data.length + 6 <= 32)).toBe(true);
      } else expect(pdvs).toHaveLength(1);
    }
  });
});
