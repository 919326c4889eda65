/**
 * Interop: our Client against DCMTK 3.6.7 over TCP on 127.0.0.1: storescp
 * (echo, store, batch store; bytes compared) and dcmqrscp (find at every
 * level, move to our Server, get, and C-FIND / C-MOVE cancelled midway).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeDataSet, readPart10Header, TransferSyntax } from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, retrieveContexts, storage, verification } from './contexts.js';
import {
  bytesOf,
  dataSetBytes,
  hierarchy,
  tempDir,
  uidsOf,
  writeInstances,
} from './instances.test-support.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';

const CT = SopClass.CT_IMAGE_STORAGE;
let dir: AsyncDisposable & { path: string };
let files: string[];
let manyFiles: string[];
let storescp: RunningPeer;
let storescpDir: string;
let qr: RunningPeer;
let dest: Server;
const received = new Map<string, Uint8Array>();
let storeDelayMs = 0;

const connect = (
  port: number,
  calledAeTitle: string,
  contexts: Parameters<typeof Client.connect>[0]['contexts'],
) =>
  Client.connect({
    transport: tcp(),
    host: '127.0.0.1',
    port,
    callingAeTitle: 'DNETSCU',
    calledAeTitle,
    contexts,
  });

describePeer(['storescp', 'storescu', 'dcmqrscp'], 'our Client against DCMTK', () => {
  beforeAll(async () => {
    dir = await tempDir();
    const source = join(dir.path, 'source');
    await mkdir(source);
    files = await writeInstances(source, hierarchy(2, 2, 1, 3, 2048));
    files.push(
      ...(await writeInstances(
        source,
        [{ patient: 3, study: 1, series: 1, instance: 1, pixels: 512 * 1024 }],
        TransferSyntax.ImplicitVRLittleEndian,
      )),
    );
    // Two files above the small-file limit: streamed from disk in ~1 MiB chunks
    // (64 PDVs of storescp's 16 KiB PDUs each), read into reused buffers.
    files.push(
      ...(await writeInstances(
        source,
        [2, 3].map((instance) => ({
          patient: 3,
          study: 1,
          series: 1,
          instance,
          pixels: 5 * 1024 * 1024,
        })),
      )),
    );
    manyFiles = await writeInstances(
      source,
      hierarchy(1, 1, 1, 120).map((s) => ({ ...s, patient: 8 })),
    );
    storescpDir = join(dir.path, 'storescp');
    await mkdir(storescpDir);
    storescp = await startPeer({
      command: 'storescp',
      args: (port) => ['-aet', 'STORESCP', '-od', storescpDir, '+B', '+xa', String(port)],
    });
    dest = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETDEST',
      handlers: {
        store: async (instance) => {
          received.set(instance.sopInstanceUid, await bytesOf(instance));
          if (storeDelayMs) await new Promise((r) => setTimeout(r, storeDelayMs));
          return 0;
        },
      },
    });
    const qrDir = join(dir.path, 'qr');
    await mkdir(qrDir);
    const config = join(dir.path, 'dcmqrscp.cfg');
    await writeFile(
      config,
      [
        'NetworkTCPPort = 104',
        'MaxPDUSize = 16384',
        'MaxAssociations = 16',
        'HostTable BEGIN',
        `dnetdest = (DNETDEST, 127.0.0.1, ${dest.port})`,
        'HostTable END',
        'VendorTable BEGIN',
        'VendorTable END',
        'AETable BEGIN',
        `QRSCP ${qrDir} RW (500, 1024mb) ANY`,
        'AETable END',
        '',
      ].join('\n'),
    );
    qr = await startPeer({
      command: 'dcmqrscp',
      // Forking mode: 3.6.7's single-process mode (-s) crashes after the first release here.
      args: (port) => ['-c', config, String(port)],
    });
    const r = await runTool(
      'storescu',
      ['-aec', 'QRSCP', '127.0.0.1', String(qr.port), ...files, ...manyFiles],
      {
        timeoutMs: 60_000,
      },
    );
    if (r.code !== 0) throw new Error(`storescu to dcmqrscp failed: ${r.stderr}\n${qr.log()}`);
  });

  afterAll(async () => {
    await qr?.stop();
    await storescp?.stop();
    await dest?.close({ timeoutMs: 1000 });
    await dir?.[Symbol.asyncDispose]();
  });

  it('storescp: echo, then a store and a batch store; storescp wrote the same data set bytes', async () => {
    const client = await connect(storescp.port, 'STORESCP', [
      verification(),
      storage(CT, [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]),
    ]);
    expect(await client.echo()).toBe(0);
    const single = await client.store(files[0]!);
    expect(single.status).toBe(0);
    const progress: number[] = [];
    const batch = await client.storeMany(files.slice(1), {
      onProgress: (p) => progress.push(p.done),
    });
    expect(batch).toMatchObject({ stored: files.length - 1, failed: 0 });
    expect(progress).toHaveLength(files.length - 1);
    await client.release();
    const written = await readdir(storescpDir);
    for (const f of files) {
      const header = readPart10Header(await readFile(f));
      const uid = header.fileMetaInformation.mediaStorageSopInstanceUid;
      const name = written.find((n) => n.endsWith(uid));
      expect(name, uid).toBeDefined();
      const out = await readFile(join(storescpDir, name!));
      const outHeader = readPart10Header(out);
      // storescp accepted our first proposal; the Implicit VR file was converted to Explicit VR.
      if (outHeader.transferSyntaxUid === header.transferSyntaxUid) {
        expect(out.subarray(outHeader.dataSetOffset).equals(await dataSetBytes(f)), uid).toBe(true);
      } else {
        // Converted on the fly (PS3.5 §10): same elements, same pixel bytes.
        expect(header.transferSyntaxUid).toBe(TransferSyntax.ImplicitVRLittleEndian);
        const sent = decodeDataSet(await dataSetBytes(f), header.transferSyntaxUid);
        const got = decodeDataSet(
          out.subarray(outHeader.dataSetOffset),
          outHeader.transferSyntaxUid,
        );
        expect(got.tags()).toEqual(sent.tags());
        expect(Buffer.from(got.bytes('PixelData')!).equals(sent.bytes('PixelData')!)).toBe(true);
      }
    }
  });

  it('dcmqrscp: C-FIND at every level of Study Root and Patient Root', async () => {
    const client = await connect(qr.port, 'QRSCP', [
      queryRetrieve('study'),
      queryRetrieve('patient'),
    ]);
    const u = uidsOf({ patient: 1, study: 2, series: 1, instance: 1 });
    const patients = [];
    for await (const p of client.find(
      { '00100020': { vr: 'LO' }, '00100010': { vr: 'PN' } },
      { model: 'patient', level: 'PATIENT' },
    ))
      patients.push(p);
    expect(patients.map((p) => p['00100020']?.Value?.[0]).sort()).toEqual([
      'PID1',
      'PID2',
      'PID3',
      'PID8',
    ]);
    const studies = [];
    for await (const s of client.find(
      { '00100020': { vr: 'LO', Value: ['PID1'] }, '0020000D': { vr: 'UI' } },
      { level: 'STUDY' },
    ))
      studies.push(s);
    expect(studies).toHaveLength(2);
    const series = [];
    for await (const s of client.find(
      {
        '0020000D': { vr: 'UI', Value: [u.study] },
        '0020000E': { vr: 'UI' },
        '00080060': { vr: 'CS' },
      },
      { level: 'SERIES', as: 'dataset' },
    ))
      series.push(s);
    expect(series.map((s) => s.string('SeriesInstanceUID'))).toEqual([u.series]);
    const images = [];
    for await (const i of client.find(
      {
        '00100020': { vr: 'LO', Value: ['PID1'] },
        '0020000D': { vr: 'UI', Value: [u.study] },
        '0020000E': { vr: 'UI', Value: [u.series] },
        '00080018': { vr: 'UI' },
      },
      { model: 'patient', level: 'IMAGE' },
    ))
      images.push(i['00080018']?.Value?.[0]);
    expect(images.sort()).toEqual([1, 2, 3].map((n) => `${u.series}.${n}`));
    await client.release();
  });

  it('dcmqrscp: C-FIND of 120 matches cancelled after 5 ends cleanly; the association stays usable', async () => {
    const client = await connect(qr.port, 'QRSCP', [queryRetrieve('study')]);
    const controller = new AbortController();
    const got: unknown[] = [];
    const study = uidsOf({ patient: 8, study: 1, series: 1, instance: 1 });
    for await (const m of client.find(
      {
        '0020000D': { vr: 'UI', Value: [study.study] },
        '0020000E': { vr: 'UI', Value: [study.series] },
        '00080018': { vr: 'UI' },
      },
      { level: 'IMAGE', signal: controller.signal },
    )) {
      got.push(m);
      if (got.length === 5) controller.abort();
    }
    expect(got).toHaveLength(5);
    let count = 0;
    for await (const _ of client.find({ '00100020': { vr: 'LO' } }, { level: 'STUDY' })) count++;
    expect(count).toBeGreaterThan(0);
    await client.release();
  });

  it('dcmqrscp: C-MOVE of a study to our Server, with progress, bytes unchanged', async () => {
    const client = await connect(qr.port, 'QRSCP', [queryRetrieve('study')]);
    const u = uidsOf({ patient: 2, study: 1, series: 1, instance: 1 });
    const progress: number[] = [];
    const result = await client.move(
      { '0020000D': { vr: 'UI', Value: [u.study] } },
      {
        level: 'STUDY',
        destination: 'DNETDEST',
        onProgress: (p) => progress.push(p.completed),
      },
    );
    expect(result).toMatchObject({ status: 0, completed: 3, failed: 0, cancelled: false });
    expect(progress.length).toBeGreaterThan(0);
    for (const n of [1, 2, 3]) {
      const uid = `${u.series}.${n}`;
      const file = files.find((f) => f.endsWith(`${uid}.dcm`))!;
      expect(Buffer.from(received.get(uid)!).equals(await dataSetBytes(file)), uid).toBe(true);
    }
    const unknown = await client
      .move(
        { '0020000D': { vr: 'UI', Value: [u.study] } },
        { level: 'STUDY', destination: 'NOBODY' },
      )
      .catch((e) => e);
    expect(unknown.status).toBe(0xa801);
    await client.release();
  });

  it('dcmqrscp: C-MOVE of 120 instances cancelled midway', async () => {
    storeDelayMs = 5;
    try {
      const client = await connect(qr.port, 'QRSCP', [queryRetrieve('study')]);
      const u = uidsOf({ patient: 8, study: 1, series: 1, instance: 1 });
      const controller = new AbortController();
      const result = await client.move(
        { '0020000D': { vr: 'UI', Value: [u.study] } },
        {
          level: 'STUDY',
          destination: 'DNETDEST',
          signal: controller.signal,
          onProgress: (p) => {
            if (p.completed >= 3) controller.abort();
          },
        },
      );
      expect(result.cancelled).toBe(true);
      expect(result.status).toBe(0xfe00);
      expect(result.completed).toBeGreaterThanOrEqual(3);
      expect(result.completed).toBeLessThan(120);
      await client.release();
    } finally {
      storeDelayMs = 0;
    }
  });

  it('dcmqrscp: C-GET of a series arrives on our association', async () => {
    const client = await connect(qr.port, 'QRSCP', retrieveContexts('study', [CT]));
    const u = uidsOf({ patient: 1, study: 1, series: 1, instance: 1 });
    const got = new Map<string, Uint8Array>();
    const result = await client.get(
      { '0020000D': { vr: 'UI', Value: [u.study] }, '0020000E': { vr: 'UI', Value: [u.series] } },
      { level: 'SERIES', sink: async (i) => void got.set(i.sopInstanceUid, await bytesOf(i)) },
    );
    expect(result).toMatchObject({ status: 0, completed: 3, failed: 0 });
    for (const [uid, bytes] of got) {
      const file = files.find((f) => f.endsWith(`${uid}.dcm`))!;
      expect(Buffer.from(bytes).equals(await dataSetBytes(file)), uid).toBe(true);
    }
    await client.release();
  });
});
