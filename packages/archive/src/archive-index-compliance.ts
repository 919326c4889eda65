import type { DicomJsonDataSet } from '@dnet/dataset';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveIndex, InstanceRecord } from './archive-index.js';
import { collect, column, empty, value } from './compliance-helpers.js';
import { ArchiveErrorCode } from './errors.js';
import { describeUpperKeys } from './upper-keys-compliance.js';

/**
 * The behaviour every {@link ArchiveIndex} implementation must show, as a
 * vitest suite: upserts and pruning, every query level and matching kind, the
 * hierarchy rules (with `describeUpperKeys`), retrieve selection. `SqliteIndex` runs it; a PostgreSQL
 * index calls `describeArchiveIndex('PgIndex', () => openPg())` in its own test.
 * Test code only: it imports vitest.
 */

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const MR = '1.2.840.10008.5.1.4.1.1.4';
export const CR = '1.2.840.10008.5.1.4.1.1.1';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A compact description of one test instance. */
export interface Spec {
  patientId?: string;
  patientName?: string;
  birthDate?: string;
  sex?: string;
  studyUid: string;
  studyDate?: string;
  studyTime?: string;
  accession?: string;
  studyId?: string;
  studyDescription?: string;
  referring?: string;
  seriesUid: string;
  modality?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  sopUid: string;
  sopClass?: string;
  instanceNumber?: number;
  extra?: DicomJsonDataSet;
  size?: number;
}

function str(vr: string, value: string | undefined) {
  return value === undefined ? undefined : { vr, Value: [value] };
}

/** The index record of a test instance. */
export function record(s: Spec): InstanceRecord {
  const attributes: Record<string, unknown> = {
    '00080016': { vr: 'UI', Value: [s.sopClass ?? CT] },
    '00080018': { vr: 'UI', Value: [s.sopUid] },
    '00080020': str('DA', s.studyDate),
    '00080030': str('TM', s.studyTime),
    '00080050': str('SH', s.accession),
    '00080060': str('CS', s.modality),
    '00080090':
      s.referring === undefined ? undefined : { vr: 'PN', Value: [{ Alphabetic: s.referring }] },
    '00081030': str('LO', s.studyDescription),
    '0008103E': str('LO', s.seriesDescription),
    '00100010':
      s.patientName === undefined
        ? undefined
        : { vr: 'PN', Value: [{ Alphabetic: s.patientName }] },
    '00100020': str('LO', s.patientId),
    '00100030': str('DA', s.birthDate),
    '00100040': str('CS', s.sex),
    '0020000D': { vr: 'UI', Value: [s.studyUid] },
    '0020000E': { vr: 'UI', Value: [s.seriesUid] },
    '00200010': str('SH', s.studyId),
    '00200011': s.seriesNumber === undefined ? undefined : { vr: 'IS', Value: [s.seriesNumber] },
    '00200013':
      s.instanceNumber === undefined ? undefined : { vr: 'IS', Value: [s.instanceNumber] },
    ...s.extra,
  };
  for (const k of Object.keys(attributes)) if (attributes[k] === undefined) delete attributes[k];
  return {
    path: `${s.studyUid}/${s.seriesUid}/${s.sopUid}.dcm`,
    transferSyntaxUid: EXPLICIT_LE,
    size: s.size ?? 1000,
    attributes: attributes as DicomJsonDataSet,
  };
}

const JANE = {
  patientId: 'PID1',
  patientName: 'DOE^JANE',
  birthDate: '19700101',
  sex: 'F',
};
const HANS = {
  patientId: 'PID2',
  patientName: 'Müller^Hans',
  birthDate: '19851231',
  sex: 'M',
};
const JOHN = { patientId: 'PID3', patientName: 'DOE^JOHN', sex: 'M' };
/** Study 1 of the sample data. */
export const S1 = {
  ...JANE,
  studyUid: '1.2.3.1',
  studyDate: '20200115',
  studyTime: '101500',
  accession: 'ACC1',
  studyId: 'ST1',
  studyDescription: 'CT Head',
  referring: 'SMITH^JOHN',
};
/** Study 2 of the sample data. */
export const S2 = {
  ...JANE,
  studyUid: '1.2.3.2',
  studyDate: '20210620',
  accession: 'ACC2',
  studyDescription: 'MR Brain',
};
/** Study 3 of the sample data. */
export const S3 = {
  ...HANS,
  studyUid: '1.2.3.3',
  studyDate: '20200301',
  accession: 'ACC3',
  studyDescription: 'Chest',
};
/** Study 4 of the sample data. */
export const S4 = { ...JOHN, studyUid: '1.2.3.4', studyDate: '20190505', accession: 'ACC4' };

