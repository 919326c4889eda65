import diagnosticsChannel from 'node:diagnostics_channel';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { Status } from '@dnet/dimse';
import { memory } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import {
  instanceAvailability,
  mpps,
  queryRetrieve,
  retrieveContexts,
  storageCommitment,
} from './contexts.js';
import type { OperationRecord } from './diagnostics.js';
import { isDnetError, OperationFailedError } from './errors.js';
import { instanceAvailabilityService } from './instance-availability.js';
import { makeInstance } from './instances.test-support.js';
import { createMpps, MPPS_SOP_CLASS, MppsScp, updateMpps } from './mpps.js';
import { type NRequest, type NService, statusOfError } from './n-services.js';
import { Server, type ServerHandlers } from './server.js';
import { SopClass } from './sop-class.js';
import {
  CommitmentListener,
  type CommitmentReportOutcome,
  type CommitmentResult,
  CommitmentTimeoutError,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_PUSH_MODEL,
  storageCommitmentService,
} from './storage-commitment.js';

const PRINTER = '1.2.840.10008.5.1.1.16'; // Printer SOP Class (PS3.4 §H.4.11): any N-class will do
const TS = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

async function setup(handlers: ServerHandlers, transport = memory(), extra = {}) {
  const server = await Server.listen({
    transport,
    port: 0,
    aeTitle: 'SCP',
    handlers,
    ...extra,
  });
  const connect = (contexts: Parameters<typeof Client.connect>[0]['contexts']) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts,
    });
  return { server, connect };
}

const text = (v: string, vr = 'LO') => ({ vr, Value: [v] });

