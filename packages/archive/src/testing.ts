/**
 * @packageDocumentation
 * The compliance suites of `@dnet/archive` (vitest): the contracts every
 * {@link ArchiveIndex} and every {@link ObjectStorage} must keep. `SqliteIndex`,
 * `PostgresIndex` and `LocalStorage` pass them; an implementation of your own
 * (another database, an object store) runs them unchanged in its tests.
 *
 * @example
 * ```ts
 * import { describeArchiveIndex, describeObjectStorage } from '@dnet/archive/testing';
 * describeArchiveIndex('MyIndex', () => MyIndex.open(freshDatabase()));
 * describeObjectStorage('MyStorage', (dir) => new MyStorage(dir));
 * ```
 */

import type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  PutResult,
  QueryOptions,
  RetrieveInstance,
} from './archive-index.js';
import type { QueryLevel, QueryModel } from './query-model.js';
import type {
  ObjectStorage,
  ObjectUids,
  ObjectWriter,
  OpenOptions,
  StoredObject,
  StoredObjectStat,
} from './storage.js';

export { describeArchiveIndex, record, type Spec } from './archive-index-compliance.js';
export { describeObjectStorage } from './object-storage-compliance.js';

/** The interfaces the suites check and the types they use (from the package's main entry). */
export type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  ObjectStorage,
  ObjectUids,
  ObjectWriter,
  OpenOptions,
  PutResult,
  QueryLevel,
  QueryModel,
  QueryOptions,
  RetrieveInstance,
  StoredObject,
  StoredObjectStat,
};
