import { describeError, statusText, systemCode } from './describe-error.js';
import type { Io } from './options.js';

/**
 * The kinds of `--json` records, one JSON object a line on stdout; every
 * record has a `type` (the schema is in this app's README):
 * - `echo`: one C-ECHO answered;
 * - `file`: one file of `store`, with its `status` or its `error`;
 * - `skipped`: a path `store` or `commit` did not send, with the `reason`;
 * - `match`: one C-FIND match, its `dataSet` in DICOM JSON (PS3.18 Annex F);
 * - `response`: one pending C-MOVE/C-GET response, with its counts;
 * - `instance`: one C-GET sub-operation received, with its `status` and `path` or `error`;
 * - `result`: the answer to a DIMSE-N request or a storage commitment;
 * - `error`: what failed, with its `code` and the fields that say why;
 * - `summary`: the last record of a command (counts, seconds, `interrupted`).
 */
export type JsonRecordType =
  | 'echo'
  | 'file'
  | 'skipped'
  | 'match'
  | 'response'
  | 'instance'
  | 'result'
  | 'error'
  | 'summary';

/** Writes one `--json` record on stdout. */
export function writeRecord(
  io: Io,
  type: JsonRecordType,
  fields: Readonly<Record<string, unknown>>,
): void {
  io.out(JSON.stringify({ type, ...fields }));
}

/** Fields of an error object that may name why it failed, copied when present. */
const ERROR_FIELDS = [
  'operation',
  'status',
  'errorComment',
  'result',
  'source',
  'reason',
  'local',
  'errno',
  'path',
  'timer',
  'timeoutMs',
] as const;

/**
 * An error as a JSON object: `message` (the line a person reads), `code` (the
 * stable `DNET_...` code, when it has one), `systemCode` (`ECONNREFUSED`,
 * `EROFS`...) and the protocol fields where they exist: status and its name,
 * rejection result/source/reason, abort source/reason.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const fields: Record<string, unknown> = { message: describeError(error) };
  if (typeof e.code === 'string') fields.code = e.code;
  const system = systemCode(error);
  if (system) fields.systemCode = system;
  for (const key of ERROR_FIELDS) if (e[key] !== undefined) fields[key] = e[key];
  if (typeof e.status === 'number')
    fields.statusText = statusText(e.status, typeof e.operation === 'string' ? e.operation : '');
  return fields;
}
