import diagnosticsChannel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { AssociationRejectedError } from '@dnet/association';
import { openPart10File } from '@dnet/dataset';
import { type Connection, memory, type Transport } from '@dnet/transport';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, retrieveContexts, storage, verification } from './contexts.js';
import type { OperationRecord } from './diagnostics.js';
import {
  InvalidArgumentError,
  isDnetError,
  OperationFailedError,
  SubAssociationError,
} from './errors.js';
import { bytesOf, hierarchy, makeInstance, tempDir } from './instances.test-support.js';
import { storeToFolder } from './received-instance.js';
import { type RequestContext, Server } from './server.js';
import { archiveWith, CT, collect, deferred, ELE, setup } from './server.test-support.js';
import { SopClass } from './sop-class.js';

// The Server as a whole: verification, lifecycle, limits, diagnostics, errors.
describe('Verification (PS3.4 Annex A)', () => {
  it('answers C-ECHO with the handler status, success by default', async () => {
    const { server, connect } = await setup({});
    const client = await connect([verification()]);
    expect(await client.echo()).toBe(0);
    await client.release();
    await server.close();
  });

  it('throws OperationFailedError with the status when the handler fails it', async () => {
    const { server, connect } = await setup({ echo: () => 0x0110 });
    const client = await connect([verification()]);
    const error = await client.echo().catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0x0110);
    expect(isDnetError(error)).toBe(true);
    await client.release();
    await server.close();
  });

  it('rejects a wrong called AE title with result, source and reason (PS3.8 Table 9-21)', async () => {
    const { transport, server } = await setup({});
    const error = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'OTHER',
      contexts: [verification()],
    }).catch((e) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error).toMatchObject({ result: 1, source: 1, reason: 7 });
    await server.close();
  });
});

describe('Server lifecycle', () => {
  it('rejects associations above maxAssociations (transient, local limit exceeded)', async () => {
    const { server, connect } = await setup({}, { maxAssociations: 1 });
    const first = await connect([verification()]);
    const error = await connect([verification()]).catch((e) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error).toMatchObject({ result: 2, source: 3, reason: 2 });
    await first.release();
    await server.close();
  });

  it('close lets an in-flight operation finish, then aborts what is left', async () => {
    let release!: () => void;
    const started = deferred();
    const { server, connect } = await setup({
      store: async (i) => {
        await bytesOf(i);
        started.resolve();
        await new Promise<void>((r) => {
          release = r;
        });
        return 0;
      },
    });
    const client = await connect([storage(CT)]);
    const stored = client.store(makeInstance({ patient: 1, study: 1, series: 1, instance: 1 }));
    await started.promise;
    const closing = server.close({ timeoutMs: 5_000 });
    release();
    expect((await stored).status).toBe(0);
    await closing;
    await client.closed;
    expect(client.association.state).toBe('Sta1');
  });

  it('close aborts an operation that overruns the deadline', async () => {
    const started = deferred();
    const { server, connect } = await setup({
      store: async (i, _ctx, signal) => {
        await bytesOf(i);
        started.resolve();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
        return 0;
      },
    });
    const client = await connect([storage(CT)]);
    const stored = client
      .store(makeInstance({ patient: 1, study: 1, series: 1, instance: 1 }))
      .catch((e) => e);
    await started.promise;
    await server.close({ timeoutMs: 50 });
    expect(isDnetError(await stored)).toBe(true);
  });
});

