import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { matches, responseIdentifier } from '@dnet/services';
import { dicomJsonProblem } from './dicom-json-problem.js';
import { InvalidQueryError, InvalidWorklistItemError } from './errors.js';

/** Options of {@link WorklistSource.find}. */
export interface WorklistFindOptions {
  /** Cancels the query (a C-CANCEL arrived, the association ended). */
  signal?: AbortSignal;
  /** At most this many responses (default: all). */
  limit?: number;
}

/**
 * Answers Modality Worklist C-FIND queries (PS3.4 Annex K). {@link FolderWorklist}
 * reads items from a folder; a database-backed source implements the same interface.
 */
export interface WorklistSource {
  /**
   * Yields one response Identifier per scheduled item that matches `query`
   * (PS3.4 §K.6.1.2.2, matching per §C.2.2.2, sequence matching on the
   * Scheduled Procedure Step Sequence (0040,0100) included). Throws
   * `InvalidQueryError` (before the first response) when `query` is not DICOM JSON.
   */
  find(query: DicomJsonDataSet, options?: WorklistFindOptions): AsyncIterable<DicomJsonDataSet>;
}

/**
 * Turns one file's bytes into worklist items. Throw to reject the file (it is
 * then reported by {@link FolderWorklist.load} and skipped).
 */
export type WorklistItemReader = (bytes: Uint8Array, file: string) => DicomJsonDataSet[];

/**
 * Reads `*.json` worklist files: one DICOM JSON data set (PS3.18 Annex F), or
 * an array of them (the form of a DICOMweb response).
 */
export const jsonWorklistReader: WorklistItemReader = (bytes) => {
  const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    const problem = dicomJsonProblem(item);
    if (problem) throw new Error(problem);
  }
  return items as DicomJsonDataSet[];
};

/** Options of {@link FolderWorklist}. */
export interface FolderWorklistOptions {
  /** Largest item file read, in bytes (default 1 MiB); larger files are reported and skipped. */
  maxFileBytes?: number;
  /** Most item files read (default 10 000, the first by name); the rest are reported and skipped. */
  maxFiles?: number;
  /**
   * Readers by file extension (lower case, with the dot). Default: `.json` only.
   *
   * DICOM Part 10 worklist files (`*.wl`, the format of DCMTK's wlmscpfs)
   * are read by `part10WorklistReader` (`../scp.ts`), which dnet-scp adds as
   * `{ ...DEFAULT_WORKLIST_READERS, '.wl': part10WorklistReader }`.
   */
  readers?: Readonly<Record<string, WorklistItemReader>>;
}

/** The readers a {@link FolderWorklist} uses by default: `.json` (DICOM JSON). */
export const DEFAULT_WORKLIST_READERS: Readonly<Record<string, WorklistItemReader>> = {
  '.json': jsonWorklistReader,
};

/** What {@link FolderWorklist.load} found. */
export interface WorklistLoadResult {
  /** Items available for matching. */
  items: number;
  /** Files that were skipped, each with the reason. */
  invalid: InvalidWorklistItemError[];
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  items: DicomJsonDataSet[];
  error?: InvalidWorklistItemError;
}

/**
 * A Modality Worklist read from a folder of item files (`*.json` by default),
 * like DCMTK's wlmscpfs. Every query re-scans the folder, re-reading only the
 * files whose size or modification time changed, so edits show up at once.
 *
 * @example
 * ```ts
 * const worklist = new FolderWorklist('/var/lib/dnet-scp/worklist');
 * const query = {
 *   '00100010': { vr: 'PN' },
 *   '00400100': { vr: 'SQ', Value: [{ '00080060': { vr: 'CS', Value: ['MR'] }, '00400002': { vr: 'DA', Value: ['20240101-20240131'] } }] },
 * };
 * for await (const identifier of worklist.find(query)) {
 *   // send a Pending C-FIND-RSP with `identifier`
 * }
 * ```
 */
