import type { RetrieveProgress } from '@dnet/services';
import { type Command, finish, logContexts, printHelp } from '../command.js';
import { UsageError } from '../errors.js';
import { aeTitleOption, COMMON_HELP, connect, parseCommand, peerOf } from '../options.js';
import { progressBar } from '../progress.js';
import { QUERY_HELP, QUERY_OPTIONS, queryPlan } from '../query-options.js';
import { type RetrieveOutcome, reportRetrieve, writeResponse } from '../retrieve-report.js';

const HELP = `Usage: dnet-scu move <host> <port> --dest AET -k KEY=VALUE... [options]

Asks the peer to send the matching instances to another AE with C-MOVE
(PS3.4 §C.4.2); the peer must know the destination AE's address. Shows the
sub-operation counts as they come; DCMTK's movescu. Ctrl-C cancels (C-CANCEL)
and then aborts the association.

Options:
  --dest AET           Move Destination (0000,0600) (DCMTK: -aem)

${QUERY_HELP}

${COMMON_HELP}

Examples:
  dnet-scu move 127.0.0.1 11112 --dest ARCHIVE -k StudyInstanceUID=1.2.840.113619.2.1
  dnet-scu move pacs 104 --aec PACS --dest ME -P -k PatientID=12345
  dnet-scu move 127.0.0.1 11112 --dest ME --level SERIES -k StudyInstanceUID=1.2.3 -k SeriesInstanceUID=1.2.3.4`;

/** `dnet-scu move`: C-MOVE to a destination AE, with a progress bar. */
export const move: Command = {
  summary: 'move <host> <port> --dest AET -k   C-MOVE to another AE',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, {
      ...QUERY_OPTIONS,
      dest: { type: 'string' },
    });
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    if (!values.dest) throw new UsageError('give the destination AE title with --dest AET');
    aeTitleOption('dest', values.dest);
    const { query, target, context } = queryPlan(values, 'move');
    const client = await connect(values, peer, [context], { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    const bar = await progressBar(io, 'move', values.quiet);
    const started = performance.now();
    let last: RetrieveProgress | undefined;
    let outcome: RetrieveOutcome;
    try {
      const result = await client.move(query, {
        ...target,
        destination: values.dest,
        ...(io.signal && { signal: io.signal }),
        onProgress: (p) => {
          last = p;
          if (values.json) writeResponse(io, 'C-MOVE', p);
          bar.total(p.completed + p.failed + p.warning + (p.remaining ?? 0));
          bar.update(p.completed + p.warning, p.failed);
        },
      });
      outcome = { result };
    } catch (error) {
      outcome = { error, last };
    } finally {
      bar.stop();
      await finish(client, io);
    }
    return reportRetrieve(io, 'C-MOVE', outcome, {
      ...values,
      command: 'move',
      verb: `moved to ${values.dest}`,
      ms: performance.now() - started,
    });
  },
};
