import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { readPart10Header } from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InProcessScp, startInProcess } from './in-process-scp.test-support.js';
import { type SyntheticImage, syntheticImages } from './synthetic-images.js';

const TOOLS = [
  'storescu',
  'storescp',
  'findscu',
  'movescu',
  'getscu',
  'dcmdump',
  'dump2dcm',
  'dcmconv',
  'dcmcrle',
];

function dataSetOf(file: Uint8Array): Uint8Array {
  return file.subarray(readPart10Header(file, { strict: false }).dataSetOffset);
}

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.dcm')).length;
}

describePeer(TOOLS, 'dnet-scp with DCMTK peers', () => {
  let dir: string;
  let images: SyntheticImage[];
  let scp: InProcessScp;
  let storescp: RunningPeer;
  let storage: string;
  let received: string;

  /** findscu -X (responses written as rsp* files) into a new folder `name`; asserts exit 0. */
  async function findscu(
    name: string,
    model: '-S' | '-P' | '-W',
    keys: string[],
  ): Promise<{ out: string; responses: string[] }> {
    const out = join(dir, name);
    await runTool('mkdir', ['-p', out]);
    const args = [model, '-X', '-aec', 'DNETSCP', ...keys.flatMap((k) => ['-k', k])];
    const r = await runTool('findscu', [...args, '127.0.0.1', String(scp.port)], { cwd: out });
    expect(r.code, r.stderr).toBe(0);
    return { out, responses: (await readdir(out)).filter((f) => f.startsWith('rsp')) };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-dcmtk-'));
    storage = join(dir, 'storage');
    received = join(dir, 'received');
    await runTool('mkdir', ['-p', received]);
    images = await syntheticImages(join(dir, 'images'), { count: 200, perSeries: 10, size: 32 });
    storescp = await startPeer({
      command: 'storescp',
      args: (port) => ['-aet', 'STORESCP', '-od', received, '+B', '+xa', String(port)],
    });
    scp = await startInProcess([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--aet',
      'DNETSCP',
      '--storage',
      storage,
      '--peer',
      `STORESCP=127.0.0.1:${storescp.port}`,
      '--worklist',
      join(dir, 'worklist'),
      '--max-pdu',
      '65536',
    ]);
  }, 60_000);

  afterAll(async () => {
    await scp?.stop();
    await storescp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores 200 files from 4 concurrent storescu associations, bytes as sent, 200 rows', async () => {
    const groups = [0, 1, 2, 3].map((g) => images.filter((_, i) => i % 4 === g));
    const runs = await Promise.all(
      groups.map((g) =>
        runTool(
          'storescu',
          [
            '-aet',
            'STORESCU',
            '-aec',
            'DNETSCP',
            '127.0.0.1',
            String(scp.port),
            ...g.map((i) => i.path),
          ],
          { timeoutMs: 60_000 },
        ),
      ),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const image of images) {
      const stored = await readFile(
        join(
          storage,
          image.studyInstanceUid,
          image.seriesInstanceUid,
          `${image.sopInstanceUid}.dcm`,
        ),
      );
      const sent = await readFile(image.path);
      expect(Buffer.compare(dataSetOf(stored), dataSetOf(sent))).toBe(0);
      const header = readPart10Header(stored);
      expect(header.fileMetaInformation.mediaStorageSopInstanceUid).toBe(image.sopInstanceUid);
      expect(header.fileMetaInformation.sourceApplicationEntityTitle?.trim()).toBe('STORESCU');
    }
    expect(await countFiles(storage)).toBe(200);
    expect(await scp.scp.index.count()).toEqual({
      patients: 2,
      studies: 10,
      series: 20,
      instances: 200,
    });
    const storeLogs = scp.logs.filter((l) => l.op === 'C-STORE');
    expect(storeLogs).toHaveLength(200);
    expect(storeLogs[0]).toMatchObject({ peer: 'STORESCU', status: '0x0000' });
    expect(storeLogs[0]!.durationMs).toBeTypeOf('number');
    const associations = scp.logs.filter((l) => l.event === 'association');
    expect(associations.filter((l) => l.status === 'closed')).toHaveLength(4);
  }, 90_000);

  it('answers findscu at the STUDY level (Study Root) and the PATIENT and IMAGE levels (Patient Root)', async () => {
    const { out, responses } = await findscu('find-study', '-S', [
      'QueryRetrieveLevel=STUDY',
      'PatientID=DNET1',
      'StudyInstanceUID',
      'NumberOfStudyRelatedInstances',
      'PatientName',
    ]);
    const dnet1Studies = new Set(
      images.filter((i) => i.patientId === 'DNET1').map((i) => i.studyInstanceUid),
    );
    expect(responses).toHaveLength(dnet1Studies.size);
    const dump = await runTool('dcmdump', [join(out, responses[0]!)]);
    expect(dump.stdout).toContain('DOE^JANE');
    expect(dump.stdout).toMatch(/NumberOfStudyRelatedInstances/);
    expect(dump.stdout).toMatch(/\[20\]/);

    const patients = await findscu('find-patient', '-P', [
      'QueryRetrieveLevel=PATIENT',
      'PatientID',
      'PatientName=ROE*',
    ]);
    expect(patients.responses).toHaveLength(1);

    const series = images[0]!;
    const instances = await findscu('find-image', '-P', [
      'QueryRetrieveLevel=IMAGE',
      `PatientID=${series.patientId}`,
      `StudyInstanceUID=${series.studyInstanceUid}`,
      `SeriesInstanceUID=${series.seriesInstanceUid}`,
      'SOPInstanceUID',
    ]);
    expect(instances.responses).toHaveLength(10);
  }, 60_000);

  it('refuses a query that breaks the hierarchy (a SERIES query without its Study Instance UID)', async () => {
    const r = await runTool('findscu', [
      '-v',
      '-S',
      '-aec',
      'DNETSCP',
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      'SeriesInstanceUID',
      '127.0.0.1',
      String(scp.port),
    ]);
    expect(`${r.stdout}${r.stderr}`).toMatch(
      /Final Find Response \((Error: DataSetDoesNotMatchSOPClass|Failed)/,
    );
    expect(scp.logs.find((l) => l.op === 'C-FIND' && l.status === 'failed')).toMatchObject({
      level: 30,
      queryLevel: 'SERIES',
    });
  });

  it('moves a study to DCMTK storescp with movescu, the bytes unchanged', async () => {
    const study = images[0]!.studyInstanceUid;
    const inStudy = images.filter((i) => i.studyInstanceUid === study);
    const r = await runTool('movescu', [
      '-S',
      '-aet',
      'MOVESCU',
      '-aec',
      'DNETSCP',
      '-aem',
      'STORESCP',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${study}`,
      '127.0.0.1',
      String(scp.port),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const files = await readdir(received);
    expect(files).toHaveLength(inStudy.length);
    const sent = await readFile(inStudy[0]!.path);
    const name = files.find((f) => f.includes(inStudy[0]!.sopInstanceUid))!;
    expect(Buffer.compare(dataSetOf(await readFile(join(received, name))), dataSetOf(sent))).toBe(
      0,
    );
    expect(scp.logs.find((l) => l.op === 'C-MOVE')).toMatchObject({
      destination: 'STORESCP',
      instances: inStudy.length,
    });
    expect(scp.logs.find((l) => l.msg === 'C-MOVE done')).toMatchObject({
      peer: 'MOVESCU',
      status: '0x0000',
      completed: inStudy.length,
      failed: 0,
    });
  }, 60_000);

  it('refuses a C-MOVE to an unknown destination', async () => {
    const r = await runTool('movescu', [
      '-S',
      '-aec',
      'DNETSCP',
      '-aem',
      'NOWHERE',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${images[0]!.studyInstanceUid}`,
      '127.0.0.1',
      String(scp.port),
    ]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/MoveDestinationUnknown/);
  }, 30_000);

  it('serves getscu a series over the same association', async () => {
    const out = join(dir, 'get');
    await runTool('mkdir', ['-p', out]);
    const series = images[15]!;
    const r = await runTool('getscu', [
      '-S',
      '-aec',
      'DNETSCP',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      `StudyInstanceUID=${series.studyInstanceUid}`,
      '-k',
      `SeriesInstanceUID=${series.seriesInstanceUid}`,
      '127.0.0.1',
      String(scp.port),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const files = await readdir(out);
    expect(files).toHaveLength(10);
    const name = files.find((f) => f.includes(series.sopInstanceUid))!;
    const sent = await readFile(series.path);
    expect(Buffer.compare(dataSetOf(await readFile(join(out, name))), dataSetOf(sent))).toBe(0);
  }, 60_000);

  it('answers Modality Worklist queries (findscu -W) from DICOM JSON and Part 10 items', async () => {
    const wl = join(dir, 'worklist');
    await runTool('mkdir', ['-p', wl]);
    const item = (name: string, modality: string) => ({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: name }] },
      '00100020': { vr: 'LO', Value: [`ID-${name}`] },
      '00400100': {
        vr: 'SQ',
        Value: [
          {
            '00080060': { vr: 'CS', Value: [modality] },
            '00400001': { vr: 'AE', Value: ['DNETSCP'] },
            '00400002': { vr: 'DA', Value: ['20240105'] },
          },
        ],
      },
    });
    await writeFile(join(wl, 'a.json'), JSON.stringify(item('WL^ONE', 'MR')));
    await writeFile(join(wl, 'b.json'), JSON.stringify([item('WL^TWO', 'CT')]));
    await writeFile(
      join(wl, 'c.dump'),
      [
        '(0010,0010) PN [WL^THREE]',
        '(0010,0020) LO [ID-THREE]',
        '(0040,0100) SQ (Sequence with explicit length #=1)',
        '  (fffe,e000) na (Item with explicit length #=2)',
        '    (0008,0060) CS [MR]',
        '    (0040,0002) DA [20240106]',
        '  (fffe,e00d) na (ItemDelimitationItem for re-encoding)',
        '(fffe,e0dd) na (SequenceDelimitationItem for re-encoding)',
      ].join('\n'),
    );
    const made = await runTool('dump2dcm', ['+te', join(wl, 'c.dump'), join(wl, 'c.wl')]);
    expect(made.code, made.stderr).toBe(0);
    const { out, responses } = await findscu('find-wl', '-W', [
      'PatientName',
      'PatientID',
      'ScheduledProcedureStepSequence[0].Modality=MR',
      'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate',
    ]);
    expect(responses).toHaveLength(2);
    const dumps = await Promise.all(responses.map((f) => runTool('dcmdump', [join(out, f)])));
    const text = dumps.map((d) => d.stdout).join('\n');
    expect(text).toContain('WL^ONE');
    expect(text).toContain('WL^THREE');
    expect(text).not.toContain('WL^TWO');
  }, 30_000);

  it('stores every transfer syntax bit-preserving (implicit, big endian, deflated, RLE) and indexes it', async () => {
    const source = await syntheticImages(join(dir, 'ts-source'), {
      count: 4,
      perSeries: 4,
      size: 32,
    });
    const variants: [string, string[], string][] = [
      ['dcmconv', ['+ti'], '1.2.840.10008.1.2'],
      ['dcmconv', ['+tb'], '1.2.840.10008.1.2.2'],
      ['dcmconv', ['+td'], '1.2.840.10008.1.2.1.99'],
      ['dcmcrle', [], '1.2.840.10008.1.2.5'],
    ];
    const files: string[] = [];
    for (const [k, [tool, flags]] of variants.entries()) {
      const out = join(dir, 'ts-source', `v${k}.dcm`);
      const r = await runTool(tool, [...flags, source[k]!.path, out]);
      expect(r.code, r.stderr).toBe(0);
      files.push(out);
    }
    // Each file on its own association proposing only its syntax (-xi, -xb, -xd, -xr).
    for (const [k, flag] of ['-xi', '-xb', '-xd', '-xr'].entries()) {
      const r = await runTool('storescu', [
        flag,
        '-aec',
        'DNETSCP',
        '127.0.0.1',
        String(scp.port),
        files[k]!,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const [k, file] of files.entries()) {
      const image = source[k]!;
      const sent = await readFile(file);
      const stored = await readFile(
        join(
          storage,
          image.studyInstanceUid,
          image.seriesInstanceUid,
          `${image.sopInstanceUid}.dcm`,
        ),
      );
      expect(readPart10Header(stored).transferSyntaxUid).toBe(variants[k]![2]);
      if (variants[k]![2] === '1.2.840.10008.1.2.1.99') {
        // storescu deflates again as it sends (its flush points vary): the inflated bytes are the same.
        const inflated = (b: Uint8Array) => inflateRawSync(b);
        expect(Buffer.compare(inflated(dataSetOf(stored)), inflated(dataSetOf(sent)))).toBe(0);
      } else {
        expect(Buffer.compare(dataSetOf(stored), dataSetOf(sent)), `variant ${k}`).toBe(0);
      }
      const record = await scp.scp.index.get(image.sopInstanceUid);
      expect(record?.transferSyntaxUid).toBe(variants[k]![2]);
      expect(record?.attributes['00100010']).toEqual({
        vr: 'PN',
        Value: [{ Alphabetic: 'DOE^JANE' }],
      });
    }
  }, 60_000);
});
