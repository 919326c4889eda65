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
  VERIFICATION,
} from './association.test-support.js';

afterEach(runCleanup);

// SCP/SCU roles, user identity and the N-services over an association.
describe('roles, user identity and the N-services', () => {
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
