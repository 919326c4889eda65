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

import type { ArchiveIndex } from './archive-index.js';
import type { ObjectStorage } from './storage.js';

export { describeArchiveIndex, record, type Spec } from './archive-index-compliance.js';
export { describeObjectStorage } from './object-storage-compliance.js';

/** The interfaces the suites check (from the package's main entry). */
export type { ArchiveIndex, ObjectStorage };
