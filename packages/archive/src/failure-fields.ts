import { systemErrorOf } from '@dnet/services';

/**
 * The log fields of a failure, one line that `jq` reads: its message (its
 * causes' appended), its dnet code, and the system error found in its chain
 * of causes (errno name, system call, path). No stack: these failures are
 * expected (a full disk, a read-only folder, a locked storage).
 *
 * @example
 * ```ts
 * logger.error({ op: 'C-STORE', ...failureFields(error) }, 'C-STORE');
 * // {"error":"cannot write ...: no space left on device","code":"DNET_ARCHIVE_STORAGE_FAILED","errno":"ENOSPC","syscall":"write","path":"/srv/dicom/.incoming/x.part"}
 * ```
 */
export function failureFields(error: unknown): Record<string, unknown> {
  const system = systemErrorOf(error);
  const code = (error as { code?: unknown } | null)?.code;
  const own = (error as { path?: unknown } | null)?.path;
  const path = system?.path ?? (typeof own === 'string' ? own : undefined);
  return {
    error: messageOf(error),
    ...(typeof code === 'string' && code !== system?.code && { code }),
    ...(system && { errno: system.code, ...(system.syscall && { syscall: system.syscall }) }),
    ...(path && { path }),
  };
}

/** The message of `error` followed by those of its causes that add something (bounded). */
export function messageOf(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let i = 0; i < 4 && e !== undefined && e !== null; i++) {
    const text = typeof e === 'object' ? String((e as Error).message ?? '') : String(e);
    // A cause whose text the message already quotes (StartupError says it) adds nothing.
    if (text && !parts.some((p) => p.includes(text) || p.includes(firstWords(text)))) {
      parts.push(text);
    }
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
  return parts.join(': ');
}

/** A system error's text without its `CODE: ` prefix and `, syscall 'path'` tail. */
function firstWords(text: string): string {
  return text.replace(/^E[A-Z0-9]+: /, '').replace(/,.*$/, '');
}
