import type { DicomJsonDataSet } from '@dnet/dataset';
import type { QueryLevel, QueryModel } from './query-model.js';

/**
 * What the storage handler hands the index after an object is committed and
 * its data set header parsed. `attributes` is the DICOM JSON of the object's
 * attributes without bulk data (no Pixel Data); it must carry SOP Class UID,
 * SOP Instance UID, Study Instance UID and Series Instance UID.
 */
export interface InstanceRecord {
  /** Path of the stored object, relative to the storage root (`ObjectStorage`). */
  path: string;
  /** Transfer syntax the object is stored in (its Part 10 meta header's (0002,0010)). */
  transferSyntaxUid: string;
  /** Size of the stored object in bytes. */
  size: number;
  /** The object's attributes, in the DICOM JSON Model (PS3.18 Annex F). */
  attributes: DicomJsonDataSet;
}

/** What {@link ArchiveIndex.put} did. */
export interface PutResult {
  /** True when an instance with the same SOP Instance UID was already indexed (and is replaced). */
  replaced: boolean;
  /**
   * The replaced instance's path when it differs from the new one (it moved to
   * another study or series): the caller removes that file.
   */
  previousPath?: string;
}

/** One instance a retrieve selects (what a C-MOVE or C-GET sub-operation needs). */
export interface RetrieveInstance {
  /** Path of the stored object, relative to the storage root. */
  path: string;
  /** SOP Class UID (0008,0016): picks the presentation context. */
  sopClassUid: string;
  /** SOP Instance UID (0008,0018). */
  sopInstanceUid: string;
  /** The transfer syntax the object is stored in. */
  transferSyntaxUid: string;
  /** Size in bytes. */
  size: number;
}

/** How many entities the index holds. */
export interface IndexCounts {
  /** Patients. */
  patients: number;
  /** Studies. */
  studies: number;
  /** Series. */
  series: number;
  /** Instances. */
  instances: number;
}

/** Options of {@link ArchiveIndex.find} and {@link ArchiveIndex.instances}. */
export interface QueryOptions {
  /**
   * The information model of the SOP Class the request came on; default
   * Patient Root at the PATIENT level, Study Root otherwise.
   */
  model?: QueryModel;
  /**
   * Whether relational queries / retrieves were negotiated (PS3.4 §C.4.1.2.2,
   * §C.4.2.2.2, §C.4.3.2.2): unique keys of higher levels may then be missing.
   * Default false: hierarchical, baseline behaviour.
   */
  relational?: boolean;
  /** Cancels the operation (a C-CANCEL arrived, the association ended). */
  signal?: AbortSignal;
}

/** Options of {@link ArchiveIndex.find}. */
export interface FindOptions extends QueryOptions {
  /** At most this many responses (default: all). */
  limit?: number;
  /**
   * Retrieve AE Title (0008,0054) to put in every response: the AE that
   * serves C-MOVE / C-GET for these entities (PS3.4 §C.4.1.1.3.2).
   */
  retrieveAeTitle?: string;
}

/**
 * The archive's catalogue: which instances exist, under which patient, study
 * and series, and where their files are. `SqliteIndex` is the SQLite
 * implementation; a PostgreSQL one implements the same interface (see
 * README.md beside this file). Every method is asynchronous so that a
 * networked database fits; records and queries are DICOM JSON (PS3.18 Annex F).
 */
export interface ArchiveIndex {
  /**
   * Adds or replaces (by SOP Instance UID) one instance, creating or updating
   * its patient, study and series, in one transaction. Throws
   * `InvalidRecordError` when a required attribute is missing or malformed.
   */
  put(record: InstanceRecord): Promise<PutResult>;
  /** The indexed record of an instance, or `undefined`. */
  get(sopInstanceUid: string): Promise<InstanceRecord | undefined>;
  /**
   * Forgets one instance (and its series, study and patient once empty).
   * Resolves the removed record (its path is the file to delete), or `undefined`.
   */
  remove(sopInstanceUid: string): Promise<InstanceRecord | undefined>;
  /**
   * Answers a C-FIND (PS3.4 §C.4.1): yields one response Identifier per
   * matching entity at `level`, each holding the query's keys
   * (`responseIdentifier`), the Query/Retrieve Level, the entity's Specific
   * Character Set when it has one, and Retrieve AE Title when asked
   * (PS3.4 §C.4.1.1.3.2). Throws `InvalidQueryError`
   * (before the first response) when the Identifier breaks the hierarchy rules.
   */
  find(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options?: FindOptions,
  ): AsyncIterable<DicomJsonDataSet>;
  /**
   * The instances a C-MOVE or C-GET Identifier selects (PS3.4 §C.4.2.2.1,
   * §C.4.3.2.1): unique keys only, a list of UIDs allowed at the retrieve level.
   */
  instances(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options?: QueryOptions,
  ): Promise<RetrieveInstance[]>;
  /**
   * Whether the instance is held, with this SOP Class (Storage Commitment,
   * PS3.4 §J.3.2: each referenced SOP Instance is checked by both UIDs).
   */
  hasInstance(sopInstanceUid: string, sopClassUid: string): Promise<boolean>;
  /** How many patients, studies, series and instances are indexed. */
  count(): Promise<IndexCounts>;
  /** Releases the database; later calls reject with `IndexClosedError`. */
  close(): Promise<void>;
}
