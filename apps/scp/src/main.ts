import { failureFields, isDnetError, messageOf } from '@dnet/archive';
import { systemErrorOf } from '@dnet/services';
import { type Logger, pino } from 'pino';
import { parseCommandLine, type ScpConfig } from './config.js';
import { conformanceStatement } from './conformance.js';
import { ConfigError } from './errors.js';
import { type RunningScp, startScp } from './scp.js';

/** Where the command writes and what stops it; injected so tests can drive it. */
export interface Io {
  /** One line to stdout. */
  out(line: string): void;
  /** One line to stderr (usage errors). */
  err(line: string): void;
  /** The services package name, for `--version`. */
  services: string;
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

const HELP = `dnet-scp: a small DICOM archive: verification, storage, query/retrieve, worklist

Usage:
  dnet-scp [options]               run the archive
  dnet-scp conformance [options]   print its DICOM conformance statement (PS3.2 Annex A,
                                   Markdown) for these options, then exit

Options:
  --port N                   port to listen on (default 11112, 2762 with --tls; 0: a free one)
  --host ADDRESS             address to bind (default 0.0.0.0)
  --aet TITLE                our AE title (default DNETSCP)
  --storage DIR              storage folder (default ./dnet-data)
  --db FILE|URL              SQLite index (default <storage>/index.sqlite), or
                             postgres://user@host:port/db shared by several nodes
  --node-id NAME             this node's name when nodes share --storage (docs/scale-out.md);
                             with a PostgreSQL --db it defaults to the host name
  --max-pdu N                maximum PDU length we receive, bytes (default 262144)
  --peer AET=host:port       a C-MOVE destination (repeatable)
  --allow-aet TITLE          accept only these calling AE titles (repeatable)
  --max-associations N       concurrent associations (default 64)
  --worklist DIR             serve Modality Worklist from *.json / *.wl files in DIR
  --tls --cert F --key F     DICOM over TLS (PS3.15 Annex B)
  --ca F                     CA certificates clients must chain to
  --require-client-cert      refuse clients without a valid certificate (needs --ca)
  --allow-cert-subject CN    accept only client certificates with this subject CN (repeatable, needs --ca)
  --allow-cert-fingerprint H accept only client certificates with this SHA-256 fingerprint (repeatable)
  --max-associations-per-ae N  concurrent associations per calling AE title
  --gc-every-mib N           MiB received between two young-generation GCs (default 8; 0: V8 decides)
  --jwt-key FILE             require a JWT user identity (PS3.7 D.3.3.7) verified with this key:
                             PEM public key (RS256/ES256) or shared secret (HS256, >= 32 bytes)
  --jwt-issuer ISS, --jwt-audience AUD   required JWT iss / aud
  --users FILE               require username/password (JSON {"user": "scrypt$..."})
  --on-duplicate POLICY      an instance already stored: keep it (default; Success), replace, reject (A701H)
  --store-as SYNTAX          store images in this transfer syntax, transcoded as received
                             (jpeg-ls-lossless, rle, j2k-lossless, htj2k-lossless, explicit-le...
                             or a UID); what cannot be transcoded is stored as received
  --lossy                    allow a lossy --store-as syntax (jpeg-baseline, j2k...): new SOP Instance UIDs
  --config FILE              the same settings as JSON ({"port": 11112, "peers": {"DEST": "host:port"}, ...})
  --log-level LEVEL          fatal, error, warn, info (default), debug, trace, silent
  --shutdown-timeout MS      how long SIGINT/SIGTERM wait for operations in flight (default 10000)
  --workers N                processes serving associations (default: the core count); above 1 a
                             primary holds the index and the limits, N workers share the port
  -h, --help                 this text
  --version                  the version

Prints "listening on <host>:<port>" once it accepts associations; logs JSON lines to stderr.
`;

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
 * Runs dnet-scp with the command line `argv`; resolves the exit code once the
 * server has stopped (when `io.signal` aborts). Exit code 2 is a usage error,
 * 1 a failure to start.
 */
export async function main(argv: string[], io: Io): Promise<number> {
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
    io.out(`dnet-scp 0.0.0 (${io.services})`);
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
