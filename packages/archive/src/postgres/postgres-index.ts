import { isDeepStrictEqual } from 'node:util';
import type { DicomJsonDataSet } from '@dnet/dataset';
import pg from 'pg';
import type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  PutResult,
  QueryOptions,
  RetrieveInstance,
} from '../archive-index.js';
import { IndexClosedError } from '../errors.js';
import {
  type CheckedRecord,
  COUNT_SQL,
  checkRecord,
  type InstanceRow as EngineInstanceRow,
  HAS_INSTANCE_SQL,
  INSTANCE_ROW_COLUMNS,
  instanceColumns,
  levelColumns,
  patientIdentity,
  pendingMigrations,
  type RetrieveRow,
  replacedResult,
  retrieveSql,
  toCounts,
  toRecord,
  toRetrieveInstances,
} from '../index-records.js';
import { LEVEL_TAGS, type QueryLevel } from '../query-model.js';
import {
  computedSql,
  type FindRow,
  findByPages,
  findPageSql,
  numberPlaceholders,
  POSTGRES_DIALECT,
  pick,
  planFind,
  planRetrieve,
} from '../shared-query.js';

/**
 * The schema, one migration per version (index 0 upgrades version 0 to 1...),
 * the same tables and key columns as `SqliteIndex`, with `jsonb` attributes.
 * A database is upgraded at start, in one transaction, under an advisory lock.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE patient (
    pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id text NOT NULL,          -- (0010,0020), '' when absent
    issuer text NOT NULL,              -- (0010,0021), '' when absent
    unidentified text NOT NULL,        -- '' when there is a Patient ID, else name|birth date
    name_key text,                     -- (0010,0010) as text, lower case; NULL = let matches() decide
    birth_date text,                   -- (0010,0030) YYYYMMDD; NULL = not normalisable
    sex text,                          -- (0010,0040)
    attributes jsonb NOT NULL,         -- DICOM JSON of the patient-level attributes
    UNIQUE (patient_id, issuer, unidentified)
  );
  CREATE INDEX patient_name ON patient (name_key);
  CREATE TABLE study (
    pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_fk bigint NOT NULL REFERENCES patient (pk),
    study_uid text NOT NULL UNIQUE,    -- (0020,000D)
    study_date text,                   -- (0008,0020) YYYYMMDD
    accession text,                    -- (0008,0050)
    study_id text,                     -- (0020,0010)
    referring_key text,                -- (0008,0090) as text, lower case
    description text,                  -- (0008,1030)
    attributes jsonb NOT NULL
  );
  CREATE INDEX study_patient ON study (patient_fk);
  CREATE INDEX study_date ON study (study_date);
  CREATE INDEX study_accession ON study (accession);
  CREATE TABLE series (
    pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    study_fk bigint NOT NULL REFERENCES study (pk),
    series_uid text NOT NULL UNIQUE,   -- (0020,000E)
    modality text,                     -- (0008,0060)
    series_number text,                -- (0020,0011)
    description text,                  -- (0008,103E)
    attributes jsonb NOT NULL
  );
  CREATE INDEX series_study ON series (study_fk);
  CREATE TABLE instance (
    pk bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_fk bigint NOT NULL REFERENCES series (pk),
    sop_instance_uid text NOT NULL UNIQUE, -- (0008,0018)
    sop_class_uid text NOT NULL,       -- (0008,0016)
    instance_number text,              -- (0020,0013)
    transfer_syntax_uid text NOT NULL,
    path text NOT NULL,
    size bigint NOT NULL,
    attributes jsonb NOT NULL          -- DICOM JSON of the whole record
  );
  CREATE INDEX instance_series ON instance (series_fk);
  `,
];

/** The schema version this code writes (the `dnet_schema_version` table). */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The advisory lock key taken while the schema is created or upgraded, so
 * that nodes starting together do not race (`pg_advisory_xact_lock`).
 * ASCII "dnetscp1".
 */
export const SCHEMA_LOCK_KEY = 0x646e657473637031n;

