import { ExitStatus } from './exit-status.js';
import { main } from './main.js';

// Ctrl-C (SIGINT) or SIGTERM ends the work cleanly instead of killing the
// process mid-association: C-CANCEL for find, move and get, then A-ABORT, and
// the summary of what was acknowledged. A second signal exits at once.
const interrupt = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupt.signal.aborted) process.exit(ExitStatus.INTERRUPTED);
  interrupt.abort(new Error(`interrupted (${signal})`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: process.stderr.isTTY ? process.stderr : undefined,
  signal: interrupt.signal,
  terminal: process.stdout.isTTY,
});

/** Resolves once what was written to `stream` has been handed to the system. */
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });

// The command is over and its output written. A connection may still be open,
// waiting (under ARTIM, PS3.8 §9.1.5) for a peer that never answered to close
// after our A-ABORT: nothing of the user's depends on that wait any more, so
// the process does not sit through it.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
