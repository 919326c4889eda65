/**
 * End to end: the built `dnet-scu` binary against Orthanc 1.10.1 on
 * 127.0.0.1 (echo, store, find, move to a DCMTK storescp, get), checked
 * through exit codes, output and Orthanc's REST API.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describePeer, type RunningPeer, startPeer } from '@dnet/testkit';
import { type RunningOrthanc, startOrthanc } from '@dnet/testkit/orthanc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scu, tempDir, uidsOf, useBuiltCli, writeCtFiles } from './scu-cli.test-support.js';

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
let orthanc: RunningOrthanc;
let dest: RunningPeer;
let source: string;

const at = () => ['127.0.0.1', String(orthanc.port), '--aec', 'ORTHANC'];

describePeer(['Orthanc', 'storescp'], 'dnet-scu against Orthanc', () => {
  beforeAll(async () => {
    dir = await tempDir();
    cli = await useBuiltCli();
    source = join(dir.path, 'source');
    await mkdir(source);
    await writeCtFiles(source, 2, 2, 2);
    await mkdir(join(dir.path, 'moved'));
    dest = await startPeer({
      command: 'storescp',
      args: (p) => ['-od', join(dir.path, 'moved'), '+B', '+xa', String(p)],
    });
    orthanc = await startOrthanc({
      // Orthanc answers C-FIND/C-MOVE/C-GET only from registered AEs and moves only to them.
      modalities: {
        scu: { aeTitle: 'DNETSCU', port: dest.port },
        dest: { aeTitle: 'DEST', port: dest.port },
      },
      config: { DicomCheckCalledAet: true },
    });
  });

  afterAll(async () => {
    await orthanc?.stop();
    await dest?.stop();
    await dir?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
  });

  it('echo: a wrong called AE title is rejected, named; exit 1', async () => {
    const ok = await scu(['echo', ...at()]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('0000H Success');
    const r = await scu(['echo', '127.0.0.1', String(orthanc.port), '--aec', 'NOT-ORTHANC']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'dnet-scu echo: association rejected: rejected-permanent, service-user, called-AE-title-not-recognized',
    );
  });

  it('store: Orthanc holds every instance', async () => {
    const r = await scu(['store', ...at(), source, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const last = r.stdout.trimEnd().split('\n').at(-1)!;
    expect(JSON.parse(last)).toMatchObject({ type: 'summary', stored: 8, failed: 0 });
    const stats = await orthanc.rest('/statistics');
    expect(stats).toMatchObject({ CountInstances: 8, CountStudies: 2 });
  });

  it('find: studies as a table, images as JSON, patients by the patient root', async () => {
    const studies = await scu([
      'find',
      ...at(),
      '-S',
      '-k',
      'PatientID',
      '-k',
      'StudyInstanceUID',
      '-k',
      'StudyDate=20240102',
    ]);
    expect(studies.code, studies.stderr).toBe(0);
    expect(studies.stdout.split('\n')[2]).toMatch(/^PID2\s+2\.25\.72\s+20240102/);
    expect(studies.stderr).toContain('1 match');

    const u = uidsOf(1, 2, 1);
    const images = await scu([
      'find',
      ...at(),
      '--json',
      '--level',
      'IMAGE',
      '-k',
      `StudyInstanceUID=${u.study}`,
      '-k',
      `SeriesInstanceUID=${u.series}`,
      '-k',
      'SOPInstanceUID',
    ]);
    expect(images.code, images.stderr).toBe(0);
    const uids = images.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'match')
      .map((r) => r.dataSet['00080018'].Value[0]);
    expect(uids.sort()).toEqual([uidsOf(1, 2, 1).instance, uidsOf(1, 2, 2).instance]);

    const patients = await scu([
      'find',
      ...at(),
      '-P',
      '-k',
      'PatientID',
      '-k',
      'PatientName=*JANE1',
    ]);
    expect(patients.code, patients.stderr).toBe(0);
    expect(patients.stdout.split('\n')[2]).toMatch(/^PID1\s+DOE\^JANE1\b/);
  });

  it('move: the study reaches the destination; an unknown one is a named failure', async () => {
    const u = uidsOf(2, 1, 1);
    const r = await scu(['move', ...at(), '--dest', 'DEST', '-k', `StudyInstanceUID=${u.study}`], {
      timeoutMs: 45_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^moved to DEST 4 of 4 instances \(0 failed, 0 warnings\)/);
    expect(await readdir(join(dir.path, 'moved'))).toHaveLength(4);

    const bad = await scu(
      ['move', ...at(), '--dest', 'NOWHERE', '-k', `StudyInstanceUID=${u.study}`],
      { timeoutMs: 45_000 },
    );
    expect(bad.code).toBe(1);
    // Orthanc 1.10.1 answers an unknown destination with C000H, not A801H.
    expect(bad.stderr.trim()).toMatch(/^dnet-scu move: C-MOVE failed: C000H Unable to process/);
  });

  it('get: a patient by the patient root, written as Part 10 files', async () => {
    const out = join(dir.path, 'got');
    const r = await scu(
      ['get', ...at(), '-P', '--level', 'PATIENT', '--out', out, '-k', 'PatientID=PID1'],
      { timeoutMs: 45_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^received 4 of 4 instances \(0 failed, 0 warnings\), 0\.0 MB/);
    expect((await readdir(out)).sort()).toEqual(
      [uidsOf(1, 1, 1), uidsOf(1, 1, 2), uidsOf(1, 2, 1), uidsOf(1, 2, 2)].map(
        (u) => `${u.instance}.dcm`,
      ),
    );
  });
});