export class FolderWorklist implements WorklistSource {
  /** The folder scanned. */
  readonly folder: string;
  readonly #maxFileBytes: number;
  readonly #maxFiles: number;
  readonly #readers: Readonly<Record<string, WorklistItemReader>>;
  #cache = new Map<string, CachedFile>();
  #loading: Promise<WorklistLoadResult> | undefined;

  /**
   * @param folder - the folder of item files
   * @param options - limits and readers
   */
  constructor(folder: string, options: FolderWorklistOptions = {}) {
    this.folder = folder;
    this.#maxFileBytes = options.maxFileBytes ?? 1024 * 1024;
    this.#maxFiles = options.maxFiles ?? 10_000;
    this.#readers = options.readers ?? DEFAULT_WORKLIST_READERS;
  }

  /**
   * Scans the folder (re-reading changed files only) and reports what it
   * found. Concurrent calls share one scan. A missing folder is an empty worklist.
   */
  load(): Promise<WorklistLoadResult> {
    this.#loading ??= this.#scan().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** {@inheritDoc WorklistSource.find} */
  async *find(
    query: DicomJsonDataSet,
    options: WorklistFindOptions = {},
  ): AsyncGenerator<DicomJsonDataSet> {
    options.signal?.throwIfAborted();
    const problem = dicomJsonProblem(query);
    if (problem) throw new InvalidQueryError(`malformed Identifier: ${problem}`);
    await this.load();
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let sent = 0;
    for (const file of [...this.#cache.values()]) {
      for (const item of file.items) {
        if (sent >= limit) return;
        if (!matches(query, item)) continue;
        options.signal?.throwIfAborted();
        const response = responseIdentifier(query, item);
        // The character set of the values goes with them (PS3.4 §K.6.1.2.2 / §C.4.1.1.3.2).
        const charset = item['00080005'];
        if (charset?.Value?.length && !response['00080005']?.Value?.length) {
          response['00080005'] = charset;
        }
        yield response;
        sent++;
      }
    }
  }

  async #scan(): Promise<WorklistLoadResult> {
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (cause) {
      if ((cause as { code?: string }).code === 'ENOENT') {
        this.#cache = new Map();
        return { items: 0, invalid: [] };
      }
      throw cause;
    }
    names = names.filter((n) => Object.hasOwn(this.#readers, extname(n).toLowerCase())).sort();
    const invalid: InvalidWorklistItemError[] = [];
    for (const name of names.slice(this.#maxFiles)) {
      invalid.push(new InvalidWorklistItemError(name, `more than ${this.#maxFiles} item files`));
    }
    const next = new Map<string, CachedFile>();
    for (const name of names.slice(0, this.#maxFiles)) {
      const file = await this.#readItemFile(name);
      if (!file) continue; // vanished, or not a regular file
      next.set(name, file);
      if (file.error) invalid.push(file.error);
    }
    this.#cache = next;
    let items = 0;
    for (const file of next.values()) items += file.items.length;
    return { items, invalid };
  }

  async #readItemFile(name: string): Promise<CachedFile | undefined> {
    const path = join(this.folder, name);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const cached = this.#cache.get(name);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const entry: CachedFile = { mtimeMs: info.mtimeMs, size: info.size, items: [] };
    if (info.size > this.#maxFileBytes) {
      entry.error = new InvalidWorklistItemError(name, `larger than ${this.#maxFileBytes} bytes`);
      return entry;
    }
    try {
      const bytes = await readFile(path);
      if (bytes.byteLength > this.#maxFileBytes) {
        throw new Error(`larger than ${this.#maxFileBytes} bytes`);
      }
      const reader = this.#readers[extname(name).toLowerCase()] as WorklistItemReader;
      entry.items = reader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
    } catch (cause) {
      entry.items = [];
      entry.error = new InvalidWorklistItemError(
        name,
        cause instanceof Error ? cause.message : String(cause),
        { cause },
      );
    }
    return entry;
  }
}