describe('generic DIMSE-N (PS3.7 §10.1)', () => {
  it('N-GET, N-SET, N-ACTION, N-CREATE, N-DELETE round trip with their fields and data sets', async () => {
    const seen: NRequest[] = [];
    const service: NService = {
      sopClasses: [PRINTER],
      nGet: (rq) => {
        seen.push(rq);
        return { dataSet: { '2110000A': text('PRINTER1') } };
      },
      nSet: (rq) => {
        seen.push(rq);
        return 0;
      },
      nAction: (rq) => {
        seen.push(rq);
        return { dataSet: { '00081195': text('1.2.3', 'UI') } };
      },
      nCreate: (rq) => {
        seen.push(rq);
        return { sopInstanceUid: rq.sopInstanceUid ?? '1.2.3.4.5' };
      },
      nDelete: (rq) => {
        seen.push(rq);
        return 0;
      },
    };
    const { server, connect } = await setup({ nServices: [service] });
    const client = await connect([{ abstractSyntax: PRINTER, transferSyntaxes: TS }]);
    const got = await client.nGet(PRINTER, '1.2.840.10008.5.1.1.17', {
      attributes: [0x2110000a, 0x00080070],
    });
    expect(got).toMatchObject({ status: 0, sopInstanceUid: '1.2.840.10008.5.1.1.17' });
    expect(got.dataSet?.['2110000A']?.Value).toEqual(['PRINTER1']);
    expect(seen[0]).toMatchObject({
      operation: 'N-GET',
      sopClassUid: PRINTER,
      sopInstanceUid: '1.2.840.10008.5.1.1.17',
      attributes: [0x2110000a, 0x00080070],
      dataSet: undefined,
    });
    await client.nSet(PRINTER, '1.2.9', { '21100030': text('X') });
    expect(seen[1]).toMatchObject({
      operation: 'N-SET',
      dataSet: { '21100030': { Value: ['X'] } },
    });
    const action = await client.nAction(PRINTER, '1.2.9', 7, { '00100010': text('A', 'PN') });
    expect(action.dataSet?.['00081195']?.Value).toEqual(['1.2.3']);
    expect(seen[2]).toMatchObject({ operation: 'N-ACTION', actionTypeId: 7 });
    // N-CREATE without an instance UID: the SCP chooses it (PS3.7 §10.1.5.1.2).
    const created = await client.nCreate(PRINTER, { '00100010': text('B', 'PN') });
    expect(created.sopInstanceUid).toBe('1.2.3.4.5');
    expect(seen[3]?.sopInstanceUid).toBeUndefined();
    const own = await client.nCreate(PRINTER, undefined, { sopInstanceUid: '1.2.77' });
    expect(own.sopInstanceUid).toBe('1.2.77');
    expect(seen[4]?.dataSet).toBeUndefined();
    await client.nDelete(PRINTER, '1.2.77');
    expect(seen[5]).toMatchObject({ operation: 'N-DELETE', sopInstanceUid: '1.2.77' });
    await client.release();
    await server.close();
  });

  it('answers 0211H without a handler, 0110H or the error status when a handler throws; failures throw OperationFailedError', async () => {
    const service: NService = {
      sopClasses: [PRINTER],
      nGet: () => {
        throw new Error('disk on fire');
      },
      nSet: () => {
        throw Object.assign(new Error('bad value'), {
          status: Status.INVALID_ATTRIBUTE_VALUE,
          offendingElement: '21100030',
        });
      },
    };
    const { server, connect } = await setup({ nServices: [service] });
    const client = await connect([{ abstractSyntax: PRINTER, transferSyntaxes: TS }]);
    const e1 = await client.nGet(PRINTER, '1.2').catch((e) => e);
    expect(e1).toBeInstanceOf(OperationFailedError);
    expect(e1).toMatchObject({ status: 0x0110, operation: 'N-GET', errorComment: 'disk on fire' });
    expect(isDnetError(e1)).toBe(true);
    const e2 = await client.nSet(PRINTER, '1.2', { '21100030': text('?') }).catch((e) => e);
    expect(e2).toMatchObject({ status: 0x0106, operation: 'N-SET' });
    const e3 = await client.nDelete(PRINTER, '1.2').catch((e) => e);
    expect(e3).toMatchObject({ status: 0x0211, operation: 'N-DELETE' });
    await client.release();
    await server.close();
  });

  it('answers 0118H no such SOP class for a class accepted by the policy but served by no service', async () => {
    const OTHER = '1.2.840.10008.5.1.1.15'; // Basic Annotation Box (retired): an N-class nobody serves
    const policy = Server.policyFor({
      aeTitle: 'SCP',
      handlers: { nServices: [{ sopClasses: [PRINTER], nGet: () => 0 }] },
    });
    const { server, connect } = await setup(
      { nServices: [{ sopClasses: [PRINTER], nGet: () => 0 }] },
      memory(),
      {
        policy: { contexts: [...policy.contexts, { abstractSyntax: OTHER, transferSyntaxes: TS }] },
      },
    );
    const client = await connect([
      { abstractSyntax: PRINTER, transferSyntaxes: TS },
      { abstractSyntax: OTHER, transferSyntaxes: TS },
    ]);
    expect((await client.nGet(PRINTER, '1.2')).status).toBe(0);
    await expect(client.nGet(OTHER, '1.2')).rejects.toMatchObject({ status: 0x0118 });
    await client.release();
    await server.close();
  });

  it('the SCP sends N-EVENT-REPORT on the same association; the SCU handler receives it', async () => {
    const { server, connect } = await setup({
      nServices: [
        {
          sopClasses: [PRINTER],
          nGet: async (_rq, ctx) => {
            const { nEventReportOver } = await import('./n-services.js');
            const r = await nEventReportOver(
              ctx.association,
              PRINTER,
              '1.2.840.10008.5.1.1.17',
              1,
              {
                '21100020': text('NORMAL', 'CS'),
              },
            );
            return { status: 0, dataSet: { '21100020': text(`report ${r.status}`, 'CS') } };
          },
        },
      ],
    });
    const client = await connect([{ abstractSyntax: PRINTER, transferSyntaxes: TS }]);
    const reports: { eventTypeId: number; status: unknown }[] = [];
    client.association.handle('N-EVENT-REPORT', (rq) => {
      reports.push({ eventTypeId: rq.message.eventTypeId, status: undefined });
      rq.dataSet?.discard();
      void rq.respond({
        commandField: 0x8100,
        messageIdBeingRespondedTo: rq.message.messageId,
        status: 0,
        hasDataSet: false,
      } as never);
    });
    const got = await client.nGet(PRINTER, '1.2.840.10008.5.1.1.17');
    expect(reports).toEqual([{ eventTypeId: 1, status: undefined }]);
    expect(got.dataSet?.['21100020']?.Value).toEqual(['report 0']);
    await client.release();
    await server.close();
  });

  it('publishes one operation record per N operation with its final status', async () => {
    const records: OperationRecord[] = [];
    const listener = (r: unknown) => records.push(r as OperationRecord);
    diagnosticsChannel.subscribe('dnet:services:operation', listener);
    try {
      const { server, connect } = await setup({
        nServices: [{ sopClasses: [PRINTER], nGet: () => Status.NO_SUCH_SOP_INSTANCE }],
      });
      const client = await connect([{ abstractSyntax: PRINTER, transferSyntaxes: TS }]);
      await expect(client.nGet(PRINTER, '9.9')).rejects.toMatchObject({ status: 0x0112 });
      await client.release();
      await server.close();
    } finally {
      diagnosticsChannel.unsubscribe('dnet:services:operation', listener);
    }
    const n = records.filter((r) => r.operation === 'N-GET');
    expect(n.map((r) => [r.role, r.status])).toEqual(
      expect.arrayContaining([
        ['scu', 0x0112],
        ['scp', 0x0112],
      ]),
    );
  });

  it('statusOfError reads status and offending element (8 hex digits or a number)', () => {
    expect(
      statusOfError(
        Object.assign(new Error('x'), { status: 0xa900, offendingElement: '00100010' }),
        0xc000,
      ),
    ).toEqual({
      status: 0xa900,
      errorComment: 'x',
      offendingElement: [0x00100010],
    });
    expect(statusOfError(new Error('y'), 0xc000)).toEqual({ status: 0xc000, errorComment: 'y' });
    expect(statusOfError({ status: 'nope', offendingElement: 'zz' }, 0x0110).status).toBe(0x0110);
    // Error Comment is LO: no backslash, control or non-ASCII characters (PS3.5 §6.2).
    expect(statusOfError(new Error('bad UID § 1\\2\n'), 0xc000).errorComment).toBe('bad UID 1/2');
  });
});

