import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { AE_TITLE_LENGTH, isValidAeTitle } from '@dnet/pdu';
import { Client, type ContextSpec, type Transcoder } from '@dnet/services';
import type { Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { describeError } from './describe-error.js';
import { ScuError, ScuErrorCode, UsageError } from './errors.js';

/** Where a command writes; injected so tests can read it. */
export interface Io {
  /** One line of results on stdout. */
  out(line: string): void;
  /** One line of diagnostics on stderr. */
  err(line: string): void;
  /** A terminal stream for progress bars; absent when the output is not a TTY (no bar then). */
  progress?: NodeJS.WritableStream | undefined;
  /**
   * Aborted on Ctrl-C (SIGINT) or SIGTERM: a pending C-FIND, C-MOVE or C-GET
   * is then cancelled (C-CANCEL) and the association aborted (A-ABORT).
   */
  signal?: AbortSignal | undefined;
  /** True when stdout is a terminal: tables then fit the screen unless `--wide`. */
  terminal?: boolean | undefined;
}

/** Options every command takes. */
export const COMMON_OPTIONS = {
  aet: { type: 'string', default: 'DNETSCU' },
  aec: { type: 'string', default: 'ANY-SCP' },
  'max-pdu': { type: 'string' },
  timeout: { type: 'string' },
  tls: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The help lines of {@link COMMON_OPTIONS}. */
export const COMMON_HELP = `Common options:
  --aet AET            calling AE title (default DNETSCU; DCMTK: -aet)
  --aec AET            called AE title (default ANY-SCP; DCMTK: -aec)
  --max-pdu N          largest PDU we receive, in bytes: 4096 to 67108864, or 0 for
                       unlimited (PS3.8 Annex D.1; DCMTK: -pdu)
  --timeout S          connect, association and DIMSE timeout in seconds; the process
                       ends within S + 1 seconds of the wait that failed (DCMTK: -to)
  --tls                DICOM over TLS (PS3.15 Annex B), with
    --cert FILE --key FILE   our certificate and key (PEM) for mutual authentication
    --ca FILE                the CA that signed the peer's certificate (PEM)
  --user NAME          user identity (PS3.7 Annex D.3.3.7), with --password for type 2
  --json               machine-readable output, one JSON object a line on stdout,
                       errors included (see README: the schema)
  -v, --verbose        say what is negotiated and sent
  -q, --quiet          only errors
  -h, --help           this help`;

/** DCMTK's single-dash long flags, rewritten to ours so DCMTK users' habits work. */
const DCMTK_FLAGS: Readonly<Record<string, string>> = {
  '-aet': '--aet',
  '-aec': '--aec',
  '-aem': '--dest',
  '-pdu': '--max-pdu',
  '-to': '--timeout',
  '-od': '--out',
};

/** The parsed values of {@link COMMON_OPTIONS}. */
export type CommonValues = {
  aet: string;
  aec: string;
  'max-pdu'?: string | undefined;
  timeout?: string | undefined;
  tls?: boolean | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  json?: boolean | undefined;
  verbose?: boolean | undefined;
  quiet?: boolean | undefined;
  help?: boolean | undefined;
};

/** The value of one option as parsed. */
type OptionValue<O> = O extends { type: 'boolean' }
  ? boolean | undefined
  : O extends { multiple: true }
    ? string[] | undefined
    : string | undefined;

/** The parsed values of a command's own options. */
export type ParsedValues<T> = { [K in keyof T]: OptionValue<T[K]> };

/** The options of one command, as `node:util` parseArgs takes them. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** `--name` or `-n` as the user typed it. */
const shown = (token: { rawName: string }) => token.rawName;

/**
 * Parses one command's arguments: the common options plus `extra`, strictly
 * (an unknown option, a missing value or a value given to a flag is a usage
 * error, in our own words rather than Node's).
 *
 * @throws UsageError
 */
export function parseCommand<T extends OptionsConfig>(
  argv: readonly string[],
  extra: T,
): { values: CommonValues & ParsedValues<T>; positionals: string[] } {
  const args = argv.map((a) => DCMTK_FLAGS[a] ?? a);
  const options: OptionsConfig = { ...COMMON_OPTIONS, ...extra };
  // A lenient pass first, to name what is wrong ourselves.
  const { tokens } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option) throw new UsageError(`unknown option ${shown(token)}`);
    if (option.type === 'string' && token.value === undefined)
      throw new UsageError(`${shown(token)} needs a value`);
    if (option.type === 'boolean' && token.inlineValue)
      throw new UsageError(`${shown(token)} takes no value`);
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    const parsed = values as unknown as CommonValues & ParsedValues<T>;
    if (!parsed.help) checkCommon(parsed);
    return { values: parsed, positionals };
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    // e.g. a value that starts with a dash: say which option, without Node's advice.
    const name = /'(-[^' ]+)/.exec((cause as Error).message)?.[1];
    throw new UsageError(name ? `${name}: give its value as ${name}=VALUE` : 'wrong options', {
      cause,
    });
  }
}

