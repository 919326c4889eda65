import type { DicomJsonDataSet } from '@dnet/dataset';
import { toKeywords } from '@dnet/services';
import { type Command, ExitStatus, finish, logContexts, printHelp } from '../command.js';
import { UsageError } from '../errors.js';
import { errorFields, writeRecord } from '../json-output.js';
import { COMMON_HELP, connect, parseCommand, peerOf } from '../options.js';
import { QUERY_HELP, QUERY_OPTIONS, queryPlan } from '../query-options.js';
import { formatTable, MAX_CELL } from '../table.js';

const HELP = `Usage: dnet-scu find <host> <port> -k KEY[=VALUE]... [options]

Queries with C-FIND (PS3.4 §C.4.1; Modality Worklist, PS3.4 Annex K) and
prints the matches as a table, or as DICOM JSON (PS3.18 Annex F) one match a
line with --json (by keyword with --keywords); DCMTK's findscu. Ctrl-C cancels the query (C-CANCEL), then
aborts the association. On a terminal long values are cut to fit, unless
--wide; piped or redirected, the table keeps every value whole.

Options:
  --wide               never cut a value, on a terminal too
  --keywords           with --json: each match keyed by keyword ({"PatientName":"DOE^JOHN"})
                       instead of DICOM JSON; elements without a keyword are left out

${QUERY_HELP}

${COMMON_HELP}

Examples:
  dnet-scu find 127.0.0.1 11112 -S -k PatientName="DOE^*" -k StudyDate -k StudyInstanceUID
  dnet-scu find 127.0.0.1 11112 -S --level SERIES -k StudyInstanceUID=1.2.3 -k Modality -k SeriesInstanceUID
  dnet-scu find 127.0.0.1 11112 -W -k "ScheduledProcedureStepSequence[0].Modality=CT" -k PatientName
  dnet-scu find 127.0.0.1 11112 -P -k PatientID -k 0010,0010 --json | jq .
  dnet-scu find 127.0.0.1 11112 -S -k PatientID=PID1 -k StudyInstanceUID --json --keywords | jq -r .dataSet.StudyInstanceUID`;

/** `dnet-scu find`: C-FIND, matches as a table or DICOM JSON lines. */
export const find: Command = {
  summary: 'find <host> <port> -k KEY=VALUE    C-FIND, patient/study/worklist',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, {
      ...QUERY_OPTIONS,
      wide: { type: 'boolean' },
      keywords: { type: 'boolean' },
    });
    if (values.help) return printHelp(io, HELP);
    if (values.keywords && !values.json) throw new UsageError('--keywords goes with --json');
    const peer = peerOf(positionals);
    const { query, target, context } = queryPlan(values, 'find');
    const client = await connect(values, peer, [context], { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    if (values.relational && !client.queryExtendedNegotiation(target).relationalQueries)
      io.err('warning: the peer did not accept relational queries (PS3.4 §C.5.1.1)');
    const rows: DicomJsonDataSet[] = [];
    let count = 0;
    let failure: unknown;
    try {
      for await (const match of client.find(query, {
        ...target,
        ...(io.signal && { signal: io.signal }),
      })) {
        count++;
        if (values.json)
          writeRecord(io, 'match', { dataSet: values.keywords ? keywordsJson(match) : match });
        else rows.push(match);
      }
    } catch (error) {
      failure = error;
    } finally {
      // After a cancel: the peer's final response came (or the DIMSE timer ran out); A-ABORT.
      await finish(client, io);
    }
    const interrupted = io.signal?.aborted ?? false;
    if (!values.json && rows.length > 0) {
      const cut = io.terminal && !values.wide ? MAX_CELL : undefined;
      for (const line of formatTable(rows, Object.keys(query), cut)) io.out(line);
    }
    if (failure !== undefined && !interrupted) {
      if (!values.json) throw failure;
      writeRecord(io, 'error', errorFields(failure));
    }
    if (values.json)
      writeRecord(io, 'summary', { operation: 'C-FIND', matches: count, interrupted });
    if (interrupted) {
      if (!values.json) io.err(`C-FIND cancelled after ${count} match${count === 1 ? '' : 'es'}`);
      return ExitStatus.INTERRUPTED;
    }
    if (failure !== undefined) return ExitStatus.FAILED;
    if (!values.quiet && !values.json) io.err(`${count} match${count === 1 ? '' : 'es'}`);
    return ExitStatus.OK;
  },
};

/** A match by keyword, with bytes as base64 (as DICOM JSON's InlineBinary, PS3.18 §F.2.7). */
function keywordsJson(match: DicomJsonDataSet): unknown {
  return JSON.parse(
    JSON.stringify(toKeywords(match), (_, v) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    ),
  );
}
