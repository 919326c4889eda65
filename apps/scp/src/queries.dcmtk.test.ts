/**
 * DCMTK's findscu and getscu against dnet-scp with the queries viewers send and
 * DCMTK's dcmqrscp answers: unique keys above the query level given empty
 * (universal) or left out below the highest level given. findscu cannot
 * propose SOP Class Extended Negotiation (no such option in `findscu --help`),
 * so relational queries are tested with dnet's own Client (queries.test.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InProcessScp, startInProcess } from './in-process-scp.test-support.js';
import { type SyntheticImage, syntheticImages } from './synthetic-images.js';

describePeer(
  ['storescu', 'findscu', 'getscu', 'dcmdump'],
  'dnet-scp answers findscu with universal upper keys',
  () => {
    let dir: string;
    let images: SyntheticImage[];
    let scp: InProcessScp;

    /**
     * findscu -X into a new folder; asserts exit 0 and returns the values of
     * `tag` in the responses (one dcmdump over every response file), sorted.
     */
    async function findscu(name: string, args: string[], tag: string): Promise<string[]> {
      const out = join(dir, name);
      await runTool('mkdir', ['-p', out]);
      const r = await runTool(
        'findscu',
        ['-X', '-aec', 'DNETSCP', ...args, '127.0.0.1', String(scp.port)],
        { cwd: out },
      );
      expect(r.code, r.stderr).toBe(0);
      const files = (await readdir(out)).filter((f) => f.startsWith('rsp'));
      if (files.length === 0) return [];
      const dump = await runTool('dcmdump', ['+P', tag, ...files.map((f) => join(out, f))]);
      expect(dump.code, dump.stderr).toBe(0);
      const values = [...dump.stdout.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
      expect(values).toHaveLength(files.length);
      return values.sort();
    }

    const uidsOf = (list: SyntheticImage[]) => list.map((i) => i.sopInstanceUid).sort();
    const k = (...keys: string[]) => keys.flatMap((key) => ['-k', key]);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-queries-dcmtk-'));
      // 2 patients, 2 studies each, 2 series of 4 images per study: 32 images.
      images = await syntheticImages(join(dir, 'images'), { count: 32, perSeries: 4, size: 8 });
      scp = await startInProcess([
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--aet',
        'DNETSCP',
        '--storage',
        join(dir, 'storage'),
      ]);
      const stored = await runTool(
        'storescu',
        ['-aec', 'DNETSCP', '127.0.0.1', String(scp.port), ...images.map((i) => i.path)],
        { timeoutMs: 60_000 },
      );
      expect(stored.code, stored.stderr).toBe(0);
    }, 90_000);

    afterAll(async () => {
      await scp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('Study Root IMAGE level: the study given, the series universal: every instance of the study', async () => {
      const study = images[8]!.studyInstanceUid;
      const found = await findscu(
        'image-universal-series',
        [
          '-S',
          ...k(
            'QueryRetrieveLevel=IMAGE',
            `StudyInstanceUID=${study}`,
            'SeriesInstanceUID',
            'SOPInstanceUID',
          ),
        ],
        'SOPInstanceUID',
      );
      expect(found).toEqual(uidsOf(images.filter((i) => i.studyInstanceUid === study)));
    }, 30_000);

    it('Study Root IMAGE level: the study given, no series key at all: the same instances', async () => {
      const study = images[20]!.studyInstanceUid;
      const found = await findscu(
        'image-no-series',
        ['-S', ...k('QueryRetrieveLevel=IMAGE', `StudyInstanceUID=${study}`, 'SOPInstanceUID')],
        'SOPInstanceUID',
      );
      expect(found).toEqual(uidsOf(images.filter((i) => i.studyInstanceUid === study)));
    }, 30_000);

    it('Study Root SERIES and IMAGE levels under a universal study key', async () => {
      const series = await findscu(
        'series-universal-study',
        ['-S', ...k('QueryRetrieveLevel=SERIES', 'StudyInstanceUID', 'SeriesInstanceUID')],
        'SeriesInstanceUID',
      );
      expect(series).toEqual([...new Set(images.map((i) => i.seriesInstanceUid))].sort());
      const one = images[13]!;
      const instances = await findscu(
        'image-universal-study',
        [
          '-S',
          ...k(
            'QueryRetrieveLevel=IMAGE',
            'StudyInstanceUID',
            `SeriesInstanceUID=${one.seriesInstanceUid}`,
            'SOPInstanceUID',
          ),
        ],
        'SOPInstanceUID',
      );
      expect(instances).toEqual(
        uidsOf(images.filter((i) => i.seriesInstanceUid === one.seriesInstanceUid)),
      );
    }, 30_000);

    it('Patient Root IMAGE level: the patient given, study and series universal: all the patient has', async () => {
      const found = await findscu(
        'patient-image',
        [
          '-P',
          ...k(
            'QueryRetrieveLevel=IMAGE',
            'PatientID=DNET2',
            'StudyInstanceUID',
            'SeriesInstanceUID',
            'SOPInstanceUID',
          ),
        ],
        'SOPInstanceUID',
      );
      expect(found).toEqual(uidsOf(images.filter((i) => i.patientId === 'DNET2')));
      expect(found).toHaveLength(16);
    }, 30_000);

    it('getscu of a series under a universal study key', async () => {
      const one = images[30]!;
      const out = join(dir, 'get');
      await runTool('mkdir', ['-p', out]);
      const r = await runTool('getscu', [
        '-S',
        '-aec',
        'DNETSCP',
        '-od',
        out,
        ...k(
          'QueryRetrieveLevel=SERIES',
          'StudyInstanceUID',
          `SeriesInstanceUID=${one.seriesInstanceUid}`,
        ),
        '127.0.0.1',
        String(scp.port),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const files = await readdir(out);
      expect(files).toHaveLength(4);
      expect(files.some((f) => f.includes(one.sopInstanceUid))).toBe(true);
    }, 30_000);

    it('still refuses an IMAGE query without any upper key (relational, not negotiated)', async () => {
      const r = await runTool('findscu', [
        '-v',
        '-S',
        '-aec',
        'DNETSCP',
        ...k('QueryRetrieveLevel=IMAGE', `SOPInstanceUID=${images[0]!.sopInstanceUid}`),
        '127.0.0.1',
        String(scp.port),
      ]);
      expect(`${r.stdout}${r.stderr}`).toMatch(
        /Final Find Response \((Error: DataSetDoesNotMatchSOPClass|Failed)/,
      );
    }, 30_000);
  },
);