/** SQLSTATEs after which a transaction is retried whole (PostgreSQL Appendix A). */
const RETRYABLE = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '23505', // unique_violation: a racing insert
  '23503', // foreign_key_violation: a parent pruned by a racing remove
]);

/** How often a transaction is tried before its error is thrown. */
const MAX_ATTEMPTS = 8;

/** Options of {@link PostgresIndex.open}. */
export interface PostgresIndexOptions {
  /** Connections in the pool (default 10). Every node of a cluster has its own pool. */
  poolSize?: number;
  /** Rows fetched per page while answering a query (default 256). */
  pageSize?: number;
  /** Largest record accepted by `put`, as JSON characters (default 4 MiB). */
  maxRecordBytes?: number;
  /**
   * Whether query keys are pushed into SQL WHERE clauses (default true); with
   * false every row of the level is matched in JS only (same answers, slower).
   */
  pushDown?: boolean;
  /** How long to wait for a pooled connection, in ms (default 10 000). */
  connectionTimeoutMs?: number;
  /** Per-statement timeout on the server, in ms (default 30 000; 0 = none). */
  statementTimeoutMs?: number;
}

/** SQL of each computed attribute, evaluated per row of its level. */
const COMPUTED_SQL = computedSql('json_agg');

interface LevelRow {
  pk: string;
  attributes: DicomJsonDataSet;
}

type InstanceRow = EngineInstanceRow<string>;

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * The archive index in PostgreSQL, through a `pg` Pool: the index several
 * dnet-scp nodes share. Same tables, same query semantics as `SqliteIndex`
 * (both build on `shared-query.ts`); every value is a bound parameter.
 *
 * - The schema is created or upgraded at {@link PostgresIndex.open}, in one
 *   transaction holding an advisory lock ({@link SCHEMA_LOCK_KEY}), so nodes
 *   that start together do not race.
 * - `put` is one transaction: each level is upserted (`INSERT … ON CONFLICT
 *   DO NOTHING`, then `SELECT … FOR UPDATE` and `UPDATE` when the row exists),
 *   locking patient, study, series, instance in that order. UNIQUE on the UIDs
 *   and foreign keys make a lost or duplicated instance impossible; a
 *   transaction that loses a race (deadlock, a parent pruned under it) is
 *   rolled back and retried whole.
 * - `find` reads one page per query (keyset on the primary key), so a long
 *   C-FIND never holds a connection between pages.
 *
 * @example
 * ```ts
 * const index = await PostgresIndex.open('postgres://dnet@db.example/pacs');
 * await index.put({ path, transferSyntaxUid, size, attributes });
 * for await (const identifier of index.find('STUDY', query)) send(identifier);
 * await index.close();
 * ```
 */
export class PostgresIndex implements ArchiveIndex {
  readonly #pool: pg.Pool;
  readonly #pageSize: number;
  readonly #maxRecordBytes: number;
  readonly #pushDown: boolean;
  #closed = false;

  private constructor(pool: pg.Pool, options: PostgresIndexOptions) {
    this.#pool = pool;
    this.#pageSize = Math.max(1, options.pageSize ?? 256);
    this.#maxRecordBytes = options.maxRecordBytes ?? 4 * 1024 * 1024;
    this.#pushDown = options.pushDown ?? true;
  }

  /**
   * Connects to `connectionString` (`postgres://user@host:port/db`), creates
   * or upgrades the schema, and resolves the index. Rejects with
   * `IndexSchemaError` when the database was written by a newer version.
   *
   * @param connectionString - the database URL
   * @param options - pool and limits
   */
  static async open(
    connectionString: string,
    options: PostgresIndexOptions = {},
  ): Promise<PostgresIndex> {
    const pool = new pg.Pool({
      connectionString,
      max: Math.max(1, options.poolSize ?? 10),
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
    });
    // An idle client's error (the server went away) must not crash the process;
    // the next query on a new client reports it.
    pool.on('error', () => undefined);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresIndex(pool, options);
  }