/** A positive integer option, or undefined when absent. @throws UsageError */
export function integerOption(name: string, text: string | undefined, max = 2 ** 32 - 1) {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}, got '${text}'`);
  }
  return n;
}

/** Where to connect: `<host> <port>` from the positionals. @throws UsageError */
export function peerOf(positionals: readonly string[]): { host: string; port: number } {
  const [host, port] = positionals;
  if (host === undefined || port === undefined) throw new UsageError('give <host> <port>');
  return { host, port: integerOption('port', port, 65535)! };
}

/**
 * The transport of the common options: TCP, or TLS with `--cert --key --ca`
 * (its module, and Node's TLS and crypto with it, loaded only then).
 * @throws UsageError
 */
export async function transportOf(values: CommonValues): Promise<Transport> {
  if (!values.tls) {
    if (values.cert || values.key || values.ca)
      throw new UsageError('--cert, --key and --ca need --tls');
    return tcp();
  }
  if (Boolean(values.cert) !== Boolean(values.key))
    throw new UsageError('--cert and --key go together');
  const read = (path: string) => new Uint8Array(readFileSync(path));
  const { tls } = await import('@dnet/tls');
  return tls({
    ...(values.ca && { ca: read(values.ca) }),
    ...(values.cert && { cert: read(values.cert) }),
    ...(values.key && { key: read(values.key) }),
  });
}

const encoder = new TextEncoder();

/**
 * The smallest Maximum Length we announce (PS3.8 Annex D.1 sets no floor but
 * 0 for unlimited; this is DCMTK's and dnet-scp's): a smaller one only slows
 * every transfer down.
 */
export const MIN_PDU_LENGTH = 4096;
/** The largest Maximum Length we announce, short of 0 (unlimited). */
export const MAX_PDU_LENGTH = 64 * 1024 * 1024;

/**
 * `--max-pdu`: 0 (no limit, PS3.8 Annex D.1: "the value of (0) indicates
 * that no maximum length is specified") or {@link MIN_PDU_LENGTH} to
 * {@link MAX_PDU_LENGTH}; undefined when absent. @throws UsageError
 */
export function maxPduOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (
    text.trim() === '' ||
    !Number.isInteger(n) ||
    (n !== 0 && (n < MIN_PDU_LENGTH || n > MAX_PDU_LENGTH))
  )
    throw new UsageError(
      `--max-pdu must be 0 (unlimited) or an integer from ${MIN_PDU_LENGTH} to ${MAX_PDU_LENGTH}, got '${text}'`,
    );
  return n;
}

/**
 * An AE title option: 1 to 16 characters of the default repertoire without
 * backslash or control characters, leading and trailing spaces not
 * significant (PS3.5 §6.2 VR AE, PS3.8 §9.3.2). @throws UsageError
 */
export function aeTitleOption(name: string, text: string): string {
  if (!isValidAeTitle(text))
    throw new UsageError(
      `--${name} must be an AE title of 1 to ${AE_TITLE_LENGTH} characters without backslash or control characters (PS3.5 §6.2), got '${text}'`,
    );
  return text.trim();
}

/**
 * Checks the common options that need no connection, so a wrong command
 * line exits 2 before anything is sent. @throws UsageError
 */
export function checkCommon(values: CommonValues): void {
  aeTitleOption('aet', values.aet);
  aeTitleOption('aec', values.aec);
  integerOption('timeout', values.timeout, 86_400);
  maxPduOption(values['max-pdu']);
  if (values.password !== undefined && values.user === undefined)
    throw new UsageError('--password needs --user');
}

/**
 * Connects and negotiates with the common options: TCP or TLS, AE titles,
 * maximum PDU, timeouts, user identity (PS3.7 Annex D.3.3.7: type 1 username,
 * type 2 username and passcode). With `--timeout S` every timer is at most
 * S seconds, ARTIM included (PS3.8 §9.1.5: the wait for the peer to close
 * after an A-ABORT or a rejection), so no wait outlives the user's timeout.
 */
export async function connect(
  values: CommonValues,
  peer: { host: string; port: number },
  contexts: readonly (ContextSpec | readonly ContextSpec[])[],
  extra: {
    maxOperations?: number;
    signal?: AbortSignal | undefined;
    transcoder?: Transcoder | undefined;
  } = {},
): Promise<Client> {
  checkCommon(values);
  const seconds = integerOption('timeout', values.timeout, 86_400);
  const maxPduLength = maxPduOption(values['max-pdu']);
  const ms = seconds === undefined ? undefined : seconds * 1000;
  const transport = await transportOf(values);
  return Client.connect({
    transport,
    ...peer,
    callingAeTitle: values.aet.trim(),
    calledAeTitle: values.aec.trim(),
    contexts,
    ...(maxPduLength !== undefined && { maxPduLength }),
    ...(ms !== undefined && {
      timeouts: { connectMs: ms, acseMs: ms, dimseMs: ms, artimMs: Math.min(ms, 30_000) },
    }),
    ...(values.user !== undefined && {
      userIdentity: {
        type: values.password === undefined ? 1 : 2,
        positiveResponseRequested: false,
        primaryField: encoder.encode(values.user),
        secondaryField: encoder.encode(values.password ?? ''),
      },
    }),
    ...(extra.maxOperations !== undefined && { maxOperations: extra.maxOperations }),
    ...(extra.signal && { signal: extra.signal }),
    ...(extra.transcoder && { transcoder: extra.transcoder }),
    // A command-line sender does nothing else meanwhile: files to store are read
    // without thread-pool round trips (a third of the CPU per small file).
    blockingFileReads: true,
  }).catch((error: unknown) => {
    const e = error as { code?: unknown; message?: unknown };
    // The association's own words for a connection the peer closed before its
    // A-ASSOCIATE-AC or -RJ: the connection opened, the association never did.
    if (
      e.code === 'DNET_ASSOCIATION_CONNECTION_LOST' &&
      !String(e.message).startsWith('cannot connect')
    )
      throw new ScuError(
        ScuErrorCode.NOT_ASSOCIATED,
        `no association: the peer closed the connection before accepting or rejecting it (${describeError(error).replace(/^connection lost: /, '')})`,
        { cause: error },
      );
    throw error;
  });
}