describe('C-FIND/C-MOVE handlers throwing an error with a status (PS3.4 §C.4.1.1.4)', () => {
  it('answers A900H with the Offending Element instead of C000H', async () => {
    const invalid = () =>
      Object.assign(new Error('Identifier does not match SOP class'), {
        status: 0xa900,
        offendingElement: '00100020',
      });
    const { server, connect } = await setup(
      {
        find: () => {
          throw invalid();
        },
        move: async () => {
          throw invalid();
        },
      },
      memory(),
      { aeTable: { X: { host: '127.0.0.1', port: 1 } } },
    );
    const client = await connect([queryRetrieve('study', { operations: ['find', 'move'] })]);
    const responses: { offendingElement?: number[] }[] = [];
    client.association.on('response', (r) => responses.push(r.message));
    const find = async () => {
      for await (const _ of client.find({ '00100020': text('X') }, { level: 'STUDY' })) {
        // nothing
      }
    };
    await expect(find()).rejects.toMatchObject({ status: 0xa900, operation: 'C-FIND' });
    await expect(
      client.move({ '0020000D': text('1.2', 'UI') }, { level: 'STUDY', destination: 'X' }),
    ).rejects.toMatchObject({ status: 0xa900, operation: 'C-MOVE' });
    expect(responses.map((r) => r.offendingElement)).toEqual([[0x00100020], [0x00100020]]);
    await client.release();
    await server.close();
  });
});

