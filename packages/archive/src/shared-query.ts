/**
 * What every SQL implementation of `ArchiveIndex` shares: the columns a
 * query key is pushed into, the push-down itself (with a small dialect for
 * what differs between SQLite and PostgreSQL), the hierarchy checks of
 * PS3.4 §C.4 and the response Identifier (what they write for a record is in
 * index-records.ts). `SqliteIndex` and `PostgresIndex` both build on it, so
 * they answer the same queries the same way; `matches()` (PS3.4 §C.2.2.2)
 * alone decides every match.
 */
import type { DicomJsonAttribute, DicomJsonDataSet, PersonName } from '@dnet/dataset';
import { matches, responseIdentifier } from '@dnet/services';
import type { FindOptions, QueryOptions } from './archive-index.js';
import { dicomJsonProblem } from './dicom-json-problem.js';
import { InvalidQueryError } from './errors.js';
import {
  COMPUTED_TAGS,
  isQueryLevel,
  LEVEL_TAGS,
  MODEL_LEVELS,
  type QueryLevel,
  type QueryModel,
  Tag,
  UNIQUE_KEY,
} from './query-model.js';

/**
 * What differs between SQL engines in a pushed-down condition. Conditions use
 * `?` placeholders; an engine with numbered ones (`$1`) renumbers them
 * ({@link numberPlaceholders}).
 */
export interface SqlDialect {
  /** `sql` matches a DICOM wild card pattern whose only wild card is `*` (PS3.4 §C.2.2.2.4). */
  wildcard(sql: string, pattern: string): Condition;
  /** `sql` is one of `values` (List of UID Matching, PS3.4 §C.2.2.2.2). */
  list(sql: string, values: string[]): Condition;
}

