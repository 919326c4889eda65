import { verification } from '@dnet/services';
import { type Command, ExitStatus, finish, logContexts, printHelp } from '../command.js';
import { statusText } from '../describe-error.js';
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
    try {
      for (let i = 0; i < repeat; i++) {
        const started = performance.now();
        const status = await client.echo(io.signal ? { signal: io.signal } : {});
        const ms = performance.now() - started;
        if (values.json) io.out(JSON.stringify({ operation: 'C-ECHO', status, ms }));
        else if (!values.quiet) {
          io.out(
            `C-ECHO ${values.aec}@${peer.host}:${peer.port}: ${statusText(status)} (${ms.toFixed(1)} ms)`,
          );
        }
      }
    } finally {
      await finish(client);
    }
    return ExitStatus.OK;
  },
};
