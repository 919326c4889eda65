/**
 * @packageDocumentation
 * The PostgreSQL {@link ArchiveIndex} of `@dnet/archive`, for several archive
 * nodes sharing one index (and one storage folder, each with its `nodeId`).
 * A subpath of its own so that the `pg` driver (an optional peer dependency)
 * is loaded only by those who use it.
 *
 * @example
 * ```ts
 * import { PostgresIndex } from '@dnet/archive/postgres';
 * const index = await PostgresIndex.open('postgres://dnet@db.example/archive', { poolSize: 10 });
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

export {
  POSTGRES_SCHEMA_VERSION,
  PostgresIndex,
  type PostgresIndexOptions,
} from './postgres/postgres-index.js';

/** The interface {@link PostgresIndex} implements and the types it uses (from the package's main entry). */
export type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  PutResult,
  QueryLevel,
  QueryModel,
  QueryOptions,
  RetrieveInstance,
};
