import { resolveTransferSyntax, TRANSFER_SYNTAX_NAMES, transcoder } from '@dnet/codecs';
import { type DicomFile, planStorage, type StoreProgress } from '@dnet/services';
import {
  abortOnInterrupt,
  type Command,
  ExitStatus,
  finish,
  logContexts,
  printHelp,
  uidName,
} from '../command.js';
import { describeError, statusText } from '../describe-error.js';
import { dicomFilesOf } from '../dicom-files.js';
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

Sends DICOM files with C-STORE (Storage, PS3.4 Annex B) over one
association: Part 10 files, and bare data sets without meta header (their
transfer syntax inferred from the first element, as DCMTK does). Folders are
walked recursively, symbolic links followed; files that are not DICOM or
cannot be read are skipped with a warning. Each file's data set streams from
disk unchanged when the peer accepts its transfer syntax, checked complete as
it goes: a cut file fails alone. The SOP Class and Instance UIDs sent are the
data set's (a meta header that disagrees gives a warning); DCMTK's storescu.

A compressed file (RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K) is proposed in its
own transfer syntax and, in a context of its own, in Explicit and Implicit VR
Little Endian: when the peer does not take its syntax it is transcoded on the
fly, one frame at a time, to the best one accepted (lossless first).

Options:
  --async N            operations outstanding at once, when the peer agrees
                       (asynchronous operations window, PS3.7 Annex D.3.3.3; default 1)
  --retries N          new associations opened when one is lost mid-batch (the
                       peer aborts, a reset): the file in flight is retried once
                       alone, the rest go on; default 3, 0 to stop at once
  --propose SYNTAX,... ask for these transfer syntaxes on the wire, best first
                       (a UID or one of ${Object.keys(TRANSFER_SYNTAX_NAMES).join(', ')}):
                       files not in the first one accepted are transcoded to
                       it; Explicit and Implicit VR Little Endian stay proposed
  --lossy              allow a lossy target when transcoding (a new SOP Instance
                       UID, Lossy Image Compression set; default lossless only)
  --no-transcode       send each file only in its own transfer syntax (or
                       converted between uncompressed ones)

${COMMON_HELP}

Examples:
  dnet-scu store 127.0.0.1 11112 ct.dcm
  dnet-scu store pacs.example 104 --aec PACS ./studies/
  dnet-scu store 127.0.0.1 11112 --async 8 --json ./studies/ > report.jsonl
  dnet-scu store 127.0.0.1 11112 --propose jpeg-ls-lossless ./studies/`;

/** Counts, bytes and failure lines of a store run, fed by each file's outcome. */
class StoreTally {
  done = 0;
  failed = 0;
  bytes = 0;
  /** Files transcoded, by "from -> to". */
  readonly transcoded = new Map<string, number>();
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
      else {
        const text = describeError(result);
        // A cut file's error names the file already.
        this.#lines.push(text.startsWith(`${source}: `) ? text : `${source}: ${text}`);
      }
    } else {
      const text = `${source}: ${statusText(result.status, 'C-STORE')}`;
      const from = result.transcodedFrom;
      if (from) {
        const key = `${uidName(from)} to ${uidName(result.transferSyntaxUid)}${result.lossy ? ' (lossy)' : ''}`;
        this.transcoded.set(key, (this.transcoded.get(key) ?? 0) + 1);
      }
      if (json)
        writeRecord(this.io, 'file', {
          path: source,
          status: result.status,
          statusText: statusText(result.status, 'C-STORE'),
          transferSyntaxUid: result.transferSyntaxUid,
          ...(from && { transcodedFrom: from }),
          ...(result.lossy && { lossy: true, sopInstanceUid: result.sopInstanceUid }),
          ...(result.errorComment !== undefined && { errorComment: result.errorComment }),
          ...(result.warnings?.length && { warnings: result.warnings }),
        });
      else {
        if (result.status !== 0) this.#lines.push(`warning: ${text}`);
        else if (this.values.verbose)
          this.io.err(
            `stored ${text}${from ? ` (transcoded from ${uidName(from)} to ${uidName(result.transferSyntaxUid)})` : ''}`,
          );
        for (const w of result.warnings ?? []) this.#lines.push(`warning: ${source}: ${w}`);
      }
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
      transcoded: [...this.transcoded.values()].reduce((a, b) => a + b, 0),
    };
    if (this.values.json) writeRecord(this.io, 'summary', { operation: 'C-STORE', ...summary });
    else if (!this.values.quiet) {
      const failed = summary.failed ? ` (${summary.failed} failed)` : '';
      const mb = (this.bytes / 1e6).toFixed(1);
      const rate = mbPerSecond(this.bytes, ms);
      this.io.out(
        `stored ${stored} of ${total} files${failed}, ${mb} MB in ${(ms / 1000).toFixed(2)} s (${rate} MB/s)`,
      );
      for (const [how, n] of this.transcoded) this.io.out(`transcoded ${n} file(s) from ${how}`);
    }
    if (this.#interrupted) return ExitStatus.INTERRUPTED;
    return summary.failed === 0 ? ExitStatus.OK : ExitStatus.FAILED;
  }
}

/** `dnet-scu store`: C-STORE of files and folders, with a progress bar. */
export const store: Command = {
  summary: 'store <host> <port> <path>...      C-STORE files and folders',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, {
      async: { type: 'string' },
      retries: { type: 'string' },
      propose: { type: 'string' },
      lossy: { type: 'boolean' },
      'no-transcode': { type: 'boolean' },
    });
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    const paths = positionals.slice(2);
    if (paths.length === 0) throw new UsageError('give at least one file or folder to send');
    const window = integerOption('async', values.async, 128) ?? 1;
    const retries =
      values.retries === '0' ? 0 : (integerOption('retries', values.retries, 100) ?? 3);
    const transcoding = values['no-transcode'] ? undefined : transcoder();
    let propose: string[] = [];
    try {
      propose = (values.propose ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map(resolveTransferSyntax);
    } catch (cause) {
      throw new UsageError((cause as Error).message, { cause });
    }
    if (propose.length > 0 && !transcoding)
      throw new UsageError('--propose needs transcoding (drop --no-transcode)');
    if (values.lossy && !transcoding) throw new UsageError('--lossy needs transcoding');
    const files = await dicomFilesOf(paths, io, values);
    if (files.length === 0) throw new UsageError('no DICOM files to send');

    const tally = new StoreTally(
      files,
      io,
      values,
      await progressBar(io, 'store', values.quiet, files.length),
    );
    try {
      // One association per plan of at most 128 presentation contexts (PS3.8 §9.3.2.2).
      const planning = transcoding ? { transcoder: transcoding, propose } : {};
      for (const plan of await planStorage(files, planning)) {
        const client = await connect(values, peer, plan.contexts, {
          maxOperations: window,
          signal: io.signal,
          ...(transcoding && { transcoder: transcoding }),
        });
        if (values.verbose) logContexts(io, client);
        // Ctrl-C: A-ABORT at once, never an A-RELEASE-RQ after half a data set.
        const stop = abortOnInterrupt(client, io);
        try {
          const options = {
            ...(io.signal && { signal: io.signal }),
            onProgress: tally.onProgress,
            retries,
            ...(values.lossy && { lossy: true }),
            ...(propose.length > 0 && { transferSyntaxes: propose }),
          };
          await client.storeMany(plan, options);
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
