import { TransferSyntax, transferSyntaxInfo } from '@dnet/dataset';
import type { ContextSpec, StoreProgress } from '@dnet/services';
import {
  abortOnInterrupt,
  type Command,
  ExitStatus,
  finish,
  logContexts,
  printHelp,
} from '../command.js';
import { describeError, statusText } from '../describe-error.js';
import { type DicomFile, findDicomFiles } from '../dicom-files.js';
import { UsageError } from '../errors.js';
import { errorFields, writeRecord } from '../json-output.js';
import {
  COMMON_HELP,
  type CommonValues,
  connect,
  type Io,
  integerOption,
  parseCommand,
  peerOf,
} from '../options.js';
import { mbPerSecond, type Progress, progressBar } from '../progress.js';

const HELP = `Usage: dnet-scu store <host> <port> <file-or-folder>... [options]

Sends DICOM Part 10 files with C-STORE (Storage, PS3.4 Annex B) over one
association; folders are walked recursively and files that are not DICOM are
skipped with a warning. Each file's data set streams from disk unchanged when
the peer accepts its transfer syntax; DCMTK's storescu.

Options:
  --async N            operations outstanding at once, when the peer agrees
                       (asynchronous operations window, PS3.7 Annex D.3.3.3; default 1)

${COMMON_HELP}

Examples:
  dnet-scu store 127.0.0.1 11112 ct.dcm
  dnet-scu store pacs.example 104 --aec PACS ./studies/
  dnet-scu store 127.0.0.1 11112 --async 8 --json ./studies/ > report.jsonl`;

const UNCOMPRESSED: readonly string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
];

function encapsulated(uid: string): boolean {
  try {
    return transferSyntaxInfo(uid).encapsulated;
  } catch {
    return true; // unknown syntax: propose it alone, never convert
  }
}

/** Which presentation context a file needs: its SOP class, and its transfer syntax when compressed. */
function contextKey(f: DicomFile): string {
  return `${f.sopClassUid} ${encapsulated(f.transferSyntaxUid) ? f.transferSyntaxUid : ''}`;
}

/** Presentation contexts an association may carry (PS3.8 §9.3.2.2: odd IDs 1 to 255). */
const MAX_CONTEXTS = 128;

/**
 * Splits the files into batches of at most {@link MAX_CONTEXTS} presentation
 * contexts each, one association per batch; files needing the same context
 * stay together, in the order found.
 */
