/**
 * Planning the associations that store a set of files (PS3.4 Annex B): the
 * fewest presentation contexts that carry every file as it is on disk, split
 * over several associations when one cannot carry them all (PS3.8 §9.3.2.2).
 */

import { MAX_PRESENTATION_CONTEXTS } from '@dnet/association';
import { transferSyntaxInfo } from '@dnet/dataset';
import { type ContextSpec, DEFAULT_TRANSFER_SYNTAXES } from './contexts.js';
import { type DicomFile, type FindDicomFilesOptions, findDicomFiles } from './dicom-files.js';
import { InvalidArgumentError } from './errors.js';

/**
 * What {@link planStorage} needs of a file whose identity is already known:
 * its path, SOP Class UID and transfer syntax ({@link DicomFile} has them).
 */
export type StorageFile = Pick<DicomFile, 'path' | 'sopClassUid' | 'transferSyntaxUid'>;

/** One association of a storage plan: the contexts to propose and the files it carries. */
export interface StoragePlan<F extends StorageFile = DicomFile> {
  /** The presentation contexts to propose (`Client.connect({ contexts })`), at most the limit asked. */
  contexts: ContextSpec[];
  /** The files sent over this association, grouped by the context each needs. */
  files: F[];
}

/** Options of {@link planStorage}. */
export interface PlanStorageOptions extends FindDicomFilesOptions {
  /**
   * Presentation contexts per association, default and at most 128 (PS3.8
   * §9.3.2.2: odd context IDs 1 to 255). Lower it to leave room for contexts
   * of your own on the same association (`verification()`, `storageCommitment()`).
   */
  maxContexts?: number;
}

/** Whether a transfer syntax encapsulates its pixel data (compressed): unknown syntaxes count as such. */
function encapsulated(uid: string): boolean {
  try {
    return transferSyntaxInfo(uid).encapsulated;
  } catch {
    return true; // unknown: proposed alone, never converted
  }
}

/**
 * Which context a file needs: its SOP class, with its transfer syntax when
 * compressed. An uncompressed file can be converted to any uncompressed
 * syntax as it streams, so all uncompressed files of a class share one
 * context; a compressed one is sent as it is, and only the acceptance of its
 * own syntax lets it through (PS3.8 §9.3.2.2.2: one transfer syntax accepted
 * per context), hence a context of its own.
 */
function contextKey(f: StorageFile): string {
  return `${f.sopClassUid} ${encapsulated(f.transferSyntaxUid) ? f.transferSyntaxUid : ''}`;
}

/**
 * One presentation context per group of files needing the same context
 * (see `contextKey`): compressed files propose their own transfer syntax
 * alone; uncompressed files propose theirs, in the order met, then Explicit
 * and Implicit VR Little Endian (PS3.5 §10.1: Implicit VR Little Endian is
 * the default every SCP accepts).
 */
function contextsOf(groups: ReadonlyMap<string, readonly StorageFile[]>): ContextSpec[] {
  return [...groups.entries()].map(([key, files]) => {
    const syntaxes = new Set(files.map((f) => f.transferSyntaxUid));
    return {
      abstractSyntax: files[0]!.sopClassUid,
      transferSyntaxes: key.endsWith(' ')
        ? [...new Set([...syntaxes, ...DEFAULT_TRANSFER_SYNTAXES])]
        : [...syntaxes],
    };
  });
}

/**
 * Splits files whose identity is known into associations of at most
 * `maxContexts` presentation contexts each; files needing the same context
 * stay together, groups in the order first met.
 */
export function splitStoragePlans<F extends StorageFile>(
  files: Iterable<F>,
  maxContexts: number = MAX_PRESENTATION_CONTEXTS,
): StoragePlan<F>[] {
  if (!Number.isInteger(maxContexts) || maxContexts < 1 || maxContexts > MAX_PRESENTATION_CONTEXTS)
    throw new InvalidArgumentError(
      `maxContexts must be an integer from 1 to ${MAX_PRESENTATION_CONTEXTS} (PS3.8 §9.3.2.2)`,
    );
  const groups = new Map<string, F[]>();
  for (const f of files) {
    const key = contextKey(f);
    const group = groups.get(key);
    if (group) group.push(f);
    else groups.set(key, [f]);
  }
  const plans: StoragePlan<F>[] = [];
  const all = [...groups.entries()];
  for (let i = 0; i < all.length; i += maxContexts) {
    const batch = new Map(all.slice(i, i + maxContexts));
    plans.push({ contexts: contextsOf(batch), files: [...batch.values()].flat() });
  }
  return plans;
}

/**
 * Plans the associations that store a set of files with C-STORE (PS3.4 Annex
 * B): the fewest presentation contexts that carry each file as it is on disk
 * (one per SOP class for uncompressed files, proposing their transfer syntax
 * and the uncompressed fallbacks of PS3.5 §10; one per SOP class and
 * compressed syntax, proposing that syntax alone), split over several
 * associations when more than 128 are needed (PS3.8 §9.3.2.2). Each file
 * lands in exactly one plan, whose contexts carry its SOP class and transfer
 * syntax.
 *
 * Paths are read as {@link findDicomFiles} reads them (folders walked, only
 * the start of each file read, what is not DICOM passed to `onSkip`); files
 * already read (a {@link DicomFile}, or any object with the path, SOP Class
 * UID and transfer syntax) are planned as given. Proposing every Storage SOP
 * class instead (`storage(storageSopClasses())`) needs more than 128
 * contexts, and leaves compressed files without their syntax.
 *
 * @example
 * ```ts
 * import { Client, planStorage } from '@dnet/services';
 * import { tcp } from '@dnet/transport-tcp';
 *
 * for (const plan of await planStorage(['./studies'])) {
 *   const client = await Client.connect({ transport: tcp(), host: '127.0.0.1', port: 11112,
 *     callingAeTitle: 'DNET', calledAeTitle: 'PACS', contexts: plan.contexts });
 *   const { stored, failed } = await client.storeMany(plan, {
 *     onProgress: ({ done, total }) => console.log(`${done}/${total}`),
 *   });
 *   await client.release();
 * }
 * ```
 *
 * @returns one plan per association, in order; none for no file
 * @throws InvalidSourceError for a path given that does not exist
 * @throws InvalidArgumentError for a `maxContexts` out of range
 */
export async function planStorage<F extends StorageFile = DicomFile>(
  files: Iterable<string | F>,
  options: PlanStorageOptions = {},
): Promise<StoragePlan<F | DicomFile>[]> {
  // Checked before any file is read.
  splitStoragePlans([], options.maxContexts);
  const known: (F | DicomFile)[] = [];
  const find = options.onSkip ? { onSkip: options.onSkip } : {};
  // Files keep the order given; each run of paths is walked in one go (a folder once).
  let paths: string[] = [];
  const flush = async () => {
    if (paths.length > 0) for (const f of await findDicomFiles(paths, find)) known.push(f);
    paths = [];
  };
  for (const f of files) {
    if (typeof f === 'string') paths.push(f);
    else {
      await flush();
      known.push(f);
    }
  }
  await flush();
  return splitStoragePlans(known, options.maxContexts);
}
