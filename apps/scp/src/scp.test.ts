import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, decodeDataSet, encodeDataSet, readPart10Header } from '@dnet/dataset';
import {
  Client,
  queryRetrieve,
  STORAGE_COMMITMENT_INSTANCE,
  STORAGE_COMMITMENT_PUSH_MODEL,
  storage as storageContexts,
  verification,
} from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  eventually,
  type InProcessScp,
  startInProcess,
  startOnLoopback,
} from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE } from './synthetic-images.js';

function image(uids: { study: string; series: string; sop: string }, description = 'first') {
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT_IMAGE_STORAGE, 'UI');
  ds.setString('SOPInstanceUID', uids.sop, 'UI');
  ds.setString('StudyDescription', description, 'LO');
  ds.setString('PatientName', 'TEST^STORE', 'PN');
  ds.setString('PatientID', 'STORE1', 'LO');
  ds.setString('StudyInstanceUID', uids.study, 'UI');
  ds.setString('SeriesInstanceUID', uids.series, 'UI');
  ds.setBytes('PixelData', new Uint8Array(4096).fill(7), 'OW');
  return ds;
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('index.sqlite')).map((e) => e.name);
}

describe('dnet-scp in-process', () => {
  let dir: string;
  let storage: string;
  let scp: InProcessScp;
  let client: Client;

  /** The temporary files of objects being received, and the one made ahead for the next. */
  const incoming = () => readdir(join(storage, '.incoming'));

  const connect = () =>
    connectClient(scp.port, [
      verification(),
      storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
      queryRetrieve('study'),
    ]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-'));
    storage = join(dir, 'storage');
    scp = await startInProcess(['--host', '127.0.0.1', '--port', '0', '--storage', storage]);
    client = await connect();
  });

  afterAll(async () => {
    await client?.release().catch(() => client.abort());
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints one line when it listens', () => {
    expect(scp.out).toEqual([`listening on 127.0.0.1:${scp.port}`]);
  });

  it('answers C-ECHO', async () => {
    expect(await client.echo()).toBe(0);
    expect(scp.logs.find((l) => l.op === 'C-ECHO')).toMatchObject({
      peer: 'TESTSCU',
      status: '0x0000',
      address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
  });

  it('refuses UIDs that would leave the storage folder, writing nothing', async () => {
    const before = await files(storage);
    const bad = { study: '../../../../tmp/evil', series: '1.2.3', sop: '1.2.826.0.1.9' };
    const r = await client.store(image(bad)).catch((e) => e);
    expect(r.status).toBe(0xc000);
    expect(await files(storage)).toEqual(before);
    expect(await scp.scp.index.get('1.2.826.0.1.9')).toBeUndefined();
  });

  it('refuses a data set whose SOP Instance UID differs from the request (A900H)', async () => {
    const ds = image({
      study: '1.2.826.0.1.2',
      series: '1.2.826.0.1.2.1',
      sop: '1.2.826.0.1.2.1.1',
    });
    const r = await client
      .store({
        sopClassUid: CT_IMAGE_STORAGE,
        sopInstanceUid: '1.2.826.0.1.2.1.2',
        transferSyntaxUid: EXPLICIT_VR_LE,
        dataSet: encodeDataSet(ds, EXPLICIT_VR_LE),
      })
      .catch((e) => e);
    expect(r.status).toBe(0xa900);
    expect(await scp.scp.index.get('1.2.826.0.1.2.1.2')).toBeUndefined();
  });

  it('streams an object larger than the indexed head (4 MiB) to disk unchanged and indexes its head', async () => {
    const uids = { study: '1.2.826.0.1.6', series: '1.2.826.0.1.6.1', sop: '1.2.826.0.1.6.1.1' };
    const ds = image(uids, 'large');
    ds.setBytes(
      'PixelData',
      new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 253),
      'OW',
    );
    expect((await client.store(ds)).status).toBe(0);
    const stored = await readFile(join(storage, uids.study, uids.series, `${uids.sop}.dcm`));
    const sent = encodeDataSet(ds, EXPLICIT_VR_LE);
    expect(Buffer.compare(stored.subarray(readPart10Header(stored).dataSetOffset), sent)).toBe(0);
    const record = await scp.scp.index.get(uids.sop);
    expect(record?.attributes['00081030']).toEqual({ vr: 'LO', Value: ['large'] });
    expect(record?.attributes['7FE00010']).toBeUndefined();
  });

  it('refuses (C000H) an object whose Series Instance UID is not in its first MiB, writing nothing', async () => {
    const uids = { study: '1.2.826.0.1.7', series: '1.2.826.0.1.7.1', sop: '1.2.826.0.1.7.1.1' };
    const ds = image(uids);
    ds.setString('00090010', 'DNET PRIVATE', 'LO');
    ds.setBytes('00091001', new Uint8Array(2 * 1024 * 1024), 'OB');
    const before = await files(storage);
    const r = await client.store(ds).catch((e) => e);
    expect(r.status).toBe(0xc000);
    expect(await files(storage)).toEqual(before);
    expect(await scp.scp.index.get(uids.sop)).toBeUndefined();
    expect(await client.echo()).toBe(0); // the association goes on
  });

  it('leaves no file and no row when the association is aborted mid-data-set', async () => {
    const aborting = await connect();
    const sop = '1.2.826.0.1.3.1.1';
    const head = encodeDataSet(
      image({ study: '1.2.826.0.1.3', series: '1.2.826.0.1.3.1', sop }),
      EXPLICIT_VR_LE,
    );
    // Pixel Data announced 8 MiB long; 1 MiB of it is sent, then A-ABORT.
    const pixelsHeader = head.subarray(head.length - 4096 - 12, head.length - 4096).slice();
    new DataView(pixelsHeader.buffer).setUint32(8, 8 * 1024 * 1024, true);
    let sent = 0;
    async function* dataSet() {
      yield head.subarray(0, head.length - 4096 - 12);
      yield pixelsHeader;
      for (let i = 0; i < 16; i++) {
        sent += 65536;
        yield new Uint8Array(65536);
      }
      await eventually(() => scp.logs.length > 0 && sent > 0);
      // The object is being written: its temporary file exists, and the one
      // made ahead for the next object (prepareNext) beside it.
      await eventually(async () => (await incoming()).length === 2);
      aborting.abort();
      await new Promise(() => undefined); // never ends: the association is gone
    }
    const result = await aborting
      .store({
        sopClassUid: CT_IMAGE_STORAGE,
        sopInstanceUid: sop,
        transferSyntaxUid: EXPLICIT_VR_LE,
        dataSet: dataSet(),
      })
      .catch((e) => e);
    expect(result).toBeInstanceOf(Error);
    // The object's file is deleted; only the next object's, still empty, is left.
    await eventually(async () => (await incoming()).length === 1);
    expect((await stat(join(storage, '.incoming', (await incoming())[0]!))).size).toBe(0);
    await eventually(() => scp.logs.some((l) => l.op === 'C-STORE' && l.status === 'aborted'));
    expect(await scp.scp.index.get(sop)).toBeUndefined();
    await expect(readdir(join(storage, '1.2.826.0.1.3'))).rejects.toThrow(/ENOENT/);
  });
  it('commits stored instances (Storage Commitment), reporting on the same association', async () => {
    const sc = await connectClient(scp.port, [
      storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
      { abstractSyntax: STORAGE_COMMITMENT_PUSH_MODEL, transferSyntaxes: [EXPLICIT_VR_LE] },
    ]);
    const held = { study: '1.2.826.0.1.4', series: '1.2.826.0.1.4.1', sop: '1.2.826.0.1.4.1.1' };
    const damaged = { ...held, sop: '1.2.826.0.1.4.1.2' };
    expect((await sc.store(image(held))).status).toBe(0);
    expect((await sc.store(image(damaged))).status).toBe(0);
    await rm(join(storage, damaged.study, damaged.series, `${damaged.sop}.dcm`));
    const reports: { eventTypeId: number; report: DataSet }[] = [];
    sc.association.handle('N-EVENT-REPORT', async (rq) => {
      const bytes = await rq.dataSet!.bytes();
      reports.push({
        eventTypeId: rq.message.eventTypeId,
        report: decodeDataSet(bytes, rq.context.transferSyntax),
      });
      await rq.respond({
        commandField: 0x8100,
        messageIdBeingRespondedTo: rq.message.messageId,
        affectedSopClassUid: rq.message.affectedSopClassUid,
        affectedSopInstanceUid: rq.message.affectedSopInstanceUid,
        eventTypeId: rq.message.eventTypeId,
        status: 0,
        hasDataSet: false,
      } as never);
    });
    const request = new DataSet();
    request.setString('TransactionUID', '1.2.826.0.1.4.99', 'UI');
    const refs: [string, string][] = [
      [CT_IMAGE_STORAGE, held.sop],
      [CT_IMAGE_STORAGE, damaged.sop],
      [CT_IMAGE_STORAGE, '1.2.826.0.1.4.1.3'],
      ['1.2.840.10008.5.1.4.1.1.4', held.sop],
    ];
    for (const [sopClass, sop] of refs) {
      const item = request.addItem('ReferencedSOPSequence');
      item.setString('ReferencedSOPClassUID', sopClass, 'UI');
      item.setString('ReferencedSOPInstanceUID', sop, 'UI');
    }
    const rsp = await sc.association.nAction(
      {
        commandField: 0x0130,
        requestedSopClassUid: STORAGE_COMMITMENT_PUSH_MODEL,
        requestedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE,
        actionTypeId: 1,
      } as never,
      { dataSet: encodeDataSet(request, EXPLICIT_VR_LE) },
    );
    expect((rsp.message as { status: number }).status).toBe(0);
    await eventually(() => reports.length === 1);
    const { eventTypeId, report } = reports[0]!;
    expect(eventTypeId).toBe(2); // failures exist (PS3.4 §J.3.3)
    expect(report.uid('TransactionUID')).toBe('1.2.826.0.1.4.99');
    expect(
      report.sequence('ReferencedSOPSequence').map((i) => i.uid('ReferencedSOPInstanceUID')),
    ).toEqual([held.sop]);
    expect(
      report
        .sequence('FailedSOPSequence')
        .map((i) => [i.uid('ReferencedSOPInstanceUID'), i.number('FailureReason')]),
    ).toEqual([
      [damaged.sop, 0x0110],
      ['1.2.826.0.1.4.1.3', 0x0112],
      [held.sop, 0x0119], // class / instance conflict (PS3.3 §C.14.1.1)
    ]);
    // A request for another instance than the well-known one is refused.
    const wrong = await sc.association.nAction(
      {
        commandField: 0x0130,
        requestedSopClassUid: STORAGE_COMMITMENT_PUSH_MODEL,
        requestedSopInstanceUid: '1.2.3',
        actionTypeId: 1,
      } as never,
      { dataSet: encodeDataSet(request, EXPLICIT_VR_LE) },
    );
    expect((wrong.message as { status: number }).status).toBe(0x0112);
    await sc.release();
  });
});

