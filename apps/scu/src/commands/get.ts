import { mkdir } from 'node:fs/promises';
import { lookupUid } from '@dnet/dataset';
import {
  type ReceivedInstance,
  retrieveContexts,
  storageSopClasses,
  writeToFolder,
} from '@dnet/services';
import { type Command, finish, logContexts, printHelp } from '../command.js';
import { UsageError } from '../errors.js';
import { COMMON_HELP, connect, parseCommand, peerOf } from '../options.js';
import { progressBar } from '../progress.js';
import { QUERY_HELP, QUERY_OPTIONS, queryPlan } from '../query-options.js';
import { reportRetrieve } from '../retrieve-report.js';

const HELP = `Usage: dnet-scu get <host> <port> --out DIR -k KEY=VALUE... [options]

Retrieves the matching instances with C-GET (PS3.4 §C.4.3): they come back on
the same association (no port to open) and are written to DIR as
<SOPInstanceUID>.dcm Part 10 files; DCMTK's getscu. Ctrl-C cancels (C-CANCEL).
Every current Storage SOP class is proposed with the SCP role (PS3.7 Annex D.3.3.4).

Options:
  --out DIR            where the files go, created if needed (DCMTK: -od)

${QUERY_HELP}

${COMMON_HELP}

Examples:
  dnet-scu get 127.0.0.1 11112 --out ./study -k StudyInstanceUID=1.2.840.113619.2.1
  dnet-scu get pacs 104 --aec PACS --out ./p -P --level PATIENT -k PatientID=12345`;

/** The Storage SOP classes a C-GET proposes: every one of the registry not retired (PS3.6 Table A-1). */
function wantedStorageClasses(): string[] {
  return storageSopClasses()
    .filter((uid) => !lookupUid(uid)?.retired)
    .slice(0, 127);
}

/** `dnet-scu get`: C-GET into a folder, with a progress bar. */
export const get: Command = {
  summary: 'get <host> <port> --out DIR -k     C-GET into a folder',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, {
      ...QUERY_OPTIONS,
      out: { type: 'string', short: 'o' },
    });
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    const out = values.out;
    if (!out) throw new UsageError('give the folder for the files with --out DIR');
    const { query, target, context } = queryPlan(values, 'get');
    await mkdir(out, { recursive: true });
    const contexts = [context, ...retrieveContexts('study', wantedStorageClasses()).slice(1)];
    const client = await connect(values, peer, contexts, { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    const bar = progressBar(io, 'get', values.quiet);
    const started = performance.now();
    let [received, failed, bytes, total] = [0, 0, 0, 0];
    async function* counted(data: AsyncIterable<Uint8Array>) {
      for await (const chunk of data) {
        bytes += chunk.length;
        yield chunk;
      }
    }
    const sink = async (instance: ReceivedInstance) => {
      const status = await writeToFolder(
        out,
        { ...instance, dataSet: counted(instance.dataSet) },
        values.aec,
      );
      if (status === 0) received++;
      else failed++;
      bar.update(received, failed, bytes);
      return status;
    };
    try {
      const result = await client.get(query, {
        ...target,
        sink,
        ...(io.signal && { signal: io.signal }),
        onProgress: (p) => {
          total = Math.max(total, p.completed + p.failed + p.warning + (p.remaining ?? 0));
          bar.total(total);
        },
      });
      bar.stop();
      return reportRetrieve(io, 'C-GET', result, {
        ...values,
        verb: `received`,
        bytes,
        ms: performance.now() - started,
      });
    } finally {
      bar.stop();
      await finish(client);
    }
  },
};