describe('operation records of C-GET (dnet-scp request 2)', () => {
  it('carry the final status and the completed/failed/warning counts, both roles', async () => {
    const records: OperationRecord[] = [];
    const listener = (r: unknown) => records.push(r as OperationRecord);
    diagnosticsChannel.subscribe('dnet:services:operation', listener);
    try {
      const instances = [1, 2, 3].map((i) =>
        makeInstance({ patient: 1, study: 1, series: 1, instance: i }),
      );
      const { server, connect } = await setup({ get: () => instances });
      const client = await connect(retrieveContexts('study', [SopClass.CT_IMAGE_STORAGE]));
      let n = 0;
      await client.get(
        { '0020000D': text('1.2', 'UI') },
        { level: 'STUDY', sink: () => (++n === 2 ? 0xb007 : 0) },
      );
      await client.release();
      await server.close();
    } finally {
      diagnosticsChannel.unsubscribe('dnet:services:operation', listener);
    }
    const get = records.filter((r) => r.operation === 'C-GET');
    expect(get.map((r) => [r.role, r.status, r.completed, r.failed, r.warning]).sort()).toEqual([
      ['scp', 0xb000, 2, 0, 1],
      ['scu', 0xb000, 2, 0, 1],
    ]);
  });
});

describe('Modality Performed Procedure Step (PS3.4 Annex F.7)', () => {
  const status = (s: string) => ({ '00400252': text(s, 'CS') });

  it('N-CREATE IN PROGRESS, N-SET, COMPLETED, then no more N-SET; every error status', async () => {
    const changes: string[] = [];
    const scp = new MppsScp({
      onChange: (c) => void changes.push(`${c.operation}:${c.sopInstanceUid}`),
    });
    const { server, connect } = await setup({ nServices: [scp.service] });
    const client = await connect([mpps()]);
    const a = client.association;
    // PS3.4 §F.7.2.1.2: created IN PROGRESS; the SCP picks the UID when none is sent.
    const created = await createMpps(a, {
      ...status('IN PROGRESS'),
      '00400253': text('PPS1', 'SH'),
    });
    const uid = created.sopInstanceUid!;
    expect(uid).toMatch(/^2\.25\.\d+$/);
    expect(scp.get(uid)?.['00400253']?.Value).toEqual(['PPS1']);
    // Duplicate instance: 0111H.
    await expect(
      createMpps(a, status('IN PROGRESS'), { sopInstanceUid: uid }),
    ).rejects.toMatchObject({ status: 0x0111, operation: 'N-CREATE' });
    // Created in another state: 0106H invalid attribute value.
    await expect(createMpps(a, status('COMPLETED'))).rejects.toMatchObject({ status: 0x0106 });
    // Without the status: 0120H missing attribute.
    await expect(createMpps(a, { '00400253': text('P', 'SH') })).rejects.toMatchObject({
      status: 0x0120,
    });
    // Unknown instance: 0112H no such object instance.
    await expect(updateMpps(a, '1.2.3.999', status('COMPLETED'))).rejects.toMatchObject({
      status: 0x0112,
      operation: 'N-SET',
    });
    // Bad status value: 0106H.
    await expect(updateMpps(a, uid, status('PAUSED'))).rejects.toMatchObject({ status: 0x0106 });
    await updateMpps(a, uid, { '00400254': text('desc') });
    await updateMpps(a, uid, status('COMPLETED'));
    expect(scp.get(uid)?.['00400252']?.Value).toEqual(['COMPLETED']);
    expect(scp.get(uid)?.['00400254']?.Value).toEqual(['desc']);
    // PS3.4 §F.7.2.2.2: no N-SET after COMPLETED: 0110H processing failure.
    const e = await updateMpps(a, uid, status('IN PROGRESS')).catch((x) => x);
    expect(e).toMatchObject({ status: 0x0110 });
    expect(e.errorComment).toMatch(/no longer be updated/);
    // DISCONTINUED is final too.
    const second = await createMpps(a, status('IN PROGRESS'), { sopInstanceUid: '1.2.5' });
    expect(second.sopInstanceUid).toBe('1.2.5');
    await updateMpps(a, '1.2.5', status('DISCONTINUED'));
    await expect(updateMpps(a, '1.2.5', { '00400254': text('x') })).rejects.toMatchObject({
      status: 0x0110,
    });
    expect(changes).toEqual([
      `create:${uid}`,
      `set:${uid}`,
      `set:${uid}`,
      'create:1.2.5',
      'set:1.2.5',
    ]);
    await client.release();
    await server.close();
  });

  it('an MPPS N-DELETE is an unrecognized operation (0211H)', async () => {
    const { server, connect } = await setup({ nServices: [new MppsScp().service] });
    const client = await connect([mpps()]);
    await expect(client.nDelete(MPPS_SOP_CLASS, '1.2')).rejects.toMatchObject({ status: 0x0211 });
    await client.release();
    await server.close();
  });
});