/** SQLite: GLOB (case-sensitive, `[` escaped) and `json_each` for lists. */
export const SQLITE_DIALECT: SqlDialect = {
  wildcard: (sql, pattern) => ({ sql: `${sql} GLOB ?`, params: [pattern.replace(/\[/g, '[[]')] }),
  list: (sql, values) => ({
    sql: `${sql} IN (SELECT value FROM json_each(?))`,
    params: [JSON.stringify(values)],
  }),
};

/** PostgreSQL: LIKE with an explicit escape character, and `= ANY($n)` with an array. */
export const POSTGRES_DIALECT: SqlDialect = {
  wildcard: (sql, pattern) => ({
    sql: `${sql} LIKE ? ESCAPE '\\'`,
    params: [pattern.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%')],
  }),
  list: (sql, values) => ({ sql: `${sql} = ANY(?)`, params: [values] }),
};

/**
 * SQL of each computed attribute (PS3.4 §C.6.1.1 and §C.6.2.1: related counts,
 * Modalities and SOP Classes in Study), evaluated per row of its level. The
 * engines differ only in the function that aggregates values into a JSON
 * array (`json_group_array` in SQLite, `json_agg` in PostgreSQL).
 */
export function computedSql(jsonArrayAgg: string): Record<string, string> {
  return {
    [Tag.NumberOfPatientRelatedStudies]: '(SELECT COUNT(*) FROM study x WHERE x.patient_fk = p.pk)',
    [Tag.NumberOfPatientRelatedSeries]:
      '(SELECT COUNT(*) FROM series x JOIN study y ON y.pk = x.study_fk WHERE y.patient_fk = p.pk)',
    [Tag.NumberOfPatientRelatedInstances]:
      '(SELECT COUNT(*) FROM instance x JOIN series y ON y.pk = x.series_fk ' +
      'JOIN study z ON z.pk = y.study_fk WHERE z.patient_fk = p.pk)',
    [Tag.NumberOfStudyRelatedSeries]: '(SELECT COUNT(*) FROM series x WHERE x.study_fk = st.pk)',
    [Tag.NumberOfStudyRelatedInstances]:
      '(SELECT COUNT(*) FROM instance x JOIN series y ON y.pk = x.series_fk WHERE y.study_fk = st.pk)',
    [Tag.ModalitiesInStudy]: `(SELECT ${jsonArrayAgg}(DISTINCT x.modality) FROM series x WHERE x.study_fk = st.pk AND x.modality <> '')`,
    [Tag.SOPClassesInStudy]:
      `(SELECT ${jsonArrayAgg}(DISTINCT x.sop_class_uid) FROM instance x ` +
      'JOIN series y ON y.pk = x.series_fk WHERE y.study_fk = st.pk)',
    [Tag.NumberOfSeriesRelatedInstances]:
      '(SELECT COUNT(*) FROM instance x WHERE x.series_fk = se.pk)',
    [Tag.AvailableTransferSyntaxUID]: 'i.transfer_syntax_uid',
  };
}

/** Rewrites the `?` placeholders of `sql` as `$1`, `$2`... (PostgreSQL). Values never enter the text. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** How a query key can be pushed into SQL. */
export interface Column {
  /** The column, with its table alias. */
  sql: string;
  /** The level of the table it is in. */
  level: QueryLevel;
  /** The VR the key must have for the push-down to mean what matches() means. */
  vr: string;
  kind: 'uid' | 'text' | 'pn' | 'date';
  /** NULL means "unknown here, let matches() decide". */
  nullable: boolean;
}

/** The columns a query key is pushed into (a WHERE clause with bound parameters). */
export const COLUMNS: Record<string, Column> = {
  [Tag.PatientID]: {
    sql: 'p.patient_id',
    level: 'PATIENT',
    vr: 'LO',
    kind: 'text',
    nullable: false,
  },
  [Tag.PatientName]: { sql: 'p.name_key', level: 'PATIENT', vr: 'PN', kind: 'pn', nullable: true },
  [Tag.PatientBirthDate]: {
    sql: 'p.birth_date',
    level: 'PATIENT',
    vr: 'DA',
    kind: 'date',
    nullable: true,
  },
  [Tag.PatientSex]: { sql: 'p.sex', level: 'PATIENT', vr: 'CS', kind: 'text', nullable: true },
  [Tag.StudyInstanceUID]: {
    sql: 'st.study_uid',
    level: 'STUDY',
    vr: 'UI',
    kind: 'uid',
    nullable: false,
  },
  [Tag.StudyDate]: { sql: 'st.study_date', level: 'STUDY', vr: 'DA', kind: 'date', nullable: true },
  [Tag.AccessionNumber]: {
    sql: 'st.accession',
    level: 'STUDY',
    vr: 'SH',
    kind: 'text',
    nullable: true,
  },
  [Tag.StudyID]: { sql: 'st.study_id', level: 'STUDY', vr: 'SH', kind: 'text', nullable: true },
  [Tag.ReferringPhysicianName]: {
    sql: 'st.referring_key',
    level: 'STUDY',
    vr: 'PN',
    kind: 'pn',
    nullable: true,
  },
  [Tag.StudyDescription]: {
    sql: 'st.description',
    level: 'STUDY',
    vr: 'LO',
    kind: 'text',
    nullable: true,
  },
  [Tag.SeriesInstanceUID]: {
    sql: 'se.series_uid',
    level: 'SERIES',
    vr: 'UI',
    kind: 'uid',
    nullable: false,
  },
  [Tag.Modality]: { sql: 'se.modality', level: 'SERIES', vr: 'CS', kind: 'text', nullable: true },
  [Tag.SeriesNumber]: {
    sql: 'se.series_number',
    level: 'SERIES',
    vr: 'IS',
    kind: 'text',
    nullable: true,
  },
  [Tag.SeriesDescription]: {
    sql: 'se.description',
    level: 'SERIES',
    vr: 'LO',
    kind: 'text',
    nullable: true,
  },
  [Tag.SOPInstanceUID]: {
    sql: 'i.sop_instance_uid',
    level: 'IMAGE',
    vr: 'UI',
    kind: 'uid',
    nullable: false,
  },
  [Tag.SOPClassUID]: {
    sql: 'i.sop_class_uid',
    level: 'IMAGE',
    vr: 'UI',
    kind: 'uid',
    nullable: false,
  },
  [Tag.InstanceNumber]: {
    sql: 'i.instance_number',
    level: 'IMAGE',
    vr: 'IS',
    kind: 'text',
    nullable: true,
  },
};

/** Table levels, top down, whatever the model. */
export const LEVEL_ORDER: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];

/** The FROM clause of a query at each level: the level's table joined up to the patient. */
export const FROM: Record<QueryLevel, string> = {
  PATIENT: 'patient p',
  STUDY: 'study st JOIN patient p ON p.pk = st.patient_fk',
  SERIES: 'series se JOIN study st ON st.pk = se.study_fk JOIN patient p ON p.pk = st.patient_fk',
  IMAGE:
    'instance i JOIN series se ON se.pk = i.series_fk JOIN study st ON st.pk = se.study_fk ' +
    'JOIN patient p ON p.pk = st.patient_fk',
};

/** The table alias of each level. */
export const ALIAS: Record<QueryLevel, string> = {
  PATIENT: 'p',
  STUDY: 'st',
  SERIES: 'se',
  IMAGE: 'i',
};

/** The VR of each computed attribute (PS3.6). */
export const COMPUTED_VR: Record<string, string> = {
  [Tag.ModalitiesInStudy]: 'CS',
  [Tag.SOPClassesInStudy]: 'UI',
  [Tag.AvailableTransferSyntaxUID]: 'UI',
};

/** VRs on which `*` and `?` are wild cards (PS3.4 §C.2.2.2.4). */
export const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);

