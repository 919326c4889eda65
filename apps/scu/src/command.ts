import { lookupUid } from '@dnet/dataset';
import type { Client } from '@dnet/services';
import type { Io } from './options.js';

/** One `dnet-scu` command. */
export interface Command {
  /** What `dnet-scu --help` says of it, one line. */
  summary: string;
  /** Runs the command's arguments (after its name); resolves with the exit status. */
  run(argv: readonly string[], io: Io): Promise<number>;
}

/** Exit statuses of dnet-scu. */
export const ExitStatus = {
  /** Every operation succeeded. */
  OK: 0,
  /** Something failed: one line per failure on stderr. */
  FAILED: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** Interrupted (Ctrl-C), after cancelling what was pending (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** Prints a command's help to stdout. */
export function printHelp(io: Io, text: string): number {
  io.out(text.trimEnd());
  return ExitStatus.OK;
}

/** A UID with its registry name, `CT Image Storage (1.2.840.10008.5.1.4.1.1.2)`. */
export function uidName(uid: string): string {
  const entry = lookupUid(uid);
  return entry ? `${entry.name} (${uid})` : uid;
}

/** With `--verbose`: the negotiated presentation contexts (PS3.8 §9.3.3.2), one line each. */
export function logContexts(io: Io, client: Client): void {
  for (const c of client.contexts) {
    io.err(
      c.accepted
        ? `context ${c.id}: ${uidName(c.abstractSyntax)} accepted, ${uidName(c.transferSyntax)}`
        : `context ${c.id}: ${uidName(c.abstractSyntax)} rejected`,
    );
  }
}

/**
 * Ends the association: A-RELEASE (PS3.8 §7.2) when it is still up, nothing
 * when it already ended (the error that ended it has been reported).
 */
export async function finish(client: Client): Promise<void> {
  try {
    await client.release();
  } catch {
    client.abort();
  }
}