describe('Instance Availability Notification (PS3.4 Annex R)', () => {
  it('N-CREATE reaches the handler; a notification without Study Instance UID is refused (0120H)', async () => {
    const got: string[] = [];
    const { server, connect } = await setup({
      nServices: [
        instanceAvailabilityService((n) => {
          got.push(`${n.sopInstanceUid} ${n.studyInstanceUid}`);
          return 0;
        }),
      ],
    });
    const client = await connect([instanceAvailability()]);
    const { notifyInstanceAvailability } = await import('./instance-availability.js');
    await notifyInstanceAvailability(
      client.association,
      { '0020000D': text('1.2.3', 'UI'), '00081115': { vr: 'SQ', Value: [] } },
      { sopInstanceUid: '1.2.3.100' },
    );
    expect(got).toEqual(['1.2.3.100 1.2.3']);
    await expect(
      notifyInstanceAvailability(
        client.association,
        { '00100010': text('X', 'PN') },
        {
          sopInstanceUid: '1.2.3.101',
        },
      ),
    ).rejects.toMatchObject({ status: 0x0120 });
    await client.release();
    await server.close();
  });
});

describe('Storage Commitment Push Model (PS3.4 Annex J)', () => {
  const refs = [
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.1' },
    { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.2' },
  ];
  const held = new Set(['1.2.3.1']);
  const decide = (
    rq: { references: { sopClassUid: string; sopInstanceUid: string }[] },
    reportOn?: CommitmentResult['reportOn'],
  ): CommitmentResult => ({
    committed: rq.references.filter((r) => held.has(r.sopInstanceUid)),
    failed: rq.references
      .filter((r) => !held.has(r.sopInstanceUid))
      .map((r) => ({ ...r, reason: 0x0112 })),
    retrieveAeTitle: 'SCP',
    ...(reportOn && { reportOn }),
  });

  it('report on the same association: committed and failed references with the reason', async () => {
    const { server, connect } = await setup({
      storageCommitment: (rq, ctx) => {
        expect(ctx.callingAeTitle).toBe('SCU');
        return decide(rq);
      },
    });
    const client = await connect([storageCommitment()]);
    const report = await client.commit(refs, { transactionUid: '1.2.99.1', timeoutMs: 10_000 });
    expect(report).toEqual({
      transactionUid: '1.2.99.1',
      eventTypeId: 2,
      committed: [refs[0]],
      failed: [{ ...refs[1], reason: 0x0112 }],
      retrieveAeTitle: 'SCP',
      sameAssociation: true,
    });
    // All held: event type 1.
    const ok = await client.commit([refs[0]!], { timeoutMs: 10_000 });
    expect(ok).toMatchObject({ eventTypeId: 1, failed: [], committed: [refs[0]] });
    await client.release();
    await server.close();
  });

  it('report on a new association over TCP, the SCP taking the SCP role (PS3.7 Annex D.3.3.4)', async () => {
    const transport = tcp();
    const listener = new CommitmentListener();
    const scu = await Server.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'SCU',
      handlers: { nServices: [listener.service] },
    });
    const seenRoles: boolean[] = [];
    scu.on('association', (a) =>
      seenRoles.push(
        a.info.contexts.some(
          (c) => c.abstractSyntax === STORAGE_COMMITMENT_PUSH_MODEL && c.requestorScp,
        ),
      ),
    );
    const { server, connect } = await setup(
      { storageCommitment: (rq) => decide(rq, 'new-association') },
      transport,
      { host: '127.0.0.1', aeTable: { SCU: { host: '127.0.0.1', port: scu.port } } },
    );
    const client = await connect([storageCommitment()]);
    const report = await client.commit(refs, { listener, timeoutMs: 10_000 });
    expect(report).toMatchObject({
      eventTypeId: 2,
      committed: [refs[0]],
      failed: [{ ...refs[1], reason: 0x0112 }],
      sameAssociation: false,
    });
    expect(seenRoles).toEqual([true]);
    await client.release();
    await server.close();
    await scu.close();
  });

  it('a requestor that releases after the N-ACTION-RSP gets its report on a new association', async () => {
    const transport = memory();
    const listener = new CommitmentListener();
    const scu = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCU',
      handlers: { nServices: [listener.service] },
    });
    const { server, connect } = await setup(
      {
        // Decides only once the request's association is over: the report cannot go on it.
        storageCommitment: async (rq, ctx) => {
          await ctx.association.closed;
          return decide(rq);
        },
      },
      transport,
      { aeTable: { SCU: { host: '127.0.0.1', port: scu.port } } },
    );
    const client = await connect([storageCommitment()]);
    const waiting = listener.wait('1.2.99.7');
    await client.nAction(STORAGE_COMMITMENT_PUSH_MODEL, STORAGE_COMMITMENT_INSTANCE, 1, {
      '00081195': text('1.2.99.7', 'UI'),
      '00081199': {
        vr: 'SQ',
        Value: refs.map((r) => ({
          '00081150': text(r.sopClassUid, 'UI'),
          '00081155': text(r.sopInstanceUid, 'UI'),
        })),
      },
    });
    await client.release();
    const report = await waiting;
    expect(report).toMatchObject({
      transactionUid: '1.2.99.7',
      eventTypeId: 2,
      committed: [refs[0]],
      sameAssociation: false,
    });
    await server.close();
    await scu.close();
  });

  it('an N-ACTION with a bad action type, instance or data set is refused', async () => {
    const { server, connect } = await setup({ storageCommitment: (rq) => decide(rq) });
    const client = await connect([storageCommitment()]);
    await expect(
      client.nAction(STORAGE_COMMITMENT_PUSH_MODEL, STORAGE_COMMITMENT_INSTANCE, 5, {}),
    ).rejects.toMatchObject({ status: 0x0123 });
    await expect(
      client.nAction(STORAGE_COMMITMENT_PUSH_MODEL, '1.2.3', 1, {}),
    ).rejects.toMatchObject({ status: 0x0112 });
    await expect(
      client.nAction(STORAGE_COMMITMENT_PUSH_MODEL, STORAGE_COMMITMENT_INSTANCE, 1, {
        '00081195': text('1.2', 'UI'),
      } as DicomJsonDataSet),
    ).rejects.toMatchObject({ status: 0x0121 });
    await client.release();
    await server.close();
  });

  it('refuses more references than maxReferences (0110H, no report); onReport says where each report went', async () => {
    const outcomes: CommitmentReportOutcome[] = [];
    const service = storageCommitmentService({
      handler: (rq) => decide(rq),
      aeTitle: 'SCP',
      maxReferences: 1,
      onReport: (outcome) => outcomes.push(outcome),
    });
    const { server, connect } = await setup({ nServices: [service] });
    const client = await connect([storageCommitment()]);
    await expect(client.commit(refs, { timeoutMs: 10_000 })).rejects.toMatchObject({
      status: 0x0110,
    });
    const report = await client.commit([refs[0]!], {
      transactionUid: '1.2.99.7',
      timeoutMs: 10_000,
    });
    expect(report).toMatchObject({ eventTypeId: 1, committed: [refs[0]] });
    // onReport runs once the report's N-EVENT-REPORT-RSP is in: bounded wait.
    for (let i = 0; i < 200 && outcomes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      via: 'same-association',
      request: { transactionUid: '1.2.99.7', references: [refs[0]] },
      result: { failed: [] },
    });
    expect(outcomes[0]?.error).toBeUndefined();
    await client.release();
    await server.close();
  });

  it('a report that never comes ends in CommitmentTimeoutError', async () => {
    const { server, connect } = await setup({
      storageCommitment: (rq) => decide(rq, 'new-association'), // no aeTable: no report
    });
    const client = await connect([storageCommitment()]);
    const e = await client.commit(refs, { timeoutMs: 200 }).catch((x) => x);
    expect(e).toBeInstanceOf(CommitmentTimeoutError);
    expect(e.code).toBe('DNET_SERVICES_COMMITMENT_TIMEOUT');
    await client.release();
    await server.close();
  });
});
