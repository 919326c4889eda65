import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

/** Most characters of an Error Comment (0000,0902): its VR is LO (PS3.7 Annex C, PS3.5 §6.2). */
export const MAX_ERROR_COMMENT_LENGTH = 64;

/** Characters outside the default repertoire given their nearest ASCII spelling. */
const SPELLED: Readonly<Record<string, string>> = {
  '§': '',
  '…': '...',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  '–': '-',
  '—': '-',
  '×': 'x',
  '→': '->',
  '≤': '<=',
  '≥': '>=',
  '\\': '/',
};

/**
 * An absolute file path (POSIX or Windows) inside a message: where the server
 * keeps its files is none of the peer's business.
 */
const ABSOLUTE_PATH = /(^|[\s'"(=:])(?:[A-Za-z]:[\\/]|\/)[^\s'",)]*/g;

/**
 * Text as an Error Comment (0000,0902) may carry it: LO (PS3.7 Annex C,
 * PS3.5 §6.2), at most 64 characters of the default repertoire (the command
 * set has no Specific Character Set, PS3.7 §6.3.1) without backslash or
 * control characters. Absolute file paths become `[path]`, typographic
 * characters their ASCII spelling (`§` is dropped, `…` becomes `...`),
 * accented letters lose their accents, anything else becomes `?`; runs of
 * spaces are one. So a message can never make a response unencodable
 * (which would leave the peer without an answer).
 *
 * @example
 * ```ts
 * errorCommentText('bad key (PS3.4 §C.4.1)'); // 'bad key (PS3.4 C.4.1)'
 * ```
 */
export function errorCommentText(text: string): string {
  const ascii = text
    .replace(ABSOLUTE_PATH, '$1[path]')
    .replace(/[§…‘’“”–—×→≤≥\\]/g, (c) => SPELLED[c] ?? '?')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\p{Cc}/gu, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  return ascii.slice(0, MAX_ERROR_COMMENT_LENGTH).trimEnd();
}

/** What a Node system error (ENOSPC, EROFS...) says, found in an error or its causes. */
export interface SystemErrorInfo {
  /** The errno name, e.g. `ENOSPC`. */
  code: string;
  /** The errno number, negative as Node reports it, when known. */
  errno?: number;
  /** The system call that failed (`open`, `write`...), when known. */
  syscall?: string;
  /** The path it was called on, when known (for logs only, never for a peer). */
  path?: string;
  /** The system's text for the errno, e.g. `no space left on device`. */
  text: string;
}

/** Most causes followed (a cycle or a deep chain ends the walk). */
const MAX_CAUSES = 8;

/**
 * The first Node system error in `error` and its chain of `cause`s: its
 * errno name and number, system call, path and the system's text, or
 * `undefined` when there is none. Callers log all of it and tell a peer
 * only the text and the name (see {@link errorCommentFor}).
 *
 * @example
 * ```ts
 * systemErrorOf(new Error('cannot store', { cause: enospc }))?.code; // 'ENOSPC'
 * ```
 */
export function systemErrorOf(error: unknown): SystemErrorInfo | undefined {
  let e: unknown = error;
  for (let i = 0; i < MAX_CAUSES && typeof e === 'object' && e !== null; i++) {
    const c = e as { code?: unknown; errno?: unknown; syscall?: unknown; path?: unknown };
    if (typeof c.code === 'string' && /^E[A-Z0-9]+$/.test(c.code)) {
      const errno =
        typeof c.errno === 'number'
          ? c.errno
          : (constants.errno as Record<string, number | undefined>)[c.code] !== undefined
            ? -(constants.errno as Record<string, number>)[c.code]!
            : undefined;
      const known = errno === undefined ? undefined : getSystemErrorMap().get(errno);
      return {
        code: c.code,
        ...(errno !== undefined && { errno }),
        ...(typeof c.syscall === 'string' && { syscall: c.syscall }),
        ...(typeof c.path === 'string' && { path: c.path }),
        text: known?.[1] ?? c.code,
      };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The Error Comment (0000,0902) for a failure, made the same way wherever a
 * response carries one: with a system error in the chain,
 * `<what>: <the system's text> (<ERRNO>)`
 * (`cannot store: no space left on device (ENOSPC)`), which names the cause and no server path; else the message of
 * `error` (or `what` when there is none), both through
 * {@link errorCommentText}.
 *
 * @param error - the failure (an Error, a string, anything thrown)
 * @param what - what failed, in a few words (default: the system call, or the message)
 *
 * @example
 * ```ts
 * errorCommentFor(diskFull, 'cannot store'); // 'cannot store: no space left on device (ENOSPC)'
 * ```
 */
export function errorCommentFor(error: unknown, what?: string): string {
  const system = systemErrorOf(error);
  if (system) {
    const head = what ?? (system.syscall ? `${system.syscall} failed` : 'I/O error');
    return errorCommentText(`${head}: ${system.text} (${system.code})`);
  }
  const message =
    typeof error === 'string' ? error : String((error as Error | undefined)?.message ?? '');
  return errorCommentText(message || what || String(error));
}
