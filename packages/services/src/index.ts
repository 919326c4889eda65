/**
 * @packageDocumentation
 * `@dnet/services`: the AE-level API of dnet: a `Client` (SCU) and a `Server`
 * (SCP) with the PS3.4 service classes, and the query matching rules of
 * PS3.4 §C.2.2.2 that a C-FIND SCP applies.
 *
 * @example
 * ```ts
 * import { matches } from '@dnet/services';
 * const query = { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] } };
 * matches(query, { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE' }] } }); // true
 * ```
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/services';

export type { DicomJson, DicomJsonAttribute, PersonNameJson } from './query/dicom-json.js';
export { type MatchOptions, matches, matchesKey, responseIdentifier } from './query/matching.js';
