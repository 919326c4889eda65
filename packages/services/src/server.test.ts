import { createHash } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AssociationRejectedError } from '@dnet/association';
import {
  decodeDataSet,
  encodeDataSet,
  openPart10File,
  readPart10Header,
  TransferSyntax,
} from '@dnet/dataset';
import { type Connection, memory, type Transport } from '@dnet/transport';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, retrieveContexts, storage, verification } from './contexts.js';
import type { OperationRecord } from './diagnostics.js';
import {
  InvalidArgumentError,
  isDnetError,
  NoPresentationContextError,
  OperationFailedError,
  SubAssociationError,
} from './errors.js';
import {
  bytesOf,
  hierarchy,
  makeInstance,
  tempDir,
  uidsOf,
  writeInstances,
} from './instances.test-support.js';
import { MemoryArchive } from './memory-archive.js';
import { type ReceivedInstance, storeToFolder } from './received-instance.js';
import { type RequestContext, Server, type ServerHandlers } from './server.js';
import { SopClass } from './sop-class.js';

const CT = SopClass.CT_IMAGE_STORAGE;
const ELE = TransferSyntax.ExplicitVRLittleEndian;
const ILE = TransferSyntax.ImplicitVRLittleEndian;

async function setup(
  handlers: ServerHandlers,
  extra: Partial<Parameters<typeof Server.listen>[0]> = {},
) {
  const transport = memory();
  const server = await Server.listen({ transport, port: 0, aeTitle: 'SCP', handlers, ...extra });
  const connect = (contexts: Parameters<typeof Client.connect>[0]['contexts'], more = {}) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts,
      ...more,
    });
  return { transport, server, connect };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

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

describe('Storage (PS3.4 Annex B)', () => {
  it('stores a DataSet, a file and a Part 10 stream; the handler sees the bytes and the instance', async () => {
    const received: { instance: ReceivedInstance; bytes: Uint8Array; calling: string }[] = [];
    const { server, connect } = await setup({
      store: async (instance, ctx) => {
        received.push({ instance, bytes: await bytesOf(instance), calling: ctx.callingAeTitle });
        return 0;
      },
    });
    await using dir = await tempDir();
    const [file] = await writeInstances(dir.path, [
      { patient: 1, study: 1, series: 1, instance: 2 },
    ]);
    const client = await connect([storage(CT, [ELE])]);
    const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: 1 });
    const r1 = await client.store(ds);
    expect(r1).toMatchObject({ status: 0, sopClassUid: CT, transferSyntaxUid: ELE });
    await client.store(file!);
    await client.store(createReadStream(file!));
    await client.release();
    expect(received).toHaveLength(3);
    expect(received[0]!.bytes).toEqual(encodeDataSet(ds, ELE));
    const fileBytes = await readFile(file!);
    const dataSet = fileBytes.subarray(readPart10Header(fileBytes).dataSetOffset);
    expect(Buffer.from(received[1]!.bytes).equals(dataSet)).toBe(true);
    expect(Buffer.from(received[2]!.bytes).equals(dataSet)).toBe(true);
    expect(received[1]!.instance.sopInstanceUid).toBe(
      uidsOf({ patient: 1, study: 1, series: 1, instance: 2 }).instance,
    );
    expect(received[1]!.calling).toBe('SCU');
    await server.close();
  });

  it('converts between uncompressed syntaxes when the file syntax was not accepted', async () => {
    let got: { ts: string; bytes: Uint8Array } | undefined;
    const { server, connect } = await setup(
      {
        store: async (i) => {
          got = { ts: i.transferSyntaxUid, bytes: await bytesOf(i) };
        },
      },
      { storageTransferSyntaxes: [ILE] },
    );
    await using dir = await tempDir();
    const [file] = await writeInstances(
      dir.path,
      [{ patient: 1, study: 1, series: 1, instance: 1 }],
      ELE,
    );
    const client = await connect([storage(CT, [ELE, ILE])]);
    const r = await client.store(file!);
    expect(r.transferSyntaxUid).toBe(ILE);
    expect(got!.ts).toBe(ILE);
    const original = await (await openPart10File(file!)).readDataSet();
    expect(decodeDataSet(got!.bytes, ILE).string('SOPInstanceUID')).toBe(
      original.string('SOPInstanceUID'),
    );
    expect(
      Buffer.from(decodeDataSet(got!.bytes, ILE).bytes('PixelData')!).equals(
        original.bytes('PixelData')!,
      ),
    ).toBe(true);
    await client.release();
    await server.close();
  });

  it('returns warnings and throws failures with the status', async () => {
    let n = 0;
    const { server, connect } = await setup({
      store: async (i) => {
        await bytesOf(i);
        n++;
        return n === 1 ? 0xb007 : { status: 0xa700, errorComment: 'disk full' };
      },
    });
    const client = await connect([storage(CT)]);
    const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: 1 });
    expect((await client.store(ds)).status).toBe(0xb007);
    const error = await client.store(ds).catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error).toMatchObject({
      status: 0xa700,
      errorComment: 'disk full',
      operation: 'C-STORE',
    });
    await client.release();
    await server.close();
  });

  it('fails with NoPresentationContextError for a SOP class not negotiated', async () => {
    const { server, connect } = await setup({ store: () => 0 });
    const client = await connect([storage(SopClass.MR_IMAGE_STORAGE)]);
    const error = await client
      .store(makeInstance({ patient: 1, study: 1, series: 1, instance: 1 }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(NoPresentationContextError);
    expect(error.code).toBe('DNET_ASSOCIATION_NO_PRESENTATION_CONTEXT');
    await client.release();
    await server.close();
  });

  it('storeMany keeps several operations outstanding within the window and reports progress', async () => {
    let active = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const { server, connect } = await setup({
      store: async (i) => {
        active++;
        peak = Math.max(peak, active);
        await bytesOf(i);
        // Hold each store until four are outstanding (or the batch's tail).
        await new Promise<void>((resolve) => {
          gates.push(resolve);
          if (gates.length >= 4 || peak >= 4) for (const g of gates.splice(0)) g();
        });
        active--;
        return 0;
      },
    });
    const client = await connect([storage(CT)], { maxOperations: 4 });
    expect(client.association.info.asyncOperationsWindow).toEqual({
      maxInvoked: 4,
      maxPerformed: 1,
    });
    const specs = hierarchy(1, 1, 1, 12);
    const progress: number[] = [];
    const result = await client.storeMany(specs.map(makeInstance), {
      onProgress: (p) => progress.push(p.done),
    });
    expect(result).toMatchObject({ stored: 12, failed: 0 });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(peak).toBe(4);
    await client.release();
    await server.close();
  });
});

