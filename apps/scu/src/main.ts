import { type Command, ExitStatus } from './command.js';
import { convert } from './commands/convert.js';
import { echo } from './commands/echo.js';
import { find } from './commands/find.js';
import { get } from './commands/get.js';
import { move } from './commands/move.js';
import { commit, mpps, nCommands } from './commands/n-commands.js';
import { store } from './commands/store.js';
import { describeError } from './describe-error.js';
import { ScuErrorCode } from './errors.js';
import { errorFields, writeRecord } from './json-output.js';
import type { Io } from './options.js';

export type { Io } from './options.js';

/** The version printed by `--version`. */
export const VERSION = '0.0.0';

/** Every command by name. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  echo,
  store,
  find,
  move,
  get,
  commit,
  mpps,
  ...nCommands,
  convert,
};

const HELP = `dnet-scu: a DICOM SCU on the command line (echo, store, find, move, get, commit, N-services, convert)

Usage:
${Object.values(COMMANDS)
  .map((c) => `  dnet-scu ${c.summary}`)
  .join('\n')}

  dnet-scu <command> --help          options and examples of a command
  dnet-scu --version                 the version

Exit status: 0 when every operation succeeded, 1 when any failed (one line per
failure on stderr), 2 for a wrong command line, 130 when interrupted (Ctrl-C or
SIGTERM: C-CANCEL where the service has one, then A-ABORT; a second one exits
at once).

Examples:
  dnet-scu echo 127.0.0.1 11112
  dnet-scu store 127.0.0.1 11112 --aec PACS ./studies/
  dnet-scu find 127.0.0.1 11112 -S -k PatientName="DOE^*" -k StudyInstanceUID`;

/**
 * Runs the command line `argv` (without the node and script paths) and
 * returns the process exit status; all output goes through `io`.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    io.out(`dnet-scu ${VERSION}`);
    return ExitStatus.OK;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return ExitStatus.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`dnet-scu: unknown command '${name}' (try --help)`);
    return ExitStatus.USAGE;
  }
  // With --json every outcome is a JSON object on stdout, errors included.
  const json = rest.includes('--json');
  try {
    return await command.run(rest, io);
  } catch (error) {
    const usage = (error as { code?: unknown }).code === ScuErrorCode.USAGE;
    if (json) writeRecord(io, 'error', errorFields(error));
    else if (usage)
      io.err(`dnet-scu ${name}: ${(error as Error).message} (try dnet-scu ${name} --help)`);
    else io.err(`dnet-scu ${name}: ${describeError(error)}`);
    if (usage) return ExitStatus.USAGE;
    return io.signal?.aborted ? ExitStatus.INTERRUPTED : ExitStatus.FAILED;
  }
}
