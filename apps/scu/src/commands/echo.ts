import { verification } from '@dnet/services';
import {
  abortOnInterrupt,
  type Command,
  ExitStatus,
  finish,
  logContexts,
  printHelp,
} from '../command.js';
import { statusText } from '../describe-error.js';
import { writeRecord } from '../json-output.js';
import { COMMON_HELP, connect, integerOption, parseCommand, peerOf } from '../options.js';

const HELP = `Usage: dnet-scu echo <host> <port> [options]

Sends a C-ECHO (Verification, PS3.7 §9.1.5) to see whether a peer answers;
DCMTK's echoscu.

Options:
  --repeat N           send N C-ECHOs on one association (default 1)

${COMMON_HELP}

Examples:
  dnet-scu echo 127.0.0.1 11112
  dnet-scu echo pacs.example 2762 --aec PACS --tls --ca ca.pem
  dnet-scu echo 127.0.0.1 104 --aet ME -aec ORTHANC --json`;

/** `dnet-scu echo`: C-ECHO, the DICOM ping. */
export const echo: Command = {
  summary: 'echo <host> <port>                 C-ECHO: is the peer there?',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, { repeat: { type: 'string' } });
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    const repeat = integerOption('repeat', values.repeat, 1_000_000) ?? 1;
    const client = await connect(values, peer, [verification()], { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    const stop = abortOnInterrupt(client, io);
    let answered = 0;
    try {
      for (let i = 0; i < repeat; i++) {
        const started = performance.now();
        const status = await client.echo();
        const ms = performance.now() - started;
        answered++;
        if (values.json)
          writeRecord(io, 'echo', {
            operation: 'C-ECHO',
            status,
            statusText: statusText(status),
            ms,
          });
        else if (!values.quiet) {
          io.out(
            `C-ECHO ${values.aec}@${peer.host}:${peer.port}: ${statusText(status)} (${ms.toFixed(1)} ms)`,
          );
        }
      }
    } catch (error) {
      if (!io.signal?.aborted) throw error;
    } finally {
      stop();
      await finish(client, io);
    }
    if (values.json)
      writeRecord(io, 'summary', {
        operation: 'C-ECHO',
        answered,
        total: repeat,
        interrupted: io.signal?.aborted ?? false,
      });
    if (io.signal?.aborted) {
      if (!values.json) io.err(`interrupted after ${answered} of ${repeat} C-ECHOs`);
      return ExitStatus.INTERRUPTED;
    }
    return ExitStatus.OK;
  },
};
