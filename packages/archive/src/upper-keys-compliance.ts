import type { DicomJsonDataSet } from '@dnet/dataset';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ArchiveIndex } from './archive-index.js';
import { collect, column, empty, value } from './compliance-helpers.js';
import { ArchiveErrorCode } from './errors.js';

/**
 * The unique keys above the query level (PS3.4 §C.4.1.2.1, §C.4.2.2.1), as
 * every {@link ArchiveIndex} reads them, on the sample data of
 * `archive-index-compliance.ts`: hierarchical requests whose upper keys are
 * universal (empty), or absent below the highest level given, are answered as
 * DCMTK's dcmqrscp and Orthanc answer them; an absent top key, wild cards and
 * lists are refused unless relational queries were negotiated (PS3.4
 * §C.4.1.2.2). Called by `describeArchiveIndex`. Test code only.
 *
 * @param name - shown in the test names
 * @param index - the index under test (a new one per test)
 * @param load - puts the sample data
 */
export function describeUpperKeys(
  name: string,
  index: () => ArchiveIndex,
  load: () => Promise<void>,
): void {
  const sops = (list: { sopInstanceUid: string }[]) => list.map((i) => i.sopInstanceUid);
  const find = (
    level: 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE',
    query: DicomJsonDataSet,
    patient = false,
  ) => collect(index().find(level, query, patient ? { model: 'PATIENT_ROOT' } : {}));
  const refused = async (promise: Promise<unknown>, offendingElement: string) =>
    expect(promise).rejects.toMatchObject({
      code: ArchiveErrorCode.INVALID_QUERY,
      status: 0xa900,
      offendingElement,
    });

  describe(`${name}: unique keys above the level, universal or absent (dnet's leniency)`, () => {
    beforeEach(load);

    it('IMAGE with the study and a universal series: every instance of the study', async () => {
      const found = await find('IMAGE', {
        '0020000D': value('UI', '1.2.3.1'),
        '0020000E': empty('UI'),
        '00080018': empty('UI'),
      });
      expect(column(found, '00080018')).toEqual([
        '1.2.3.1.1.1',
        '1.2.3.1.1.2',
        '1.2.3.1.1.3',
        '1.2.3.1.2.1',
      ]);
      // The universal key is a return key too (PS3.4 §C.4.1.1.3.2).
      expect(column(found, '0020000E')).toEqual([
        '1.2.3.1.1',
        '1.2.3.1.1',
        '1.2.3.1.1',
        '1.2.3.1.2',
      ]);
    });

    it('IMAGE with the study and no series key at all: the same instances', async () => {
      const found = await find('IMAGE', {
        '0020000D': value('UI', '1.2.3.2'),
        '00080018': empty('UI'),
      });
      expect(column(found, '00080018')).toEqual(['1.2.3.2.1.1', '1.2.3.2.1.2']);
      expect(found.every((r) => !('0020000E' in r))).toBe(true);
    });

    it('SERIES and IMAGE under a universal study key', async () => {
      const series = await find('SERIES', { '0020000D': empty('UI'), '0020000E': empty('UI') });
      expect(column(series, '0020000E')).toEqual([
        '1.2.3.1.1',
        '1.2.3.1.2',
        '1.2.3.2.1',
        '1.2.3.3.1',
        '1.2.3.4.1',
      ]);
      const images = await find('IMAGE', {
        '0020000D': empty('UI'),
        '0020000E': value('UI', '1.2.3.2.1'),
        '00080018': empty('UI'),
      });
      expect(column(images, '00080018')).toEqual(['1.2.3.2.1.1', '1.2.3.2.1.2']);
      expect(column(images, '0020000D')).toEqual(['1.2.3.2', '1.2.3.2']);
    });

    it('Patient Root: the patient given, study and series keys left out or universal', async () => {
      const found = await find('IMAGE', { '00100020': value('LO', 'PID1') }, true);
      expect(found).toHaveLength(6);
      const studies = await find(
        'STUDY',
        { '00100020': empty('LO'), '0020000D': empty('UI') },
        true,
      );
      expect(column(studies, '0020000D')).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3', '1.2.3.4']);
    });

    it('still refused: the top key absent, a wild card or a list above the level', async () => {
      await refused(
        find('IMAGE', { '0020000E': value('UI', '1.2.3.1.1'), '00080018': empty('UI') }),
        '0020000D',
      );
      await refused(find('IMAGE', { '00080018': empty('UI') }), '0020000D');
      await refused(
        find('SERIES', { '0020000D': value('UI', '1.2.3.1'), '0020000E': empty('UI') }, true),
        '00100020',
      );
      await refused(
        find('IMAGE', { '0020000D': value('UI', '1.2.3.*'), '0020000E': empty('UI') }),
        '0020000D',
      );
      await refused(
        find('IMAGE', { '0020000D': value('UI', '1.2.3.1'), '0020000E': value('UI', '*') }),
        '0020000E',
      );
      await refused(
        find('IMAGE', {
          '0020000D': empty('UI'),
          '0020000E': value('UI', '1.2.3.1.1', '1.2.3.1.2'),
        }),
        '0020000E',
      );
    });

    it('relational queries (negotiated) need no upper key and read a `*` UID as universal', async () => {
      const found = await collect(
        index().find(
          'IMAGE',
          { '0020000E': value('UI', '*'), '00080060': value('CS', 'MR') },
          { relational: true },
        ),
      );
      expect(column(found, '00080060')).toEqual(['MR', 'MR', 'MR']);
    });

    it('retrieves: the study given and the series left out or universal', async () => {
      expect(
        sops(
          await index().instances('IMAGE', {
            '0020000D': value('UI', '1.2.3.1'),
            '00080018': value('UI', '1.2.3.1.2.1', '1.2.3.1.1.2', '1.2.3.2.1.1'),
          }),
        ),
      ).toEqual(['1.2.3.1.1.2', '1.2.3.1.2.1']); // 1.2.3.2.1.1 is not in that study
      expect(
        sops(
          await index().instances('SERIES', {
            '0020000D': empty('UI'),
            '0020000E': value('UI', '1.2.3.2.1'),
          }),
        ),
      ).toEqual(['1.2.3.2.1.1', '1.2.3.2.1.2']);
      await refused(
        index().instances('IMAGE', {
          '0020000E': empty('UI'),
          '00080018': value('UI', '1.2.3.4.1.1'),
        }),
        '0020000D',
      );
    });
  });
}
