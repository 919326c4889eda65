import type { ArchiveIndex, InstanceRecord } from './archive-index.js';
import type { ObjectStorage } from './storage.js';

/**
 * What the archive does with a C-STORE of a SOP Instance it already holds
 * (the same SOP Instance UID, PS3.3 §C.12.1.1.1):
 *
 * - `keep` (the default): the archived copy stays byte for byte; the new one
 *   is received, checked and dropped, and the answer is Success (0000H), as
 *   Orthanc (`OverwriteInstances: false`) and dcm4chee-arc (overwrite policy
 *   `NEVER`) answer a re-send.
 * - `replace`: the new copy takes the old one's place, once it is complete
 *   and durable (the commit's fsync and atomic rename).
 * - `reject`: the new copy is dropped and the C-STORE fails with
 *   {@link DUPLICATE_REJECTED_STATUS}.
 *
 * Under every policy an incomplete data set is never stored, so it can never
 * replace anything.
 */
export type DuplicatePolicy = 'keep' | 'replace' | 'reject';

/** Every {@link DuplicatePolicy}, the default first. */
export const DUPLICATE_POLICIES: readonly DuplicatePolicy[] = ['keep', 'replace', 'reject'];

/** The default {@link DuplicatePolicy}: the archived copy is kept. */
export const DEFAULT_DUPLICATE_POLICY: DuplicatePolicy = 'keep';

/**
 * The C-STORE status of a duplicate refused under `reject`: A701H, in the
 * "Refused: Out of Resources" range A7xxH, the only refusal C-STORE has
 * (PS3.4 §B.2.3 Table B.2-1). PS3.7 Annex C's 0111H Duplicate SOP Instance is
 * an N-CREATE status, not among C-STORE's (PS3.7 §9.1.1.1.9; PS3.2 Table
 * N.7-42 lists the statuses a C-STORE SCU meets); dcm4chee-arc answers its
 * own refusals of a stored instance in the same range (A770H-A779H). A value
 * of its own keeps it apart from A700H (the write or the index failed).
 */
export const DUPLICATE_REJECTED_STATUS = 0xa701;

/** Whether `value` names a {@link DuplicatePolicy}. */
export function isDuplicatePolicy(value: unknown): value is DuplicatePolicy {
  return (DUPLICATE_POLICIES as readonly unknown[]).includes(value);
}

/**
 * The archived copy of an instance, when the archive holds it whole: indexed,
 * and its file present with the indexed size. An instance indexed without its
 * file (removed by hand, a damaged disk) is not held: a new copy may repair it
 * whatever the policy.
 *
 * @param index - the archive's index
 * @param storage - the archive's storage
 * @param sopInstanceUid - the instance's SOP Instance UID
 */
export async function archivedCopy(
  index: ArchiveIndex,
  storage: ObjectStorage,
  sopInstanceUid: string,
): Promise<InstanceRecord | undefined> {
  const record = await index.get(sopInstanceUid);
  if (!record) return undefined;
  const stat = await storage.stat(record.path).catch(() => undefined);
  return stat && stat.size === record.size ? record : undefined;
}
