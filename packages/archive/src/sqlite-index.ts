import fs, { accessSync, constants as fsConstants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { systemErrorOf } from '@dnet/services';
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
import {
  IndexClosedError,
  IndexOpenError,
  IndexSchemaError,
  StorageFailedError,
} from './errors.js';
import { type CallMode, callModeFor } from './file-calls.js';
import { GroupSync } from './group-sync.js';
import {
  type CheckedRecord,
  COUNT_SQL,
  checkRecord,
  HAS_INSTANCE_SQL,
  INSTANCE_ROW_COLUMNS,
  type InstanceRow,
  instanceColumns,
  levelColumns,
  merge,
  patientIdentity,
  pendingMigrations,
  type RetrieveRow,
  replacedResult,
  retrieveSql,
  toCounts,
  toRecord,
  toRetrieveInstances,
} from './index-records.js';
import { LEVEL_TAGS, type QueryLevel } from './query-model.js';
import {
  computedSql,
  type FindRow,
  findByPages,
  findPageSql,
  pick,
  planFind,
  planRetrieve,
  SQLITE_DIALECT,
} from './shared-query.js';
import { syncDirectory } from './storage.js';

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
   * Durability of each write in WAL mode. Default `FULL`: a `put` or
   * `remove` resolves only once its transaction is on disk, because the
   * storage SCP answers Success (and Storage Commitment answers "stored") only
   * after the index knows the object; an instance whose file survived a power
   * cut but whose row did not would be silently unfindable. What SQLite's own
   * `synchronous = FULL` does on the event loop (an fsync of the WAL inside
   * every commit, which stalls every association while the disk is busy) is
   * done off it: SQLite runs with `synchronous = NORMAL` and the index
   * fdatasyncs the WAL file on libuv's thread pool after the commit (at once,
   * synchronously, on tmpfs, where it cannot wait for a device), one sync
   * shared by the commits waiting for it (group commit). Equivalent for
   * durability: a WAL transaction is durable once its frames are on disk, and
   * a checkpoint resets the WAL only after the database file itself was
   * synced. `NORMAL` (no sync per commit, no corruption either) suits bulk
   * imports that can be redone.
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

/** SQL of each computed attribute, evaluated per row of its level. */
const COMPUTED_SQL = computedSql('json_group_array');

