/**
 * Runs each example as a user would (`tsx <example>.ts ...`, the built
 * packages resolved through node_modules) against a real peer on 127.0.0.1:
 * DCMTK's storescp and dcmqrscp for the clients, DCMTK's echoscu and storescu
 * against the storage SCP example, and both a DCMTK TLS storescp and the
 * example's own dnet Server for the TLS example.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, writePart10File } from '@dnet/dataset';
import { describePeer, freePort, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { makeTestPki } from '@dnet/testkit/pki';
import { afterAll, beforeAll, expect, it } from 'vitest';

const here = import.meta.dirname;
const TSX = join(here, 'node_modules', '.bin', 'tsx');
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
/** Bound on one example's run. */
const RUN_MS = 30_000;

/** The fixtures: patient, study and instance of each file (DOE^* matches two studies of three). */
const INSTANCES = [
  { patient: 'DOE^JANE', id: 'P1', study: '2.25.100.1', instance: '2.25.100.1.1.1' },
  { patient: 'DOE^JANE', id: 'P1', study: '2.25.100.1', instance: '2.25.100.1.1.2' },
  { patient: 'DOE^JOHN', id: 'P2', study: '2.25.100.2', instance: '2.25.100.2.1.1' },
  { patient: 'SMITH^ANN', id: 'P3', study: '2.25.100.3', instance: '2.25.100.3.1.1' },
];

let dir: string;
let files: string[];
let storescp: RunningPeer;
let storescpOut: string;
let qr: RunningPeer;
let movePort: number;

/** Runs one example to its end, bounded; its exit code and output. */
function example(
  name: string,
  args: readonly (string | number)[],
  env: Record<string, string> = {},
) {
  return runTool(TSX, [`${name}.ts`, ...args.map(String)], { cwd: here, env, timeoutMs: RUN_MS });
}

/** Writes the fixtures as small Secondary Capture Part 10 files; returns their paths. */
async function writeFixtures(folder: string): Promise<string[]> {
  const paths: string[] = [];
  for (const f of INSTANCES) {
    const ds = new DataSet();
    ds.setString('SOPClassUID', SECONDARY_CAPTURE, 'UI');
    ds.setString('SOPInstanceUID', f.instance, 'UI');
    ds.setString('StudyDate', '20240102', 'DA');
    ds.setString('StudyTime', '101500', 'TM');
    ds.setString('AccessionNumber', `A${f.id}`, 'SH');
    ds.setString('Modality', 'OT', 'CS');
    ds.setString('PatientName', f.patient, 'PN');
    ds.setString('PatientID', f.id, 'LO');
    ds.setString('StudyInstanceUID', f.study, 'UI');
    ds.setString('SeriesInstanceUID', `${f.study}.1`, 'UI');
    ds.setString('StudyID', '1', 'SH');
    ds.setString('SeriesNumber', '1', 'IS');
    ds.setString('InstanceNumber', f.instance.slice(-1), 'IS');
    const path = join(folder, `${f.instance}.dcm`);
    await writePart10File(
      path,
      {
        mediaStorageSopClassUid: SECONDARY_CAPTURE,
        mediaStorageSopInstanceUid: f.instance,
        transferSyntaxUid: '1.2.840.10008.1.2.1',
      },
      ds,
    );
    paths.push(path);
  }
  return paths;
}

