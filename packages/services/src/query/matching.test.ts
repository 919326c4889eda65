import type { DicomJsonDataSet } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { matches, matchesKey, responseIdentifier } from './matching.js';

const patient: DicomJsonDataSet = {
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] },
  '00100020': { vr: 'LO', Value: ['PID-001'] },
  '00080020': { vr: 'DA', Value: ['20240315'] },
  '00080030': { vr: 'TM', Value: ['101530.25'] },
  '0020000D': { vr: 'UI', Value: ['1.2.3.4'] },
  '00080061': { vr: 'CS', Value: ['CT', 'SR'] },
  '0008002A': { vr: 'DT', Value: ['20240315101530'] },
  '00400100': {
    vr: 'SQ',
    Value: [
      { '00080060': { vr: 'CS', Value: ['MR'] }, '00400001': { vr: 'AE', Value: ['MR1'] } },
      { '00080060': { vr: 'CS', Value: ['CT'] }, '00400001': { vr: 'AE', Value: ['CT1'] } },
    ],
  },
};

describe('query matching (PS3.4 §C.2.2.2)', () => {
  it('matches universally on keys without a value', () => {
    expect(
      matches({ '00100010': { vr: 'PN' }, '00100020': { vr: 'LO', Value: [''] } }, patient),
    ).toBe(true);
  });
  it('matches single values exactly, PN ignoring case', () => {
    expect(matchesKey({ vr: 'LO', Value: ['PID-001'] }, patient['00100020'])).toBe(true);
    expect(matchesKey({ vr: 'LO', Value: ['pid-001'] }, patient['00100020'])).toBe(false);
    expect(matchesKey({ vr: 'PN', Value: [{ Alphabetic: 'DOE^JOHN' }] }, patient['00100010'])).toBe(
      true,
    );
    expect(
      matchesKey({ vr: 'PN', Value: [{ Alphabetic: 'DOE^JOHN' }] }, patient['00100010'], {
        caseInsensitivePersonNames: false,
      }),
    ).toBe(false);
  });
  it('applies * and ? wild cards on text VRs only', () => {
    expect(matchesKey({ vr: 'PN', Value: [{ Alphabetic: 'DOE*' }] }, patient['00100010'])).toBe(
      true,
    );
    expect(matchesKey({ vr: 'LO', Value: ['PID-00?'] }, patient['00100020'])).toBe(true);
    expect(matchesKey({ vr: 'LO', Value: ['PID-0?'] }, patient['00100020'])).toBe(false);
    expect(matchesKey({ vr: 'LO', Value: ['*'] }, patient['00100020'])).toBe(true);
    expect(matchesKey({ vr: 'UI', Value: ['1.2.*'] }, patient['0020000D'])).toBe(false);
  });
  it('matches a list of UIDs', () => {
    expect(matchesKey({ vr: 'UI', Value: ['9.9', '1.2.3.4'] }, patient['0020000D'])).toBe(true);
    expect(matchesKey({ vr: 'UI', Value: ['9.9', '1.2.3'] }, patient['0020000D'])).toBe(false);
  });
  it('matches date ranges, open on either side', () => {
    const da = patient['00080020'];
    expect(matchesKey({ vr: 'DA', Value: ['20240101-20241231'] }, da)).toBe(true);
    expect(matchesKey({ vr: 'DA', Value: ['-20240315'] }, da)).toBe(true);
    expect(matchesKey({ vr: 'DA', Value: ['20240316-'] }, da)).toBe(false);
    expect(matchesKey({ vr: 'DA', Value: ['20240315'] }, da)).toBe(true);
  });
  it('matches time ranges with partial precision', () => {
    const tm = patient['00080030'];
    expect(matchesKey({ vr: 'TM', Value: ['1000-1015'] }, tm)).toBe(true);
    expect(matchesKey({ vr: 'TM', Value: ['1016-'] }, tm)).toBe(false);
    expect(matchesKey({ vr: 'TM', Value: ['-10'] }, tm)).toBe(true);
  });
  it('matches datetime ranges', () => {
    const dt = patient['0008002A'];
    expect(matchesKey({ vr: 'DT', Value: ['20240315-20240316'] }, dt)).toBe(true);
    expect(matchesKey({ vr: 'DT', Value: ['202403151016-'] }, dt)).toBe(false);
  });
  it('matches any value of a multi-valued attribute', () => {
    expect(matchesKey({ vr: 'CS', Value: ['SR'] }, patient['00080061'])).toBe(true);
    expect(matchesKey({ vr: 'CS', Value: ['MR'] }, patient['00080061'])).toBe(false);
  });
  it('does not match a valued key against a missing attribute', () => {
    expect(matches({ '00100030': { vr: 'DA', Value: ['19700101'] } }, patient)).toBe(false);
  });
  it('matches sequences item by item (PS3.4 §C.2.2.2.6)', () => {
    const q = (modality: string, ae: string): DicomJsonDataSet => ({
      '00400100': {
        vr: 'SQ',
        Value: [
          { '00080060': { vr: 'CS', Value: [modality] }, '00400001': { vr: 'AE', Value: [ae] } },
        ],
      },
    });
    expect(matches(q('CT', 'CT1'), patient)).toBe(true);
    expect(matches(q('CT', 'MR1'), patient)).toBe(false);
    expect(matches(q('MR', '*'), patient)).toBe(true);
  });
  it('never matches Specific Character Set or the Q/R level', () => {
    expect(
      matches(
        {
          '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
          '00080052': { vr: 'CS', Value: ['STUDY'] },
        },
        patient,
      ),
    ).toBe(true);
  });
  it('builds the response identifier from the query keys', () => {
    const query: DicomJsonDataSet = {
      '00080052': { vr: 'CS', Value: ['STUDY'] },
      '00100010': { vr: 'PN' },
      '00100030': { vr: 'DA' },
      '00400100': { vr: 'SQ', Value: [{ '00400001': { vr: 'AE' } }] },
    };
    const r = responseIdentifier(query, patient);
    expect(r['00080052']).toEqual({ vr: 'CS', Value: ['STUDY'] });
    expect(r['00100010']).toEqual(patient['00100010']);
    expect(r['00100030']).toEqual({ vr: 'DA' });
    expect(r['00400100']?.Value).toEqual([
      { '00400001': { vr: 'AE', Value: ['MR1'] } },
      { '00400001': { vr: 'AE', Value: ['CT1'] } },
    ]);
  });
});
