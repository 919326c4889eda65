import { type DicomJsonDataSet, decodePart10, toDicomJson } from '@dnet/dataset';
import type { WorklistItemReader } from './worklist.js';

/**
 * Reads a DICOM Part 10 worklist file (`*.wl`, the format of DCMTK's
 * wlmscpfs) as one worklist item (PS3.10 §7.1, PS3.4 Annex K).
 *
 * @example
 * ```ts
 * const worklist = new FolderWorklist('/var/lib/worklist', {
 *   readers: { ...DEFAULT_WORKLIST_READERS, '.wl': part10WorklistReader },
 * });
 * ```
 */
export const part10WorklistReader: WorklistItemReader = (bytes) => [
  toDicomJson(decodePart10(bytes, { strict: false }).dataSet) as DicomJsonDataSet,
];
