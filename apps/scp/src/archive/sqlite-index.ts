import {
  type DicomJson,
  type DicomJsonAttribute,
  matches,
  type PersonNameJson,
  responseIdentifier,
} from '@dnet/services';
import Database from 'better-sqlite3';
import type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  PutResult,
  QueryOptions,
  RetrieveInstance,
} from './archive-index.js';
import { dicomJsonProblem } from './dicom-json-problem.js';
import {
  IndexClosedError,
  IndexSchemaError,
  InvalidQueryError,
  InvalidRecordError,
} from './errors.js';
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
import { uidProblem } from './validate-uid.js';

/**
 * The schema, one migration per version (index 0 upgrades version 0 to 1...).
 * A database is upgraded at open, in one transaction, to the newest version.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE patient (
    pk INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,          -- (0010,0020), '' when absent
    issuer TEXT NOT NULL,              -- (0010,0021), '' when absent
    unidentified TEXT NOT NULL,        -- '' when there is a Patient ID, else name|birth date
    name_key TEXT,                     -- (0010,0010) as text, lower case; NULL = let matches() decide
    birth_date TEXT,                   -- (0010,0030) YYYYMMDD; NULL = not normalisable
    sex TEXT,                          -- (0010,0040)
    attributes TEXT NOT NULL,          -- DICOM JSON of the patient-level attributes
    UNIQUE (patient_id, issuer, unidentified)
  );
  CREATE INDEX patient_name ON patient (name_key);
  CREATE TABLE study (
    pk INTEGER PRIMARY KEY,
    patient_fk INTEGER NOT NULL REFERENCES patient (pk),
    study_uid TEXT NOT NULL UNIQUE,    -- (0020,000D)
    study_date TEXT,                   -- (0008,0020) YYYYMMDD
    accession TEXT,                    -- (0008,0050)
    study_id TEXT,                     -- (0020,0010)
    referring_key TEXT,                -- (0008,0090) as text, lower case
    description TEXT,                  -- (0008,1030)
    attributes TEXT NOT NULL
  );
  CREATE INDEX study_patient ON study (patient_fk);
  CREATE INDEX study_date ON study (study_date);
  CREATE INDEX study_accession ON study (accession);
  CREATE TABLE series (
    pk INTEGER PRIMARY KEY,
    study_fk INTEGER NOT NULL REFERENCES study (pk),
    series_uid TEXT NOT NULL UNIQUE,   -- (0020,000E)
    modality TEXT,                     -- (0008,0060)
    series_number TEXT,                -- (0020,0011)
    description TEXT,                  -- (0008,103E)
    attributes TEXT NOT NULL
  );
  CREATE INDEX series_study ON series (study_fk);
  CREATE TABLE instance (
    pk INTEGER PRIMARY KEY,
    series_fk INTEGER NOT NULL REFERENCES series (pk),
    sop_instance_uid TEXT NOT NULL UNIQUE, -- (0008,0018)
    sop_class_uid TEXT NOT NULL,       -- (0008,0016)
    instance_number TEXT,              -- (0020,0013)
    transfer_syntax_uid TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    attributes TEXT NOT NULL           -- DICOM JSON of the whole record
  );
  CREATE INDEX instance_series ON instance (series_fk);
  `,
];

/** The schema version this code writes. */
export const INDEX_SCHEMA_VERSION = MIGRATIONS.length;

/** Options of {@link SqliteIndex}. */
export interface SqliteIndexOptions {
  /**
   * SQLite's `synchronous` setting in WAL mode. Default `FULL`: every
   * committed `put` is fsynced to the WAL before it returns, because the
   * storage SCP answers Success (and Storage Commitment answers "stored") only
   * after the index knows the object; an instance whose file survived a power
   * cut but whose row did not would be silently unfindable. The cost is one
   * WAL fsync per instance, the same order as the file's own fsync and
   * directory fsync. `NORMAL` (no fsync per commit, no corruption either) suits
   * bulk imports that can be redone.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Rows fetched per page while answering a query (default 256). */
  pageSize?: number;
  /** Largest record accepted by `put`, as JSON characters (default 4 MiB). */
  maxRecordBytes?: number;
  /**
   * Whether query keys are pushed into SQL WHERE clauses (default true). With
   * false every row of the level is matched in JS only: slower, same answers
   * (the tests use it to prove the push-down never loses a match).
   */
  pushDown?: boolean;
}