async function archiveWith(specs = hierarchy(2, 2, 2, 2)) {
  const archive = new MemoryArchive();
  for (const s of specs) await archive.add(makeInstance(s));
  return archive;
}

describe('Query (PS3.4 §C.4.1)', () => {
  it('finds at every level of the Study Root and Patient Root models', async () => {
    const archive = await archiveWith();
    const { server, connect } = await setup(archive.handlers());
    const client = await connect([queryRetrieve('study'), queryRetrieve('patient')]);
    const patients = await collect(
      client.find(
        { '00100020': { vr: 'LO' }, '00201200': { vr: 'IS' } },
        { model: 'patient', level: 'PATIENT' },
      ),
    );
    expect(patients.map((p) => p['00100020']?.Value?.[0]).sort()).toEqual(['PID1', 'PID2']);
    expect(patients[0]!['00201200']?.Value).toEqual([2]);
    const studies = await collect(
      client.find(
        {
          '00100010': { vr: 'PN', Value: [{ Alphabetic: 'doe^patient1' }] },
          '0020000D': { vr: 'UI' },
        },
        { level: 'STUDY' },
      ),
    );
    expect(studies).toHaveLength(2);
    expect(studies[0]!['00080052']?.Value).toEqual(['STUDY']);
    const study = uidsOf({ patient: 1, study: 1, series: 1, instance: 1 }).study;
    const series = await collect(
      client.find(
        {
          '0020000D': { vr: 'UI', Value: [study] },
          '0020000E': { vr: 'UI' },
          '00080060': { vr: 'CS', Value: ['MR'] },
        },
        { level: 'SERIES' },
      ),
    );
    expect(series).toHaveLength(1);
    expect(series[0]!['00080060']?.Value).toEqual(['MR']);
    const images = await collect(
      client.find(
        { '0020000D': { vr: 'UI', Value: [study] }, '00080018': { vr: 'UI' } },
        { level: 'IMAGE', as: 'dataset' },
      ),
    );
    expect(images).toHaveLength(4);
    expect(images.every((d) => d.string('SOPInstanceUID')?.startsWith(study))).toBe(true);
    await client.release();
    await server.close();
  });

  it('cancels: aborting the signal sends C-CANCEL and ends the iteration cleanly', async () => {
    let sent = 0;
    let cancelled = false;
    const { server, connect } = await setup({
      find: async function* (_rq, _ctx, signal) {
        for (let i = 0; i < 10_000; i++) {
          if (signal.aborted) {
            cancelled = true;
            return;
          }
          sent++;
          yield { '00100020': { vr: 'LO', Value: [`P${i}`] } };
          await new Promise((r) => setImmediate(r));
        }
      },
    });
    const client = await connect([queryRetrieve('study')]);
    const controller = new AbortController();
    const got: unknown[] = [];
    for await (const m of client.find(
      { '00100020': { vr: 'LO' } },
      { level: 'PATIENT', signal: controller.signal },
    )) {
      got.push(m);
      if (got.length === 5) controller.abort();
    }
    expect(got).toHaveLength(5);
    expect(cancelled).toBe(true);
    expect(sent).toBeLessThan(10_000);
    // The association is still usable after the cancel.
    expect(
      await collect(
        client.find(
          { '00100020': { vr: 'LO' } },
          { level: 'PATIENT', signal: AbortSignal.abort() },
        ),
      ),
    ).toEqual([]);
    await client.release();
    await server.close();
  });

  it('leaving the loop early cancels too, and a failing handler gives a failure status', async () => {
    const { server, connect } = await setup({
      find: async function* (rq) {
        if (rq.identifier['00100020']?.Value?.[0] === 'FAIL') throw new Error('no index');
        for (let i = 0; i < 1000; i++) yield { '00100020': { vr: 'LO', Value: [`P${i}`] } };
      },
    });
    const client = await connect([queryRetrieve('study')]);
    for await (const _ of client.find({ '00100020': { vr: 'LO' } }, { level: 'PATIENT' })) break;
    const error = await collect(
      client.find({ '00100020': { vr: 'LO', Value: ['FAIL'] } }, { level: 'PATIENT' }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0xc000);
    await client.release();
    await server.close();
  });
});

describe('Retrieve (PS3.4 §C.4.2, §C.4.3)', () => {
  it('C-MOVE sends the study to the destination from the AE table, with progress counts', async () => {
    const archive = await archiveWith();
    const transport = memory();
    const dest = new MemoryArchive();
    const destination = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'DEST',
      handlers: { store: (i) => dest.store(i) },
    });
    const source = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: archive.handlers(),
      aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
    });
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: source.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [queryRetrieve('study')],
    });
    const study = uidsOf({ patient: 2, study: 1, series: 1, instance: 1 }).study;
    const progress: number[] = [];
    const result = await client.move(
      { '0020000D': { vr: 'UI', Value: [study] } },
      {
        level: 'STUDY',
        destination: 'DEST',
        onProgress: (p) => progress.push(p.remaining!),
      },
    );
    expect(result).toMatchObject({
      status: 0,
      completed: 4,
      failed: 0,
      warning: 0,
      cancelled: false,
    });
    expect(progress).toEqual([3, 2, 1]);
    expect([...dest.instances.keys()].sort()).toEqual(
      archive
        .retrieve({ '0020000D': { vr: 'UI', Value: [study] } })
        .map((i) => i.sopInstanceUid)
        .sort(),
    );
    for (const [uid, i] of dest.instances)
      expect(i.dataSet).toEqual(archive.instances.get(uid)!.dataSet);
    const unknown = await client
      .move({ '0020000D': { vr: 'UI', Value: [study] } }, { level: 'STUDY', destination: 'NOBODY' })
      .catch((e) => e);
    expect(unknown).toBeInstanceOf(OperationFailedError);
    expect(unknown.status).toBe(0xa801);
    await client.release();
    await source.close();
    await destination.close();
  });

  it('C-MOVE reports failed sub-operations and the Failed SOP Instance UID List', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 3));
    const transport = memory();
    const failing = uidsOf({ patient: 1, study: 1, series: 1, instance: 2 }).instance;
    const destination = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'DEST',
      handlers: {
        store: async (i) => {
          await bytesOf(i);
          return i.sopInstanceUid === failing ? 0xa700 : 0;
        },
      },
    });
    const source = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: archive.handlers(),
      aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
    });
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: source.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [queryRetrieve('study')],
    });
    const result = await client.move(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      { level: 'PATIENT', destination: 'DEST' },
    );
    expect(result).toMatchObject({
      status: 0xb000,
      completed: 2,
      failed: 1,
      failedSopInstanceUids: [failing],
    });
    await client.release();
    await source.close();
    await destination.close();
  });

  it('C-MOVE cancelled midway ends with FE00H and fewer completed', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 40));
    const transport = memory();
    const destination = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'DEST',
      handlers: {
        store: async (i) => {
          await bytesOf(i);
          await new Promise((r) => setImmediate(r));
        },
      },
    });
    const source = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: archive.handlers(),
      aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
    });
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: source.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [queryRetrieve('study')],
    });
    const controller = new AbortController();
    const result = await client.move(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      {
        level: 'PATIENT',
        destination: 'DEST',
        signal: controller.signal,
        onProgress: (p) => {
          if (p.completed === 5) controller.abort();
        },
      },
    );
    expect(result.cancelled).toBe(true);
    expect(result.status).toBe(0xfe00);
    expect(result.completed).toBeGreaterThanOrEqual(5);
    expect(result.completed).toBeLessThan(40);
    expect(result.remaining).toBe(40 - result.completed - result.failed - result.warning);
    await client.release();
    await source.close();
    await destination.close();
  });

  it('C-GET delivers sub-operations on the same association to a callback and to a folder', async () => {
    const archive = await archiveWith();
    const { server, connect } = await setup(archive.handlers());
    const client = await connect(retrieveContexts('study', [CT]));
    const study = uidsOf({ patient: 1, study: 2, series: 1, instance: 1 }).study;
    const got = new Map<string, Uint8Array>();
    const progress: number[] = [];
    const result = await client.get(
      { '0020000D': { vr: 'UI', Value: [study] } },
      {
        level: 'STUDY',
        sink: async (i) => void got.set(i.sopInstanceUid, await bytesOf(i)),
        onProgress: (p) => progress.push(p.completed),
      },
    );
    expect(result).toMatchObject({ status: 0, completed: 4, failed: 0 });
    expect(progress).toEqual([1, 2, 3]);
    for (const [uid, bytes] of got) expect(bytes).toEqual(archive.instances.get(uid)!.dataSet);
    await using dir = await tempDir();
    const r2 = await client.get(
      { '0020000D': { vr: 'UI', Value: [study] } },
      { level: 'STUDY', sink: { folder: dir.path } },
    );
    expect(r2.completed).toBe(4);
    for (const uid of got.keys()) {
      const file = await openPart10File(join(dir.path, `${uid}.dcm`));
      expect(file.fileMetaInformation.mediaStorageSopInstanceUid).toBe(uid);
      expect((await file.readDataSet()).string('StudyInstanceUID')).toBe(study);
    }
    await client.release();
    await server.close();
  });

  it('C-GET without the SCP role for the class fails every sub-operation (A702H)', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 2));
    const { server, connect } = await setup(archive.handlers());
    const client = await connect([queryRetrieve('study', { operations: ['get'] })]);
    const error = await client
      .get({ '00100020': { vr: 'LO', Value: ['PID1'] } }, { level: 'PATIENT', sink: () => 0 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0xa702);
    expect((error.result as { failed: number }).failed).toBe(2);
    await client.release();
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

describe('Hot path and sources', () => {
  it('streams a 24 MiB file to a folder through the Server, bytes unchanged', async () => {
    await using dir = await tempDir();
    const inbox = join(dir.path, 'in');
    await mkdir(inbox);
    const [file] = await writeInstances(dir.path, [
      { patient: 1, study: 1, series: 1, instance: 1, pixels: 24 * 1024 * 1024 },
    ]);
    const { server, connect } = await setup({ store: storeToFolder(inbox) });
    const client = await connect([storage(CT)], { maxPduLength: 65536 });
    await client.store(file!);
    await client.release();
    const sent = await readFile(file!);
    const written = await readFile(join(inbox, (await readdir(inbox))[0]!));
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(digest(written.subarray(readPart10Header(written).dataSetOffset))).toBe(
      digest(sent.subarray(readPart10Header(sent).dataSetOffset)),
    );
    await server.close();
  });

  it('a get handler may return file paths; they are read from disk for the sub-operations', async () => {
    await using dir = await tempDir();
    const files = await writeInstances(dir.path, hierarchy(1, 1, 1, 3));
    const { server, connect } = await setup({ get: () => files });
    const client = await connect(retrieveContexts('study', [CT]));
    const got: string[] = [];
    const result = await client.get(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      {
        level: 'PATIENT',
        sink: async (i) => {
          await bytesOf(i);
          got.push(i.sopInstanceUid);
        },
      },
    );
    expect(result).toMatchObject({ status: 0, completed: 3 });
    expect(got).toHaveLength(3);
    await client.release();
    await server.close();
  });

  it('connect honours its AbortSignal', async () => {
    const { server, connect } = await setup({});
    const error = await connect([verification()], { signal: AbortSignal.abort() }).catch((e) => e);
    expect(isDnetError(error)).toBe(true);
    await server.close();
  });
});

describe('Sub-operation window', () => {
  it('C-MOVE keeps several C-STOREs outstanding at the destination when subOperationWindow > 1', async () => {
    const archive = await archiveWith(hierarchy(1, 1, 1, 12));
    const transport = memory();
    let active = 0;
    let peak = 0;
    const dest = new MemoryArchive();
    const destination = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'DEST',
      handlers: {
        store: async (i) => {
          active++;
          peak = Math.max(peak, active);
          await dest.store(i);
          for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
          active--;
        },
      },
    });
    const source = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: archive.handlers(),
      aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
      subOperationWindow: 4,
    });
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: source.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [queryRetrieve('study')],
    });
    const result = await client.move(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      { level: 'PATIENT', destination: 'DEST' },
    );
    expect(result).toMatchObject({ status: 0, completed: 12, failed: 0 });
    expect(dest.instances.size).toBe(12);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    await client.release();
    await source.close();
    await destination.close();
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