/** The text of one DICOM JSON value, as `matches()` sees it (PN: component groups joined by `=`). */
export function textOf(value: unknown, vr: string): string {
  if (value === null || value === undefined) return '';
  if (vr === 'PN' && typeof value === 'object') {
    const pn = value as PersonName;
    const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
    while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
    return groups.join('=');
  }
  return String(value);
}

/**
 * A column's value: '' when the attribute is absent or empty (it can match no
 * non-universal key), `null` when it has several values (VM 1 broken: the
 * push-down cannot judge, matches() will), else the single value, trimmed.
 */
export function columnText(attribute: DicomJsonAttribute | undefined, vr: string): string | null {
  const values = attribute?.Value ?? [];
  if (values.length === 0) return '';
  if (values.length > 1) return null;
  return textOf(values[0], vr).trim();
}

/** A PN column: the name as text, lower case (`null` when it has several values). */
export function pnColumn(attribute: DicomJsonAttribute | undefined): string | null {
  return columnText(attribute, 'PN')?.toLowerCase() ?? null;
}

/** A DA column: YYYYMMDD (legacy `YYYY.MM.DD` normalised), '' when absent, `null` when not a date. */
export function dateColumn(attribute: DicomJsonAttribute | undefined): string | null {
  const text = columnText(attribute, 'DA');
  if (text === null || text === '') return text;
  const date = text.replace(/\./g, '');
  return /^\d{8}$/.test(date) ? date : null;
}

/** The identity text of a key attribute (all values, `\`-joined). */
export function identityText(attribute: DicomJsonAttribute | undefined): string {
  return (attribute?.Value ?? [])
    .map((v) => textOf(v, attribute?.vr ?? ''))
    .join('\\')
    .trim();
}

/** A WHERE fragment and its bound parameters. */
export interface Condition {
  sql: string;
  params: unknown[];
}

/**
 * The SQL pre-filter of one key, or `undefined` when SQL cannot express it
 * safely. A pre-filter may only let through MORE than matches() accepts
 * (every row is matched again in JS), never less: ranges on YYYYMMDD dates,
 * exact values and lists (List of UID Matching, PS3.4 §C.2.2.2.2), and `*`
 * wild cards through the dialect (GLOB, LIKE). `?` wild cards, TM and DT ranges, sequences and
 * anything unusual are left to matches().
 */
