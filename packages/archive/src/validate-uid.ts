import { InvalidUidError } from './errors.js';

/** The longest UID, in characters (PS3.5 §9.1). */
export const MAX_UID_LENGTH = 64;

/**
 * Why `value` is not a UID we accept, or `undefined` when it is one.
 *
 * PS3.5 §9.1: at most 64 characters, only digits and `.`, components separated
 * by single dots (no empty component, no leading or trailing dot). The rule that
 * a component has no leading zero is not enforced: such UIDs are met in the wild
 * and are harmless as path parts. Everything else (`..`, `/`, `\`, NUL, spaces,
 * padding) is refused, which is what makes a UID safe to use as a file name.
 */
export function uidProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'not a string';
  if (value.length === 0) return 'empty';
  if (value.length > MAX_UID_LENGTH) return `longer than ${MAX_UID_LENGTH} characters`;
  if (!/^[0-9.]*$/.test(value)) return 'characters other than digits and dots';
  if (!/^[0-9]+(\.[0-9]+)*$/.test(value)) return 'an empty component';
  return undefined;
}

/** True when `value` is a UID per PS3.5 §9.1 (see {@link uidProblem}). */
export function isValidUid(value: unknown): value is string {
  return uidProblem(value) === undefined;
}

/**
 * Throws {@link InvalidUidError} unless `value` is a UID per PS3.5 §9.1.
 *
 * @param value - the candidate
 * @param attribute - the attribute's keyword, for the error (`SOPInstanceUID`)
 */
export function assertValidUid(value: unknown, attribute: string): asserts value is string {
  const problem = uidProblem(value);
  if (problem !== undefined) throw new InvalidUidError(attribute, value, problem);
}