/** How a query key can be pushed into SQL. */
interface Column {
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
const COLUMNS: Record<string, Column> = {
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
const LEVEL_ORDER: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];

/** The FROM clause of a query at each level: the level's table joined up to the patient. */
const FROM: Record<QueryLevel, string> = {
  PATIENT: 'patient p',
  STUDY: 'study st JOIN patient p ON p.pk = st.patient_fk',
  SERIES: 'series se JOIN study st ON st.pk = se.study_fk JOIN patient p ON p.pk = st.patient_fk',
  IMAGE:
    'instance i JOIN series se ON se.pk = i.series_fk JOIN study st ON st.pk = se.study_fk ' +
    'JOIN patient p ON p.pk = st.patient_fk',
};

/** The table alias of each level. */
const ALIAS: Record<QueryLevel, string> = { PATIENT: 'p', STUDY: 'st', SERIES: 'se', IMAGE: 'i' };

/** SQL of each computed attribute, evaluated per row of its level. */
const COMPUTED_SQL: Record<string, string> = {
  [Tag.NumberOfPatientRelatedStudies]: '(SELECT COUNT(*) FROM study x WHERE x.patient_fk = p.pk)',
  [Tag.NumberOfPatientRelatedSeries]:
    '(SELECT COUNT(*) FROM series x JOIN study y ON y.pk = x.study_fk WHERE y.patient_fk = p.pk)',
  [Tag.NumberOfPatientRelatedInstances]:
    '(SELECT COUNT(*) FROM instance x JOIN series y ON y.pk = x.series_fk ' +
    'JOIN study z ON z.pk = y.study_fk WHERE z.patient_fk = p.pk)',
  [Tag.NumberOfStudyRelatedSeries]: '(SELECT COUNT(*) FROM series x WHERE x.study_fk = st.pk)',
  [Tag.NumberOfStudyRelatedInstances]:
    '(SELECT COUNT(*) FROM instance x JOIN series y ON y.pk = x.series_fk WHERE y.study_fk = st.pk)',
  [Tag.ModalitiesInStudy]:
    "(SELECT json_group_array(DISTINCT x.modality) FROM series x WHERE x.study_fk = st.pk AND x.modality <> '')",
  [Tag.SOPClassesInStudy]:
    '(SELECT json_group_array(DISTINCT x.sop_class_uid) FROM instance x ' +
    'JOIN series y ON y.pk = x.series_fk WHERE y.study_fk = st.pk)',
  [Tag.NumberOfSeriesRelatedInstances]:
    '(SELECT COUNT(*) FROM instance x WHERE x.series_fk = se.pk)',
  [Tag.AvailableTransferSyntaxUID]: 'i.transfer_syntax_uid',
};

/** The VR of each computed attribute (PS3.6). */
const COMPUTED_VR: Record<string, string> = {
  [Tag.ModalitiesInStudy]: 'CS',
  [Tag.SOPClassesInStudy]: 'UI',
  [Tag.AvailableTransferSyntaxUID]: 'UI',
};

/** VRs on which `*` and `?` are wild cards (PS3.4 §C.2.2.2.4). */
const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);