export function pushDown(
  column: Column,
  key: DicomJsonAttribute,
  dialect: SqlDialect,
  sql = column.sql,
): Condition | undefined {
  if (key.vr !== column.vr) return undefined;
  const texts = (key.Value ?? []).map((v) => textOf(v, key.vr).trim());
  if (texts.length === 0 || texts.every((t) => t === '')) return undefined; // universal
  let condition: Condition;
  if (column.kind === 'date') {
    // Range Matching on DA (PS3.4 §C.2.2.2.5).
    const text = texts[0] ?? '';
    if (texts.length !== 1) return undefined;
    const single = /^\d{8}$/.exec(text);
    const range = /^(\d{8})?-(\d{8})?$/.exec(text);
    if (single) condition = { sql: `${sql} = ?`, params: [text] };
    else if (range && (range[1] || range[2])) {
      const parts: string[] = [];
      const params: string[] = [];
      if (range[1]) {
        parts.push(`${sql} >= ?`);
        params.push(range[1]);
      }
      if (range[2]) {
        parts.push(`${sql} <= ?`);
        params.push(range[2]);
      }
      condition = { sql: parts.join(' AND '), params };
    } else return undefined;
  } else if (WILDCARD_VRS.has(key.vr) && texts.some((t) => /[*?]/.test(t))) {
    // Wild Card Matching (PS3.4 §C.2.2.2.4): `*` only, through the dialect; `?` is left to matches().
    const text = texts[0] ?? '';
    if (texts.length !== 1 || text.includes('?')) return undefined;
    if (/^\**$/.test(text)) return undefined; // `*` alone: anything present
    const pattern = column.kind === 'pn' ? text.toLowerCase() : text;
    condition = dialect.wildcard(sql, pattern);
  } else {
    // Single Value Matching (PS3.4 §C.2.2.2.1) or a list of values (§C.2.2.2.2).
    const list = column.kind === 'pn' ? texts.map((t) => t.toLowerCase()) : texts;
    condition =
      list.length === 1 ? { sql: `${sql} = ?`, params: [list[0]] } : dialect.list(sql, list);
  }
  if (column.nullable) condition.sql = `(${sql} IS NULL OR ${condition.sql})`;
  return condition;
}

/** Attributes of `record` that a level keeps. */
export function pick(attributes: DicomJsonDataSet, tags: ReadonlySet<string>): DicomJsonDataSet {
  const out: DicomJsonDataSet = {};
  for (const tag of tags) {
    const attribute = attributes[tag];
    if (attribute) out[tag] = attribute;
  }
  return out;
}

/** True when the key has a value other than empty ones (it is not universal). */
export function hasValue(key: DicomJsonAttribute | undefined): boolean {
  return (key?.Value ?? []).some((v) => textOf(v, key?.vr ?? '').trim() !== '');
}

/**
 * Checks what every query and retrieve Identifier needs (PS3.4 §C.4.1.1.3.1):
 * a level of the model, a Query/Retrieve Level that agrees, DICOM JSON shape.
 * Returns the model.
 */
export function checkIdentifier(
  level: QueryLevel,
  query: DicomJsonDataSet,
  options: QueryOptions,
): QueryModel {
  if (!isQueryLevel(level)) {
    throw new InvalidQueryError(
      `unknown Query/Retrieve Level ${JSON.stringify(level)}`,
      Tag.QueryRetrieveLevel,
    );
  }
  const model = options.model ?? (level === 'PATIENT' ? 'PATIENT_ROOT' : 'STUDY_ROOT');
  if (!MODEL_LEVELS[model]?.includes(level)) {
    throw new InvalidQueryError(
      `level ${level} is not in the ${model} model`,
      Tag.QueryRetrieveLevel,
    );
  }
  const problem = dicomJsonProblem(query);
  if (problem) throw new InvalidQueryError(`malformed Identifier: ${problem}`);
  const control = controlCharacterKey(query);
  if (control) {
    throw new InvalidQueryError('a key value holds a control character (PS3.5 §6.2)', control);
  }
  const stated = query[Tag.QueryRetrieveLevel]?.Value?.[0];
  if (stated !== undefined && String(stated).trim() !== level) {
    throw new InvalidQueryError(
      `Query/Retrieve Level ${JSON.stringify(stated)} is not ${level}`,
      Tag.QueryRetrieveLevel,
    );
  }
  return model;
}

