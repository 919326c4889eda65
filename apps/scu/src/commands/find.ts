import type { DicomJson } from '@dnet/services';
import { type Command, ExitStatus, finish, logContexts, printHelp } from '../command.js';
import { COMMON_HELP, connect, parseCommand, peerOf } from '../options.js';
import { QUERY_HELP, QUERY_OPTIONS, queryPlan } from '../query-options.js';
import { formatTable } from '../table.js';

const HELP = `Usage: dnet-scu find <host> <port> -k KEY[=VALUE]... [options]

Queries with C-FIND (PS3.4 §C.4.1; Modality Worklist, PS3.4 Annex K) and
prints the matches as a table, or as DICOM JSON (PS3.18 Annex F) one match a
line with --json; DCMTK's findscu. Ctrl-C cancels the query (C-CANCEL).

${QUERY_HELP}

${COMMON_HELP}

Examples:
  dnet-scu find 127.0.0.1 11112 -S -k PatientName="DOE^*" -k StudyDate -k StudyInstanceUID
  dnet-scu find 127.0.0.1 11112 -S --level SERIES -k StudyInstanceUID=1.2.3 -k Modality -k SeriesInstanceUID
  dnet-scu find 127.0.0.1 11112 -W -k "ScheduledProcedureStepSequence[0].Modality=CT" -k PatientName
  dnet-scu find 127.0.0.1 11112 -P -k PatientID -k 0010,0010 --json | jq .`;

/** `dnet-scu find`: C-FIND, matches as a table or DICOM JSON lines. */
export const find: Command = {
  summary: 'find <host> <port> -k KEY=VALUE    C-FIND, patient/study/worklist',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, QUERY_OPTIONS);
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    const { query, target, context } = queryPlan(values, 'find');
    const client = await connect(values, peer, [context], { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    if (values.relational && !client.queryExtendedNegotiation(target).relationalQueries)
      io.err('warning: the peer did not accept relational queries (PS3.4 §C.5.1.1)');
    const rows: DicomJson[] = [];
    let count = 0;
    try {
      for await (const match of client.find(query, {
        ...target,
        ...(io.signal && { signal: io.signal }),
      })) {
        count++;
        if (values.json) io.out(JSON.stringify(match));
        else rows.push(match);
      }
    } finally {
      await finish(client);
    }
    if (!values.json && rows.length > 0)
      for (const line of formatTable(rows, Object.keys(query))) io.out(line);
    if (io.signal?.aborted) {
      io.err('C-FIND cancelled');
      return ExitStatus.INTERRUPTED;
    }
    if (!values.quiet) io.err(`${count} match${count === 1 ? '' : 'es'}`);
    return ExitStatus.OK;
  },
};
