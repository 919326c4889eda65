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
