import type { DicomJsonDataSet } from '@dnet/dataset';
import {
  type ContextSpec,
  DEFAULT_TRANSFER_SYNTAXES,
  type QueryLevel,
  type QueryTarget,
  queryRetrieve,
  SopClass,
} from '@dnet/services';
import { UsageError } from './errors.js';
import { parseKeys } from './keys.js';

/** Options of the commands that send an Identifier: find, move, get. */
export const QUERY_OPTIONS = {
  // `-k` as in DCMTK's findscu; the long name is --query since --key is the TLS key.
  query: { type: 'string', short: 'k', multiple: true },
  model: { type: 'string' },
  'patient-root': { type: 'boolean', short: 'P' },
  'study-root': { type: 'boolean', short: 'S' },
  worklist: { type: 'boolean', short: 'W' },
  level: { type: 'string' },
  relational: { type: 'boolean' },
} as const;

/** Help lines of {@link QUERY_OPTIONS}. */
export const QUERY_HELP = `Query options:
  -k, --query KEY[=VALUE]  a key: keyword or gggg,eeee; without a value it is a return key;
                         sequences in DCMTK's syntax: -k "ScheduledProcedureStepSequence[0].Modality=CT"
  --model M              patient | study | worklist (default study), or:
  -P, -S, -W             patient root, study root, modality worklist
  --level L              PATIENT | STUDY | SERIES | IMAGE (default: the model's top level)
  --relational           propose relational queries / retrieves (PS3.4 §C.5, extended
                         negotiation): unique keys above the level may then be left out`;

const LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];

/** What a find, move or get sends and where. */
export interface QueryPlan {
  /** The Identifier as DICOM JSON. */
  query: DicomJsonDataSet;
  /** The SOP class and level. */
  target: QueryTarget;
  /** The presentation context to propose for it. */
  context: ContextSpec;
}

/**
 * Reads the model, level and keys: the information model picks the SOP class
 * (PS3.4 §C.6.1, §C.6.2, §K.6.1); the level is Query/Retrieve Level
 * (0008,0052), taken from `--level`, from a `-k QueryRetrieveLevel=...` key, or
 * the model's top level; Modality Worklist has no level (PS3.4 §K.6.1.2).
 *
 * @throws UsageError
 */
export function queryPlan(
  values: {
    query?: string[] | undefined;
    model?: string | undefined;
    'patient-root'?: boolean | undefined;
    'study-root'?: boolean | undefined;
    worklist?: boolean | undefined;
    level?: string | undefined;
    relational?: boolean | undefined;
  },
  operation: 'find' | 'move' | 'get',
): QueryPlan {
  const flags = [
    values['patient-root'] && 'patient',
    values['study-root'] && 'study',
    values.worklist && 'worklist',
  ];
  const chosen = [values.model, ...flags].filter((m): m is string => Boolean(m));
  if (new Set(chosen).size > 1)
    throw new UsageError(`choose one model, not ${chosen.join(' and ')}`);
  const model = chosen[0] ?? 'study';
  const query = parseKeys(values.query ?? []);
  const level = values.level?.toUpperCase();
  if (level !== undefined && !LEVELS.includes(level as QueryLevel)) {
    throw new UsageError(`--level must be one of ${LEVELS.join(', ')}, got '${values.level}'`);
  }
  if (model === 'worklist') {
    if (operation !== 'find') throw new UsageError('the worklist model has only C-FIND');
    if (level) throw new UsageError('the worklist model has no --level');
    if (values.relational) throw new UsageError('the worklist model has no --relational');
    const sopClassUid = SopClass.MODALITY_WORKLIST_FIND;
    return {
      query,
      target: { sopClassUid },
      context: { abstractSyntax: sopClassUid, transferSyntaxes: [...DEFAULT_TRANSFER_SYNTAXES] },
    };
  }
  if (model !== 'patient' && model !== 'study') {
    throw new UsageError(`--model must be patient, study or worklist, got '${model}'`);
  }
  const keyed = query['00080052'] !== undefined;
  const top: QueryLevel = model === 'patient' ? 'PATIENT' : 'STUDY';
  return {
    query,
    target: {
      model,
      ...(!keyed || level ? { level: (level as QueryLevel | undefined) ?? top } : {}),
    },
    context: queryRetrieve(model, {
      operations: [operation],
      ...(values.relational && { relational: true }),
    })[0]!,
  };
}
