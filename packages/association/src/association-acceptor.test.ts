import { CommandField, respondTo } from '@dnet/dimse';
import { memory } from '@dnet/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { Association } from './association.js';
import {
  CT,
  cleanup,
  IMPLICIT,
  pair,
  policy,
  runCleanup,
  until,
  VERIFICATION,
} from './association.test-support.js';
import { AssociationRejectedError } from './errors.js';
import { listenForAssociations } from './listen-for-associations.js';

afterEach(runCleanup);

// The acceptor: listening, maximum PDU lengths, request handlers, robustness against its callbacks.
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
