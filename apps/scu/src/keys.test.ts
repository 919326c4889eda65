import { describe, expect, it } from 'vitest';
import { parseKeys } from './keys.js';

describe('parseKeys', () => {
  it('reads keywords and gggg,eeee tags with values by VR (PS3.18 F.2.3)', () => {
    expect(
      parseKeys(['PatientName=DOE^*', '0010,0020=PID1', 'Rows=512', 'StudyDate=20240101-20241231']),
    ).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] },
      '00100020': { vr: 'LO', Value: ['PID1'] },
      '00280010': { vr: 'US', Value: [512] },
      '00080020': { vr: 'DA', Value: ['20240101-20241231'] },
    });
  });

  it('takes a key without a value, or with an empty one, as a return key', () => {
    expect(parseKeys(['StudyInstanceUID', '(0008,0060)='])).toEqual({
      '0020000D': { vr: 'UI' },
      '00080060': { vr: 'CS' },
    });
  });

  it('splits multiple values at backslashes (PS3.5 §6.4)', () => {
    expect(parseKeys(['ModalitiesInStudy=CT\\MR'])).toEqual({
      '00080061': { vr: 'CS', Value: ['CT', 'MR'] },
    });
  });

  it('goes through the keyword form of @dnet/dataset: PN groups, DS numbers, private return keys', () => {
    expect(
      parseKeys(['PatientName=Yamada^Tarou=山田^太郎', 'PixelSpacing=0.5\\0.25', '0009,1010']),
    ).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      '00280030': { vr: 'DS', Value: [0.5, 0.25] },
      '00091010': { vr: 'UN' },
    });
    expect(() => parseKeys(['PixelSpacing=wide'])).toThrow(/PixelSpacing \(DS\) takes numbers/);
    expect(() => parseKeys(['ReferencedSeriesSequence[0].0009,1010'])).toThrow(/top-level key/);
  });

  it("builds sequence items in DCMTK's syntax", () => {
    expect(
      parseKeys([
        'ScheduledProcedureStepSequence[0].Modality=CT',
        'ScheduledProcedureStepSequence[0].ScheduledStationAETitle',
        'RequestedProcedureCodeSequence',
      ]),
    ).toEqual({
      '00400100': {
        vr: 'SQ',
        Value: [{ '00080060': { vr: 'CS', Value: ['CT'] }, '00400001': { vr: 'AE' } }],
      },
      '00321064': { vr: 'SQ' },
    });
    expect(parseKeys(['ScheduledProcedureStepSequence.Modality'])).toEqual({
      '00400100': { vr: 'SQ', Value: [{ '00080060': { vr: 'CS' } }] },
    });
  });

  it('refuses what cannot be sent, naming the key', () => {
    expect(() => parseKeys(['PatientNme=X'])).toThrow(/unknown attribute 'PatientNme'/);
    expect(() => parseKeys(['Rows=many'])).toThrow(/'many' is not a number/);
    expect(() => parseKeys(['PatientName.Modality=CT'])).toThrow(/PatientName is not a sequence/);
    expect(() => parseKeys(['ScheduledProcedureStepSequence=CT'])).toThrow(
      /a sequence takes no value/,
    );
    expect(() => parseKeys(['ScheduledProcedureStepSequence[2].Modality'])).toThrow(/skips item 0/);
    expect(() => parseKeys(['0011,1010=X'])).toThrow(/not in the dictionary/);
    try {
      parseKeys(['Nope']);
    } catch (e) {
      expect((e as { code: string }).code).toBe('DNET_SCU_USAGE');
    }
  });
});