describePeer(
  ['storescp', 'storescu', 'echoscu', 'dcmqrscp', 'dcmdump', 'openssl'],
  'examples against real peers',
  () => {
    beforeAll(async () => {
      dir = join(tmpdir(), `dnet-examples-${process.pid}-${Date.now()}`);
      const source = join(dir, 'source');
      storescpOut = join(dir, 'storescp');
      const qrDir = join(dir, 'qr');
      for (const d of [source, storescpOut, qrDir]) await mkdir(d, { recursive: true });
      files = await writeFixtures(source);
      storescp = await startPeer({
        command: 'storescp',
        args: (port) => ['-aet', 'STORESCP', '-od', storescpOut, '+xa', String(port)],
      });
      // dcmqrscp (PS3.4 Annex C): its AE QRSCP, and the move destination of the C-MOVE example.
      movePort = await freePort();
      const config = join(dir, 'dcmqrscp.cfg');
      await writeFile(
        config,
        [
          'NetworkTCPPort = 104',
          'MaxPDUSize = 16384',
          'MaxAssociations = 16',
          'HostTable BEGIN',
          `dnetmove = (DNET-MOVE, 127.0.0.1, ${movePort})`,
          'HostTable END',
          'VendorTable BEGIN',
          'VendorTable END',
          'AETable BEGIN',
          `QRSCP ${qrDir} RW (100, 64mb) ANY`,
          'AETable END',
          '',
        ].join('\n'),
      );
      qr = await startPeer({ command: 'dcmqrscp', args: (port) => ['-c', config, String(port)] });
      const r = await runTool('storescu', [
        '-aec',
        'QRSCP',
        '127.0.0.1',
        String(qr.port),
        ...files,
      ]);
      if (r.code !== 0) throw new Error(`storescu to dcmqrscp failed: ${r.stderr}\n${qr.log()}`);
    });

    afterAll(async () => {
      await qr?.stop();
      await storescp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('store-folder: a folder to storescp, one line of progress per file', async () => {
      const r = await example('store-folder', ['127.0.0.1', storescp.port, join(dir, 'source')], {
        CALLED_AE: 'STORESCP',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^\[1\/4\] .*stored$/m);
      expect(r.stdout).toContain('stored 4 of 4 files over 1 association(s)');
      expect((await readdir(storescpOut)).length).toBe(4);
    });

    it('find-by-keyword: C-FIND DOE^* at STUDY level against dcmqrscp', async () => {
      const r = await example('find-by-keyword', ['127.0.0.1', qr.port, 'DOE^*'], {
        CALLED_AE: 'QRSCP',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('2 matching studies');
      expect(r.stdout).toMatch(/DOE\^JANE\tP1\t20240102\t2\.25\.100\.1$/m);
      expect(r.stdout).toMatch(/DOE\^JOHN\tP2\t20240102\t2\.25\.100\.2$/m);
      expect(r.stdout).not.toContain('SMITH');
    });

    it('move-to-local-scp: dcmqrscp sends the study to the storage SCP the example starts', async () => {
      const out = join(dir, 'moved');
      const r = await example('move-to-local-scp', ['127.0.0.1', qr.port, '2.25.100.1', out], {
        CALLED_AE: 'QRSCP',
        MOVE_AE: 'DNET-MOVE',
        MOVE_PORT: String(movePort),
      });
      expect(r.code, `${r.stderr}\n${qr.log()}`).toBe(0);
      expect(r.stdout).toContain('moved 2 instance(s)');
      expect((await readdir(out)).sort()).toEqual(['2.25.100.1.1.1.dcm', '2.25.100.1.1.2.dcm']);
    });

    it('storage-scp: echoscu and storescu send to it; it writes readable Part 10 files and stops on SIGTERM', async () => {
      const out = join(dir, 'scp');
      const scp = await startPeer({
        command: TSX,
        args: (port) => ['storage-scp.ts', String(port), out],
        cwd: here,
        env: { HOST: '127.0.0.1', AE_TITLE: 'DNET-SCP' },
        startTimeoutMs: RUN_MS,
      });
      try {
        const echo = await runTool('echoscu', ['-aec', 'DNET-SCP', '127.0.0.1', String(scp.port)]);
        expect(echo.code, echo.stderr).toBe(0);
        const store = await runTool('storescu', [
          '-aec',
          'DNET-SCP',
          '127.0.0.1',
          String(scp.port),
          ...files,
        ]);
        expect(store.code, `${store.stderr}\n${scp.log()}`).toBe(0);
        const written = (await readdir(out)).sort();
        expect(written).toEqual(INSTANCES.map((f) => `${f.instance}.dcm`).sort());
        const dump = await runTool('dcmdump', [join(out, written[0]!)]);
        expect(dump.code, dump.stderr).toBe(0);
        expect(dump.stdout).toContain(INSTANCES[0]!.instance);
        expect(dump.stdout).toContain('DOE^JANE');
      } finally {
        await scp.stop();
      }
      expect(scp.log()).toContain('stopped');
    });

    it('tls-mutual-auth: its own PKI and dnet TLS server; each side names the certificate of the other', async () => {
      const r = await example('tls-mutual-auth', []);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        'server: C-ECHO from a client whose certificate is CN=dnet example client',
      );
      expect(r.stdout).toContain(
        'client: connected over TLS to a server whose certificate is CN=dnet example server',
      );
    });

    it('tls-mutual-auth: against storescp +tls, which requires the client certificate', async () => {
      using pki = makeTestPki();
      await using tlsScp = await startPeer({
        command: 'storescp',
        args: (port) => [...pki.dcmtkArgs('server'), '-od', storescpOut, String(port)],
      });
      const r = await example('tls-mutual-auth', ['127.0.0.1', tlsScp.port], {
        PKI_DIR: pki.dir,
      });
      expect(r.code, `${r.stderr}\n${tlsScp.log()}`).toBe(0);
      expect(r.stdout).toContain('CN=localhost');
      expect(r.stdout).toContain('client: C-ECHO status 0');
    });

    it('low-level-association: A-ASSOCIATE, a C-ECHO in a P-DATA-TF by hand, A-RELEASE with storescp', async () => {
      const r = await example('low-level-association', ['127.0.0.1', storescp.port], {
        CALLED_AE: 'STORESCP',
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n').filter((l) => /^(->|<-) /.test(l))).toEqual([
        '-> A-ASSOCIATE-RQ',
        '<- A-ASSOCIATE-AC',
        '-> P-DATA-TF',
        '<- P-DATA-TF',
        '-> A-RELEASE-RQ',
        '<- A-RELEASE-RP',
      ]);
      expect(r.stdout).toContain('C-ECHO-RSP to message 1: status 0000H');
    });
  },
);
