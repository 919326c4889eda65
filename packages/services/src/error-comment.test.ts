import { describe, expect, it } from 'vitest';
import {
  errorCommentFor,
  errorCommentText,
  MAX_ERROR_COMMENT_LENGTH,
  systemErrorOf,
} from './error-comment.js';

/** A Node system error as fs calls reject with it. */
function systemError(code: string, errno: number, syscall: string, path: string) {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, errno, syscall, path });
}

describe('errorCommentText: LO text of the default repertoire (PS3.5 §6.2)', () => {
  it('spells typographic characters in ASCII instead of ?', () => {
    expect(errorCommentText('unknown key (PS3.4 §C.4.1.2.1)')).toBe(
      'unknown key (PS3.4 C.4.1.2.1)',
    );
    expect(errorCommentText('“a” – b … c → d ≤ é')).toBe('"a" - b ... c -> d <= e');
    expect(errorCommentText('tab\there\nnewline \\ backslash')).toBe(
      'tab here newline / backslash',
    );
    expect(errorCommentText('雪')).toBe('?');
  });

  it('hides absolute paths', () => {
    expect(errorCommentText('cannot create a temporary file in /srv/dicom/.incoming')).toBe(
      'cannot create a temporary file in [path]',
    );
    expect(errorCommentText("ENOENT: open '/var/lib/x/1.2/3.dcm'")).toBe("ENOENT: open '[path]'");
    expect(errorCommentText('C:\\data\\x.dcm failed')).toBe('[path] failed');
    expect(errorCommentText('PS3.4 C.4/C.6 and 1/2')).toBe('PS3.4 C.4/C.6 and 1/2');
  });

  it('is at most 64 characters, every one printable ASCII but backslash', () => {
    const text = errorCommentText(`${'x '.repeat(100)}§`);
    expect(text.length).toBeLessThanOrEqual(MAX_ERROR_COMMENT_LENGTH);
    expect(text).toMatch(/^[\x20-\x5b\x5d-\x7e]*$/);
  });
});

describe('errorCommentFor: the cause, never the path', () => {
  it('names the system error of a cause chain with its text and errno name', () => {
    const full = systemError('ENOSPC', -28, 'write', '/srv/dicom/.incoming/a.part');
    const error = new Error('cannot write 2.25.1/2.25.2/2.25.3.dcm', { cause: full });
    expect(errorCommentFor(error, 'cannot store')).toBe(
      'cannot store: no space left on device (ENOSPC)',
    );
    expect(errorCommentFor(error)).toBe('write failed: no space left on device (ENOSPC)');
    expect(systemErrorOf(error)).toEqual({
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
      path: '/srv/dicom/.incoming/a.part',
      text: 'no space left on device',
    });
  });

  it('finds the errno of a code alone (EROFS)', () => {
    const info = systemErrorOf({ code: 'EROFS' });
    expect(info).toMatchObject({ code: 'EROFS', text: 'read-only file system' });
    expect(info?.errno).toBeLessThan(0);
  });

  it('uses the message when no system error is in the chain', () => {
    expect(errorCommentFor(new Error('SOP Class UID differs'))).toBe('SOP Class UID differs');
    expect(errorCommentFor('plain text')).toBe('plain text');
    expect(errorCommentFor({ code: 'DNET_X' })).toBe('[object Object]');
    expect(systemErrorOf(new Error('x', { cause: { code: 'DNET_SCP_X' } }))).toBeUndefined();
  });
});