/** 4 patients' worth of data: 3 patients, 4 studies, 5 series, 8 instances. */
export const DATA: Spec[] = [
  ...[1, 2, 3].map((n) => ({
    ...S1,
    seriesUid: '1.2.3.1.1',
    modality: 'CT',
    seriesNumber: 1,
    seriesDescription: 'Axial',
    sopUid: `1.2.3.1.1.${n}`,
    instanceNumber: n,
    extra: { '00280010': { vr: 'US', Value: [512] } },
  })),
  {
    ...S1,
    seriesUid: '1.2.3.1.2',
    modality: 'MR',
    seriesNumber: 2,
    sopUid: '1.2.3.1.2.1',
    sopClass: MR,
    instanceNumber: 1,
  },
  ...[1, 2].map((n) => ({
    ...S2,
    seriesUid: '1.2.3.2.1',
    modality: 'MR',
    seriesNumber: 1,
    sopUid: `1.2.3.2.1.${n}`,
    sopClass: MR,
    instanceNumber: n,
  })),
  {
    ...S3,
    seriesUid: '1.2.3.3.1',
    modality: 'CR',
    seriesNumber: 1,
    sopUid: '1.2.3.3.1.1',
    sopClass: CR,
  },
  { ...S4, seriesUid: '1.2.3.4.1', modality: 'CT', sopUid: '1.2.3.4.1.1' },
];

/** A PN key or attribute (Alphabetic group). */
export const pn = (name: string) => ({ vr: 'PN', Value: [{ Alphabetic: name }] });

export function dropTag(rec: InstanceRecord, tag: string): InstanceRecord {
  const attributes = { ...rec.attributes };
  delete attributes[tag];
  return { ...rec, attributes };
}

export function withTag(rec: InstanceRecord, tag: string, attribute: unknown): InstanceRecord {
  return { ...rec, attributes: { ...rec.attributes, [tag]: attribute } as DicomJsonDataSet };
}

/**
 * Registers the compliance suite for one implementation.
 *
 * @param name - shown in the test names
 * @param open - returns a new, empty index for each test (closed after it)
 */
