import { CommandField, respondTo } from '@dnet/dimse';
import { memory } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association } from './association.js';
import {
  CT,
  cleanup,
  EXPLICIT,
  IMPLICIT,
  pair,
  policy,
  runCleanup,
  VERIFICATION,
} from './association.test-support.js';
import { AssociationAbortedError } from './errors.js';

afterEach(runCleanup);

// The association's timers (DIMSE response, idle, A-ASSOCIATE-AC wait), backpressure,
// cancellation and its bounds.
describe('timers and backpressure', () => {
  it('aborts with a TimeoutError when the DIMSE response does not come', async () => {
    const { requestor, acceptor } = await pair({
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      window: null,
      request: { timeouts: { dimseMs: 50 } },
    });
    acceptor.handle('C-ECHO', () => {}); // never answers
    const error = await requestor.cEcho().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'dimse' });
    await requestor.closed;
    await acceptor.closed;
    expect(acceptor.state).toBe('Sta1');
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
    const { requestor, acceptor } = await pair({
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT] }],
      window: null,
      maxPduLength: 16384,
      accept: { dataSetHighWaterMark: 64 * 1024 },
    });
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
    const { requestor, acceptor } = await pair({
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT] }],
      window: null,
      maxPduLength: 16384,
      accept: { dataSetHighWaterMark: 16 * 1024, timeouts: { idleMs: 60 } },
    });
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
    const { requestor, acceptor } = await pair({
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] }],
      accept: { maxOperations: 2 },
    });
    acceptor.handle('C-ECHO', () => {
      // hold every request
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
