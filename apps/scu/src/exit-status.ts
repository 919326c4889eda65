/**
 * Exit statuses of dnet-scu, in a module of their own: the entry point and
 * the dispatcher need them before any command (and what it imports) is loaded.
 */
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
