import { parseArgs } from 'node:util';

/** Where the command writes; injected so tests can read it. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  services: string;
}

const HELP = `dnet-scu: a DICOM SCU (the services issue fills in the commands)

Usage:
  dnet-scu echo <host> <port>        send a C-ECHO (coming)
  dnet-scu --help                    this text
  dnet-scu --version                 the version
`;

/** Runs the command line `argv` and returns the process exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
    allowPositionals: true,
    strict: false,
  });
  if (values.version) {
    io.out(`dnet-scu 0.0.0 (${io.services})`);
    return 0;
  }
  if (values.help || argv.length === 0) {
    io.out(HELP);
    return 0;
  }
  io.err(`dnet-scu: unknown command '${argv[0]}' (try --help)`);
  return 2;
}
