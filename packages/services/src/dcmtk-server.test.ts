/**
 * Interop: DCMTK 3.6.7 tools against our Server over TCP on 127.0.0.1:
 * echoscu, storescu (bytes compared), findscu -P and -S at every level,
 * findscu --cancel, movescu to DCMTK storescp (and cancelled midway), getscu.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPart10Header } from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  dataSetBytes,
  hierarchy,
  makeInstance,
  tempDir,
  uidsOf,
  writeInstances,
} from './instances.test-support.js';
import { MemoryArchive } from './memory-archive.js';
import { Server } from './server.js';

const AE = 'DNETSCP';
let dir: AsyncDisposable & { path: string };
let files: string[];
let archive: MemoryArchive;
let server: Server;
let bigArchive: MemoryArchive;
let bigServer: Server;
let storescp: RunningPeer;
let storescpDir: string;

/** The data set bytes of a Part 10 file (after its meta header). */
async function findscu(model: '-P' | '-S', keys: string[], extra: string[] = []) {
  const cwd = join(dir.path, `find-${Math.random().toString(36).slice(2)}`);
  await mkdir(cwd);
  const args = [model, '-X', '-aec', AE, ...extra, ...keys.flatMap((k) => ['-k', k])];
  const r = await runTool('findscu', [...args, '127.0.0.1', String(server.port)], {
    cwd,
    timeoutMs: 20_000,
  });
  const responses = (await readdir(cwd)).filter((f) => f.startsWith('rsp')).sort();
  return { ...r, responses, cwd };
}