/** VRs whose values may hold the format effectors TAB, LF, FF and CR (PS3.5 §6.1.3, Table 6.2-1). */
const TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UC']);
/**
 * Whether `text` holds a C0 control character or DEL other than ESC (1BH, which
 * starts ISO 2022 code extensions, PS3.5 §6.1.2.5.3); with `formatEffectors`,
 * TAB (09H), LF (0AH), FF (0CH) and CR (0DH) are allowed too.
 */
function hasControl(text: string, formatEffectors: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f) continue;
    if (c === 0x1b) continue;
    if (formatEffectors && (c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d)) continue;
    return true;
  }
  return false;
}

/**
 * The tag of the first key (top level; a sequence for a key inside one) whose
 * value holds a character no string VR allows: PS3.5 Table 6.2-1 excludes
 * every control character but ESC from the string VRs, and the format
 * effectors only appear in LT, ST, UT and UC. Such a value can equal no stored
 * value, and NUL (00H) cannot even be bound as PostgreSQL text. `undefined`
 * when every value is clean. With `nulOnly`, only NUL counts.
 */
export function controlCharacterKey(data: DicomJsonDataSet, nulOnly = false): string | undefined {
  for (const [tag, attribute] of Object.entries(data)) {
    const bad = (g: unknown) =>
      typeof g === 'string' &&
      (nulOnly ? g.includes('\u0000') : hasControl(g, TEXT_VRS.has(attribute.vr)));
    for (const v of attribute.Value ?? []) {
      if (attribute.vr === 'SQ') {
        // dicomJsonProblem() has bounded the depth and checked the items' shape.
        if (v && typeof v === 'object' && controlCharacterKey(v as DicomJsonDataSet, nulOnly)) {
          return tag;
        }
      } else if (bad(v)) return tag;
      else if (attribute.vr === 'PN' && v && typeof v === 'object') {
        const pn = v as PersonName;
        if ([pn.Alphabetic, pn.Ideographic, pn.Phonetic].some(bad)) return tag;
      }
    }
  }
  return undefined;
}

/**
 * The values of a unique key: no wild cards (PS3.4 §C.2.2.2.2: a UID list
 * matches exactly; Patient ID is Single Value Matching here).
 */
export function uniqueValues(key: DicomJsonAttribute, tag: string): string[] {
  const values = (key.Value ?? []).map((v) => textOf(v, key.vr).trim()).filter((v) => v !== '');
  if (values.some((v) => /[*?]/.test(v))) {
    throw new InvalidQueryError('wild card in a unique key', tag);
  }
  return values;
}

/** A UI key whose only value is `*`. */
export function isStarUid(key: DicomJsonAttribute): boolean {
  const values = key.Value ?? [];
  return key.vr === 'UI' && values.length > 0 && values.every((v) => String(v).trim() === '*');
}

/** Whether a key is matched at `level`: attributes the archive keeps at or above it (all at IMAGE). */
export function isMatchable(tag: string, level: QueryLevel): boolean {
  if (level === 'IMAGE') return true;
  for (const l of LEVEL_ORDER) {
    if (l === 'IMAGE') break;
    if (LEVEL_TAGS[l].has(tag)) return true;
    if (l === level) return COMPUTED_TAGS[l].has(tag);
  }
  return false;
}

/** The DICOM JSON of a computed attribute from its SQL value (a count, a JSON list, or a UID). */
export function computedAttribute(tag: string, value: unknown): DicomJsonAttribute {
  const vr = COMPUTED_VR[tag];
  if (vr === 'UI' && typeof value === 'string' && tag === Tag.AvailableTransferSyntaxUID) {
    return { vr, Value: [value] };
  }
  if (vr) {
    const list = Array.isArray(value)
      ? (value as unknown[])
      : typeof value === 'string'
        ? (JSON.parse(value) as unknown[])
        : [];
    const values = list.filter((v): v is string => typeof v === 'string' && v !== '');
    return values.length > 0 ? { vr, Value: values } : { vr };
  }
  return { vr: 'IS', Value: [Number(value)] };
}

