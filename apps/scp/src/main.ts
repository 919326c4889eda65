import type { Io } from './run.js';
import { HELP, VERSION_LINE } from './usage.js';

export type { Io } from './run.js';

/**
 * What `--help` or `--version` given alone prints: answered before the
 * server's modules (the archive, the codecs, TLS, SQLite) are loaded.
 * Undefined for any other command line.
 */
export function answerAlone(argv: readonly string[]): string | undefined {
  if (argv.length !== 1) return undefined;
  if (argv[0] === '--help' || argv[0] === '-h') return HELP;
  if (argv[0] === '--version') return VERSION_LINE;
  return undefined;
}

/**
 * Runs dnet-scp with the command line `argv`; resolves the exit code once the
 * server has stopped (when `io.signal` aborts). Exit code 2 is a usage error,
 * 1 a failure to start.
 */
export async function main(argv: string[], io: Io): Promise<number> {
  const answer = answerAlone(argv);
  if (answer !== undefined) {
    io.out(answer);
    return 0;
  }
  const { run } = await import('./run.js');
  return run(argv, io);
}