describe('dnet-scp graceful shutdown', () => {
  it('finishes a C-STORE in flight, refuses new associations, then stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-stop-'));
    const scp = await startInProcess(['--host', '127.0.0.1', '--port', '0', '--storage', dir]);
    const client = await connectClient(scp.port, [
      storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE]),
    ]);
    const uids = { study: '1.2.826.0.1.5', series: '1.2.826.0.1.5.1', sop: '1.2.826.0.1.5.1.1' };
    const bytes = encodeDataSet(image(uids), EXPLICIT_VR_LE);
    let stopped: Promise<number> | undefined;
    async function* slowly() {
      yield bytes.subarray(0, bytes.length - 1024);
      // The client reads one chunk ahead: this one lets the first go out.
      yield bytes.subarray(bytes.length - 1024, bytes.length - 512);
      // The object's temporary file, and the one made ahead for the next object.
      await eventually(
        async () => (await readdir(join(dir, '.incoming')).catch(() => [])).length === 2,
      );
      stopped = scp.stop(); // SIGTERM while the object is being received
      await new Promise((r) => setTimeout(r, 100));
      yield bytes.subarray(bytes.length - 512);
    }
    try {
      const result = await client.store({
        sopClassUid: CT_IMAGE_STORAGE,
        sopInstanceUid: uids.sop,
        transferSyntaxUid: EXPLICIT_VR_LE,
        dataSet: slowly(),
      });
      expect(result.status).toBe(0);
      await expect(
        Client.connect({
          transport: tcp(),
          host: '127.0.0.1',
          port: scp.port,
          callingAeTitle: 'LATE',
          calledAeTitle: 'DNETSCP',
          contexts: [verification()],
        }),
      ).rejects.toThrow();
      expect(await stopped).toBe(0);
      // Stopped: the file made ahead for a next object is gone too.
      expect(await readdir(join(dir, '.incoming'))).toEqual([]);
      const stored = await readFile(join(dir, uids.study, uids.series, `${uids.sop}.dcm`));
      expect(Buffer.compare(stored.subarray(readPart10Header(stored).dataSetOffset), bytes)).toBe(
        0,
      );
      expect(scp.logs.map((l) => l.msg)).toContain('stopped');
    } finally {
      client.abort();
      await (stopped ?? scp.stop());
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dnet-scp access control', () => {
  it('accepts only the calling AE titles of --allow-aet, and at most --max-associations', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-allow-'));
    const scp = await startOnLoopback([dir, '--allow-aet', 'GOOD', '--max-associations', '1']);
    const connect = (callingAeTitle: string) =>
      Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle,
        calledAeTitle: 'DNETSCP',
        contexts: [verification()],
      });
    try {
      await expect(connect('BAD')).rejects.toMatchObject({ result: 1, source: 1, reason: 3 });
      const good = await connect('GOOD');
      expect(await good.echo()).toBe(0);
      // PS3.8 Table 9-21: transient, service-provider (presentation), local limit exceeded.
      await expect(connect('GOOD')).rejects.toMatchObject({ result: 2, source: 3, reason: 2 });
      await good.release();
    } finally {
      await scp.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the dnet-scp binary', () => {
  it('starts, prints its address, and exits 0 on SIGTERM after closing the database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-bin-'));
    const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
    const child = spawn(
      process.execPath,
      // One process (the path embedding and tests use); workers.e2e.dcmtk.test.ts runs several.
      [cli, '--port', '0', '--host', '127.0.0.1', '--storage', dir, '--workers', '1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    try {
      await eventually(() => stdout.includes('listening on'), 15_000);
      expect(stdout).toMatch(/^listening on 127\.0\.0\.1:\d+\n$/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.msg)).toEqual(['listening', 'shutting down', 'stopped']);
      expect(await readdir(dir)).toContain('index.sqlite');
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('SIGKILL while storing: every instance acknowledged before it is indexed and on disk after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dnet-scp-kill-'));
    const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
    const start = async () => {
      const child = spawn(
        process.execPath,
        [cli, '--port', '0', '--host', '127.0.0.1', '--storage', dir, '--log-level', 'silent'],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await eventually(() => /listening on 127\.0\.0\.1:\d+/.test(stdout), 15_000);
      const port = Number(/:(\d+)/.exec(stdout)?.[1]);
      return { child, port, exited };
    };
    const study = '1.2.826.0.1.3680043.10.77';
    const series = `${study}.1`;
    let first: Awaited<ReturnType<typeof start>> | undefined;
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      first = await start();
      const client = await Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: first.port,
        callingAeTitle: 'TESTSCU',
        calledAeTitle: 'DNETSCP',
        contexts: [storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE])],
        maxOperations: 4,
      });
      const acknowledged: string[] = [];
      let next = 1;
      let killed = false;
      // Four stores outstanding; the process is killed once 20 are acknowledged, mid-stream.
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (!killed && next <= 200) {
            const sop = `${series}.${next++}`;
            try {
              const r = await client.store(image({ study, series, sop }));
              if (r.status === 0) acknowledged.push(sop);
            } catch {
              return; // the association died with the process
            }
            if (acknowledged.length >= 20 && !killed) {
              killed = true;
              first!.child.kill('SIGKILL');
            }
          }
        }),
      );
      client.abort();
      await first.exited;
      expect(acknowledged.length).toBeGreaterThanOrEqual(20);
      expect(acknowledged.length).toBeLessThan(200); // killed mid-stream

      second = await start();
      const reader = await connectClient(second.port, [queryRetrieve('study')]);
      const found = new Set<string>();
      for await (const r of reader.find(
        {
          '0020000D': { vr: 'UI', Value: [study] },
          '0020000E': { vr: 'UI', Value: [series] },
          '00080018': { vr: 'UI' },
        },
        { level: 'IMAGE' },
      )) {
        found.add(String(r['00080018']?.Value?.[0]));
      }
      await reader.release();
      for (const sop of acknowledged) expect(found.has(sop), sop).toBe(true);
      const onDisk = new Set(await files(join(dir, study, series)));
      for (const sop of acknowledged) expect(onDisk.has(`${sop}.dcm`), sop).toBe(true);
    } finally {
      first?.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('exits 2 with a message on a bad option', async () => {
    const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
    const child = spawn(process.execPath, [cli, '--port', 'x'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('--port must be an integer');
  }, 30_000);
});