/** Parses JSON, reusing the last result when the same text comes again. */
export class LastParsed {
  #text: string | undefined;
  #value: DicomJsonDataSet = {};

  /** Parses `text`, or returns the previous result when `text` is the same. */
  parse(text: string | undefined): DicomJsonDataSet {
    if (text !== this.#text) {
      this.#text = text;
      this.#value = parse(text);
    }
    return this.#value;
  }
}

/** Parses a level's stored JSON (`{}` when absent). */
export function parse(json: string | undefined): DicomJsonDataSet {
  return json ? (JSON.parse(json) as DicomJsonDataSet) : {};
}

/** A unique key above the query or retrieve level, as {@link upperUniqueKeys} reads it. */
export interface UpperKey {
  /** The level whose unique key it is. */
  level: QueryLevel;
  /** The key's tag. */
  tag: string;
  /** Its values: none when it is absent or universal (empty). */
  values: string[];
}

/**
 * Reads the unique keys of the levels above `level` (PS3.4 §C.4.1.2.1,
 * §C.4.2.2.1, §C.4.3.2.1), top down, and checks them.
 *
 * Hierarchical (baseline) requests must give a single value for each of them
 * (PS3.4 §C.4.1.3.1.1). dnet is more lenient, as DCMTK's dcmqrscp and Orthanc
 * are, because viewers send such requests: a key that is universal (present
 * and empty) matches every entity of its level, and a key may be absent below
 * the highest level whose key is given (present, empty or not). Still refused
 * (`InvalidQueryError`, A900H, the key as Offending Element): an absent key of
 * the highest level above `level` (a relational request, PS3.4 §C.4.1.2.2,
 * unless `relational` was negotiated), several values, and wild cards in a
 * unique key. With `relational`, keys may be absent anywhere and hold lists,
 * and a `*` UID is universal.
 */
export function upperUniqueKeys(
  levels: readonly QueryLevel[],
  level: QueryLevel,
  query: DicomJsonDataSet,
  relational: boolean,
): UpperKey[] {
  const keys: UpperKey[] = [];
  let anchored = false;
  for (const l of levels.slice(0, levels.indexOf(level))) {
    const tag = UNIQUE_KEY[l];
    const key = query[tag];
    if (key === undefined) {
      if (!anchored && !relational) throw new InvalidQueryError(`missing ${l} unique key`, tag);
      keys.push({ level: l, tag, values: [] });
      continue;
    }
    anchored = true;
    // A `*` UID is read as universal in relational requests, as at the query level.
    const open = !hasValue(key) || (relational && isStarUid(key));
    const values = open ? [] : uniqueValues(key, tag);
    if (values.length > 1 && !relational) {
      throw new InvalidQueryError(`${l} unique key must be a single value`, tag);
    }
    keys.push({ level: l, tag, values });
  }
  return keys;
}

/** What a C-FIND needs from SQL: the keys matches() checks, the WHERE pre-filter, computed keys. */
export interface FindPlan {
  /** The keys `matches()` checks (lower-level and unsupported keys left out). */
  matchQuery: DicomJsonDataSet;
  /** Pushed-down WHERE conditions (`?` placeholders). */
  conditions: Condition[];
  /** Computed attributes the query asks for, at its level. */
  computed: string[];
}

/**
 * Checks a C-FIND Identifier (PS3.4 §C.4.1.1.3.1, §C.4.1.3.1.1 hierarchical
 * search) and plans its SQL: `InvalidQueryError` before any response when it
 * breaks the rules. With `pushDown` false, no condition is pushed (every row
 * of the level is matched in JS).
 */