interface LevelRow {
  pk: number;
  attributes: string;
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
  /** The WAL file, when writes must be durable before they resolve (file databases, `FULL`). */
  readonly #walPath: string | undefined;
  /** One WAL fdatasync at a time, shared by the commits waiting for it. */
  readonly #walSyncs = new GroupSync(() => this.#syncWal());
  /** Our own handle on the WAL file (opened for writing, never written), opened at the first sync. */
  #wal: FileHandle | undefined;
  /**
   * `memory` when the WAL is on tmpfs, where its fdatasync cannot wait for a
   * device and runs synchronously rather than as a round trip to the thread
   * pool (file-calls.ts); otherwise the sync is on the thread pool.
   */
  #walCalls: CallMode = 'pool';
  /**
   * A failed WAL sync: the index is no longer trusted (what reached the disk
   * is unknown, and Linux may not report the error again), so every later
   * write fails with it too (fail-stop).
   */
  #walFailure: StorageFailedError | undefined;

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
    const db = openDatabase(path);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      try {
        db.pragma('journal_mode = WAL');
      } catch (error) {
        // The first write: a file we may read but not write (a read-only file system) fails here.
        throw openError(path, error);
      }
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db); // durable before the constructor returns
      // From here on each write's WAL sync is ours, off the event loop (see `synchronous`).
      db.pragma('synchronous = NORMAL');
      this.#stmt = prepareStatements(db);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    this.#walPath = options.synchronous === 'NORMAL' || db.memory ? undefined : `${db.name}-wal`;
    const put = db.transaction((checked: CheckedRecord) => this.#putRows(checked));
    this.#putTransaction = (checked) => put.immediate(checked);
    const putBatch = db.transaction((batch: CheckedRecord[]) => batch.map((c) => this.#putRows(c)));
    this.#putBatch = (batch) => putBatch.immediate(batch);
    const remove = db.transaction((sopInstanceUid: string) => {
      const row = this.#stmt.selectInstance.get(sopInstanceUid) as InstanceRow<number> | undefined;
      if (!row) return undefined;
      this.#stmt.deleteInstance.run(row.pk);
      this.#pruneSeries(row.series_fk);
      return toRecord(row);
    });
    this.#removeTransaction = (sopInstanceUid) => remove.immediate(sopInstanceUid);
  }

  /**
   * Adds or replaces (by SOP Instance UID) one instance, creating or updating
   * its patient, study and series, in one transaction. Throws
   * `InvalidRecordError` when a required attribute is missing or malformed.
   *
   * Group commit: puts made while others wait (concurrent associations) are
   * written in one transaction on the next turn of the event loop, so they
   * share one WAL sync (see {@link SqliteIndexOptions.synchronous}). Each
   * still settles on its own, once its transaction is on disk, and every other
   * method first writes the waiting puts, so calls keep their order.
   */
  async put(record: InstanceRecord): Promise<PutResult> {
    if (this.#closed) throw new IndexClosedError();
    if (this.#walFailure) throw this.#walFailure;
    const checked = checkRecord(record, this.#maxRecordBytes);
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
    const row = this.#stmt.selectInstance.get(sopInstanceUid) as InstanceRow<number> | undefined;
    return row && toRecord(row);
  }

  /** {@inheritDoc ArchiveIndex.remove} */
  async remove(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    this.#assertOpen();
    if (this.#walFailure) throw this.#walFailure;
    const removed = this.#removeTransaction(sopInstanceUid);
    await this.#durable();
    return removed;
  }

  /** {@inheritDoc ArchiveIndex.find} */
  find(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options: FindOptions = {},
  ): AsyncIterable<DicomJsonDataSet> {
    return this.#find(level, query, options);
  }

  /** {@inheritDoc ArchiveIndex.instances} */
  async instances(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options: QueryOptions = {},
  ): Promise<RetrieveInstance[]> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const conditions = planRetrieve(level, query, options, SQLITE_DIALECT);
    const rows = this.#db
      .prepare(retrieveSql(conditions))
      .all(...conditions.flatMap((c) => c.params)) as RetrieveRow[];
    return toRetrieveInstances(rows);
  }

  /** {@inheritDoc ArchiveIndex.hasInstance} */
  async hasInstance(sopInstanceUid: string, sopClassUid: string): Promise<boolean> {
    this.#assertOpen();
    return this.#stmt.hasInstance.get(sopInstanceUid, sopClassUid) !== undefined;
  }

  /** {@inheritDoc ArchiveIndex.count} */
  async count(): Promise<IndexCounts> {
    this.#assertOpen();
    return toCounts(this.#stmt.count.get() as IndexCounts);
  }

  /**
   * Releases the database; later calls reject with `IndexClosedError`.
   * Waiting puts are written first.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flushPuts();
    this.#closed = true;
    if (this.#walPath !== undefined) {
      // The puts just written settle with their own WAL sync: wait for one before closing the handle.
      await this.#walSyncs.sync('wal').catch(() => undefined);
      await this.#wal?.close().catch(() => undefined);
    }
    this.#db.close();
  }

  /**
   * Resolves once every transaction committed so far is on disk: a WAL
   * fdatasync that starts after this call (shared with other callers).
   */
  async #durable(): Promise<void> {
    if (this.#walPath === undefined) return;
    await this.#walSyncs.sync('wal');
  }

  /** fdatasyncs the WAL file (the first time, opens it and fsyncs its folder too). */
  async #syncWal(): Promise<void> {
    if (this.#walFailure) throw this.#walFailure;
    try {
      if (!this.#wal) {
        // The WAL exists once WAL mode is on; it is reused, never replaced, while we hold the
        // database open. Opened for writing: Windows flushes only a handle that may write.
        this.#wal = await open(this.#walPath!, 'r+');
        // Its entry (and the database's) in their folder, once.
        await syncDirectory(dirname(this.#walPath!));
        this.#walCalls = await callModeFor(dirname(this.#walPath!));
      }
      if (this.#walCalls === 'memory') fs.fdatasyncSync(this.#wal.fd);
      else await this.#wal.datasync();
    } catch (cause) {
      this.#walFailure ??= new StorageFailedError("cannot sync the index's write-ahead log", {
        cause,
      });
      throw this.#walFailure;
    }
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
        const done = results;
        this.#settleDurable(batch, (i) => done[i] as PutResult);
        continue;
      }
      const each: (PutResult | { error: unknown })[] = batch.map((p) => {
        try {
          return this.#putTransaction(p.checked);
        } catch (error) {
          return { error };
        }
      });
      this.#settleDurable(batch, (i) => each[i] as PutResult | { error: unknown });
    }
  }

  /**
   * Settles committed puts once the WAL holding them is on disk (at once
   * without a WAL sync); those that failed to commit are rejected with their error.
   */
  #settleDurable(
    batch: PendingPut[],
    outcome: (i: number) => PutResult | { error: unknown },
  ): void {
    const settle = (syncError?: unknown) => {
      for (let i = 0; i < batch.length; i++) {
        const r = outcome(i);
        if ('error' in r) batch[i]?.reject(r.error);
        else if (syncError !== undefined) batch[i]?.reject(syncError);
        else batch[i]?.resolve(r);
      }
    };
    if (this.#walPath === undefined) settle();
    else this.#durable().then(() => settle(), settle);
  }

  async *#find(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options: FindOptions,
  ): AsyncGenerator<DicomJsonDataSet> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const plan = planFind(level, query, options, SQLITE_DIALECT, this.#pushDown);
    const statement = this.#db.prepare(findPageSql(level, plan, COMPUTED_SQL));
    yield* findByPages(level, query, options, plan, {
      first: 0,
      pageSize: this.#pageSize,
      page: (params, after) => statement.all(...params, after, this.#pageSize) as FindRow<number>[],
      assertOpen: () => this.#assertOpen(),
    });
  }

  #putRows(checked: CheckedRecord) {
    const { record, sopInstanceUid, studyUid, seriesUid } = checked;
    const s = this.#stmt;
    const attributes = record.attributes;

    // Patient: identified by Patient ID and its issuer (PS3.4 §C.6.1.1.2).
    const { patientId, issuer, unidentified } = patientIdentity(attributes);
    const patient = s.selectPatient.get(patientId, issuer, unidentified) as LevelRow | undefined;
    const patientJson = merge(patient?.attributes, pick(attributes, LEVEL_TAGS.PATIENT));
    const patientColumns = [...levelColumns.patient(patientJson), JSON.stringify(patientJson)];
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
    const studyColumns = [...levelColumns.study(studyJson), JSON.stringify(studyJson)];
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
    const seriesColumns = [...levelColumns.series(seriesJson), JSON.stringify(seriesJson)];
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
    const instance = s.selectInstance.get(sopInstanceUid) as InstanceRow<number> | undefined;
    const columns = instanceColumns(checked);
    if (instance) {
      s.updateInstance.run(seriesPk, ...columns, instance.pk);
      if (instance.series_fk !== seriesPk) this.#pruneSeries(instance.series_fk);
      return replacedResult(instance.path, record.path);
    }
    s.insertInstance.run(seriesPk, sopInstanceUid, ...columns);
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

/** Creates or upgrades the schema in one transaction (a `schema_version` table keeps the version). */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as
      | { version: number }
      | undefined;
    if (!row) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    for (const migration of pendingMigrations(row?.version ?? 0, MIGRATIONS)) db.exec(migration);
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
      `SELECT ${INSTANCE_ROW_COLUMNS} FROM instance WHERE sop_instance_uid = ?`,
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
    hasInstance: db.prepare(HAS_INSTANCE_SQL),
    count: db.prepare(COUNT_SQL),
  };
}

/** Opens (or creates) the database file, failing with an {@link IndexOpenError} that says why. */
function openDatabase(path: string): Database.Database {
  try {
    return new Database(path);
  } catch (error) {
    throw openError(path, error);
  }
}

/**
 * The error for a database that cannot be opened: SQLite says only "unable to
 * open database file", so the file system is asked what is wrong (the file,
 * else its folder, tried for writing) and its error becomes the cause.
 */
function openError(path: string, error: unknown): IndexOpenError {
  const message = String((error as Error)?.message ?? error);
  if (path === ':memory:' || path === '')
    return new IndexOpenError(path, message, { cause: error });
  let cause: unknown = error;
  for (const target of [path, dirname(path)]) {
    try {
      accessSync(target, fsConstants.R_OK | fsConstants.W_OK);
      if (target === path) break; // the file is there and writable: SQLite's error stands
    } catch (failure) {
      if ((failure as { code?: unknown }).code === 'ENOENT' && target === path) continue;
      cause = failure;
      break;
    }
  }
  const system = systemErrorOf(cause);
  const reason = system ? `${message} (${system.text}, ${system.code})` : message;
  return new IndexOpenError(path, reason, { cause });
}