  /** {@inheritDoc ArchiveIndex.put} */
  async put(record: InstanceRecord): Promise<PutResult> {
    this.#assertOpen();
    const checked = checkRecord(record, this.#maxRecordBytes);
    return this.#transaction((client) => putRows(client, checked));
  }

  /** {@inheritDoc ArchiveIndex.get} */
  async get(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    this.#assertOpen();
    const { rows } = await this.#pool.query<InstanceRow>(
      `SELECT ${INSTANCE_ROW_COLUMNS} FROM instance WHERE sop_instance_uid = $1`,
      [sopInstanceUid],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /** {@inheritDoc ArchiveIndex.remove} */
  async remove(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    this.#assertOpen();
    return this.#transaction(async (client) => {
      const { rows } = await client.query<InstanceRow>(
        `DELETE FROM instance WHERE sop_instance_uid = $1 RETURNING ${INSTANCE_ROW_COLUMNS}`,
        [sopInstanceUid],
      );
      const row = rows[0];
      if (!row) return undefined;
      await pruneSeries(client, row.series_fk);
      return toRecord(row);
    });
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
    const conditions = planRetrieve(level, query, options, POSTGRES_DIALECT);
    const { rows } = await this.#pool.query<RetrieveRow>(
      numberPlaceholders(retrieveSql(conditions)),
      conditions.flatMap((c) => c.params),
    );
    return toRetrieveInstances(rows);
  }

  /** {@inheritDoc ArchiveIndex.hasInstance} */
  async hasInstance(sopInstanceUid: string, sopClassUid: string): Promise<boolean> {
    this.#assertOpen();
    const { rowCount } = await this.#pool.query(numberPlaceholders(HAS_INSTANCE_SQL), [
      sopInstanceUid,
      sopClassUid,
    ]);
    return (rowCount ?? 0) > 0;
  }

  /** {@inheritDoc ArchiveIndex.count} */
  async count(): Promise<IndexCounts> {
    this.#assertOpen();
    const { rows } = await this.#pool.query<Record<keyof IndexCounts, string>>(COUNT_SQL);
    return toCounts(rows[0] as Record<keyof IndexCounts, string>);
  }

  /** {@inheritDoc ArchiveIndex.close} Waits for the pool's queries, then disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #assertOpen(): void {
    if (this.#closed) throw new IndexClosedError();
  }

  /** Runs `body` in a transaction, retrying it whole after a lost race (deadlock, pruned parent). */
  async #transaction<T>(body: (client: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await body(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollback) {
          broken = rollback as Error; // the connection is gone: do not pool it again
        }
        const code = (error as { code?: unknown }).code;
        if (attempt < MAX_ATTEMPTS && typeof code === 'string' && RETRYABLE.has(code)) continue;
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  async *#find(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options: FindOptions,
  ): AsyncGenerator<DicomJsonDataSet> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const plan = planFind(level, query, options, POSTGRES_DIALECT, this.#pushDown);
    const sql = numberPlaceholders(
      findPageSql(level, plan, COMPUTED_SQL, (column) => `${column}::text`),
    );
    yield* findByPages(level, query, options, plan, {
      first: '0',
      pageSize: this.#pageSize,
      // One page per query: the connection goes back to the pool between pages.
      page: async (params, after) =>
        (await this.#pool.query<FindRow<string>>(sql, [...params, after, this.#pageSize])).rows,
      assertOpen: () => this.#assertOpen(),
    });
  }
}