/** The text of one DICOM JSON value, as `matches()` sees it (PN: component groups joined by `=`). */
function textOf(value: unknown, vr: string): string {
  if (value === null || value === undefined) return '';
  if (vr === 'PN' && typeof value === 'object') {
    const pn = value as PersonNameJson;
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
function columnText(attribute: DicomJsonAttribute | undefined, vr: string): string | null {
  const values = attribute?.Value ?? [];
  if (values.length === 0) return '';
  if (values.length > 1) return null;
  return textOf(values[0], vr).trim();
}

function pnColumn(attribute: DicomJsonAttribute | undefined): string | null {
  return columnText(attribute, 'PN')?.toLowerCase() ?? null;
}

/** A DA column: YYYYMMDD (legacy `YYYY.MM.DD` normalised), '' when absent, `null` when not a date. */
function dateColumn(attribute: DicomJsonAttribute | undefined): string | null {
  const text = columnText(attribute, 'DA');
  if (text === null || text === '') return text;
  const date = text.replace(/\./g, '');
  return /^\d{8}$/.test(date) ? date : null;
}

/** The identity text of a key attribute (all values, `\`-joined). */
function identityText(attribute: DicomJsonAttribute | undefined): string {
  return (attribute?.Value ?? [])
    .map((v) => textOf(v, attribute?.vr ?? ''))
    .join('\\')
    .trim();
}

/** Escapes a DICOM wild card pattern (only `*` used) for SQLite GLOB. */
function globPattern(pattern: string): string {
  return pattern.replace(/\[/g, '[[]');
}

/** A WHERE fragment and its bound parameters. */
interface Condition {
  sql: string;
  params: unknown[];
}

/**
 * The SQL pre-filter of one key, or `undefined` when SQL cannot express it
 * safely. A pre-filter may only let through MORE than matches() accepts
 * (every row is matched again in JS), never less: ranges on YYYYMMDD dates,
 * exact values and lists (List of UID Matching, PS3.4 §C.2.2.2.2), and `*`
 * wild cards as GLOB. `?` wild cards, TM and DT ranges, sequences and
 * anything unusual are left to matches().
 */
function pushDown(
  column: Column,
  key: DicomJsonAttribute,
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
    // Wild Card Matching (PS3.4 §C.2.2.2.4): `*` only, as GLOB; `?` is left to matches().
    const text = texts[0] ?? '';
    if (texts.length !== 1 || text.includes('?')) return undefined;
    if (/^\**$/.test(text)) return undefined; // `*` alone: anything present
    const pattern = column.kind === 'pn' ? text.toLowerCase() : text;
    condition = { sql: `${sql} GLOB ?`, params: [globPattern(pattern)] };
  } else {
    // Single Value Matching (PS3.4 §C.2.2.2.1) or a list of values (§C.2.2.2.2).
    const list = column.kind === 'pn' ? texts.map((t) => t.toLowerCase()) : texts;
    condition =
      list.length === 1
        ? { sql: `${sql} = ?`, params: [list[0]] }
        : { sql: `${sql} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(list)] };
  }
  if (column.nullable) condition.sql = `(${sql} IS NULL OR ${condition.sql})`;
  return condition;
}

/** Attributes of `record` that a level keeps. */
function pick(attributes: DicomJson, tags: ReadonlySet<string>): DicomJson {
  const out: DicomJson = {};
  for (const tag of tags) {
    const attribute = attributes[tag];
    if (attribute) out[tag] = attribute;
  }
  return out;
}

/** True when the key has a value other than empty ones (it is not universal). */
function hasValue(key: DicomJsonAttribute | undefined): boolean {
  return (key?.Value ?? []).some((v) => textOf(v, key?.vr ?? '').trim() !== '');
}

interface LevelRow {
  pk: number;
  attributes: string;
}

interface InstanceRow {
  pk: number;
  series_fk: number;
  path: string;
  transfer_syntax_uid: string;
  size: number;
  attributes: string;
}

interface QueryRow {
  pk: number;
  pa: string;
  sa?: string;
  sea?: string;
  ia?: string;
  [computed: `c${string}`]: unknown;
}

/**
 * The archive index in SQLite (better-sqlite3): WAL mode, one file, tables
 * patient / study / series / instance with the key attributes of PS3.4 §C.6
 * as columns and each level's DICOM JSON for return keys. Queries push what
 * SQL can do into WHERE clauses with bound parameters and finish with
 * `matches()` (PS3.4 §C.2.2.2) on every candidate.
 *
 * @example
 * ```ts
 * const index = new SqliteIndex('/var/lib/dnet-scp/index.sqlite');
 * await index.put({ path, transferSyntaxUid, size, attributes });
 * for await (const identifier of index.find('STUDY', { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE*' }] }, '0020000D': { vr: 'UI' } })) {
 *   // send a Pending C-FIND-RSP with `identifier`
 * }
 * ```
 */
export class SqliteIndex implements ArchiveIndex {
  readonly #db: Database.Database;
  readonly #pageSize: number;
  readonly #maxRecordBytes: number;
  readonly #pushDown: boolean;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #putTransaction: (checked: CheckedRecord) => PutResult;
  readonly #putBatch: (batch: CheckedRecord[]) => PutResult[];
  /** Puts waiting for the next group commit. */
  #pending: PendingPut[] = [];
  #flushScheduled = false;
  readonly #removeTransaction: (sopInstanceUid: string) => InstanceRecord | undefined;
  #closed = false;

  /**
   * Opens (creating or upgrading) the index at `path` (`:memory:` for a
   * throw-away one). Throws {@link IndexSchemaError} if the file was written
   * by a newer version.
   *
   * @param path - the database file
   * @param options - durability and limits
   */
  constructor(path: string, options: SqliteIndexOptions = {}) {
    this.#pageSize = Math.max(1, options.pageSize ?? 256);
    this.#maxRecordBytes = options.maxRecordBytes ?? 4 * 1024 * 1024;
    this.#pushDown = options.pushDown ?? true;
    const db = new Database(path);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
      this.#stmt = prepareStatements(db);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    const put = db.transaction((checked: CheckedRecord) => this.#putRows(checked));
    this.#putTransaction = (checked) => put.immediate(checked);
    const putBatch = db.transaction((batch: CheckedRecord[]) => batch.map((c) => this.#putRows(c)));
    this.#putBatch = (batch) => putBatch.immediate(batch);
    const remove = db.transaction((sopInstanceUid: string) => {
      const row = this.#stmt.selectInstance.get(sopInstanceUid) as InstanceRow | undefined;
      if (!row) return undefined;
      this.#stmt.deleteInstance.run(row.pk);
      this.#pruneSeries(row.series_fk);
      return toRecord(row);
    });
    this.#removeTransaction = (sopInstanceUid) => remove.immediate(sopInstanceUid);
  }

  /**
   * {@inheritDoc ArchiveIndex.put}
   *
   * Group commit: puts made while others wait (concurrent associations) are
   * written in one transaction on the next turn of the event loop, so they
   * share one WAL fsync. Each still settles on its own, and every other
   * method first writes the waiting puts, so calls keep their order.
   */
  async put(record: InstanceRecord): Promise<PutResult> {
    if (this.#closed) throw new IndexClosedError();
    const checked = this.#checkRecord(record);
    return new Promise((resolve, reject) => {
      this.#pending.push({ checked, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flushPuts());
      }
    });
  }

  /** {@inheritDoc ArchiveIndex.get} */
  async get(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    this.#assertOpen();
    const row = this.#stmt.selectInstance.get(sopInstanceUid) as InstanceRow | undefined;
    return row && toRecord(row);
  }

  /** {@inheritDoc ArchiveIndex.remove} */
  async remove(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    this.#assertOpen();
    return this.#removeTransaction(sopInstanceUid);
  }

  /** {@inheritDoc ArchiveIndex.find} */
  find(level: QueryLevel, query: DicomJson, options: FindOptions = {}): AsyncIterable<DicomJson> {
    return this.#find(level, query, options);
  }

  /** {@inheritDoc ArchiveIndex.instances} */
  async instances(
    level: QueryLevel,
    query: DicomJson,
    options: QueryOptions = {},
  ): Promise<RetrieveInstance[]> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const model = checkIdentifier(level, query, options);
    const levels = MODEL_LEVELS[model];
    const conditions: Condition[] = [];
    for (const l of levels.slice(0, levels.indexOf(level) + 1)) {
      const tag = UNIQUE_KEY[l];
      const key = query[tag];
      if (!hasValue(key)) {
        if (l === level) throw new InvalidQueryError(`retrieve without a ${l} unique key`, tag);
        if (!options.relational) throw new InvalidQueryError(`missing ${l} unique key`, tag);
        continue; // relational retrieve: a higher level left open
      }
      const values = uniqueValues(key as DicomJsonAttribute, tag);
      // Above the retrieve level: one value (hierarchical); at it, a list of UIDs,
      // but only Single Value Matching for Patient ID (PS3.4 §C.4.2.1.4.1).
      if (values.length > 1 && (l !== level || l === 'PATIENT') && !options.relational) {
        throw new InvalidQueryError(`${l} unique key must be a single value`, tag);
      }
      const column = COLUMNS[tag] as Column;
      conditions.push({
        sql: `${column.sql} IN (SELECT value FROM json_each(?))`,
        params: [JSON.stringify(values)],
      });
    }
    const sql =
      'SELECT i.path AS path, i.sop_class_uid AS sopClassUid, i.sop_instance_uid AS sopInstanceUid, ' +
      `i.transfer_syntax_uid AS transferSyntaxUid, i.size AS size FROM ${FROM.IMAGE} ` +
      `WHERE ${conditions.map((c) => c.sql).join(' AND ')} ORDER BY i.pk`;
    return this.#db.prepare(sql).all(...conditions.flatMap((c) => c.params)) as RetrieveInstance[];
  }

  /** {@inheritDoc ArchiveIndex.hasInstance} */
  async hasInstance(sopInstanceUid: string, sopClassUid: string): Promise<boolean> {
    this.#assertOpen();
    return this.#stmt.hasInstance.get(sopInstanceUid, sopClassUid) !== undefined;
  }

  /** {@inheritDoc ArchiveIndex.count} */
  async count(): Promise<IndexCounts> {
    this.#assertOpen();
    return this.#stmt.count.get() as IndexCounts;
  }

  /** {@inheritDoc ArchiveIndex.close} Waiting puts are written first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushPuts();
    this.#closed = true;
    this.#db.close();
  }

  /** Throws once closed; otherwise writes the waiting puts, so that calls keep their order. */
  #assertOpen(): void {
    if (this.#closed) throw new IndexClosedError();
    if (this.#pending.length > 0) this.#flushPuts();
  }

  /** Writes the waiting puts, up to {@link MAX_GROUP_COMMIT} per transaction. */
  #flushPuts(): void {
    this.#flushScheduled = false;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, MAX_GROUP_COMMIT);
      if (this.#closed) {
        for (const p of batch) p.reject(new IndexClosedError());
        continue;
      }
      let results: PutResult[] | undefined;
      try {
        results = this.#putBatch(batch.map((p) => p.checked));
      } catch {
        // Rolled back: redo them one transaction each, so only the culprit fails.
      }
      if (results) {
        for (let i = 0; i < batch.length; i++) batch[i]?.resolve(results[i] as PutResult);
        continue;
      }
      for (const p of batch) {
        try {
          p.resolve(this.#putTransaction(p.checked));
        } catch (error) {
          p.reject(error);
        }
      }
    }
  }

  async *#find(
    level: QueryLevel,
    query: DicomJson,
    options: FindOptions,
  ): AsyncGenerator<DicomJson> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const model = checkIdentifier(level, query, options);
    const levels = MODEL_LEVELS[model];
    if (!options.relational) {
      // Hierarchical search (PS3.4 §C.4.1.3.1.1): one unique key per higher level.
      for (const l of levels.slice(0, levels.indexOf(level))) {
        const tag = UNIQUE_KEY[l];
        const key = query[tag];
        if (!hasValue(key)) throw new InvalidQueryError(`missing ${l} unique key`, tag);
        if (uniqueValues(key as DicomJsonAttribute, tag).length !== 1) {
          throw new InvalidQueryError(`${l} unique key must be a single value`, tag);
        }
      }
    }
    const depth = LEVEL_ORDER.indexOf(level);
    // Keys of lower levels, and optional keys this archive does not keep, are
    // not matched (PS3.4 §C.2.2.1.3): they are returned empty.
    const matchQuery: DicomJson = {};
    const conditions: Condition[] = [];
    for (const [tag, asked] of Object.entries(query)) {
      if (!isMatchable(tag, level)) continue;
      // UIDs take no wild cards (PS3.4 §C.2.2.2.4), but many SCUs send `*` to
      // mean "any": at the query level it is read as Universal Matching.
      const key = isStarUid(asked) ? { vr: 'UI' } : asked;
      matchQuery[tag] = key;
      if (!this.#pushDown) continue;
      const column = COLUMNS[tag];
      if (column && LEVEL_ORDER.indexOf(column.level) <= depth) {
        const condition = pushDown(column, key);
        if (condition) conditions.push(condition);
      } else if (tag === Tag.ModalitiesInStudy && level === 'STUDY') {
        const condition = pushDown(COLUMNS[Tag.Modality] as Column, key, 'x.modality');
        if (condition) {
          conditions.push({
            sql: `EXISTS (SELECT 1 FROM series x WHERE x.study_fk = st.pk AND ${condition.sql})`,
            params: condition.params,
          });
        }
      }
    }
    const computed = [...COMPUTED_TAGS[level]].filter((tag) => tag in query);
    const alias = ALIAS[level];
    const select = [`${alias}.pk AS pk`, 'p.attributes AS pa'];
    if (depth >= 1) select.push('st.attributes AS sa');
    if (depth >= 2) select.push('se.attributes AS sea');
    if (depth >= 3) select.push('i.attributes AS ia');
    for (const tag of computed) select.push(`${COMPUTED_SQL[tag]} AS c${tag}`);
    const where = [...conditions.map((c) => c.sql), `${alias}.pk > ?`].join(' AND ');
    const statement = this.#db.prepare(
      `SELECT ${select.join(', ')} FROM ${FROM[level]} WHERE ${where} ORDER BY ${alias}.pk LIMIT ?`,
    );
    const params = conditions.flatMap((c) => c.params);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const patients = new LastParsed();
    const studies = new LastParsed();
    const series = new LastParsed();
    let sent = 0;
    let after = 0;
    while (sent < limit) {
      this.#assertOpen();
      options.signal?.throwIfAborted();
      // One page at a time, so the connection is free between pages (puts may
      // interleave); keyset paging on the primary key never repeats a row.
      const rows = statement.all(...params, after, this.#pageSize) as QueryRow[];
      for (const row of rows) {
        after = row.pk;
        // The instance's own copy of patient, study and series attributes yields
        // to the level rows (their latest values), as in the SQL columns.
        // Rows of one series share their patient, study and series JSON: parse once.
        const entity: DicomJson = {
          ...parse(row.ia),
          ...patients.parse(row.pa),
          ...studies.parse(row.sa),
          ...series.parse(row.sea),
        };
        for (const tag of computed) entity[tag] = computedAttribute(tag, row[`c${tag}`]);
        if (!matches(matchQuery, entity)) continue;
        options.signal?.throwIfAborted();
        yield this.#response(level, query, entity, options);
        if (++sent >= limit) return;
      }
      if (rows.length < this.#pageSize) return;
    }
  }

  /**
   * The response Identifier (PS3.4 §C.4.1.1.3.2): the query's keys with the
   * entity's values, the Query/Retrieve Level, the Specific Character Set of
   * the values when they have one, and the Retrieve AE Title when configured.
   */
  #response(level: QueryLevel, query: DicomJson, entity: DicomJson, options: FindOptions) {
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

  #checkRecord(record: InstanceRecord): CheckedRecord {
    if (typeof record !== 'object' || record === null) {
      throw new InvalidRecordError('the record is not an object');
    }
    const { path, transferSyntaxUid, size, attributes } = record;
    if (typeof path !== 'string' || path.length === 0 || path.length > 4096) {
      throw new InvalidRecordError('the record has no valid path');
    }
    if (uidProblem(transferSyntaxUid) !== undefined) {
      throw new InvalidRecordError('the record has no valid transfer syntax UID');
    }
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new InvalidRecordError('the record has no valid size');
    }
    const problem = dicomJsonProblem(attributes);
    if (problem) throw new InvalidRecordError(`attributes: ${problem}`);
    const json = JSON.stringify(attributes);
    if (json.length > this.#maxRecordBytes) {
      throw new InvalidRecordError(
        `attributes are ${json.length} characters as JSON, more than ${this.#maxRecordBytes}`,
      );
    }
    const uid = (tag: string, name: string): string => {
      const attribute = attributes[tag];
      const value = attribute?.Value?.length === 1 ? attribute.Value[0] : undefined;
      const why = uidProblem(value);
      if (why !== undefined) throw new InvalidRecordError(`${name}: ${why} (PS3.5 §9.1)`, tag);
      return value as string;
    };
    return {
      record,
      json,
      sopInstanceUid: uid(Tag.SOPInstanceUID, 'SOP Instance UID'),
      sopClassUid: uid(Tag.SOPClassUID, 'SOP Class UID'),
      studyUid: uid(Tag.StudyInstanceUID, 'Study Instance UID'),
      seriesUid: uid(Tag.SeriesInstanceUID, 'Series Instance UID'),
    };
  }

  #putRows({ record, json, sopInstanceUid, sopClassUid, studyUid, seriesUid }: CheckedRecord) {
    const s = this.#stmt;
    const attributes = record.attributes;

    // Patient: identified by Patient ID and its issuer (PS3.4 §C.6.1.1.2). Patient
    // ID is Type 2 (PS3.3 §C.7.1.1): without one, name and birth date tell patients
    // apart, so that unidentified patients are not all merged into one.
    const patientId = identityText(attributes[Tag.PatientID]);
    const issuer = identityText(attributes[Tag.IssuerOfPatientID]);
    const unidentified =
      patientId === ''
        ? `${pnColumn(attributes[Tag.PatientName]) ?? ''}|${identityText(attributes[Tag.PatientBirthDate])}`
        : '';
    const patient = s.selectPatient.get(patientId, issuer, unidentified) as LevelRow | undefined;
    const patientJson = merge(patient?.attributes, pick(attributes, LEVEL_TAGS.PATIENT));
    const patientColumns = [
      pnColumn(patientJson[Tag.PatientName]),
      dateColumn(patientJson[Tag.PatientBirthDate]),
      columnText(patientJson[Tag.PatientSex], 'CS'),
      JSON.stringify(patientJson),
    ];
    let patientPk: number;
    if (patient) {
      // Unchanged rows (the usual case: one more instance of a known patient) are not rewritten.
      if (patientColumns[3] !== patient.attributes)
        s.updatePatient.run(...patientColumns, patient.pk);
      patientPk = patient.pk;
    } else {
      patientPk = Number(
        s.insertPatient.run(patientId, issuer, unidentified, ...patientColumns).lastInsertRowid,
      );
    }

    // Study: latest values win; a study that changed patient leaves the old one.
    const study = s.selectStudy.get(studyUid) as (LevelRow & { patient_fk: number }) | undefined;
    const studyJson = merge(study?.attributes, pick(attributes, LEVEL_TAGS.STUDY));
    const studyColumns = [
      dateColumn(studyJson[Tag.StudyDate]),
      columnText(studyJson[Tag.AccessionNumber], 'SH'),
      columnText(studyJson[Tag.StudyID], 'SH'),
      pnColumn(studyJson[Tag.ReferringPhysicianName]),
      columnText(studyJson[Tag.StudyDescription], 'LO'),
      JSON.stringify(studyJson),
    ];
    let studyPk: number;
    if (study) {
      if (studyColumns[5] !== study.attributes || study.patient_fk !== patientPk) {
        s.updateStudy.run(patientPk, ...studyColumns, study.pk);
      }
      studyPk = study.pk;
      if (study.patient_fk !== patientPk) this.#prunePatient(study.patient_fk);
    } else {
      studyPk = Number(s.insertStudy.run(patientPk, studyUid, ...studyColumns).lastInsertRowid);
    }

    const series = s.selectSeries.get(seriesUid) as (LevelRow & { study_fk: number }) | undefined;
    const seriesJson = merge(series?.attributes, pick(attributes, LEVEL_TAGS.SERIES));
    const seriesColumns = [
      columnText(seriesJson[Tag.Modality], 'CS'),
      columnText(seriesJson[Tag.SeriesNumber], 'IS'),
      columnText(seriesJson[Tag.SeriesDescription], 'LO'),
      JSON.stringify(seriesJson),
    ];
    let seriesPk: number;
    if (series) {
      if (seriesColumns[3] !== series.attributes || series.study_fk !== studyPk) {
        s.updateSeries.run(studyPk, ...seriesColumns, series.pk);
      }
      seriesPk = series.pk;
      if (series.study_fk !== studyPk) this.#pruneStudy(series.study_fk);
    } else {
      seriesPk = Number(s.insertSeries.run(studyPk, seriesUid, ...seriesColumns).lastInsertRowid);
    }

    // Instance: replaced as a whole (upsert by SOP Instance UID).
    const instance = s.selectInstance.get(sopInstanceUid) as InstanceRow | undefined;
    const instanceColumns = [
      sopClassUid,
      columnText(attributes[Tag.InstanceNumber], 'IS'),
      record.transferSyntaxUid,
      record.path,
      record.size,
      json,
    ];
    if (instance) {
      s.updateInstance.run(seriesPk, ...instanceColumns, instance.pk);
      if (instance.series_fk !== seriesPk) this.#pruneSeries(instance.series_fk);
      return instance.path === record.path
        ? { replaced: true }
        : { replaced: true, previousPath: instance.path };
    }
    s.insertInstance.run(seriesPk, sopInstanceUid, ...instanceColumns);
    return { replaced: false };
  }

  #pruneSeries(pk: number): void {
    const row = this.#stmt.seriesParent.get(pk) as { parent: number } | undefined;
    if (!row || this.#stmt.seriesHasInstances.get(pk)) return;
    this.#stmt.deleteSeries.run(pk);
    this.#pruneStudy(row.parent);
  }

  #pruneStudy(pk: number): void {
    const row = this.#stmt.studyParent.get(pk) as { parent: number } | undefined;
    if (!row || this.#stmt.studyHasSeries.get(pk)) return;
    this.#stmt.deleteStudy.run(pk);
    this.#prunePatient(row.parent);
  }

  #prunePatient(pk: number): void {
    if (this.#stmt.patientHasStudies.get(pk)) return;
    this.#stmt.deletePatient.run(pk);
  }
}

/** Most puts written in one group-commit transaction. */
const MAX_GROUP_COMMIT = 256;

interface PendingPut {
  checked: CheckedRecord;
  resolve: (result: PutResult) => void;
  reject: (error: unknown) => void;
}

interface CheckedRecord {
  record: InstanceRecord;
  json: string;
  sopInstanceUid: string;
  sopClassUid: string;
  studyUid: string;
  seriesUid: string;
}

/** Creates or upgrades the schema in one transaction (a `schema_version` table keeps the version). */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as
      | { version: number }
      | undefined;
    if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    const version = row?.version ?? 0;
    if (version > INDEX_SCHEMA_VERSION) throw new IndexSchemaError(version, INDEX_SCHEMA_VERSION);
    for (let v = version; v < INDEX_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    db.prepare('UPDATE schema_version SET version = ?').run(INDEX_SCHEMA_VERSION);
  }).immediate();
}

function prepareStatements(db: Database.Database) {
  return {
    selectPatient: db.prepare(
      'SELECT pk, attributes FROM patient WHERE patient_id = ? AND issuer = ? AND unidentified = ?',
    ),
    insertPatient: db.prepare(
      'INSERT INTO patient (patient_id, issuer, unidentified, name_key, birth_date, sex, attributes) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    updatePatient: db.prepare(
      'UPDATE patient SET name_key = ?, birth_date = ?, sex = ?, attributes = ? WHERE pk = ?',
    ),
    selectStudy: db.prepare('SELECT pk, patient_fk, attributes FROM study WHERE study_uid = ?'),
    insertStudy: db.prepare(
      'INSERT INTO study (patient_fk, study_uid, study_date, accession, study_id, referring_key, description, attributes) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateStudy: db.prepare(
      'UPDATE study SET patient_fk = ?, study_date = ?, accession = ?, study_id = ?, referring_key = ?, ' +
        'description = ?, attributes = ? WHERE pk = ?',
    ),
    selectSeries: db.prepare('SELECT pk, study_fk, attributes FROM series WHERE series_uid = ?'),
    insertSeries: db.prepare(
      'INSERT INTO series (study_fk, series_uid, modality, series_number, description, attributes) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    updateSeries: db.prepare(
      'UPDATE series SET study_fk = ?, modality = ?, series_number = ?, description = ?, attributes = ? WHERE pk = ?',
    ),
    selectInstance: db.prepare(
      'SELECT pk, series_fk, path, transfer_syntax_uid, size, attributes FROM instance WHERE sop_instance_uid = ?',
    ),
    insertInstance: db.prepare(
      'INSERT INTO instance (series_fk, sop_instance_uid, sop_class_uid, instance_number, transfer_syntax_uid, path, size, attributes) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateInstance: db.prepare(
      'UPDATE instance SET series_fk = ?, sop_class_uid = ?, instance_number = ?, transfer_syntax_uid = ?, ' +
        'path = ?, size = ?, attributes = ? WHERE pk = ?',
    ),
    deleteInstance: db.prepare('DELETE FROM instance WHERE pk = ?'),
    seriesParent: db.prepare('SELECT study_fk AS parent FROM series WHERE pk = ?'),
    seriesHasInstances: db.prepare('SELECT 1 FROM instance WHERE series_fk = ? LIMIT 1'),
    deleteSeries: db.prepare('DELETE FROM series WHERE pk = ?'),
    studyParent: db.prepare('SELECT patient_fk AS parent FROM study WHERE pk = ?'),
    studyHasSeries: db.prepare('SELECT 1 FROM series WHERE study_fk = ? LIMIT 1'),
    deleteStudy: db.prepare('DELETE FROM study WHERE pk = ?'),
    patientHasStudies: db.prepare('SELECT 1 FROM study WHERE patient_fk = ? LIMIT 1'),
    deletePatient: db.prepare('DELETE FROM patient WHERE pk = ?'),
    hasInstance: db.prepare(
      'SELECT 1 FROM instance WHERE sop_instance_uid = ? AND sop_class_uid = ?',
    ),
    count: db.prepare(
      'SELECT (SELECT COUNT(*) FROM patient) AS patients, (SELECT COUNT(*) FROM study) AS studies, ' +
        '(SELECT COUNT(*) FROM series) AS series, (SELECT COUNT(*) FROM instance) AS instances',
    ),
  };
}

/**
 * Checks what every query and retrieve Identifier needs (PS3.4 §C.4.1.1.3.1):
 * a level of the model, a Query/Retrieve Level that agrees, DICOM JSON shape.
 * Returns the model.
 */
function checkIdentifier(level: QueryLevel, query: DicomJson, options: QueryOptions): QueryModel {
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
  const stated = query[Tag.QueryRetrieveLevel]?.Value?.[0];
  if (stated !== undefined && String(stated).trim() !== level) {
    throw new InvalidQueryError(
      `Query/Retrieve Level ${JSON.stringify(stated)} is not ${level}`,
      Tag.QueryRetrieveLevel,
    );
  }
  return model;
}

/**
 * The values of a unique key: no wild cards (PS3.4 §C.2.2.2.2: a UID list
 * matches exactly; Patient ID is Single Value Matching here).
 */
function uniqueValues(key: DicomJsonAttribute, tag: string): string[] {
  const values = (key.Value ?? []).map((v) => textOf(v, key.vr).trim()).filter((v) => v !== '');
  if (values.some((v) => /[*?]/.test(v))) {
    throw new InvalidQueryError('wild card in a unique key', tag);
  }
  return values;
}

/** A UI key whose only value is `*`. */
function isStarUid(key: DicomJsonAttribute): boolean {
  const values = key.Value ?? [];
  return key.vr === 'UI' && values.length > 0 && values.every((v) => String(v).trim() === '*');
}

/** Whether a key is matched at `level`: attributes the archive keeps at or above it (all at IMAGE). */
function isMatchable(tag: string, level: QueryLevel): boolean {
  if (level === 'IMAGE') return true;
  for (const l of LEVEL_ORDER) {
    if (l === 'IMAGE') break;
    if (LEVEL_TAGS[l].has(tag)) return true;
    if (l === level) return COMPUTED_TAGS[l].has(tag);
  }
  return false;
}

function computedAttribute(tag: string, value: unknown): DicomJsonAttribute {
  const vr = COMPUTED_VR[tag];
  if (vr === 'UI' && typeof value === 'string' && tag === Tag.AvailableTransferSyntaxUID) {
    return { vr, Value: [value] };
  }
  if (vr) {
    const list = typeof value === 'string' ? (JSON.parse(value) as unknown[]) : [];
    const values = list.filter((v) => typeof v === 'string' && v !== '');
    return values.length > 0 ? { vr, Value: values } : { vr };
  }
  return { vr: 'IS', Value: [Number(value)] };
}

/** Parses JSON, reusing the last result when the same text comes again. */
class LastParsed {
  #text: string | undefined;
  #value: DicomJson = {};

  parse(text: string | undefined): DicomJson {
    if (text !== this.#text) {
      this.#text = text;
      this.#value = parse(text);
    }
    return this.#value;
  }
}

function parse(json: string | undefined): DicomJson {
  return json ? (JSON.parse(json) as DicomJson) : {};
}

function merge(previous: string | undefined, next: DicomJson): DicomJson {
  return { ...parse(previous), ...next };
}

function toRecord(row: InstanceRow): InstanceRecord {
  return {
    path: row.path,
    transferSyntaxUid: row.transfer_syntax_uid,
    size: row.size,
    attributes: JSON.parse(row.attributes) as DicomJson,
  };
}
