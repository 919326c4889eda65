/**
 * `@dnet/errors`: the one error base of dnet. It has no dependencies and sits
 * below every other dnet package; each package's errors extend
 * {@link DnetError}, and every package re-exports {@link isDnetError}.
 *
 * @example
 * ```ts
 * import { isDnetError } from '@dnet/errors';
 * try {
 *   await client.store(file);
 * } catch (e) {
 *   if (isDnetError(e) && e.code === 'DNET_ASSOCIATION_ABORTED') retryLater();
 *   else throw e;
 * }
 * ```
 *
 * @packageDocumentation
 */
export { DnetError, type DnetErrorOptions, isDnetError } from './dnet-error.js';