describe('More of the API', () => {
  it('storeToFolder writes Part 10 files the client can read back', async () => {
    await using dir = await tempDir();
    const { server, connect } = await setup({ store: storeToFolder(dir.path) });
    const client = await connect([storage(CT)]);
    const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: 7 });
    await client.store(ds);
    await client.release();
    const file = await openPart10File(join(dir.path, `${ds.string('SOPInstanceUID')}.dcm`));
    expect(file.fileMetaInformation.sourceApplicationEntityTitle?.trim()).toBe('SCU');
    expect((await file.readDataSet()).string('PatientID')).toBe('PID1');
    await server.close();
  });

  it('passes the user identity and peer to handlers (PS3.7 Annex D.3.3.7)', async () => {
    const seen: RequestContext[] = [];
    const { server, connect } = await setup({ echo: (ctx) => void seen.push(ctx) });
    const client = await connect([verification()], {
      userIdentity: {
        type: 2,
        positiveResponseRequested: false,
        primaryField: new TextEncoder().encode('alice'),
        secondaryField: new TextEncoder().encode('secret'),
      },
    });
    await client.echo();
    await client.release();
    expect(new TextDecoder().decode(seen[0]!.userIdentity!.primaryField)).toBe('alice');
    expect(seen[0]).toMatchObject({
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      encrypted: false,
    });
    await server.close();
  });

  it('finds on the Patient/Study Only model and on any SOP class (Modality Worklist)', async () => {
    const archive = await archiveWith(hierarchy(1, 2, 1, 1));
    const { server, connect } = await setup({
      find: (rq) =>
        rq.sopClassUid === SopClass.MODALITY_WORKLIST_FIND
          ? [{ '00400100': { vr: 'SQ', Value: [{ '00080060': { vr: 'CS', Value: ['CT'] } }] } }]
          : archive.find(rq.identifier),
    });
    const client = await connect([
      queryRetrieve('patient-study-only', { operations: ['find'] }),
      { abstractSyntax: SopClass.MODALITY_WORKLIST_FIND, transferSyntaxes: [ELE] },
    ]);
    const studies = await collect(
      client.find(
        { '00100020': { vr: 'LO', Value: ['PID1'] }, '0020000D': { vr: 'UI' } },
        { model: 'patient-study-only', level: 'STUDY' },
      ),
    );
    expect(studies).toHaveLength(2);
    const items = await collect(
      client.find(
        { '00400100': { vr: 'SQ', Value: [{ '00080060': { vr: 'CS', Value: ['CT'] } }] } },
        { sopClassUid: SopClass.MODALITY_WORKLIST_FIND },
      ),
    );
    expect(items[0]!['00400100']?.Value).toHaveLength(1);
    await client.release();
    await server.close();
  });

  it('C-GET cancelled midway ends with FE00H', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 30));
    const { server, connect } = await setup(archive.handlers());
    const client = await connect(retrieveContexts('study', [CT]));
    const controller = new AbortController();
    let n = 0;
    const result = await client.get(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      {
        level: 'PATIENT',
        signal: controller.signal,
        sink: async (i) => {
          await bytesOf(i);
          if (++n === 4) controller.abort();
        },
      },
    );
    expect(result).toMatchObject({ status: 0xfe00, cancelled: true });
    expect(result.completed).toBeGreaterThanOrEqual(3);
    expect(result.completed).toBeLessThan(30);
    await client.release();
    await server.close();
  });

  it('refuses more than 128 presentation contexts before connecting', async () => {
    const many = Array.from({ length: 130 }, (_, i) => `1.2.840.10008.5.1.4.1.1.${i + 1000}`);
    expect(() => retrieveContexts('study', many)).toThrow(InvalidArgumentError);
    const { server, connect } = await setup({});
    await expect(connect([storage(many)])).rejects.toThrow(/at most 128/);
    await server.close();
  });
});

