import { type Command, ExitStatus, printHelp } from '../command.js';
import { NotAvailableError } from '../errors.js';
import { COMMON_HELP, parseCommand } from '../options.js';

/** What each N-service command will do, for its help. */
const PLANNED: Readonly<Record<string, { usage: string; text: string; summary: string }>> = {
  commit: {
    usage: 'commit <host> <port> <file>...',
    text: 'Asks the peer to commit to keeping the files stored (Storage Commitment Push Model, PS3.4 Annex J: N-ACTION, then N-EVENT-REPORT).',
    summary: 'storage commitment of stored files',
  },
  mpps: {
    usage: 'mpps <host> <port> create|set ...',
    text: 'Modality Performed Procedure Step (PS3.4 Annex F.7): N-CREATE and N-SET of a procedure step.',
    summary: 'Modality Performed Procedure Step',
  },
  nget: {
    usage: 'nget <host> <port> --class UID --instance UID -k KEY...',
    text: 'N-GET (PS3.7 §10.1.2).',
    summary: 'N-GET',
  },
  nset: {
    usage: 'nset <host> <port> --class UID --instance UID -k KEY=VALUE...',
    text: 'N-SET (PS3.7 §10.1.3).',
    summary: 'N-SET',
  },
  naction: {
    usage: 'naction <host> <port> --class UID --instance UID --action N',
    text: 'N-ACTION (PS3.7 §10.1.4).',
    summary: 'N-ACTION',
  },
  ncreate: {
    usage: 'ncreate <host> <port> --class UID -k KEY=VALUE...',
    text: 'N-CREATE (PS3.7 §10.1.5).',
    summary: 'N-CREATE',
  },
  ndelete: {
    usage: 'ndelete <host> <port> --class UID --instance UID',
    text: 'N-DELETE (PS3.7 §10.1.6).',
    summary: 'N-DELETE',
  },
};

function notYet(name: string): Command {
  const p = PLANNED[name]!;
  const help = `Usage: dnet-scu ${p.usage}

${p.text}

Not yet available: @dnet/services has no N-services yet; this command exits
with status 3.

${COMMON_HELP}`;
  return {
    summary: `${`${name} <host> <port> ...`.padEnd(34)} ${p.summary} (not yet available)`,
    async run(argv, io) {
      if (argv.includes('--help') || argv.includes('-h')) return printHelp(io, help);
      parseCommand(argv, {});
      io.err(`dnet-scu: ${new NotAvailableError(name).message}`);
      return ExitStatus.NOT_AVAILABLE;
    },
  };
}

/** The N-service commands of the issue, each saying it is not yet available. */
export const nServices: Readonly<Record<string, Command>> = Object.fromEntries(
  Object.keys(PLANNED).map((name) => [name, notYet(name)]),
);
