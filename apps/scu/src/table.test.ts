import type { DicomJsonDataSet } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { formatTable, formatValue, MAX_CELL } from './table.js';

describe('formatTable', () => {
  it('puts the query keys first, headed by keyword, and hides the level', () => {
    const rows: DicomJsonDataSet[] = [
      {
        '00080052': { vr: 'CS', Value: ['STUDY'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] },
        '0020000D': { vr: 'UI', Value: ['1.2.3'] },
      },
      {
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'ROE^RICHARD' }] },
        '0020000D': { vr: 'UI', Value: ['1.2.3.4'] },
      },
    ];
    expect(formatTable(rows, ['0020000D', '00100010'])).toEqual([
      'StudyInstanceUID  PatientName',
      '----------------  -----------',
      '1.2.3             DOE^JANE',
      '1.2.3.4           ROE^RICHARD',
    ]);
  });

  it('shows sequences item by item and cuts long cells', () => {
    expect(
      formatValue({
        vr: 'SQ',
        Value: [{ '00080060': { vr: 'CS', Value: ['CT'] }, '00400001': { vr: 'AE' } }],
      }),
    ).toBe('{Modality=CT}');
    expect(formatValue({ vr: 'DS', Value: [1.5, 2] })).toBe('1.5\\2');
    const [, , row] = formatTable(
      [{ '00081030': { vr: 'LO', Value: ['x'.repeat(60)] } }],
      [],
      MAX_CELL,
    );
    expect(row).toHaveLength(40);
    expect(row?.endsWith('…')).toBe(true);
  });

  it('cuts nothing without a cell width (not a terminal, or --wide): UIDs stay whole', () => {
    const uid = `2.25.${'1234567890'.repeat(5)}12345`;
    expect(uid).toHaveLength(60);
    const [, , row] = formatTable([{ '0020000D': { vr: 'UI', Value: [uid] } }], ['0020000D']);
    expect(row).toBe(uid);
  });
});
