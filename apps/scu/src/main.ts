import { createRequire } from 'node:module';
import type { Command } from './command.js';
import { ScuErrorCode } from './errors.js';
import { ExitStatus } from './exit-status.js';
import type { Io } from './options.js';

export type { Io } from './options.js';

/** The version printed by `--version`: the package.json's, the one place changesets bump. */
export const VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

/**
 * A command as the dispatcher knows it before it runs: its line of
 * `dnet-scu --help`, and how to load it. Each command's module, and what it
 * imports (the services, TLS, the codecs...), is loaded only when that command
 * runs, so `--help`, `--version` and every other command start without them.
 */
export interface CommandEntry {
  /** The command's `summary` (main.test.ts checks that the two agree). */
  summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

/** The DIMSE-N commands' line of the help: name, usage, operation (commands/n-commands.ts). */
const nSummary = (name: string, operation: string) =>
  `${`${name} <host> <port> --class UID`.padEnd(34)} ${operation}`;
const nCommand = (name: string, operation: string): CommandEntry => ({
  summary: nSummary(name, operation),
  load: async () => (await import('./commands/n-commands.js')).nCommands[name]!,
});

/** Every command by name, loaded on demand. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  echo: {
    summary: 'echo <host> <port>                 C-ECHO: is the peer there?',
    load: async () => (await import('./commands/echo.js')).echo,
  },
  store: {
    summary: 'store <host> <port> <path>...      C-STORE files and folders',
    load: async () => (await import('./commands/store.js')).store,
  },
  find: {
    summary: 'find <host> <port> -k KEY=VALUE    C-FIND, patient/study/worklist',
    load: async () => (await import('./commands/find.js')).find,
  },
  move: {
    summary: 'move <host> <port> --dest AET -k   C-MOVE to another AE',
    load: async () => (await import('./commands/move.js')).move,
  },
  get: {
    summary: 'get <host> <port> --out DIR -k     C-GET into a folder',
    load: async () => (await import('./commands/get.js')).get,
  },
  commit: {
    summary: 'commit <host> <port> <path>...     storage commitment of stored files',
    load: async () => (await import('./commands/n-commands.js')).commit,
  },
  mpps: {
    summary: 'mpps <host> <port> create|complete  Modality Performed Procedure Step',
    load: async () => (await import('./commands/n-commands.js')).mpps,
  },
  nget: nCommand('nget', 'N-GET'),
  nset: nCommand('nset', 'N-SET'),
  naction: nCommand('naction', 'N-ACTION'),
  ncreate: nCommand('ncreate', 'N-CREATE'),
  ndelete: nCommand('ndelete', 'N-DELETE'),
  convert: {
    summary: 'convert <in> <out> --ts <syntax>  transcode a file (RLE, JPEG-LS, JPEG 2000...)',
    load: async () => (await import('./commands/convert.js')).convert,
  },
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
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    io.err(`dnet-scu: unknown command '${name}' (try --help)`);
    return ExitStatus.USAGE;
  }
  // With --json every outcome is a JSON object on stdout, errors included.
  const json = rest.includes('--json');
  try {
    const command = await entry.load();
    return await command.run(rest, io);
  } catch (error) {
    // Loaded here: the error path needs the DIMSE status texts, a run that succeeds does not.
    const { describeError } = await import('./describe-error.js');
    const { errorFields, writeRecord } = await import('./json-output.js');
    const usage = (error as { code?: unknown }).code === ScuErrorCode.USAGE;
    if (json) writeRecord(io, 'error', errorFields(error));
    else if (usage)
      io.err(`dnet-scu ${name}: ${(error as Error).message} (try dnet-scu ${name} --help)`);
    else io.err(`dnet-scu ${name}: ${describeError(error)}`);
    if (usage) return ExitStatus.USAGE;
    return io.signal?.aborted ? ExitStatus.INTERRUPTED : ExitStatus.FAILED;
  }
}