describe('Limits', () => {
  it('refuses an identifier above 1 MiB with A900H and keeps the association', async () => {
    let called = false;
    const { server, connect } = await setup({
      find: () => {
        called = true;
        return [];
      },
    });
    const client = await connect([
      verification(),
      queryRetrieve('study', { operations: ['find'] }),
    ]);
    const big = Buffer.alloc(2 * 1024 * 1024, 1).toString('base64');
    const error = await collect(
      client.find(
        { '00100020': { vr: 'LO' }, '00431010': { vr: 'OB', InlineBinary: big } },
        { level: 'PATIENT' },
      ),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0xa900);
    expect(called).toBe(false);
    expect(await client.echo()).toBe(0);
    await client.release();
    await server.close();
  });

  it('a move destination that does not answer fails every sub-operation (A702H)', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 2));
    const transport = memory();
    const source = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: archive.handlers(),
      aeTable: { GONE: { host: '127.0.0.1', port: 1 } },
    });
    const errors: unknown[] = [];
    source.on('error', (e) => errors.push(e));
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: source.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [queryRetrieve('study')],
    });
    const error = await client
      .move(
        { '00100020': { vr: 'LO', Value: ['PID1'] } },
        { level: 'PATIENT', destination: 'GONE' },
      )
      .catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0xa702);
    expect(
      (error.result as { failed: number; failedSopInstanceUids: string[] }).failedSopInstanceUids,
    ).toHaveLength(2);
    // Why: the destination and the connect error, for the server's log.
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SubAssociationError);
    expect(errors[0]).toMatchObject({
      code: 'DNET_SERVICES_SUB_ASSOCIATION_FAILED',
      destination: 'GONE',
      host: '127.0.0.1',
      port: 1,
      phase: 'connect',
    });
    expect((errors[0] as Error).cause).toBeInstanceOf(Error);
    expect((errors[0] as Error).message).toMatch(
      /^C-MOVE destination GONE \(127\.0\.0\.1:1\): cannot open the association: ./,
    );
    await client.release();
    await source.close();
  });
});

describe('Diagnostics channels', () => {
  it('publishes one record per operation on dnet:services:operation, both roles', async () => {
    const records: OperationRecord[] = [];
    const listener = (r: unknown) => records.push(r as OperationRecord);
    diagnosticsChannel.subscribe('dnet:services:operation', listener);
    try {
      const { server, connect } = await setup({ store: () => 0xb007 });
      const client = await connect([verification(), storage(CT)]);
      await client.echo();
      const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: 1 });
      await client.store(ds);
      await client.release();
      await server.close();
      const store = records.filter((r) => r.operation === 'C-STORE');
      expect(store.map((r) => r.role).sort()).toEqual(['scp', 'scu']);
      expect(store.every((r) => r.status === 0xb007)).toBe(true);
      expect(store.find((r) => r.role === 'scp')).toMatchObject({
        sopInstanceUid: ds.string('SOPInstanceUID'),
        peerAeTitle: 'SCU',
      });
      expect(store.find((r) => r.role === 'scu')?.peerAeTitle).toBe('SCP');
      expect(records.find((r) => r.operation === 'C-ECHO')).toMatchObject({
        role: 'scp',
        status: 0,
      });
    } finally {
      diagnosticsChannel.unsubscribe('dnet:services:operation', listener);
    }
  });
});

describe('Server errors', () => {
  it('an answer to an association whose connection dropped mid data set is not reported as an error', async () => {
    const errors: Error[] = [];
    const inner = memory();
    const connections: Connection[] = [];
    // A transport that lets the test cut the client's connection (A-P-ABORT at the server).
    const transport: Transport = {
      name: 'memory',
      listen: (o, on) => inner.listen(o, on),
      connect: async (o) => {
        const c = await inner.connect(o);
        connections.push(c);
        return c;
      },
    };
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: { store: async (i) => void (await bytesOf(i)) },
    });
    const failed = deferred();
    server.on('error', (e) => errors.push(e));
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [storage(CT)],
    });
    const sent = deferred();
    const stalled = client
      .store({
        sopClassUid: CT,
        sopInstanceUid: '1.2.3.4',
        transferSyntaxUid: ELE,
        dataSet: async function* () {
          yield new Uint8Array(64);
          sent.resolve();
          await failed.promise;
        },
      })
      .catch((e) => e);
    await sent.promise;
    await new Promise((r) => setTimeout(r, 20));
    connections[0]!.abort();
    failed.resolve();
    expect(isDnetError(await stalled)).toBe(true);
    await server.close({ timeoutMs: 1000 });
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