export function storeBatches(
  files: readonly DicomFile[],
  maxContexts = MAX_CONTEXTS,
): DicomFile[][] {
  const groups = new Map<string, DicomFile[]>();
  for (const f of files) {
    const key = contextKey(f);
    const group = groups.get(key) ?? [];
    group.push(f);
    groups.set(key, group);
  }
  const batches: DicomFile[][] = [];
  let batch: DicomFile[] = [];
  let contexts = 0;
  for (const group of groups.values()) {
    if (contexts === maxContexts) {
      batches.push(batch);
      [batch, contexts] = [[], 0];
    }
    batch.push(...group);
    contexts++;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * One presentation context per SOP class and kind of encoding (PS3.8
 * §9.3.2.2): compressed files propose their own transfer syntax alone (they
 * are sent as they are); uncompressed files propose theirs, then Explicit and
 * Implicit VR Little Endian (converted when needed).
 */
export function storeContexts(files: readonly DicomFile[]): ContextSpec[] {
  const seen = new Map<string, { sopClassUid: string; syntaxes: Set<string> }>();
  for (const f of files) {
    const key = contextKey(f);
    const entry = seen.get(key) ?? { sopClassUid: f.sopClassUid, syntaxes: new Set<string>() };
    entry.syntaxes.add(f.transferSyntaxUid);
    seen.set(key, entry);
  }
  return [...seen.entries()].map(([key, { sopClassUid, syntaxes }]) => ({
    abstractSyntax: sopClassUid,
    // The files' own syntaxes first, in the order met; compressed ones alone.
    transferSyntaxes: key.endsWith(' ')
      ? [...new Set([...syntaxes, ...UNCOMPRESSED])]
      : [...syntaxes],
  }));
}

/** Counts, bytes and failure lines of a store run, fed by each file's outcome. */
class StoreTally {
  done = 0;
  failed = 0;
  bytes = 0;
  readonly #lines: string[] = [];
  readonly #sizes: Map<string, number>;
  readonly #started = performance.now();

  constructor(
    readonly files: readonly DicomFile[],
    readonly io: Io,
    readonly values: CommonValues,
    readonly bar: Progress,
  ) {
    this.#sizes = new Map(files.map((f) => [f.path, f.size]));
  }

  /** One file handled: its status, or the error that failed it (PS3.4 B.2.3). */
  onProgress = ({ source, result }: StoreProgress): void => {
    this.done++;
    this.bytes += this.#sizes.get(source as string) ?? 0;
    const json = this.values.json;
    if (result instanceof Error) {
      this.failed++;
      if (json) writeRecord(this.io, 'file', { path: source, error: errorFields(result) });
      else this.#lines.push(`${source}: ${describeError(result)}`);
    } else {
      const text = `${source}: ${statusText(result.status, 'C-STORE')}`;
      if (json)
        writeRecord(this.io, 'file', {
          path: source,
          status: result.status,
          statusText: statusText(result.status, 'C-STORE'),
          ...(result.errorComment !== undefined && { errorComment: result.errorComment }),
        });
      else if (result.status !== 0) this.#lines.push(`warning: ${text}`);
      else if (this.values.verbose) this.io.err(`stored ${text}`);
    }
    this.bar.update(this.done, this.failed, this.bytes);
  };

  #interrupted = false;

  /** The run stopped early: the files not handled count as failed. */
  stopped(error: unknown, interrupted: boolean): void {
    this.#interrupted = interrupted;
    const where = `after ${this.done} of ${this.files.length} files`;
    if (this.values.json) {
      if (!interrupted) writeRecord(this.io, 'error', errorFields(error));
      return;
    }
    this.#lines.push(
      interrupted
        ? `interrupted ${where} (association aborted)`
        : `association ended ${where}: ${describeError(error)}`,
    );
  }

  /** Failure lines on stderr, the summary on stdout; the exit status. */
  report(): number {
    this.bar.stop();
    for (const line of this.#lines) this.io.err(line);
    const ms = performance.now() - this.#started;
    const total = this.files.length;
    const stored = this.done - this.failed;
    const summary = {
      stored,
      failed: total - stored,
      total,
      bytes: this.bytes,
      seconds: ms / 1000,
      interrupted: this.#interrupted,
    };
    if (this.values.json) writeRecord(this.io, 'summary', { operation: 'C-STORE', ...summary });
    else if (!this.values.quiet) {
      const failed = summary.failed ? ` (${summary.failed} failed)` : '';
      const mb = (this.bytes / 1e6).toFixed(1);
      const rate = mbPerSecond(this.bytes, ms);
      this.io.out(
        `stored ${stored} of ${total} files${failed}, ${mb} MB in ${(ms / 1000).toFixed(2)} s (${rate} MB/s)`,
      );
    }
    if (this.#interrupted) return ExitStatus.INTERRUPTED;
    return summary.failed === 0 ? ExitStatus.OK : ExitStatus.FAILED;
  }
}

/** `dnet-scu store`: C-STORE of files and folders, with a progress bar. */
export const store: Command = {
  summary: 'store <host> <port> <path>...      C-STORE files and folders',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, { async: { type: 'string' } });
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    const paths = positionals.slice(2);
    if (paths.length === 0) throw new UsageError('give at least one file or folder to send');
    const window = integerOption('async', values.async, 128) ?? 1;
    const files = await findDicomFiles(paths, (path, reason) => {
      if (values.json) writeRecord(io, 'skipped', { path, reason });
      else if (!values.quiet) io.err(`warning: ${path}: skipped, ${reason}`);
    });
    if (files.length === 0) throw new UsageError('no DICOM files to send');

    const tally = new StoreTally(
      files,
      io,
      values,
      progressBar(io, 'store', values.quiet, files.length),
    );
    try {
      // One association per batch of at most 128 presentation contexts.
      for (const batch of storeBatches(files)) {
        const client = await connect(values, peer, storeContexts(batch), {
          maxOperations: window,
          signal: io.signal,
        });
        if (values.verbose) logContexts(io, client);
        // Ctrl-C: A-ABORT at once, never an A-RELEASE-RQ after half a data set.
        const stop = abortOnInterrupt(client, io);
        try {
          const options = { ...(io.signal && { signal: io.signal }), onProgress: tally.onProgress };
          await client.storeMany(
            batch.map((f) => f.path),
            options,
          );
        } finally {
          stop();
          await finish(client, io);
        }
        if (io.signal?.aborted) throw io.signal.reason;
      }
    } catch (error) {
      // Nothing handled yet: the error alone says it all (main prints it).
      if (tally.done === 0 && !io.signal?.aborted) {
        tally.bar.stop();
        throw error;
      }
      tally.stopped(error, io.signal?.aborted ?? false);
    }
    return tally.report();
  },
};
