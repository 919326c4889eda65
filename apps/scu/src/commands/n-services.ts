import { type Command, ExitStatus, printHelp } from '../command.js';
import { NotAvailableError } from '../errors.js';
import { COMMON_HELP, parseCommand } from '../options.js';

/** What each N-service command will do, for its help. */
const PLANNED: Readonly<Record<string, { usage: string; text: string; summary: string }>> = {
  mpps: {
    usage: 'mpps <host> <port> create|set ...',
    text: 'Modality Performed Procedure Step (PS3.4 Annex F.7): N-CREATE and N-SET of a procedure step.\nMeanwhile: dnet-scu ncreate / nset --class ModalityPerformedProcedureStep -k ...',
    summary: 'Modality Performed Procedure Step',
  },
};

function notYet(name: string): Command {
  const p = PLANNED[name]!;
  const help = `Usage: dnet-scu ${p.usage}

${p.text}

Not yet available as its own command; this command exits with status 3.

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

/** The commands of the issue not built yet, each saying so. */
export const nServices: Readonly<Record<string, Command>> = Object.fromEntries(
  Object.keys(PLANNED).map((name) => [name, notYet(name)]),
);
