/**
 * The keyword form through the public API, against dnet's own Server: C-FIND,
 * C-MOVE and C-GET identifiers, worklist items and DIMSE-N data sets given by
 * keyword; matches read by keyword; DICOM JSON still taken; errors typed.
 */
import { MixedKeysError, UnknownKeywordError } from '@dnet/dataset';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Client } from './client.js';
import { mpps as mppsContext, queryRetrieve, retrieveContexts } from './contexts.js';
import { bytesOf, uidsOf } from './instances.test-support.js';
import { asDicomJson, dataSetOf, type KeywordAttributes, toKeywords } from './keywords.js';
import { MemoryArchive } from './memory-archive.js';
import { createMpps, MppsScp } from './mpps.js';
import { archiveWith, collect, moveSetup, setup } from './server.test-support.js';
import { SopClass } from './sop-class.js';
import { worklist, worklistFind } from './worklist.js';

const CT = SopClass.CT_IMAGE_STORAGE;

describe('keyword queries against dnet Server', () => {
  it('C-FIND by keyword matches as DICOM JSON does; matches read by keyword', async () => {
    const archive = await archiveWith();
    const { server, connect } = await setup(archive.handlers());
    const client = await connect([queryRetrieve('study')]);
    const byKeyword = await collect(
      client.find(
        { PatientName: 'DOE^PATIENT1', StudyInstanceUID: '', StudyDate: null },
        { level: 'STUDY' },
      ),
    );
    const byJson = await collect(
      client.find(
        {
          '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^PATIENT1' }] },
          '0020000D': { vr: 'UI' },
          '00080020': { vr: 'DA' },
        },
        { level: 'STUDY' },
      ),
    );
    expect(byKeyword).toHaveLength(2);
    expect(byKeyword).toEqual(byJson);
    const studies = await collect(
      client.find(
        { PatientName: 'DOE^PATIENT1', StudyInstanceUID: '', StudyDate: '' },
        { level: 'STUDY', as: 'keywords' },
      ),
    );
    expectTypeOf(studies).toEqualTypeOf<KeywordAttributes[]>();
    const u1 = uidsOf({ patient: 1, study: 1, series: 1, instance: 1 });
    const u2 = uidsOf({ patient: 1, study: 2, series: 1, instance: 1 });
    expect(studies.map((s) => s.StudyInstanceUID).sort()).toEqual([u1.study, u2.study]);
    expect(studies[0]).toMatchObject({
      PatientName: 'DOE^PATIENT1',
      QueryRetrieveLevel: 'STUDY',
    });
    expect(toKeywords(byJson[0]!)).toEqual(
      studies.find((s) => s.StudyInstanceUID === toKeywords(byJson[0]!).StudyInstanceUID),
    );
    // Wildcard matching and a numeric return key (IS, PS3.4 §C.6.1.1.4).
    const series = await collect(
      client.find(
        { StudyInstanceUID: u1.study, SeriesInstanceUID: '', Modality: 'M*', SeriesNumber: null },
        { level: 'SERIES', as: 'keywords' },
      ),
    );
    expect(series).toEqual([
      expect.objectContaining({
        Modality: 'MR',
        SeriesNumber: 2,
        SeriesInstanceUID: `${u1.study}.2`,
      }),
    ]);
    await client.release();
    await server.close();
  });

  it('C-MOVE and C-GET by keyword retrieve what the DICOM JSON identifier would', async () => {
    const archive = await archiveWith();
    const dest = new MemoryArchive();
    const { connect, close } = await moveSetup(archive, (i) => dest.store(i));
    const study = uidsOf({ patient: 2, study: 1, series: 1, instance: 1 }).study;
    const mover = await connect([queryRetrieve('study')]);
    const moved = await mover.move(
      { StudyInstanceUID: study },
      { level: 'STUDY', destination: 'DEST' },
    );
    expect(moved).toMatchObject({ status: 0, completed: 4, failed: 0 });
    const expected = archive
      .retrieve({ '0020000D': { vr: 'UI', Value: [study] } })
      .map((i) => i.sopInstanceUid)
      .sort();
    expect([...dest.instances.keys()].sort()).toEqual(expected);
    await mover.release();

    const getter = await connect(retrieveContexts('study', [CT]));
    const series = uidsOf({ patient: 2, study: 1, series: 2, instance: 1 }).series;
    const got = new Map<string, Uint8Array>();
    const result = await getter.get(
      { StudyInstanceUID: study, SeriesInstanceUID: series },
      { level: 'SERIES', sink: async (i) => void got.set(i.sopInstanceUid, await bytesOf(i)) },
    );
    expect(result).toMatchObject({ status: 0, completed: 2, failed: 0 });
    expect([...got.keys()].sort()).toEqual([`${series}.1`, `${series}.2`]);
    await getter.release();
    await close();
  });

  it('refuses an unknown keyword and mixed keys with typed errors, before anything is sent', async () => {
    let finds = 0;
    const { server, connect } = await setup({
      find: () => {
        finds++;
        return [];
      },
    });
    const client = await connect([queryRetrieve('study')]);
    const unknown = await collect(
      client.find({ PatientNmae: 'x' } as never, { level: 'STUDY' }),
    ).catch((e) => e);
    expect(unknown).toBeInstanceOf(UnknownKeywordError);
    expect(unknown.code).toBe('DNET_DATASET_UNKNOWN_KEYWORD');
    const mixed = await collect(
      client.find({ StudyInstanceUID: '1.2', '0020000E': { vr: 'UI' } } as never, {
        level: 'STUDY',
      }),
    ).catch((e) => e);
    expect(mixed).toBeInstanceOf(MixedKeysError);
    expect(finds).toBe(0);
    // The association is still usable.
    expect(await collect(client.find({ StudyInstanceUID: '' }, { level: 'STUDY' }))).toEqual([]);
    expect(finds).toBe(1);
    await client.release();
    await server.close();
  });

  it('a find handler and a worklist may answer with keyword data sets', async () => {
    const items = [
      {
        PatientName: 'DOE^JOHN',
        PatientID: 'P1',
        ScheduledProcedureStepSequence: {
          Modality: 'CT',
          ScheduledStationAETitle: 'CT1',
          ScheduledProcedureStepStartDate: '20240102',
        },
      },
      {
        PatientName: 'ROE^JANE',
        PatientID: 'P2',
        ScheduledProcedureStepSequence: { Modality: 'MR', ScheduledStationAETitle: 'MR1' },
      },
    ];
    const { server, connect } = await setup({
      find: worklistFind(items, () => [{ PatientID: 'P9', StudyInstanceUID: '1.2.3' }]),
    });
    const client = await connect([worklist(), queryRetrieve('study')]);
    const found = await collect(
      client.find(
        {
          PatientName: '',
          ScheduledProcedureStepSequence: { Modality: 'CT', ScheduledStationAETitle: '' },
        },
        { sopClassUid: SopClass.MODALITY_WORKLIST_FIND, as: 'keywords' },
      ),
    );
    expect(found).toEqual([
      {
        PatientName: 'DOE^JOHN',
        ScheduledProcedureStepSequence: [{ Modality: 'CT', ScheduledStationAETitle: 'CT1' }],
      },
    ]);
    const other = await collect(client.find({ PatientID: '' }, { level: 'STUDY', as: 'keywords' }));
    expect(other).toEqual([{ PatientID: 'P9', StudyInstanceUID: '1.2.3' }]);
    await client.release();
    await server.close();
  });

  it('DIMSE-N data sets may be given by keyword (MPPS N-CREATE)', async () => {
    const mpps = new MppsScp();
    const { server, connect } = await setup({ nServices: [mpps.service] });
    const client = await connect([mppsContext()]);
    const created = await createMpps(client.association, {
      PerformedProcedureStepStatus: 'IN PROGRESS',
      PatientName: 'DOE^JOHN',
      PerformedStationAETitle: 'CT1',
      ScheduledStepAttributesSequence: { StudyInstanceUID: '1.2.3' },
    });
    expect(created.status).toBe(0);
    const step = mpps.get(created.sopInstanceUid!);
    expect(toKeywords(step!)).toMatchObject({
      PerformedProcedureStepStatus: 'IN PROGRESS',
      PatientName: 'DOE^JOHN',
      ScheduledStepAttributesSequence: [{ StudyInstanceUID: '1.2.3' }],
    });
    await client.release();
    await server.close();
  });
});

