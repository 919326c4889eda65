/**
 * Errors of the archive's storage, index, query and worklist layers. Every error extends
 * `DnetError` of `@dnet/errors`: a stable `code` (`DNET_...`), a `cause`, and
 * the brand {@link isDnetError} recognises across duplicated installs.
 */

import { DnetError, isDnetError } from '@dnet/errors';

export { isDnetError };

/** Stable codes of the archive errors. */
export const ArchiveErrorCode = {
  /** A UID is not a valid UID (PS3.5 §9.1) and may not become a path part. */
  INVALID_UID: 'DNET_ARCHIVE_INVALID_UID',
  /** A stored-object path is malformed or resolves outside the storage root. */
  INVALID_PATH: 'DNET_ARCHIVE_INVALID_PATH',
  /** No stored object at the path given. */
  OBJECT_NOT_FOUND: 'DNET_ARCHIVE_OBJECT_NOT_FOUND',
  /** An object writer was used after `commit()` or `abort()`. */
  WRITER_CLOSED: 'DNET_ARCHIVE_WRITER_CLOSED',
  /** Writing, syncing or renaming a stored object failed; see `cause`. */
  STORAGE_FAILED: 'DNET_ARCHIVE_STORAGE_FAILED',
  /** An instance record lacks a required attribute or is not DICOM JSON. */
  INVALID_RECORD: 'DNET_ARCHIVE_INVALID_RECORD',
  /** A query or retrieve Identifier breaks the rules of PS3.4 §C.4; see `status`. */
  INVALID_QUERY: 'DNET_ARCHIVE_INVALID_QUERY',
  /** The index database has a schema version newer than this code knows. */
  INDEX_SCHEMA: 'DNET_ARCHIVE_INDEX_SCHEMA',
  /** The index was used after `close()`. */
  INDEX_CLOSED: 'DNET_ARCHIVE_INDEX_CLOSED',
  /** The index database could not be opened or created; see `path` and `cause`. */
  INDEX_OPEN: 'DNET_ARCHIVE_INDEX_OPEN',
  /** A worklist item file is not DICOM JSON or is too large. */
  INVALID_WORKLIST_ITEM: 'DNET_ARCHIVE_INVALID_WORKLIST_ITEM',
  /**
   * A received data set's beginning cannot be decoded, or it lacks the attributes
   * the archive files it under (PS3.4 §B.2.3: the SCP answers C000H).
   */
  UNREADABLE_DATA_SET: 'DNET_ARCHIVE_UNREADABLE_DATA_SET',
} as const;

/** One of the {@link ArchiveErrorCode} values. */
export type ArchiveErrorCode = (typeof ArchiveErrorCode)[keyof typeof ArchiveErrorCode];

/** Options every archive error accepts. */
export interface ArchiveErrorOptions {
  /** The underlying error (a Node system error, a SQLite error...). */
  cause?: unknown;
}

/** Base class of every archive error. */
export class ArchiveError extends DnetError {
  /** The stable error code. */
  declare readonly code: ArchiveErrorCode;

  /**
   * @param message - human-readable message
   * @param code - stable code
   * @param options - the cause
   */
  constructor(message: string, code: ArchiveErrorCode, options: ArchiveErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ArchiveError';
  }
}

/** A UID that is not valid per PS3.5 §9.1 was about to become part of a path. */
export class InvalidUidError extends ArchiveError {
  /** The offending value (possibly hostile; never use it as a path). */
  readonly uid: unknown;
  /** Which attribute carried it (e.g. `SOPInstanceUID`). */
  readonly attribute: string;

  /**
   * @param attribute - the attribute's keyword
   * @param uid - the rejected value
   * @param reason - why it was rejected
   */
  constructor(attribute: string, uid: unknown, reason: string) {
    super(`invalid ${attribute}: ${reason} (PS3.5 §9.1)`, ArchiveErrorCode.INVALID_UID);
    this.name = 'InvalidUidError';
    this.attribute = attribute;
    this.uid = uid;
  }
}

/** A stored-object path is malformed or would resolve outside the storage root. */
export class InvalidPathError extends ArchiveError {
  /** The rejected path. */
  readonly path: string;

  /**
   * @param path - the rejected path
   * @param reason - why it was rejected
   */
  constructor(path: string, reason: string) {
    super(`invalid stored-object path: ${reason}`, ArchiveErrorCode.INVALID_PATH);
    this.name = 'InvalidPathError';
    this.path = path;
  }
}

/** No stored object exists at the path given. */
export class ObjectNotFoundError extends ArchiveError {
  /** The path, relative to the storage root. */
  readonly path: string;

  /**
   * @param path - the path relative to the storage root
   * @param options - the cause (ENOENT)
   */
  constructor(path: string, options: ArchiveErrorOptions = {}) {
    super(
      `no stored object at ${JSON.stringify(path)}`,
      ArchiveErrorCode.OBJECT_NOT_FOUND,
      options,
    );
    this.name = 'ObjectNotFoundError';
    this.path = path;
  }
}

/** An object writer was written to or committed after it was committed or aborted. */
export class WriterClosedError extends ArchiveError {
  /** The writer's state when it was misused. */
  readonly state: string;

  /** @param state - the writer's state */
  constructor(state: string) {
    super(`the object writer is ${state}`, ArchiveErrorCode.WRITER_CLOSED);
    this.name = 'WriterClosedError';
    this.state = state;
  }
}

