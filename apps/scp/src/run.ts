import { failureFields, isDnetError, messageOf } from '@dnet/archive';
import { systemErrorOf } from '@dnet/services';
import { type Logger, pino } from 'pino';
import { parseCommandLine, type ScpConfig } from './config.js';
import { conformanceStatement } from './conformance.js';
import { ConfigError } from './errors.js';
import { type RunningScp, startScp } from './scp.js';
import { HELP, VERSION_LINE } from './usage.js';

/** Where the command writes and what stops it; injected so tests can drive it. */
export interface Io {
  /** One line to stdout. */
  out(line: string): void;
  /** One line to stderr (usage errors). */
  err(line: string): void;
  /** Where the JSON log lines go (default stderr). */
  log?: { write(line: string): void };
  /** Stops the server when aborted (the CLI aborts it on SIGINT and SIGTERM). */
  signal?: AbortSignal;
  /**
   * Runs one young-generation collection; the server calls it every 8 MiB
   * received (the CLI passes `youngGenerationCollector()` of `heap.ts`).
   */
  collectYoungGeneration?: () => void;
  /** Called once the server listens (tests read the port from it; one process only). */
  onListening?: (scp: RunningScp, config: ScpConfig) => void;
  /**
   * Starts the worker processes of `--workers` above 1 (the CLI passes
   * `startWorkers` of `workers.ts`); without it the server runs in this
   * process whatever `--workers` says (tests, embedding).
   */
  startWorkers?: (
    config: ScpConfig,
    logger: Logger,
  ) => Promise<{ host: string; port: number; close(): Promise<void> }>;
}

/**
 * Whether a failure is one the operator is expected to meet and fix (a dnet
 * error, a system error anywhere in its causes), as opposed to a bug whose
 * stack trace is worth logging.
 */
function isExpectedFailure(error: unknown): boolean {
  return isDnetError(error) || systemErrorOf(error) !== undefined;
}

/** `dnet-scp conformance`: the statement of `config` on stdout; 1 when a file it names cannot be read. */
async function printConformance(config: ScpConfig, io: Io): Promise<number> {
  try {
    // The Markdown ends with a newline; `out` adds one per line.
    io.out((await conformanceStatement(config)).replace(/\n$/, ''));
    return 0;
  } catch (error) {
    if (!isExpectedFailure(error)) throw error;
    io.err(`dnet-scp: cannot describe this configuration: ${messageOf(error)}`);
    return 1;
  }
}

/**
 * {@link main} past `--help` and `--version` alone: the command line parsed,
 * then the conformance statement or the server. Loaded only then.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`dnet-scp: ${error.message} (try --help)`);
      return 2;
    }
    throw error;
  }
  if (parsed.version) {
    io.out(VERSION_LINE);
    return 0;
  }
  if (parsed.help || !parsed.config) {
    io.out(HELP);
    return 0;
  }
  const config = parsed.config;
  if (parsed.command === 'conformance') return printConformance(config, io);
  const logger = pino(
    { level: config.logLevel, base: { name: 'dnet-scp' } },
    io.log ?? pino.destination({ dest: 2, sync: true }),
  );
  if (io.signal?.aborted) return 0;
  let scp: Pick<RunningScp, 'host' | 'port' | 'close'>;
  try {
    scp =
      config.workers > 1 && io.startWorkers
        ? await io.startWorkers(config, logger)
        : await startScp(
            config,
            logger,
            io.collectYoungGeneration ? { collectYoungGeneration: io.collectYoungGeneration } : {},
          );
  } catch (error) {
    // An expected failure (a locked or read-only folder...) is one line without a stack.
    if (isExpectedFailure(error)) logger.fatal(failureFields(error), 'cannot start');
    else logger.fatal({ err: error }, 'cannot start');
    io.err(`dnet-scp: cannot start: ${messageOf(error)}`);
    return 1;
  }
  logger.info(
    { host: scp.host, port: scp.port, aeTitle: config.aeTitle, storage: config.storage },
    'listening',
  );
  io.out(`listening on ${scp.host}:${scp.port}`);
  if ('server' in scp) io.onListening?.(scp as RunningScp, config);
  await new Promise<void>((resolve) => {
    if (!io.signal) return; // runs until the process is killed
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  logger.info({ timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
  await scp.close();
  logger.info('stopped');
  return 0;
}