/** Creates or upgrades the schema in one transaction, holding the advisory lock. */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    // Nodes starting together queue here; the second sees the first's schema.
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY.toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS dnet_schema_version (version integer NOT NULL)');
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM dnet_schema_version',
    );
    if (!rows[0]) await client.query('INSERT INTO dnet_schema_version (version) VALUES (0)');
    for (const migration of pendingMigrations(rows[0]?.version ?? 0, MIGRATIONS)) {
      await client.query(migration);
    }
    await client.query('UPDATE dnet_schema_version SET version = $1', [POSTGRES_SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch((e: Error) => {
      broken = e;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/** A row lost between the INSERT that found it and the SELECT that locks it: retried whole. */
class LostRowError extends Error {
  readonly code = '40001';
}

/**
 * Upserts one level row: INSERT … ON CONFLICT DO NOTHING RETURNING, and when
 * the row exists, lock it (SELECT … FOR UPDATE) so the caller can merge into it.
 * With `selectFirst` (parents, which usually exist) the lock is tried first,
 * saving the INSERT's round trip in the common case.
 */
async function upsertRow<T extends { pk: string }>(
  client: Queryable,
  insert: string,
  insertParams: unknown[],
  select: string,
  selectParams: unknown[],
  selectFirst = false,
): Promise<{ created: true; pk: string } | { created: false; row: T }> {
  if (selectFirst) {
    const { rows } = await client.query<T>(select, selectParams);
    if (rows[0]) return { created: false, row: rows[0] };
  }
  const inserted = await client.query<{ pk: string }>(insert, insertParams);
  const pk = inserted.rows[0]?.pk;
  if (pk !== undefined) return { created: true, pk };
  const { rows } = await client.query<T>(select, selectParams);
  if (!rows[0]) throw new LostRowError('a row vanished under a concurrent remove');
  return { created: false, row: rows[0] };
}

/** The rows of one put, inside its transaction (patient, study, series, instance: one lock order). */
async function putRows(client: Queryable, checked: CheckedRecord): Promise<PutResult> {
  const { record, sopInstanceUid, studyUid, seriesUid } = checked;
  const attributes = record.attributes;

  // Patient: identified by Patient ID and its issuer (PS3.4 §C.6.1.1.2).
  const { patientId, issuer, unidentified } = patientIdentity(attributes);
  const patientNew = pick(attributes, LEVEL_TAGS.PATIENT);
  const patient = await upsertRow<LevelRow>(
    client,
    'INSERT INTO patient (patient_id, issuer, unidentified, name_key, birth_date, sex, attributes) ' +
      'VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (patient_id, issuer, unidentified) DO NOTHING RETURNING pk',
    [
      patientId,
      issuer,
      unidentified,
      ...levelColumns.patient(patientNew),
      JSON.stringify(patientNew),
    ],
    'SELECT pk, attributes FROM patient WHERE patient_id = $1 AND issuer = $2 AND unidentified = $3 FOR UPDATE',
    [patientId, issuer, unidentified],
    true,
  );
  let patientPk: string;
  if (patient.created) patientPk = patient.pk;
  else {
    patientPk = patient.row.pk;
    const merged = { ...patient.row.attributes, ...patientNew };
    // Unchanged rows (one more instance of a known patient) are not rewritten.
    if (!isDeepStrictEqual(merged, patient.row.attributes)) {
      await client.query(
        'UPDATE patient SET name_key = $1, birth_date = $2, sex = $3, attributes = $4 WHERE pk = $5',
        [...levelColumns.patient(merged), JSON.stringify(merged), patientPk],
      );
    }
  }

  // Study: latest values win; a study that changed patient leaves the old one.
  const studyNew = pick(attributes, LEVEL_TAGS.STUDY);
  const study = await upsertRow<LevelRow & { patient_fk: string }>(
    client,
    'INSERT INTO study (patient_fk, study_uid, study_date, accession, study_id, referring_key, description, attributes) ' +
      'VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (study_uid) DO NOTHING RETURNING pk',
    [patientPk, studyUid, ...levelColumns.study(studyNew), JSON.stringify(studyNew)],
    'SELECT pk, patient_fk, attributes FROM study WHERE study_uid = $1 FOR UPDATE',
    [studyUid],
    true,
  );
  let studyPk: string;
  if (study.created) studyPk = study.pk;
  else {
    studyPk = study.row.pk;
    const merged = { ...study.row.attributes, ...studyNew };
    const moved = study.row.patient_fk !== patientPk;
    if (moved || !isDeepStrictEqual(merged, study.row.attributes)) {
      await client.query(
        'UPDATE study SET patient_fk = $1, study_date = $2, accession = $3, study_id = $4, ' +
          'referring_key = $5, description = $6, attributes = $7 WHERE pk = $8',
        [patientPk, ...levelColumns.study(merged), JSON.stringify(merged), studyPk],
      );
    }
    if (moved) await prunePatient(client, study.row.patient_fk);
  }

  const seriesNew = pick(attributes, LEVEL_TAGS.SERIES);
  const series = await upsertRow<LevelRow & { study_fk: string }>(
    client,
    'INSERT INTO series (study_fk, series_uid, modality, series_number, description, attributes) ' +
      'VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (series_uid) DO NOTHING RETURNING pk',
    [studyPk, seriesUid, ...levelColumns.series(seriesNew), JSON.stringify(seriesNew)],
    'SELECT pk, study_fk, attributes FROM series WHERE series_uid = $1 FOR UPDATE',
    [seriesUid],
    true,
  );
  let seriesPk: string;
  if (series.created) seriesPk = series.pk;
  else {
    seriesPk = series.row.pk;
    const merged = { ...series.row.attributes, ...seriesNew };
    const moved = series.row.study_fk !== studyPk;
    if (moved || !isDeepStrictEqual(merged, series.row.attributes)) {
      await client.query(
        'UPDATE series SET study_fk = $1, modality = $2, series_number = $3, description = $4, ' +
          'attributes = $5 WHERE pk = $6',
        [studyPk, ...levelColumns.series(merged), JSON.stringify(merged), seriesPk],
      );
    }
    if (moved) await pruneStudy(client, series.row.study_fk);
  }

  // Instance: upsert by SOP Instance UID, replaced as a whole.
  const columns = instanceColumns(checked);
  const instance = await upsertRow<InstanceRow>(
    client,
    'INSERT INTO instance (series_fk, sop_instance_uid, sop_class_uid, instance_number, transfer_syntax_uid, ' +
      'path, size, attributes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ' +
      'ON CONFLICT (sop_instance_uid) DO NOTHING RETURNING pk',
    [seriesPk, sopInstanceUid, ...columns],
    'SELECT pk, series_fk, path FROM instance WHERE sop_instance_uid = $1 FOR UPDATE',
    [sopInstanceUid],
  );
  if (instance.created) return { replaced: false };
  const old = instance.row;
  await client.query(
    'UPDATE instance SET series_fk = $1, sop_class_uid = $2, instance_number = $3, transfer_syntax_uid = $4, ' +
      'path = $5, size = $6, attributes = $7 WHERE pk = $8',
    [seriesPk, ...columns, old.pk],
  );
  if (old.series_fk !== seriesPk) await pruneSeries(client, old.series_fk);
  return replacedResult(old.path, record.path);
}

/** Deletes a series left without instances, then its study if empty, and so on up. */
async function pruneSeries(client: Queryable, pk: string): Promise<void> {
  const { rows } = await client.query<{ parent: string }>(
    'DELETE FROM series WHERE pk = $1 AND NOT EXISTS (SELECT 1 FROM instance WHERE series_fk = $1) ' +
      'RETURNING study_fk AS parent',
    [pk],
  );
  if (rows[0]) await pruneStudy(client, rows[0].parent);
}

async function pruneStudy(client: Queryable, pk: string): Promise<void> {
  const { rows } = await client.query<{ parent: string }>(
    'DELETE FROM study WHERE pk = $1 AND NOT EXISTS (SELECT 1 FROM series WHERE study_fk = $1) ' +
      'RETURNING patient_fk AS parent',
    [pk],
  );
  if (rows[0]) await prunePatient(client, rows[0].parent);
}

async function prunePatient(client: Queryable, pk: string): Promise<void> {
  await client.query(
    'DELETE FROM patient WHERE pk = $1 AND NOT EXISTS (SELECT 1 FROM study WHERE patient_fk = $1)',
    [pk],
  );
}
