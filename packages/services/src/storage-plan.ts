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
import { type Transcoder, transferSyntaxesFor } from './transcoding.js';

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
  /**
   * The pixel transcoder the client will have (`transcoder()` of
   * `@dnet/codecs`): each SOP class with compressed files then also gets a
   * context of the uncompressed fallbacks, so a file whose own syntax the
   * peer refuses can be transcoded to one it accepted.
   */
  transcoder?: Transcoder;
  /**
   * Compressed transfer syntaxes wanted on the wire, best first (dnet-scu
   * `--propose`): each proposed, per SOP class, in a context of its own in
   * place of the files' own compressed syntaxes (files the transcoder cannot
   * read keep theirs), beside the uncompressed fallbacks. Needs `transcoder`.
   */
  propose?: readonly string[];
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
  transcoding: Pick<PlanStorageOptions, 'transcoder' | 'propose'> = {},
): StoragePlan<F>[] {
  if (!Number.isInteger(maxContexts) || maxContexts < 1 || maxContexts > MAX_PRESENTATION_CONTEXTS)
    throw new InvalidArgumentError(
      `maxContexts must be an integer from 1 to ${MAX_PRESENTATION_CONTEXTS} (PS3.8 §9.3.2.2)`,
    );
  if (transcoding.transcoder) return splitWithFallbacks(files, maxContexts, transcoding);
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
 * The contexts of one SOP class when a transcoder is at hand, best first:
 * the syntaxes asked for on the wire (`propose`), each alone; each
 * compressed syntax of the class's files not among them that the
 * transcoder cannot read, alone; the files' own compressed syntaxes
 * otherwise, alone (without `propose`); and one context of the uncompressed
 * syntaxes (the uncompressed files' own, then Explicit and Implicit VR
 * Little Endian).
 *
 * Why separate contexts rather than one listing the file's syntax and the
 * fallbacks: the acceptor accepts at most one transfer syntax per
 * presentation context, of its own choosing (PS3.8 §9.3.3.2: the
 * A-ASSOCIATE-AC's item carries the one syntax it picked; the order of the
 * proposed list binds it to nothing), while the requestor may propose
 * several contexts of one abstract syntax (PS3.8 §9.3.2.2). So
 * one context [JPEG-LS, Explicit, Implicit] may come back Explicit from a
 * peer that takes JPEG-LS, and the file is decompressed for nothing. Each
 * syntax alone in its context is accepted or refused on its own: the
 * requestor then chooses among those accepted (`chooseTransferSyntax`),
 * keeping the file's own syntax when the peer takes it. The cost is one
 * context per compressed syntax and class, within the 128 of PS3.8 §9.3.2.2.
 */
function classContexts<F extends StorageFile>(
  files: readonly F[],
  transcoder: Transcoder,
  propose: readonly string[],
): { contexts: ContextSpec[]; files: F[] } {
  const sopClass = files[0]!.sopClassUid;
  const alone = new Set<string>(propose);
  const native = new Set<string>();
  for (const f of files) {
    const ts = f.transferSyntaxUid;
    if (!encapsulated(ts)) native.add(ts);
    else if (propose.length === 0 || !transcoder.canTranscode(ts, DEFAULT_TRANSFER_SYNTAXES[0]!))
      alone.add(ts);
  }
  const fallback = new Set<string>(native);
  for (const ts of DEFAULT_TRANSFER_SYNTAXES) fallback.add(ts);
  return {
    contexts: [
      ...[...alone].map((ts) => ({ abstractSyntax: sopClass, transferSyntaxes: [ts] })),
      { abstractSyntax: sopClass, transferSyntaxes: [...fallback] },
    ],
    files: [...files],
  };
}

/**
 * {@link splitStoragePlans} with a transcoder: per SOP class, the contexts of
 * `classContexts`; classes packed whole into associations of at most
 * `maxContexts` contexts (a class's file always has its fallback beside it),
 * in the order first met.
 */
function splitWithFallbacks<F extends StorageFile>(
  files: Iterable<F>,
  maxContexts: number,
  { transcoder, propose = [] }: Pick<PlanStorageOptions, 'transcoder' | 'propose'>,
): StoragePlan<F>[] {
  const byClass = new Map<string, F[]>();
  for (const f of files) {
    const list = byClass.get(f.sopClassUid);
    if (list) list.push(f);
    else byClass.set(f.sopClassUid, [f]);
  }
  const plans: StoragePlan<F>[] = [];
  let current: StoragePlan<F> | undefined;
  for (const list of byClass.values()) {
    const unit = classContexts(list, transcoder!, propose);
    if (unit.contexts.length > maxContexts) {
      // More syntaxes for one class than an association carries: each file needs
      // only its own context or the fallback (transferSyntaxesFor, one context).
      for (const f of unit.files)
        plans.push({
          contexts: [
            {
              abstractSyntax: f.sopClassUid,
              transferSyntaxes: transferSyntaxesFor(f.transferSyntaxUid, transcoder),
            },
          ],
          files: [f],
        });
      current = undefined;
      continue;
    }
    if (!current || current.contexts.length + unit.contexts.length > maxContexts) {
      current = { contexts: [], files: [] };
      plans.push(current);
    }
    current.contexts.push(...unit.contexts);
    current.files.push(...unit.files);
  }
  return plans;
}

/**
 * Plans the associations that store a set of files with C-STORE (PS3.4 Annex
 * B): the fewest presentation contexts that carry each file as it is on disk
 * (one per SOP class for uncompressed files, proposing their transfer syntax
 * and the uncompressed fallbacks of PS3.5 §10; one per SOP class and
 * compressed syntax, proposing that syntax alone), split over several
 * associations when more than 128 are needed (PS3.8 §9.3.2.2). With a
 * `transcoder`, each SOP class with compressed files also gets a context of
 * the uncompressed fallbacks (and `propose` asks for compressed syntaxes on
 * the wire), so every file can be sent to a peer that takes only
 * uncompressed data sets. Each file
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
  if (options.propose?.length && !options.transcoder)
    throw new InvalidArgumentError(
      'propose needs a transcoder (the `transcoder()` of the dnet codecs package)',
    );
  const known: (F | DicomFile)[] = [];
  const find: FindDicomFilesOptions = {
    ...(options.onSkip && { onSkip: options.onSkip }),
    ...(options.blockingFileReads && { blockingFileReads: true }),
  };
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
  return splitStoragePlans(known, options.maxContexts, options);
}