describePeer(
  ['echoscu', 'storescu', 'findscu', 'movescu', 'getscu', 'storescp', 'dcmdump'],
  'DCMTK against our Server',
  () => {
    beforeAll(async () => {
      dir = await tempDir();
      const source = join(dir.path, 'source');
      await mkdir(source);
      files = await writeInstances(source, hierarchy(2, 2, 2, 3, 4096));
      files.push(
        ...(await writeInstances(source, [
          { patient: 3, study: 1, series: 1, instance: 1, pixels: 512 * 1024 },
        ])),
      );
      archive = new MemoryArchive();
      storescpDir = join(dir.path, 'storescp');
      await mkdir(storescpDir);
      storescp = await startPeer({
        command: 'storescp',
        args: (port) => ['-aet', 'STORESCP', '-od', storescpDir, '+B', '+xa', String(port)],
      });
      const aeTable = { STORESCP: { host: '127.0.0.1', port: storescp.port } };
      server = await Server.listen({
        transport: tcp(),
        host: '127.0.0.1',
        port: 0,
        aeTitle: AE,
        handlers: archive.handlers(),
        aeTable,
      });
      bigArchive = new MemoryArchive();
      for (const s of hierarchy(1, 1, 1, 150))
        await bigArchive.add(makeInstance({ ...s, patient: 9 }));
      bigServer = await Server.listen({
        transport: tcp(),
        host: '127.0.0.1',
        port: 0,
        aeTitle: AE,
        handlers: {
          ...bigArchive.handlers(),
          // An index that takes a moment per match, so a C-CANCEL arrives while matches remain.
          find: async function* (request) {
            for (const match of bigArchive.find(request.identifier)) {
              await new Promise((r) => setTimeout(r, 5));
              yield match;
            }
          },
        },
        aeTable,
      });
    });

    afterAll(async () => {
      await server?.close({ timeoutMs: 1000 });
      await bigServer?.close({ timeoutMs: 1000 });
      await storescp?.stop();
      await dir?.[Symbol.asyncDispose]();
    });

    it('echoscu: three C-ECHOs on one association', async () => {
      const r = await runTool('echoscu', [
        '--repeat',
        '3',
        '-aec',
        AE,
        '127.0.0.1',
        String(server.port),
      ]);
      expect(r.code, r.stderr).toBe(0);
    });

    it('echoscu is rejected with a wrong called AE title', async () => {
      const r = await runTool('echoscu', ['-aec', 'NOTUS', '127.0.0.1', String(server.port)]);
      expect(r.code).not.toBe(0);
      expect(r.stderr + r.stdout).toMatch(/Called AE Title Not Recognized/i);
    });

    it('storescu: every stored data set equals the bytes sent', async () => {
      const r = await runTool(
        'storescu',
        ['-aec', AE, '-pdu', '16384', '127.0.0.1', String(server.port), ...files],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(archive.instances.size).toBe(files.length);
      for (const f of files) {
        const header = readPart10Header(await readFile(f));
        const uid = header.fileMetaInformation.mediaStorageSopInstanceUid;
        const stored = archive.instances.get(uid);
        expect(stored, uid).toBeDefined();
        expect(stored!.transferSyntaxUid).toBe(header.transferSyntaxUid);
        expect(Buffer.from(stored!.dataSet).equals(await dataSetBytes(f)), uid).toBe(true);
      }
    });

    it('findscu -P at the PATIENT, STUDY, SERIES and IMAGE levels', async () => {
      const u = uidsOf({ patient: 1, study: 2, series: 1, instance: 1 });
      const patient = await findscu('-P', [
        'QueryRetrieveLevel=PATIENT',
        'PatientID',
        'PatientName=DOE^PATIENT1',
      ]);
      expect(patient.code, patient.stderr).toBe(0);
      expect(patient.responses).toHaveLength(1);
      const dump = await runTool('dcmdump', [join(patient.cwd, patient.responses[0]!)]);
      expect(dump.stdout).toMatch(/\(0010,0020\) LO \[PID1\]/);
      const studies = await findscu('-P', [
        'QueryRetrieveLevel=STUDY',
        'PatientID=PID1',
        'StudyInstanceUID',
        'StudyDate',
      ]);
      expect(studies.responses).toHaveLength(2);
      const series = await findscu('-P', [
        'QueryRetrieveLevel=SERIES',
        'PatientID=PID1',
        `StudyInstanceUID=${u.study}`,
        'SeriesInstanceUID',
        'Modality',
      ]);
      expect(series.responses).toHaveLength(2);
      const images = await findscu('-P', [
        'QueryRetrieveLevel=IMAGE',
        'PatientID=PID1',
        `StudyInstanceUID=${u.study}`,
        `SeriesInstanceUID=${u.series}`,
        'SOPInstanceUID',
      ]);
      expect(images.responses).toHaveLength(3);
    });

    it('findscu -S at the STUDY, SERIES and IMAGE levels, with wild cards and ranges', async () => {
      const u = uidsOf({ patient: 2, study: 1, series: 2, instance: 1 });
      const studies = await findscu('-S', [
        'QueryRetrieveLevel=STUDY',
        'StudyInstanceUID',
        'PatientName=DOE*',
        'StudyDate=20240101-20240102',
      ]);
      expect(studies.code, studies.stderr).toBe(0);
      // Study 1 of each of the three patients is dated 20240102; study 2 is 20240103.
      expect(studies.responses).toHaveLength(3);
      const series = await findscu('-S', [
        'QueryRetrieveLevel=SERIES',
        `StudyInstanceUID=${u.study}`,
        'SeriesInstanceUID',
        'Modality=M?',
      ]);
      expect(series.responses).toHaveLength(1);
      const images = await findscu('-S', [
        'QueryRetrieveLevel=IMAGE',
        `StudyInstanceUID=${u.study}`,
        `SeriesInstanceUID=${u.series}`,
        'SOPInstanceUID',
      ]);
      expect(images.responses).toHaveLength(3);
      const dump = await runTool('dcmdump', [join(images.cwd, images.responses[0]!)]);
      expect(dump.stdout).toContain(u.series);
    });

    it('findscu --cancel: the C-CANCEL ends our responses midway', async () => {
      const r = await runTool(
        'findscu',
        [
          '-v',
          '-S',
          '-X',
          '-aec',
          AE,
          '--cancel',
          '3',
          '-k',
          'QueryRetrieveLevel=IMAGE',
          '-k',
          'SOPInstanceUID',
          '127.0.0.1',
          String(bigServer.port),
        ],
        { cwd: dir.path, timeoutMs: 20_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/Final Find Response \(Cancel/);
      const responses = (await readdir(dir.path)).filter((f) => f.startsWith('rsp'));
      expect(responses.length).toBeGreaterThanOrEqual(3);
      expect(responses.length).toBeLessThan(150);
    });

    it('movescu: our Server sends the study to DCMTK storescp, bytes unchanged', async () => {
      const u = uidsOf({ patient: 2, study: 2, series: 1, instance: 1 });
      const r = await runTool(
        'movescu',
        [
          '-S',
          '-aec',
          AE,
          '-aem',
          'STORESCP',
          '-k',
          'QueryRetrieveLevel=STUDY',
          '-k',
          `StudyInstanceUID=${u.study}`,
          '127.0.0.1',
          String(server.port),
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const received = await readdir(storescpDir);
      const expected = files.filter((f) => f.includes(`${u.study}.`));
      expect(expected).toHaveLength(6);
      expect(received.length).toBeGreaterThanOrEqual(6);
      for (const f of expected) {
        const uid = readPart10Header(await readFile(f)).fileMetaInformation
          .mediaStorageSopInstanceUid;
        const name = received.find((n) => n.endsWith(uid));
        expect(name, uid).toBeDefined();
        expect((await dataSetBytes(join(storescpDir, name!))).equals(await dataSetBytes(f))).toBe(
          true,
        );
      }
    });

    it('movescu --cancel: a C-MOVE of 150 instances cancelled midway', async () => {
      const before = (await readdir(storescpDir)).length;
      const r = await runTool(
        'movescu',
        [
          '-v',
          '-S',
          '-aec',
          AE,
          '-aem',
          'STORESCP',
          '--cancel',
          '3',
          '-k',
          'QueryRetrieveLevel=PATIENT',
          '-k',
          'PatientID=PID9',
          '127.0.0.1',
          String(bigServer.port),
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/Final Move Response \(Cancel/);
      const sent = (await readdir(storescpDir)).length - before;
      expect(sent).toBeGreaterThanOrEqual(3);
      expect(sent).toBeLessThan(150);
    });

    it('getscu: the series arrives on the same association, bytes unchanged', async () => {
      const u = uidsOf({ patient: 1, study: 1, series: 2, instance: 1 });
      const out = join(dir.path, 'getscu');
      await mkdir(out);
      const r = await runTool(
        'getscu',
        [
          '-S',
          '-aec',
          AE,
          '-od',
          out,
          '-k',
          'QueryRetrieveLevel=SERIES',
          '-k',
          `StudyInstanceUID=${u.study}`,
          '-k',
          `SeriesInstanceUID=${u.series}`,
          '127.0.0.1',
          String(server.port),
        ],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const got = await readdir(out);
      expect(got).toHaveLength(3);
      for (const name of got) {
        const bytes = await readFile(join(out, name));
        const header = readPart10Header(bytes);
        const uid = header.fileMetaInformation.mediaStorageSopInstanceUid;
        const original = files.find((f) => f.endsWith(`${uid}.dcm`))!;
        expect(header.transferSyntaxUid).toBe(
          readPart10Header(await readFile(original)).transferSyntaxUid,
        );
        expect(bytes.subarray(header.dataSetOffset).equals(await dataSetBytes(original))).toBe(
          true,
        );
      }
    });
  },
);
