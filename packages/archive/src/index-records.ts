/**
 * What every SQL implementation of `ArchiveIndex` writes for an instance
 * record and reads back: the record's validation, the patient's identity, the
 * key columns of each level, the instance row and the statements that do not
 * depend on the engine. `SqliteIndex` and `PostgresIndex` both build on it
 * (and on shared-query.ts for queries), so they store and return the same
 * rows; only how each engine runs a statement differs.
 */
import type { DicomJsonDataSet } from '@dnet/dataset';
import type { IndexCounts, InstanceRecord, PutResult, RetrieveInstance } from './archive-index.js';
import { dicomJsonProblem } from './dicom-json-problem.js';
import { IndexSchemaError, InvalidRecordError } from './errors.js';
import { Tag } from './query-model.js';
import {
  type Condition,
  columnText,
  controlCharacterKey,
  dateColumn,
  FROM,
  identityText,
  parse,
  pnColumn,
} from './shared-query.js';
import { uidProblem } from './validate-uid.js';

/** The stored attributes of a level updated with a new instance's: latest values win. */
export function merge(previous: string | undefined, next: DicomJsonDataSet): DicomJsonDataSet {
  return { ...parse(previous), ...next };
}
/** A record that passed {@link checkRecord}, with its UIDs and JSON text. */
export interface CheckedRecord {
  /** The record as given. */
  record: InstanceRecord;
  /** `record.attributes` as JSON text. */
  json: string;
  /** SOP Instance UID (0008,0018). */
  sopInstanceUid: string;
  /** SOP Class UID (0008,0016). */
  sopClassUid: string;
  /** Study Instance UID (0020,000D). */
  studyUid: string;
  /** Series Instance UID (0020,000E). */
  seriesUid: string;
}

/**
 * Validates a record before it is indexed: path, transfer syntax, size, the
 * DICOM JSON shape, its size as JSON, and the four UIDs (PS3.5 §9.1).
 * Throws {@link InvalidRecordError}.
 */
