import { describe, expect, it } from 'vitest';
import { dicomJsonProblem } from './dicom-json-problem.js';
import { ArchiveErrorCode, InvalidUidError, isDnetError } from './errors.js';
import * as archive from './index.js';
import { assertValidUid, isValidUid, uidProblem } from './validate-uid.js';

describe('UID validation (PS3.5 §9.1)', () => {
  it('accepts UIDs up to 64 characters, leading zeros tolerated', () => {
    for (const uid of ['1', '0', '1.2.840.10008.1.2.1', `1.${'9'.repeat(62)}`, '1.02.3']) {
      expect(isValidUid(uid), uid).toBe(true);
    }
  });

  it('names the problem of each bad value', () => {
    expect(uidProblem('')).toBe('empty');
    expect(uidProblem('1'.repeat(65))).toBe('longer than 64 characters');
    expect(uidProblem('1.2/3')).toBe('characters other than digits and dots');
    expect(uidProblem('1.2\0')).toBe('characters other than digits and dots');
    expect(uidProblem('..')).toBe('an empty component');
    expect(uidProblem(undefined)).toBe('not a string');
  });

  it('assertValidUid throws a branded InvalidUidError with the attribute', () => {
    let error: unknown;
    try {
      assertValidUid('../x', 'StudyInstanceUID');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidUidError);
    expect(error).toBeInstanceOf(Error);
    expect(isDnetError(error)).toBe(true);
    expect(error).toMatchObject({
      code: ArchiveErrorCode.INVALID_UID,
      attribute: 'StudyInstanceUID',
      uid: '../x',
    });
    expect(isDnetError(new Error('x'))).toBe(false);
    expect(isDnetError(null)).toBe(false);
  });
});

describe('dicomJsonProblem (PS3.18 §F.2)', () => {
  it('accepts data sets with nested sequences', () => {
    expect(
      dicomJsonProblem({
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A^B' }] },
        '00400100': { vr: 'SQ', Value: [{ '00080060': { vr: 'CS', Value: ['MR'] } }] },
        '00100020': { vr: 'LO' },
      }),
    ).toBeUndefined();
  });

  it('rejects bad tags, VRs, values, items and deep nesting', () => {
    expect(dicomJsonProblem([])).toMatch(/not a JSON object/);
    expect(dicomJsonProblem({ '0010001g': { vr: 'PN' } })).toMatch(/8 upper-case hex/);
    expect(dicomJsonProblem({ '00100010': 'x' })).toMatch(/JSON object/);
    expect(dicomJsonProblem({ '00100010': { vr: 'pn' } })).toMatch(/vr/);
    expect(dicomJsonProblem({ '00100010': { vr: 'PN', Value: 'x' } })).toMatch(/array/);
    expect(dicomJsonProblem({ '00400100': { vr: 'SQ', Value: [1] } })).toMatch(
      /00400100\[0\] is not a JSON object/,
    );
    let deep: unknown = {};
    for (let i = 0; i < 20; i++) deep = { '00400100': { vr: 'SQ', Value: [deep] } };
    expect(dicomJsonProblem(deep)).toMatch(/nested too deeply/);
    expect(dicomJsonProblem(deep, 25)).toBeUndefined();
  });
});

describe('the archive barrel', () => {
  it('exports the implementations', () => {
    expect(typeof archive.LocalStorage).toBe('function');
    expect(typeof archive.SqliteIndex).toBe('function');
    expect(typeof archive.FolderWorklist).toBe('function');
    expect(archive.QueryLevel.IMAGE).toBe('IMAGE');
  });
});
