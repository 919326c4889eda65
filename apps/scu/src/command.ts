import { lookupUid } from '@dnet/dataset';
import type { Client } from '@dnet/services';
import { ExitStatus } from './exit-status.js';
import type { Io } from './options.js';

export { ExitStatus } from './exit-status.js';

/** One `dnet-scu` command. */
export interface Command {
  /** What `dnet-scu --help` says of it, one line. */
  summary: string;
  /** Runs the command's arguments (after its name); resolves with the exit status. */
  run(argv: readonly string[], io: Io): Promise<number>;
}

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
 * Ends the association: A-RELEASE (PS3.8 §7.2) when it is still up and the
 * user did not interrupt; A-ABORT (PS3.8 §7.3) after an interruption (a
 * release would wait on the peer for nothing, and after a C-STORE cut short
 * an A-RELEASE-RQ would follow half a data set); nothing when it already
 * ended (the error that ended it has been reported).
 */
export async function finish(client: Client, io?: Io): Promise<void> {
  if (io?.signal?.aborted) {
    client.abort();
    return;
  }
  try {
    await client.release();
  } catch {
    client.abort();
  }
}

/**
 * For operations without C-CANCEL (C-ECHO, C-STORE, DIMSE-N): an
 * interruption aborts the association at once (A-ABORT, PS3.8 §7.3), so
 * nothing more is sent and what is pending fails. Returns the function
 * that removes the listener.
 */
export function abortOnInterrupt(client: Client, io: Io): () => void {
  const signal = io.signal;
  const onAbort = () => client.abort();
  if (signal?.aborted) client.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return () => signal?.removeEventListener('abort', onAbort);
}
