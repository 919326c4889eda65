/**
 * dnet-scp answering the queries real SCUs send: hierarchical queries with
 * universal upper keys (dnet's leniency), and relational queries and
 * retrieves when the SCU negotiated them (PS3.4 §C.4.1.2.2, §C.5.1.1).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { type Client, OperationFailedError, queryRetrieve, storage } from '@dnet/services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  type InProcessScp,
  startOnLoopback,
} from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, type SyntheticImage, syntheticImages } from './synthetic-images.js';

const uid = (v: string) => ({ vr: 'UI', Value: [v] });
const sops = (rows: DicomJsonDataSet[]) =>
  rows.map((r) => String(r['00080018']?.Value?.[0])).sort();

describe('dnet-scp: relational and lenient hierarchical queries', () => {
  let dir: string;
  let scp: InProcessScp;
  let images: SyntheticImage[];
  let relational: Client;
  let baseline: Client;

  const collect = async (
    client: Client,
    query: DicomJsonDataSet,
    level: 'STUDY' | 'SERIES' | 'IMAGE',
  ) => {
    const rows: DicomJsonDataSet[] = [];
    for await (const r of client.find(query, { level })) rows.push(r);
    return rows;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-queries-'));
    scp = await startOnLoopback([join(dir, 'storage')]);
    // 2 patients, 2 studies, 4 series of 3 images.
    images = await syntheticImages(join(dir, 'images'), { count: 12, perSeries: 3, size: 8 });
    relational = await connectClient(scp.port, [
      storage(CT_IMAGE_STORAGE),
      queryRetrieve('study', {
        relational: true,
        query: { fuzzySemanticMatchingOfPersonNames: true },
      }),
      queryRetrieve('patient', { operations: ['find'], relational: true }),
    ]);
    baseline = await connectClient(scp.port, [queryRetrieve('study')]);
    const stored = await relational.storeMany(images.map((i) => i.path));
    expect(stored.stored).toBe(12);
  }, 30_000);

  afterAll(async () => {
    await relational?.release().catch(() => relational.abort());
    await baseline?.release().catch(() => baseline.abort());
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts relational queries and retrievals, turns down what it does not implement', () => {
    expect(relational.queryExtendedNegotiation()).toMatchObject({
      relationalQueries: true,
      fuzzySemanticMatchingOfPersonNames: false,
    });
    expect(relational.queryExtendedNegotiation({ model: 'patient' }).relationalQueries).toBe(true);
    expect(relational.retrieveExtendedNegotiation('move').relationalRetrieval).toBe(true);
    expect(relational.retrieveExtendedNegotiation('get').relationalRetrieval).toBe(true);
    expect(baseline.queryExtendedNegotiation().relationalQueries).toBe(false);
  });

  it('relational C-FIND: IMAGE level by SOP Instance UID alone, and by a patient key', async () => {
    const target = images[4]!;
    const one = await collect(
      relational,
      { '00080018': uid(target.sopInstanceUid), '0020000E': { vr: 'UI' } },
      'IMAGE',
    );
    expect(sops(one)).toEqual([target.sopInstanceUid]);
    expect(one[0]?.['0020000E']).toEqual(uid(target.seriesInstanceUid));
    const jane = await collect(
      relational,
      { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] }, '00080018': { vr: 'UI' } },
      'IMAGE',
    );
    expect(sops(jane)).toEqual(
      images
        .filter((i) => i.patientId === 'DNET1')
        .map((i) => i.sopInstanceUid)
        .sort(),
    );
    // Patient Root, STUDY level without the Patient ID.
    const studies: DicomJsonDataSet[] = [];
    for await (const r of relational.find(
      { '0020000D': { vr: 'UI' } },
      { model: 'patient', level: 'STUDY' },
    ))
      studies.push(r);
    expect(studies).toHaveLength(2);
    expect(scp.logs.filter((l) => l.op === 'C-FIND' && l.relational === true).length).toBe(3);
  });

  it('without the negotiation the same query is refused: A900H naming the missing key', async () => {
    const error = await collect(
      baseline,
      { '00080018': uid(images[4]!.sopInstanceUid) },
      'IMAGE',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error).toMatchObject({ status: 0xa900 });
  });

  it('hierarchical IMAGE query with the study and a universal series: every instance of the study', async () => {
    const study = images[0]!.studyInstanceUid;
    const rows = await collect(
      baseline,
      { '0020000D': uid(study), '0020000E': { vr: 'UI' }, '00080018': { vr: 'UI' } },
      'IMAGE',
    );
    expect(sops(rows)).toEqual(
      images
        .filter((i) => i.studyInstanceUid === study)
        .map((i) => i.sopInstanceUid)
        .sort(),
    );
    expect(new Set(rows.map((r) => r['0020000E']?.Value?.[0])).size).toBe(2);
  });

  it('relational C-GET: one instance by its SOP Instance UID alone', async () => {
    const target = images[7]!;
    const got: string[] = [];
    const getter = await connectClient(scp.port, [
      queryRetrieve('study', { operations: ['get'], relational: true }),
      storage(CT_IMAGE_STORAGE, undefined, { role: 'scp' }),
    ]);
    try {
      const result = await getter.get(
        { '00080018': uid(target.sopInstanceUid) },
        {
          level: 'IMAGE',
          sink: async (instance) => {
            for await (const _ of instance.dataSet);
            got.push(instance.sopInstanceUid);
            return 0;
          },
        },
      );
      expect(result).toMatchObject({ status: 0, completed: 1 });
      expect(got).toEqual([target.sopInstanceUid]);
    } finally {
      await getter.release();
    }
  });
});