describe('keyword types in the Client API', () => {
  it('refuses misspelt keywords and values of the wrong kind at compile time', () => {
    // Never called: `tsc --noEmit` (pnpm typecheck) checks each line, and an
    // unused @ts-expect-error fails it.
    const typed = (client: Client) => {
      // @ts-expect-error PatientNmae is not a keyword
      client.find({ PatientNmae: 'x' }, { level: 'STUDY' });
      // @ts-expect-error Rows (US) takes numbers
      client.move({ Rows: 'x' }, { level: 'STUDY', destination: 'X' });
      // @ts-expect-error a misspelt keyword beside a right one
      client.get({ StudyInstanceUID: '1', SeriesInstanceUD: '' }, { sink: () => 0 });
      client.find({ PatientName: 'DOE^*', StudyInstanceUID: '' }, { level: 'STUDY' });
    };
    expect(typed).toBeTypeOf('function');
  });
});

describe('asDicomJson and dataSetOf', () => {
  it('take the three forms and leave a given DataSet untouched', () => {
    const json = { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE' }] } };
    expect(asDicomJson(json)).toBe(json);
    expect(asDicomJson({ PatientName: 'DOE' })).toEqual(json);
    const ds = dataSetOf({ PatientName: 'DOE', Rows: 2 });
    expect(ds.string('PatientName')).toBe('DOE');
    const copy = dataSetOf(ds);
    copy.setNumber('Rows', 3);
    expect(ds.number('Rows')).toBe(2);
  });
});