/** Writing, syncing or renaming a stored object failed (disk full, I/O error...). */
export class StorageFailedError extends ArchiveError {
  /**
   * The file the failing call was made on, when the system error does not say
   * (a write through an open file handle names none): for logs, never for a peer.
   */
  readonly path: string | undefined;

  /**
   * @param message - what failed
   * @param options - the underlying system error, and the file it concerns
   */
  constructor(message: string, options: ArchiveErrorOptions & { path?: string } = {}) {
    super(message, ArchiveErrorCode.STORAGE_FAILED, options);
    this.name = 'StorageFailedError';
    this.path = options.path;
  }
}

/** An instance record cannot be indexed. */
export class InvalidRecordError extends ArchiveError {
  /** The tag (8 hex digits) of the missing or malformed attribute, when one is to blame. */
  readonly tag: string | undefined;

  /**
   * @param message - what is wrong
   * @param tag - the attribute to blame
   */
  constructor(message: string, tag?: string) {
    super(message, ArchiveErrorCode.INVALID_RECORD);
    this.name = 'InvalidRecordError';
    this.tag = tag;
  }
}

/**
 * DIMSE statuses an SCP answers a refused query or retrieve with
 * (PS3.4 §C.4.1.1.4, §C.4.2.1.5, §C.4.3.1.4).
 */
export const QueryStatus = {
  /** Failed: Identifier Does Not Match SOP Class (A900H). */
  IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS: 0xa900,
  /** Failed: Unable to process (C000H-CFFFH; C000H used here). */
  UNABLE_TO_PROCESS: 0xc000,
} as const;

/**
 * A C-FIND, C-MOVE or C-GET Identifier that breaks PS3.4 §C.4 (a missing unique
 * key of a higher level, an unknown level...). `status` and `offendingElement`
 * are what the SCP puts in its failure response (PS3.7 §9.1.2.1.1).
 */
export class InvalidQueryError extends ArchiveError {
  /** The DIMSE status to answer with (see {@link QueryStatus}). */
  readonly status: number;
  /** The tag (8 hex digits) of the offending element, when one is to blame. */
  readonly offendingElement: string | undefined;

  /**
   * @param message - what is wrong (fit for the Error Comment, 64 chars is best)
   * @param offendingElement - the tag to blame
   * @param status - the DIMSE status, A900H by default
   */
  constructor(
    message: string,
    offendingElement?: string,
    status: number = QueryStatus.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
  ) {
    super(message, ArchiveErrorCode.INVALID_QUERY);
    this.name = 'InvalidQueryError';
    this.status = status;
    this.offendingElement = offendingElement;
  }
}

/** The index database was written by a newer dnet-scp (its schema version is unknown here). */
export class IndexSchemaError extends ArchiveError {
  /** The version found in the database. */
  readonly found: number;
  /** The newest version this code knows. */
  readonly supported: number;

  /**
   * @param found - the version in the database
   * @param supported - the newest known version
   */
  constructor(found: number, supported: number) {
    super(
      `index schema version ${found} is newer than the supported ${supported}`,
      ArchiveErrorCode.INDEX_SCHEMA,
    );
    this.name = 'IndexSchemaError';
    this.found = found;
    this.supported = supported;
  }
}

/** The index was used after `close()`. */
export class IndexClosedError extends ArchiveError {
  constructor() {
    super('the archive index is closed', ArchiveErrorCode.INDEX_CLOSED);
    this.name = 'IndexClosedError';
  }
}

/**
 * The index database could not be opened or created. The message names the
 * file, the database's own words and, when the file system is to blame, the
 * system's reason (read-only file system, permission denied...).
 */
export class IndexOpenError extends ArchiveError {
  /** The database file. */
  readonly path: string;

  /**
   * @param path - the database file
   * @param reason - why, in a few words (the database's message, the system's reason)
   * @param options - the database's error, or the file system's
   */
  constructor(path: string, reason: string, options: ArchiveErrorOptions = {}) {
    super(`cannot open the index ${path}: ${reason}`, ArchiveErrorCode.INDEX_OPEN, options);
    this.name = 'IndexOpenError';
    this.path = path;
  }
}

/** A worklist item file could not be read as DICOM JSON. */
export class InvalidWorklistItemError extends ArchiveError {
  /** The file, relative to the worklist folder. */
  readonly file: string;

  /**
   * @param file - the file name
   * @param message - what is wrong
   * @param options - the cause (a JSON syntax error...)
   */
  constructor(file: string, message: string, options: ArchiveErrorOptions = {}) {
    super(`${file}: ${message}`, ArchiveErrorCode.INVALID_WORKLIST_ITEM, options);
    this.name = 'InvalidWorklistItemError';
    this.file = file;
  }
}

/**
 * A received data set whose beginning cannot be decoded, or that lacks the
 * attributes the archive files it under (PS3.4 §B.2.3: the SCP answers C000H).
 */
export class UnreadableDataSetError extends ArchiveError {
  /**
   * @param message - what is wrong
   * @param options - the decoder's error
   */
  constructor(message: string, options: ArchiveErrorOptions = {}) {
    super(message, ArchiveErrorCode.UNREADABLE_DATA_SET, options);
    this.name = 'UnreadableDataSetError';
  }
}