export function describeArchiveIndex(
  name: string,
  open: () => ArchiveIndex | Promise<ArchiveIndex>,
): void {
  let index: ArchiveIndex;
  beforeEach(async () => {
    index = await open();
  });
  afterEach(async () => {
    await index.close();
  });

  async function load(): Promise<void> {
    for (const spec of DATA) await index.put(record(spec));
  }

  describeUpperKeys(name, () => index, load);

  describe(`${name}: lifecycle`, () => {
    it('rejects calls after close', async () => {
      await index.close();
      await expect(index.count()).rejects.toMatchObject({ code: ArchiveErrorCode.INDEX_CLOSED });
      await expect(collect(index.find('PATIENT', {}))).rejects.toMatchObject({
        code: ArchiveErrorCode.INDEX_CLOSED,
      });
      await index.close(); // idempotent
    });
  });

  describe(`${name}: put, get, remove`, () => {
    it('creates patient, study and series rows', async () => {
      await load();
      expect(await index.count()).toEqual({ patients: 3, studies: 4, series: 5, instances: 8 });
      const got = await index.get('1.2.3.1.1.2');
      expect(got).toEqual(record(DATA[1] as Spec));
    });

    it('upserts by SOP Instance UID', async () => {
      await load();
      const spec = { ...(DATA[0] as Spec), size: 4242, instanceNumber: 99 };
      expect(await index.put(record(spec))).toEqual({ replaced: true });
      expect(await index.count()).toMatchObject({ instances: 8 });
      expect((await index.get(spec.sopUid))?.size).toBe(4242);
      const found = await collect(
        index.find('IMAGE', {
          '0020000D': value('UI', '1.2.3.1'),
          '0020000E': value('UI', '1.2.3.1.1'),
          '00080018': value('UI', spec.sopUid),
          '00200013': empty('IS'),
        }),
      );
      expect(column(found, '00200013')).toEqual([99]);
    });

    it('moves a re-sent instance to its new series, reports the old path, prunes empties', async () => {
      await load();
      const before = record(DATA[7] as Spec); // the only instance of study 1.2.3.4
      const moved = { ...(DATA[7] as Spec), ...S1, seriesUid: '1.2.3.1.9' };
      expect(await index.put(record(moved))).toEqual({ replaced: true, previousPath: before.path });
      // PID3's only study is gone, and so is PID3.
      expect(await index.count()).toEqual({ patients: 2, studies: 3, series: 5, instances: 8 });
    });

    it('updates study attributes from later instances and keeps the others', async () => {
      await load();
      await index.put(
        record({
          ...S1,
          studyDescription: 'CT Head with contrast',
          accession: undefined,
          seriesUid: '1.2.3.1.1',
          sopUid: '1.2.3.1.1.4',
        }),
      );
      const [study] = await collect(
        index.find('STUDY', {
          '0020000D': value('UI', '1.2.3.1'),
          '00081030': empty('LO'),
          '00080050': empty('SH'),
        }),
      );
      expect(study?.['00081030']?.Value).toEqual(['CT Head with contrast']);
      expect(study?.['00080050']?.Value).toEqual(['ACC1']);
    });

    it('removes an instance and prunes empty series, study and patient', async () => {
      await load();
      const removed = await index.remove('1.2.3.3.1.1');
      expect(removed?.path).toBe('1.2.3.3/1.2.3.3.1/1.2.3.3.1.1.dcm');
      expect(await index.remove('1.2.3.3.1.1')).toBeUndefined();
      expect(await index.count()).toEqual({ patients: 2, studies: 3, series: 4, instances: 7 });
      await index.remove('1.2.3.1.2.1'); // series 1.2.3.1.2 goes, study 1.2.3.1 stays
      expect(await index.count()).toEqual({ patients: 2, studies: 3, series: 3, instances: 6 });
    });

    it('refuses a record with NUL inside a value, as PostgreSQL cannot hold it (PS3.5 §6.2)', async () => {
      const spec = DATA[0] as Spec;
      const cases: DicomJsonDataSet[] = [
        { '00081030': value('LO', 'HEAD\u0000NECK') },
        { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE\u0000' }] } },
        { '00081032': { vr: 'SQ', Value: [{ '00080100': value('SH', 'A\u0000') }] } },
      ];
      for (const extra of cases) {
        const tag = Object.keys(extra)[0];
        await expect(index.put(record({ ...spec, extra }))).rejects.toMatchObject({
          code: ArchiveErrorCode.INVALID_RECORD,
          tag,
        });
      }
      // Other control characters are kept (the file is the data set as received).
      await index.put(record({ ...spec, extra: { '00081030': value('LO', 'HEAD\u0001') } }));
      expect((await index.get(spec.sopUid))?.attributes['00081030']).toEqual(
        value('LO', 'HEAD\u0001'),
      );
      expect(await index.count()).toMatchObject({ instances: 1 });
    });

    it('answers hasInstance by both UIDs (storage commitment)', async () => {
      await load();
      expect(await index.hasInstance('1.2.3.1.2.1', MR)).toBe(true);
      expect(await index.hasInstance('1.2.3.1.2.1', CT)).toBe(false);
      expect(await index.hasInstance('9.9', MR)).toBe(false);
    });

    it('rejects records without valid UIDs, path, size or shape', async () => {
      const good = record(DATA[0] as Spec);
      const bad: [string, InstanceRecord, string?][] = [
        ['no SOP Instance UID', dropTag(good, '00080018'), '00080018'],
        ['no SOP Class UID', dropTag(good, '00080016'), '00080016'],
        ['no Study UID', dropTag(good, '0020000D'), '0020000D'],
        ['no Series UID', dropTag(good, '0020000E'), '0020000E'],
        ['two SOP Instance UIDs', withTag(good, '00080018', value('UI', '1.2', '1.3')), '00080018'],
        ['hostile UID', withTag(good, '0020000D', value('UI', '../x')), '0020000D'],
        ['lower-case tag', withTag(good, '0020000d', value('UI', '1.2')), undefined],
        ['no path', { ...good, path: '' }],
        ['negative size', { ...good, size: -1 }],
        ['bad transfer syntax', { ...good, transferSyntaxUid: 'x' }],
      ];
      for (const [name, rec, tag] of bad) {
        const error = await index.put(rec).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, name).toMatchObject({ code: ArchiveErrorCode.INVALID_RECORD });
        if (tag) expect((error as { tag?: string }).tag, name).toBe(tag);
      }
      expect(await index.count()).toMatchObject({ instances: 0 });
    });
  });

  describe(`${name}: PATIENT level (Patient Root, PS3.4 §C.6.1.1.2)`, () => {
    beforeEach(load);

    it('wild card on the name, case-insensitive, with the related counts', async () => {
      const found = await collect(
        index.find('PATIENT', {
          '00080052': value('CS', 'PATIENT'),
          '00100010': pn('doe*'),
          '00100020': empty('LO'),
          '00201200': empty('IS'),
          '00201202': empty('IS'),
          '00201204': empty('IS'),
        }),
      );
      expect(column(found, '00100020')).toEqual(['PID1', 'PID3']);
      expect(found[0]).toEqual({
        '00080052': value('CS', 'PATIENT'),
        '00100010': pn('DOE^JANE'),
        '00100020': value('LO', 'PID1'),
        '00201200': value('IS', 2),
        '00201202': value('IS', 3),
        '00201204': value('IS', 6),
      });
    });

    it('single value match on the name ignores case, also beyond ASCII', async () => {
      expect(
        column(await collect(index.find('PATIENT', { '00100010': pn('doe^jane') })), '00100010'),
      ).toHaveLength(1);
      const found = await collect(
        index.find('PATIENT', { '00100010': pn('MÜLLER*'), '00100020': empty('LO') }),
      );
      expect(column(found, '00100020')).toEqual(['PID2']);
    });

    it('? wild card (left to matches())', async () => {
      const found = await collect(
        index.find('PATIENT', { '00100010': pn('DOE^JO?N'), '00100020': empty('LO') }),
      );
      expect(column(found, '00100020')).toEqual(['PID3']);
    });

    it('birth date range, sex, and universal keys', async () => {
      const after = await collect(
        index.find('PATIENT', { '00100030': value('DA', '19800101-'), '00100020': empty('LO') }),
      );
      expect(column(after, '00100020')).toEqual(['PID2']);
      const male = await collect(
        index.find('PATIENT', { '00100040': value('CS', 'M'), '00100030': empty('DA') }),
      );
      expect(male.map((r) => r['00100030'])).toEqual([value('DA', '19851231'), empty('DA')]);
      expect(await collect(index.find('PATIENT', { '00100020': empty('LO') }))).toHaveLength(3);
    });

    it('patient IDs with no match and hostile values find nothing and break nothing', async () => {
      for (const id of ["x' OR '1'='1", '%', '_', '[a]', 'PID1; DROP TABLE patient;--']) {
        expect(await collect(index.find('PATIENT', { '00100020': value('LO', id) }))).toEqual([]);
      }
      expect(await collect(index.find('PATIENT', { '00100010': pn('[D]OE*') }))).toEqual([]);
      expect(await index.count()).toMatchObject({ patients: 3 });
    });

    it('control characters in a key value: A900H naming the key; ESC (ISO 2022) still matches', async () => {
      // PS3.5 §6.1.2.3, §6.2: string values hold no control characters but ESC
      // (and TAB, LF, FF, CR in LT, ST, UT, UC): NUL is no value a stored
      // attribute can equal, and PostgreSQL cannot even bind it (0x00 in UTF-8 text).
      const bad: [DicomJsonDataSet, string][] = [
        [{ '00100020': value('LO', 'PID1\u0000') }, '00100020'],
        [{ '00100020': value('LO', '\u0000') }, '00100020'],
        [{ '00100010': pn('DOE\u0000*') }, '00100010'],
        [{ '00100010': { vr: 'PN', Value: [{ Ideographic: 'D\u0000' }] } }, '00100010'],
        [{ '00100030': value('DA', '2000\u00000101') }, '00100030'],
        [{ '00100020': value('LO', 'PID1', 'P\u0007') }, '00100020'],
        [{ '00101002': { vr: 'SQ', Value: [{ '00100020': value('LO', 'X\u0000') }] } }, '00101002'],
      ];
      for (const [query, offending] of bad) {
        await expect(collect(index.find('PATIENT', query))).rejects.toMatchObject({
          code: ArchiveErrorCode.INVALID_QUERY,
          offendingElement: offending,
        });
      }
      await expect(
        index.instances('PATIENT', { '00100020': value('LO', 'PID1\u0000') }),
      ).rejects.toMatchObject({
        code: ArchiveErrorCode.INVALID_QUERY,
        offendingElement: '00100020',
      });
      await expect(
        collect(index.find('STUDY', { '0020000D': value('UI', '1.2.3.1\u0000') })),
      ).rejects.toMatchObject({
        code: ArchiveErrorCode.INVALID_QUERY,
        offendingElement: '0020000D',
      });
      // ESC introduces ISO 2022 code extensions (PS3.5 §6.1.2.5.3): a valid value.
      expect(await collect(index.find('PATIENT', { '00100010': pn('\u001b$BDOE*') }))).toEqual([]);
      // The index still works afterwards.
      expect(await index.count()).toMatchObject({ patients: 3 });
    });
  });

  describe(`${name}: STUDY level (PS3.4 §C.6.1.1.3, §C.6.2.1.2)`, () => {
    beforeEach(load);
    const studyKeys = { '0020000D': empty('UI') };

    const uids = async (query: DicomJsonDataSet, options = {}) =>
      column(await collect(index.find('STUDY', { ...studyKeys, ...query }, options)), '0020000D');

    it('date: single, closed, open ranges', async () => {
      expect(await uids({ '00080020': value('DA', '20200115') })).toEqual(['1.2.3.1']);
      expect(await uids({ '00080020': value('DA', '20200101-20201231') })).toEqual([
        '1.2.3.1',
        '1.2.3.3',
      ]);
      expect(await uids({ '00080020': value('DA', '-20191231') })).toEqual(['1.2.3.4']);
      expect(await uids({ '00080020': value('DA', '20210101-') })).toEqual(['1.2.3.2']);
    });

    it('time range (matches() only)', async () => {
      expect(await uids({ '00080030': value('TM', '1000-1100') })).toEqual(['1.2.3.1']);
    });

    it('accession, study ID, description wild card, referring physician', async () => {
      expect(await uids({ '00080050': value('SH', 'ACC3') })).toEqual(['1.2.3.3']);
      expect(await uids({ '00200010': value('SH', 'ST1') })).toEqual(['1.2.3.1']);
      expect(await uids({ '00081030': value('LO', '*Brain') })).toEqual(['1.2.3.2']);
      expect(await uids({ '00081030': value('LO', '*brain') })).toEqual([]); // LO is case-sensitive
      expect(await uids({ '00080090': pn('smith^john') })).toEqual(['1.2.3.1']);
    });

    it('list of UID matching (PS3.4 §C.2.2.2.2)', async () => {
      expect(await uids({ '0020000D': value('UI', '1.2.3.3', '1.2.3.1', '9.9') })).toEqual([
        '1.2.3.1',
        '1.2.3.3',
      ]);
    });

    it('a `*` UID at the query level means any; above it, it is no unique key', async () => {
      expect(await uids({ '0020000D': value('UI', '*') })).toEqual([
        '1.2.3.1',
        '1.2.3.2',
        '1.2.3.3',
        '1.2.3.4',
      ]);
      await expect(
        collect(index.find('SERIES', { '0020000D': value('UI', '*'), '0020000E': empty('UI') })),
      ).rejects.toMatchObject({
        code: ArchiveErrorCode.INVALID_QUERY,
        offendingElement: '0020000D',
      });
    });

    it('patient attributes at the study level (Study Root)', async () => {
      expect(await uids({ '00100010': pn('DOE^*') })).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.4']);
      expect(await uids({ '00100020': value('LO', 'PID2') })).toEqual(['1.2.3.3']);
    });

    it('modalities in study: matching on any value, returned as a list', async () => {
      const found = await collect(
        index.find('STUDY', {
          ...studyKeys,
          '00080061': value('CS', 'MR'),
          '00080062': empty('UI'),
          '00201206': empty('IS'),
          '00201208': empty('IS'),
        }),
      );
      expect(column(found, '0020000D')).toEqual(['1.2.3.1', '1.2.3.2']);
      expect(found[0]?.['00080061']).toEqual(value('CS', 'CT', 'MR'));
      expect([...((found[0]?.['00080062']?.Value as string[]) ?? [])].sort()).toEqual([CT, MR]);
      expect(found[0]?.['00201206']).toEqual(value('IS', 2));
      expect(found[0]?.['00201208']).toEqual(value('IS', 4));
      expect(await uids({ '00080061': value('CS', 'CR', 'XA') })).toEqual(['1.2.3.3']);
    });

    it('Patient Root needs the Patient ID (hierarchical, PS3.4 §C.4.1.2.1)', async () => {
      const error = await collect(index.find('STUDY', studyKeys, { model: 'PATIENT_ROOT' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: ArchiveErrorCode.INVALID_QUERY,
        status: 0xa900,
        offendingElement: '00100020',
      });
      expect(await uids({ '00100020': value('LO', 'PID1') }, { model: 'PATIENT_ROOT' })).toEqual([
        '1.2.3.1',
        '1.2.3.2',
      ]);
      // A wild card is no unique key.
      await expect(
        uids({ '00100020': value('LO', 'PID*') }, { model: 'PATIENT_ROOT' }),
      ).rejects.toMatchObject({ code: ArchiveErrorCode.INVALID_QUERY });
      // Relational queries may leave it out.
      expect(await uids({}, { model: 'PATIENT_ROOT', relational: true })).toHaveLength(4);
    });

    it("responses carry the level, the values' character set and the Retrieve AE Title", async () => {
      await index.put(
        record({
          ...S3,
          seriesUid: '1.2.3.3.1',
          sopUid: '1.2.3.3.1.5',
          sopClass: CR,
          extra: { '00080005': value('CS', 'ISO_IR 100') },
        }),
      );
      const found = await collect(
        index.find('STUDY', { '00100010': pn('M*') }, { retrieveAeTitle: 'DNETSCP' }),
      );
      expect(found).toEqual([
        {
          '00100010': pn('Müller^Hans'),
          '00080052': value('CS', 'STUDY'),
          '00080005': value('CS', 'ISO_IR 100'),
          '00080054': value('AE', 'DNETSCP'),
        },
      ]);
    });

    it('patients without a Patient ID are told apart by name and birth date', async () => {
      const anonymous = (name: string, studyUid: string) =>
        record({
          patientId: '',
          patientName: name,
          birthDate: '20000101',
          studyUid,
          seriesUid: `${studyUid}.1`,
          sopUid: `${studyUid}.1.1`,
        });
      await index.put(anonymous('ALPHA^A', '1.2.5.1'));
      await index.put(anonymous('BETA^B', '1.2.5.2'));
      await index.put(anonymous('alpha^a', '1.2.5.3')); // PN identity ignores case
      expect(await index.count()).toMatchObject({ patients: 5, studies: 7 });
      expect(await uids({ '00100010': pn('BETA^B') })).toEqual(['1.2.5.2']);
      expect(await uids({ '00100010': pn('ALPHA^A') })).toEqual(['1.2.5.1', '1.2.5.3']);
    });

    it('keys of lower levels are not matched and come back empty', async () => {
      const found = await collect(
        index.find('STUDY', { ...studyKeys, '00080060': value('CS', 'XX') }),
      );
      expect(found).toHaveLength(4);
      expect(found[0]?.['00080060']).toEqual(empty('CS'));
    });

    it('limit and AbortSignal', async () => {
      expect(await collect(index.find('STUDY', studyKeys, { limit: 2 }))).toHaveLength(2);
      expect(await collect(index.find('STUDY', studyKeys, { limit: 0 }))).toHaveLength(0);
      const controller = new AbortController();
      controller.abort();
      await expect(
        collect(index.find('STUDY', studyKeys, { signal: controller.signal })),
      ).rejects.toMatchObject({ name: 'AbortError' });
      // Aborted between responses (a C-CANCEL arrived).
      const live = new AbortController();
      const seen: DicomJsonDataSet[] = [];
      await expect(
        (async () => {
          for await (const r of index.find('STUDY', studyKeys, { signal: live.signal })) {
            seen.push(r);
            live.abort();
          }
        })(),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen).toHaveLength(1);
    });

    it('refuses a level outside the model, a disagreeing Query/Retrieve Level, a malformed query', async () => {
      const cases: [Parameters<ArchiveIndex['find']>, string | undefined][] = [
        [['PATIENT', {}, { model: 'STUDY_ROOT' }], '00080052'],
        [['WARD' as 'STUDY', {}], '00080052'],
        [['STUDY', { '00080052': value('CS', 'SERIES') }], '00080052'],
        [['STUDY', { '0020000d': empty('UI') }], undefined],
      ];
      for (const [args, offending] of cases) {
        await expect(collect(index.find(...args))).rejects.toMatchObject({
          code: ArchiveErrorCode.INVALID_QUERY,
          offendingElement: offending,
        });
      }
    });
  });

  describe(`${name}: SERIES and IMAGE levels`, () => {
    beforeEach(load);

    it('SERIES needs a single Study Instance UID; matches modality, number, counts', async () => {
      const found = await collect(
        index.find('SERIES', {
          '0020000D': value('UI', '1.2.3.1'),
          '0020000E': empty('UI'),
          '00080060': value('CS', 'CT'),
          '00200011': empty('IS'),
          '0008103E': empty('LO'),
          '00201209': empty('IS'),
        }),
      );
      expect(found).toEqual([
        {
          '00080052': value('CS', 'SERIES'), // added: PS3.4 §C.4.1.1.3.2
          '0020000D': value('UI', '1.2.3.1'),
          '0020000E': value('UI', '1.2.3.1.1'),
          '00080060': value('CS', 'CT'),
          '00200011': value('IS', 1),
          '0008103E': value('LO', 'Axial'),
          '00201209': value('IS', 3),
        },
      ]);
      await expect(
        collect(index.find('SERIES', { '0020000E': empty('UI') })),
      ).rejects.toMatchObject({
        offendingElement: '0020000D',
      });
      await expect(
        collect(
          index.find('SERIES', {
            '0020000D': value('UI', '1.2.3.1', '1.2.3.2'),
            '0020000E': empty('UI'),
          }),
        ),
      ).rejects.toMatchObject({ offendingElement: '0020000D' });
      // Series number (IS) single value match.
      const second = await collect(
        index.find('SERIES', {
          '0020000D': value('UI', '1.2.3.1'),
          '00200011': value('IS', '2'),
          '0020000E': empty('UI'),
        }),
      );
      expect(column(second, '0020000E')).toEqual(['1.2.3.1.2']);
    });

    it('SERIES in Patient Root needs Patient ID and Study UID', async () => {
      const query = { '0020000D': value('UI', '1.2.3.2'), '0020000E': empty('UI') };
      await expect(
        collect(index.find('SERIES', query, { model: 'PATIENT_ROOT' })),
      ).rejects.toMatchObject({ offendingElement: '00100020' });
      const found = await collect(
        index.find(
          'SERIES',
          { ...query, '00100020': value('LO', 'PID1') },
          { model: 'PATIENT_ROOT' },
        ),
      );
      expect(column(found, '0020000E')).toEqual(['1.2.3.2.1']);
      // The hierarchy holds: PID2 has no study 1.2.3.2.
      expect(
        await collect(
          index.find(
            'SERIES',
            { ...query, '00100020': value('LO', 'PID2') },
            { model: 'PATIENT_ROOT' },
          ),
        ),
      ).toEqual([]);
    });

    it('IMAGE: SOP class, instance number, any stored attribute, available transfer syntax', async () => {
      const base = {
        '0020000D': value('UI', '1.2.3.1'),
        '0020000E': value('UI', '1.2.3.1.1'),
        '00080018': empty('UI'),
      };
      const all = await collect(
        index.find('IMAGE', { ...base, '00200013': empty('IS'), '00083002': empty('UI') }),
      );
      expect(column(all, '00200013')).toEqual([1, 2, 3]);
      expect(all[0]?.['00083002']).toEqual(value('UI', EXPLICIT_LE));
      const two = await collect(index.find('IMAGE', { ...base, '00200013': value('IS', '2') }));
      expect(column(two, '00080018')).toEqual(['1.2.3.1.1.2']);
      const rows = await collect(index.find('IMAGE', { ...base, '00280010': value('US', 512) }));
      expect(rows).toHaveLength(3);
      expect(await collect(index.find('IMAGE', { ...base, '00080016': value('UI', MR) }))).toEqual(
        [],
      );
      expect(await collect(index.find('IMAGE', { ...base, '00280010': value('US', 256) }))).toEqual(
        [],
      );
      // Relational: SOP Instance UIDs alone.
      const relational = await collect(
        index.find(
          'IMAGE',
          { '00080018': value('UI', '1.2.3.2.1.2', '1.2.3.4.1.1') },
          {
            relational: true,
          },
        ),
      );
      expect(column(relational, '00080018')).toEqual(['1.2.3.2.1.2', '1.2.3.4.1.1']);
    });

    it('sequence matching on a stored sequence (matches())', async () => {
      await index.put(
        record({
          ...S3,
          seriesUid: '1.2.3.3.1',
          sopUid: '1.2.3.3.1.2',
          sopClass: CR,
          extra: {
            '00081032': {
              vr: 'SQ',
              Value: [{ '00080100': value('SH', 'CHEST1'), '00080102': value('SH', 'LOCAL') }],
            },
          },
        }),
      );
      const found = await collect(
        index.find('STUDY', {
          '0020000D': empty('UI'),
          '00081032': { vr: 'SQ', Value: [{ '00080100': value('SH', 'CHEST1') }] },
        }),
      );
      expect(column(found, '0020000D')).toEqual(['1.2.3.3']);
      expect(found[0]?.['00081032']).toEqual({
        vr: 'SQ',
        Value: [{ '00080100': value('SH', 'CHEST1') }],
      });
    });
  });

  describe(`${name}: instances() for C-MOVE / C-GET (PS3.4 §C.4.2.2.1)`, () => {
    beforeEach(load);
    const sops = (list: { sopInstanceUid: string }[]) => list.map((i) => i.sopInstanceUid);

    it('a list of studies', async () => {
      const list = await index.instances('STUDY', {
        '00080052': value('CS', 'STUDY'),
        '0020000D': value('UI', '1.2.3.2', '1.2.3.3'),
      });
      expect(sops(list)).toEqual(['1.2.3.2.1.1', '1.2.3.2.1.2', '1.2.3.3.1.1']);
      expect(list[2]).toEqual({
        path: '1.2.3.3/1.2.3.3.1/1.2.3.3.1.1.dcm',
        sopClassUid: CR,
        sopInstanceUid: '1.2.3.3.1.1',
        transferSyntaxUid: EXPLICIT_LE,
        size: 1000,
      });
    });

    it('a series, a list of images, a patient', async () => {
      expect(
        sops(
          await index.instances('SERIES', {
            '0020000D': value('UI', '1.2.3.1'),
            '0020000E': value('UI', '1.2.3.1.2'),
          }),
        ),
      ).toEqual(['1.2.3.1.2.1']);
      expect(
        sops(
          await index.instances('IMAGE', {
            '0020000D': value('UI', '1.2.3.1'),
            '0020000E': value('UI', '1.2.3.1.1'),
            '00080018': value('UI', '1.2.3.1.1.3', '1.2.3.1.1.1', '1.2.3.2.1.1'),
          }),
        ),
      ).toEqual(['1.2.3.1.1.1', '1.2.3.1.1.3']); // 1.2.3.2.1.1 is not in that series
      expect((await index.instances('PATIENT', { '00100020': value('LO', 'PID1') })).length).toBe(
        6,
      );
    });

    it('hierarchical rules: unique keys above, a key at the level, no wild cards', async () => {
      const bad: [Parameters<ArchiveIndex['instances']>, string][] = [
        [['SERIES', { '0020000E': value('UI', '1.2.3.1.2') }], '0020000D'],
        [['STUDY', { '0020000D': empty('UI') }], '0020000D'],
        [['STUDY', { '0020000D': value('UI', '1.2.*') }], '0020000D'],
        [['PATIENT', { '00100020': value('LO', 'PID1', 'PID2') }], '00100020'],
        [['STUDY', { '0020000D': value('UI', '1.2.3.1') }, { model: 'PATIENT_ROOT' }], '00100020'],
        [
          [
            'SERIES',
            { '0020000D': value('UI', '1.2.3.1', '1.2.3.2'), '0020000E': value('UI', '1.2.3.1.1') },
          ],
          '0020000D',
        ],
      ];
      for (const [args, offending] of bad) {
        await expect(index.instances(...args)).rejects.toMatchObject({
          code: ArchiveErrorCode.INVALID_QUERY,
          offendingElement: offending,
        });
      }
      // Relational retrieve: the SOP Instance UIDs alone suffice.
      expect(
        sops(
          await index.instances(
            'IMAGE',
            { '00080018': value('UI', '1.2.3.4.1.1') },
            { relational: true },
          ),
        ),
      ).toEqual(['1.2.3.4.1.1']);
    });
  });
}