export function planFind(
  level: QueryLevel,
  query: DicomJsonDataSet,
  options: FindOptions,
  dialect: SqlDialect,
  pushDownKeys: boolean,
): FindPlan {
  const model = checkIdentifier(level, query, options);
  // Hierarchical search (PS3.4 §C.4.1.3.1.1), with dnet's leniency; relational
  // queries (PS3.4 §C.4.1.3.2) when they were negotiated.
  upperUniqueKeys(MODEL_LEVELS[model], level, query, options.relational ?? false);
  const depth = LEVEL_ORDER.indexOf(level);
  // Keys of lower levels, and optional keys this archive does not keep, are
  // not matched (PS3.4 §C.2.2.1.3): they are returned empty.
  const matchQuery: DicomJsonDataSet = {};
  const conditions: Condition[] = [];
  for (const [tag, asked] of Object.entries(query)) {
    if (!isMatchable(tag, level)) continue;
    // UIDs take no wild cards (PS3.4 §C.2.2.2.4), but many SCUs send `*` to
    // mean "any": at the query level it is read as Universal Matching.
    const key = isStarUid(asked) ? { vr: 'UI' } : asked;
    matchQuery[tag] = key;
    if (!pushDownKeys) continue;
    const column = COLUMNS[tag];
    if (column && LEVEL_ORDER.indexOf(column.level) <= depth) {
      const condition = pushDown(column, key, dialect);
      if (condition) conditions.push(condition);
    } else if (tag === Tag.ModalitiesInStudy && level === 'STUDY') {
      const condition = pushDown(COLUMNS[Tag.Modality] as Column, key, dialect, 'x.modality');
      if (condition) {
        conditions.push({
          sql: `EXISTS (SELECT 1 FROM series x WHERE x.study_fk = st.pk AND ${condition.sql})`,
          params: condition.params,
        });
      }
    }
  }
  const computed = [...COMPUTED_TAGS[level]].filter((tag) => tag in query);
  return { matchQuery, conditions, computed };
}

/**
 * Checks a C-MOVE / C-GET Identifier (PS3.4 §C.4.2.2.1, §C.4.3.2.1: unique
 * keys only, a UID list at the retrieve level) and returns the WHERE
 * conditions that select its instances.
 */
export function planRetrieve(
  level: QueryLevel,
  query: DicomJsonDataSet,
  options: QueryOptions,
  dialect: SqlDialect,
): Condition[] {
  const model = checkIdentifier(level, query, options);
  const relational = options.relational ?? false;
  const conditions: Condition[] = [];
  // Above the retrieve level: one value (hierarchical, with dnet's leniency for
  // universal and absent keys) or anything (relational-retrieval, PS3.4 §C.4.2.2.2).
  for (const upper of upperUniqueKeys(MODEL_LEVELS[model], level, query, relational)) {
    if (upper.values.length === 0) continue; // left open: every entity of that level
    conditions.push(dialect.list((COLUMNS[upper.tag] as Column).sql, upper.values));
  }
  const tag = UNIQUE_KEY[level];
  const key = query[tag];
  if (!hasValue(key)) throw new InvalidQueryError(`retrieve without a ${level} unique key`, tag);
  const values = uniqueValues(key as DicomJsonAttribute, tag);
  // At the retrieve level a list of UIDs, but only Single Value Matching for
  // Patient ID (PS3.4 §C.4.2.1.4.1).
  if (values.length > 1 && level === 'PATIENT' && !relational) {
    throw new InvalidQueryError(`${level} unique key must be a single value`, tag);
  }
  conditions.push(dialect.list((COLUMNS[tag] as Column).sql, values));
  return conditions;
}

/**
 * The response Identifier (PS3.4 §C.4.1.1.3.2): the query's keys with the
 * entity's values, the Query/Retrieve Level, the Specific Character Set of
 * the values when they have one, and the Retrieve AE Title when configured.
 */