export function checkRecord(record: InstanceRecord, maxRecordBytes: number): CheckedRecord {
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
  // NUL is no character of any string VR (PS3.5 §6.2; trailing NUL padding is
  // stripped by the decoder): PostgreSQL cannot store it in text or jsonb, so
  // neither index takes it (the C-STORE fails with Cannot Understand, C000H).
  const nul = controlCharacterKey(attributes, true);
  if (nul) throw new InvalidRecordError('an attribute value holds NUL (00H)', nul);
  const json = JSON.stringify(attributes);
  if (json.length > maxRecordBytes) {
    throw new InvalidRecordError(
      `attributes are ${json.length} characters as JSON, more than ${maxRecordBytes}`,
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

/**
 * Patient identity (PS3.4 §C.6.1.1.2): Patient ID and its issuer. Patient ID
 * is Type 2 (PS3.3 §C.7.1.1): without one, name and birth date tell patients
 * apart (`unidentified`), so that unidentified patients are not all merged.
 */
export function patientIdentity(attributes: DicomJsonDataSet): {
  patientId: string;
  issuer: string;
  unidentified: string;
} {
  const patientId = identityText(attributes[Tag.PatientID]);
  const issuer = identityText(attributes[Tag.IssuerOfPatientID]);
  const unidentified =
    patientId === ''
      ? `${pnColumn(attributes[Tag.PatientName]) ?? ''}|${identityText(attributes[Tag.PatientBirthDate])}`
      : '';
  return { patientId, issuer, unidentified };
}

/** The key columns of each level, from the level's (merged) attributes, in schema order. */
export const levelColumns = {
  /** name_key, birth_date, sex. */
  patient: (a: DicomJsonDataSet) => [
    pnColumn(a[Tag.PatientName]),
    dateColumn(a[Tag.PatientBirthDate]),
    columnText(a[Tag.PatientSex], 'CS'),
  ],
  /** study_date, accession, study_id, referring_key, description. */
  study: (a: DicomJsonDataSet) => [
    dateColumn(a[Tag.StudyDate]),
    columnText(a[Tag.AccessionNumber], 'SH'),
    columnText(a[Tag.StudyID], 'SH'),
    pnColumn(a[Tag.ReferringPhysicianName]),
    columnText(a[Tag.StudyDescription], 'LO'),
  ],
  /** modality, series_number, description. */
  series: (a: DicomJsonDataSet) => [
    columnText(a[Tag.Modality], 'CS'),
    columnText(a[Tag.SeriesNumber], 'IS'),
    columnText(a[Tag.SeriesDescription], 'LO'),
  ],
  /** instance_number. */
  instance: (a: DicomJsonDataSet) => [columnText(a[Tag.InstanceNumber], 'IS')],
};

/**
 * The migrations to run on a database at schema `version` to reach
 * `migrations.length`; throws {@link IndexSchemaError} when the database is newer.
 */
export function pendingMigrations(version: number, migrations: readonly string[]): string[] {
  const supported = migrations.length;
  if (version > supported) throw new IndexSchemaError(version, supported);
  return migrations.slice(version);
}

/** The columns of an instance row that make an {@link InstanceRecord}. */
export const INSTANCE_ROW_COLUMNS = 'pk, series_fk, path, transfer_syntax_uid, size, attributes';

/** An instance row as an engine returns it (keys as numbers or as text, attributes as JSON text or parsed). */
export interface InstanceRow<Key> {
  /** Primary key. */
  pk: Key;
  /** The series row's key. */
  series_fk: Key;
  /** Where the object is stored. */
  path: string;
  /** Transfer Syntax UID of the stored object. */
  transfer_syntax_uid: string;
  /** Bytes of the stored object (PostgreSQL returns a bigint as text). */
  size: number | string;
  /** The attributes, as JSON text (SQLite) or parsed (PostgreSQL's jsonb). */
  attributes: string | DicomJsonDataSet;
}

/** The record of an instance row. */
export function toRecord(row: InstanceRow<unknown>): InstanceRecord {
  return {
    path: row.path,
    transferSyntaxUid: row.transfer_syntax_uid,
    size: Number(row.size),
    attributes: typeof row.attributes === 'string' ? parse(row.attributes) : row.attributes,
  };
}

/**
 * The instance columns a put writes after the series key and the SOP Instance
 * UID, in schema order: sop_class_uid, instance_number, transfer_syntax_uid,
 * path, size, attributes.
 */
export function instanceColumns(checked: CheckedRecord): unknown[] {
  const { record } = checked;
  return [
    checked.sopClassUid,
    ...levelColumns.instance(record.attributes),
    record.transferSyntaxUid,
    record.path,
    record.size,
    checked.json,
  ];
}

/** What a put that replaced an instance row reports: the old file when it moved. */
export function replacedResult(previousPath: string, path: string): PutResult {
  return previousPath === path ? { replaced: true } : { replaced: true, previousPath };
}

/** Whether an instance with this SOP Instance UID (`?` 1) and SOP Class UID (`?` 2) is held. */
export const HAS_INSTANCE_SQL =
  'SELECT 1 FROM instance WHERE sop_instance_uid = ? AND sop_class_uid = ?';

/** The four counts of {@link IndexCounts}, in one row. */
export const COUNT_SQL =
  'SELECT (SELECT COUNT(*) FROM patient) AS patients, (SELECT COUNT(*) FROM study) AS studies, ' +
  '(SELECT COUNT(*) FROM series) AS series, (SELECT COUNT(*) FROM instance) AS instances';

/** The counts of a {@link COUNT_SQL} row (PostgreSQL returns a count as text). */
export function toCounts(row: Record<keyof IndexCounts, number | string>): IndexCounts {
  return {
    patients: Number(row.patients),
    studies: Number(row.studies),
    series: Number(row.series),
    instances: Number(row.instances),
  };
}

/**
 * The statement that selects the instances a retrieve sends, in the order they
 * were indexed, with `?` placeholders. Its column aliases are quoted, so that
 * they keep their case in every engine.
 */
export function retrieveSql(conditions: readonly Condition[]): string {
  return (
    'SELECT i.path AS "path", i.sop_class_uid AS "sopClassUid", i.sop_instance_uid AS "sopInstanceUid", ' +
    `i.transfer_syntax_uid AS "transferSyntaxUid", i.size AS "size" FROM ${FROM.IMAGE} ` +
    `WHERE ${conditions.map((c) => c.sql).join(' AND ')} ORDER BY i.pk`
  );
}

/** A {@link retrieveSql} row as the engine returns it (a bigint size may come as text). */
export type RetrieveRow = Omit<RetrieveInstance, 'size'> & { size: number | string };

/** The instances of {@link retrieveSql}'s rows. */
export function toRetrieveInstances(rows: readonly RetrieveRow[]): RetrieveInstance[] {
  return rows.map((r) => ({ ...r, size: Number(r.size) }));
}
