import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { Client, type ContextSpec } from '@dnet/services';
import { tls } from '@dnet/tls';
import type { Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { UsageError } from './errors.js';

/** Where a command writes; injected so tests can read it. */
export interface Io {
  /** One line of results on stdout. */
  out(line: string): void;
  /** One line of diagnostics on stderr. */
  err(line: string): void;
  /** A terminal stream for progress bars; absent when the output is not a TTY (no bar then). */
  progress?: NodeJS.WritableStream | undefined;
  /** Aborted on Ctrl-C: a pending C-FIND, C-MOVE or C-GET is then cancelled (C-CANCEL). */
  signal?: AbortSignal | undefined;
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
  --max-pdu N          largest PDU we receive, in bytes (DCMTK: -pdu)
  --timeout S          connect, association and DIMSE timeout in seconds (DCMTK: -to)
  --tls                DICOM over TLS (PS3.15 Annex B), with
    --cert FILE --key FILE   our certificate and key (PEM) for mutual authentication
    --ca FILE                the CA that signed the peer's certificate (PEM)
  --user NAME          user identity (PS3.7 Annex D.3.3.7), with --password for type 2
  --json               machine-readable output, one JSON object a line
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

/**
 * Parses one command's arguments: the common options plus `extra`, strictly
 * (an unknown option is a usage error).
 *
 * @throws UsageError
 */
export function parseCommand<T extends OptionsConfig>(
  argv: readonly string[],
  extra: T,
): { values: CommonValues & ParsedValues<T>; positionals: string[] } {
  const args = argv.map((a) => DCMTK_FLAGS[a] ?? a);
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...extra },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as unknown as CommonValues & ParsedValues<T>, positionals };
  } catch (cause) {
    throw new UsageError((cause as Error).message.split('\n')[0]!, { cause });
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

/** The transport of the common options: TCP, or TLS with `--cert --key --ca`. @throws UsageError */
export function transportOf(values: CommonValues): Transport {
  if (!values.tls) {
    if (values.cert || values.key || values.ca)
      throw new UsageError('--cert, --key and --ca need --tls');
    return tcp();
  }
  if (Boolean(values.cert) !== Boolean(values.key))
    throw new UsageError('--cert and --key go together');
  const read = (path: string) => new Uint8Array(readFileSync(path));
  return tls({
    ...(values.ca && { ca: read(values.ca) }),
    ...(values.cert && { cert: read(values.cert) }),
    ...(values.key && { key: read(values.key) }),
  });
}

const encoder = new TextEncoder();

/**
 * Connects and negotiates with the common options: TCP or TLS, AE titles,
 * maximum PDU, timeouts, user identity (PS3.7 Annex D.3.3.7: type 1 username,
 * type 2 username and passcode).
 */
export async function connect(
  values: CommonValues,
  peer: { host: string; port: number },
  contexts: readonly (ContextSpec | readonly ContextSpec[])[],
  extra: { maxOperations?: number; signal?: AbortSignal | undefined } = {},
): Promise<Client> {
  const seconds = integerOption('timeout', values.timeout, 86_400);
  const maxPduLength = integerOption('max-pdu', values['max-pdu']);
  if (values.password !== undefined && values.user === undefined)
    throw new UsageError('--password needs --user');
  const ms = seconds === undefined ? undefined : seconds * 1000;
  return Client.connect({
    transport: transportOf(values),
    ...peer,
    callingAeTitle: values.aet,
    calledAeTitle: values.aec,
    contexts,
    ...(maxPduLength !== undefined && { maxPduLength }),
    ...(ms !== undefined && { timeouts: { connectMs: ms, acseMs: ms, dimseMs: ms } }),
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
    // A command-line sender does nothing else meanwhile: files to store are read
    // without thread-pool round trips (a third of the CPU per small file).
    blockingFileReads: true,
  });
}