export function findResponse(
  level: QueryLevel,
  query: DicomJsonDataSet,
  entity: DicomJsonDataSet,
  options: FindOptions,
): DicomJsonDataSet {
  const response = responseIdentifier(query, entity);
  response[Tag.QueryRetrieveLevel] = { vr: 'CS', Value: [level] };
  const charset = entity[Tag.SpecificCharacterSet];
  if (charset?.Value?.length && !response[Tag.SpecificCharacterSet]?.Value?.length) {
    response[Tag.SpecificCharacterSet] = charset;
  }
  if (options.retrieveAeTitle !== undefined) {
    response[Tag.RetrieveAETitle] = { vr: 'AE', Value: [options.retrieveAeTitle] };
  }
  return response;
}

/** One row of a C-FIND page: the level's key, each level's attributes as JSON text, the computed columns. */
export interface FindRow<K> {
  pk: K;
  pa: string;
  sa?: string;
  sea?: string;
  ia?: string;
  [computed: `c${string}`]: unknown;
}

/**
 * The SELECT of one C-FIND page: keyset paging on the level's primary key,
 * `?` placeholders (the conditions', then the last key seen and the page
 * size). `jsonText` turns an attributes column into JSON text (PostgreSQL's
 * jsonb needs `::text`).
 */
export function findPageSql(
  level: QueryLevel,
  plan: FindPlan,
  computedSql: Record<string, string>,
  jsonText: (column: string) => string = (column) => column,
): string {
  const depth = LEVEL_ORDER.indexOf(level);
  const alias = ALIAS[level];
  const select = [`${alias}.pk AS pk`, `${jsonText('p.attributes')} AS pa`];
  if (depth >= 1) select.push(`${jsonText('st.attributes')} AS sa`);
  if (depth >= 2) select.push(`${jsonText('se.attributes')} AS sea`);
  if (depth >= 3) select.push(`${jsonText('i.attributes')} AS ia`);
  // Quoted: PostgreSQL folds unquoted names (hex tags) to lower case.
  for (const tag of plan.computed) select.push(`${computedSql[tag]} AS "c${tag}"`);
  const where = [...plan.conditions.map((c) => c.sql), `${alias}.pk > ?`].join(' AND ');
  return `SELECT ${select.join(', ')} FROM ${FROM[level]} WHERE ${where} ORDER BY ${alias}.pk LIMIT ?`;
}

/** How an index fetches C-FIND pages for {@link findByPages}. */
export interface FindPager<K> {
  /** The key before the first row. */
  first: K;
  /** Rows per page. */
  pageSize: number;
  /** The rows after `after` (the conditions' params, then `after` and the page size). */
  page(params: unknown[], after: K): Promise<readonly FindRow<K>[]> | readonly FindRow<K>[];
  /** Throws when the index was closed. */
  assertOpen(): void;
}

/**
 * Runs a planned C-FIND one page at a time, so the connection is free between
 * pages (puts may interleave); keyset paging never repeats a row. Each row's
 * entity is its instance's attributes under its level rows' (their latest
 * values win), `matches()` decides, and the responses stop at the limit.
 */
export async function* findByPages<K>(
  level: QueryLevel,
  query: DicomJsonDataSet,
  options: FindOptions,
  plan: FindPlan,
  pager: FindPager<K>,
): AsyncGenerator<DicomJsonDataSet> {
  const params = plan.conditions.flatMap((c) => c.params);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  // Rows of one series share their patient, study and series JSON: parse once.
  const patients = new LastParsed();
  const studies = new LastParsed();
  const series = new LastParsed();
  let sent = 0;
  let after = pager.first;
  while (sent < limit) {
    pager.assertOpen();
    options.signal?.throwIfAborted();
    const rows = await pager.page(params, after);
    for (const row of rows) {
      after = row.pk;
      const entity: DicomJsonDataSet = {
        ...parse(row.ia),
        ...patients.parse(row.pa),
        ...studies.parse(row.sa),
        ...series.parse(row.sea),
      };
      for (const tag of plan.computed) entity[tag] = computedAttribute(tag, row[`c${tag}`] ?? []);
      if (!matches(plan.matchQuery, entity)) continue;
      options.signal?.throwIfAborted();
      yield findResponse(level, query, entity, options);
      if (++sent >= limit) return;
    }
    if (rows.length < pager.pageSize) return;
  }
}
