import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_DUPLICATE_POLICY,
  DUPLICATE_POLICIES,
  type DuplicatePolicy,
  isDuplicatePolicy,
  type PeerAddress,
} from '@dnet/archive';
import { canTranscode, codecFor, resolveTransferSyntax } from '@dnet/codecs';
import { ConfigError } from './errors.js';

/**
 * The commands named on the command line: `conformance` prints the
 * conformance statement of the options given. Without one, dnet-scp serves.
 */
export const SCP_COMMANDS = ['conformance'] as const;

/** What a command line asks for: `serve` (no command named) or one of {@link SCP_COMMANDS}. */
export type ScpCommand = 'serve' | (typeof SCP_COMMANDS)[number];

/** Levels accepted by `--log-level` (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of the {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** TLS settings of the listener (PS3.15 Annex B). */
export interface TlsConfig {
  /** Our certificate chain (PEM file). */
  cert: string;
  /** Our private key (PEM file). */
  key: string;
  /** CA certificates peers must chain to (PEM file). */
  ca?: string;
  /** Refuse clients without a certificate that verifies against `ca`. */
  requireClientCert: boolean;
  /** Client certificate subject CNs allowed to associate (with `allowCertFingerprints`: either); any when both are empty. */
  allowCertSubjects: string[];
  /** Client certificate SHA-256 fingerprints allowed to associate. */
  allowCertFingerprints: string[];
}

/** User identity checks (PS3.7 Annex D.3.3.7); when set, every association must carry one. */
export interface UserIdentityConfig {
  /** JWT verification key file: a PEM public key (RS256/ES256) or a shared secret (HS256). */
  jwtKey?: string;
  /** Required JWT issuer. */
  jwtIssuer?: string;
  /** Required JWT audience. */
  jwtAudience?: string;
  /** JSON file of `{ "user": "scrypt$..." }` password hashes. */
  users?: string;
}

/** Everything dnet-scp is configured with, from the command line and `--config FILE`. */
export interface ScpConfig {
  /** Address to bind (default 0.0.0.0: every interface, like storescp). */
  host: string;
  /** Port (default 11112, or 2762 with TLS, PS3.15 Annex B; 0 picks a free one). */
  port: number;
  /** Our AE title (default `DNETSCP`), PS3.8 §9.3.2: 1-16 characters. */
  aeTitle: string;
  /** Storage folder (default `./dnet-data`). */
  storage: string;
  /**
   * The index: a SQLite file (default `<storage>/index.sqlite`) or a
   * `postgres://` URL, for several nodes sharing one PostgreSQL (docs/scale-out.md).
   */
  db: string;
  /** This node's name when several nodes share the storage folder (temp files are per node). */
  nodeId: string | undefined;
  /** Maximum PDU length we receive (PS3.8 Annex D.1), default 256 KiB. */
  maxPdu: number | undefined;
  /** C-MOVE destinations by AE title. */
  peers: Record<string, PeerAddress>;
  /** Calling AE titles allowed; every one when empty. */
  allowAeTitles: string[];
  /** Most concurrent associations (default 64, `DEFAULT_MAX_ASSOCIATIONS`). */
  maxAssociations: number | undefined;
  /** Most concurrent associations per calling AE title (no limit by default). */
  maxAssociationsPerAe: number | undefined;
  /**
   * MiB of data set received between two young-generation collections asked
   * of V8 by the command line (heap.ts); 0 leaves collections to V8. Default 8.
   */
  gcEveryMib: number;
  /** User identity verification, or none (identities are not checked). */
  userIdentity: UserIdentityConfig | undefined;
  /** Folder of Modality Worklist items, or none (worklist not offered). */
  worklist: string | undefined;
  /** TLS settings, or plain TCP. */
  tls: TlsConfig | undefined;
  /** Log level of the JSON lines written to stderr (default `info`). */
  logLevel: LogLevel;
  /** How long shutdown waits for in-flight operations, in ms (default 10 000). */
  shutdownTimeoutMs: number;
  /**
   * Processes serving associations (`--workers N`, or `auto` for the core
   * count, `os.availableParallelism()`; default 1, one process): above 1 a
   * primary process holds the storage lock and the one index writer and forks
   * this many workers (workers.ts). One by default, as `storescp --fork` is
   * asked for: on a machine whose cores the senders share (BENCHMARKS.md),
   * workers cost an IPC round trip per stored object and a JIT per process.
   */
  workers: number;
  /** What a C-STORE of an instance already archived does (default `keep`; duplicate-policy.ts). */
  onDuplicate: DuplicatePolicy;
  /**
   * Ingest transcoding (`--store-as`, `--lossy`): the transfer syntax UID
   * instances with Pixel Data are stored in, and whether lossy compression is
   * allowed; none stores every instance as received.
   */
  storeAs: StoreAsConfig | undefined;
}

/** The `--store-as` setting: the stored transfer syntax and whether it may lose information. */
export interface StoreAsConfig {
  /** The transfer syntax UID instances are stored in. */
  transferSyntaxUid: string;
  /** `--lossy`: lossy compression allowed (a new SOP Instance UID per lossy copy, PS3.3 §C.7.6.1.1.5). */
  lossy: boolean;
}

/** The command-line options, as `node:util` `parseArgs` takes them. */
export const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string', short: 'p' },
  aet: { type: 'string' },
  storage: { type: 'string' },
  db: { type: 'string' },
  'node-id': { type: 'string' },
  'max-pdu': { type: 'string' },
  peer: { type: 'string', multiple: true },
  'allow-aet': { type: 'string', multiple: true },
  'max-associations': { type: 'string' },
  worklist: { type: 'string' },
  tls: { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  'require-client-cert': { type: 'boolean' },
  'allow-cert-subject': { type: 'string', multiple: true },
  'allow-cert-fingerprint': { type: 'string', multiple: true },
  'max-associations-per-ae': { type: 'string' },
  'gc-every-mib': { type: 'string' },
  'jwt-key': { type: 'string' },
  'jwt-issuer': { type: 'string' },
  'jwt-audience': { type: 'string' },
  users: { type: 'string' },
  config: { type: 'string' },
  'log-level': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  workers: { type: 'string' },
  'on-duplicate': { type: 'string' },
  'store-as': { type: 'string' },
  lossy: { type: 'boolean' },
} as const;

/** `--workers`: 1 when absent, `auto` for the core count, else an integer 1 to {@link MAX_WORKERS}. */
function workersOption(value: unknown): number {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS)
    throw new ConfigError(
      `--workers must be auto or an integer from 1 to ${MAX_WORKERS}, got '${value}'`,
      '--workers',
    );
  return n;
}

/** Most worker processes `--workers` takes. */
export const MAX_WORKERS = 256;

/** Smallest and largest maximum PDU length we announce (PS3.8 Annex D.1; 0 would mean unlimited). */
const MIN_PDU = 4096;
const MAX_PDU = 64 * 1024 * 1024;

function int(value: unknown, option: string, min: number, max: number): number {
  const n = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${option} must be an integer from ${min} to ${max}, got '${value}'`,
      option,
    );
  }
  return n;
}

/** Validates an AE title: 1-16 characters of the default repertoire, no backslash (PS3.5 §6.2 AE). */
export function checkAeTitle(value: unknown, option: string): string {
  const s = String(value ?? '').trim();
  if (s.length === 0 || s.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(s)) {
    throw new ConfigError(
      `${option}: '${value}' is not an AE title (1-16 characters, no backslash)`,
      option,
    );
  }
  return s;
}

/** Parses `AET=host:port` (the `--peer` option). */
export function parsePeer(value: string): [string, PeerAddress] {
  const m = /^([^=]+)=(.+):(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`--peer must be AET=host:port, got '${value}'`, '--peer');
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  return [checkAeTitle(m[1], '--peer'), { host, port: int(m[3], '--peer', 1, 65535) }];
}

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** What a `--config FILE` may hold: the same settings as the command line, in JSON. */
interface FileConfig {
  host?: string;
  port?: number;
  aet?: string;
  storage?: string;
  db?: string;
  nodeId?: string;
  maxPdu?: number;
  peers?: Record<string, string | PeerAddress> | string[];
  allowAet?: string[];
  maxAssociations?: number;
  maxAssociationsPerAe?: number;
  gcEveryMib?: number;
  worklist?: string;
  tls?:
    | {
        cert?: string;
        key?: string;
        ca?: string;
        requireClientCert?: boolean;
        allowCertSubjects?: string[];
        allowCertFingerprints?: string[];
      }
    | boolean;
  allowCertSubjects?: string[];
  allowCertFingerprints?: string[];
  jwtKey?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  users?: string;
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert?: boolean;
  logLevel?: string;
  shutdownTimeoutMs?: number;
  workers?: number | 'auto';
  onDuplicate?: string;
  storeAs?: string;
  lossy?: boolean;
}

const FILE_KEYS = new Set([
  'host',
  'port',
  'aet',
  'storage',
  'db',
  'nodeId',
  'maxPdu',
  'peers',
  'allowAet',
  'maxAssociations',
  'maxAssociationsPerAe',
  'gcEveryMib',
  'worklist',
  'allowCertSubjects',
  'allowCertFingerprints',
  'jwtKey',
  'jwtIssuer',
  'jwtAudience',
  'users',
  'tls',
  'cert',
  'key',
  'ca',
  'requireClientCert',
  'logLevel',
  'shutdownTimeoutMs',
  'workers',
  'onDuplicate',
  'storeAs',
  'lossy',
]);

function readConfigFile(path: string): FileConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`--config ${path}: ${(cause as Error).message}`, '--config');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`--config ${path}: a JSON object is expected`, '--config');
  }
  for (const key of Object.keys(value)) {
    if (!FILE_KEYS.has(key))
      throw new ConfigError(`--config ${path}: unknown setting '${key}'`, key);
  }
  return value as FileConfig;
}

function filePeers(peers: FileConfig['peers']): Record<string, PeerAddress> {
  const out: Record<string, PeerAddress> = {};
  if (peers === undefined) return out;
  if (Array.isArray(peers)) {
    for (const p of peers) {
      const [ae, address] = parsePeer(String(p));
      out[ae] = address;
    }
    return out;
  }
  for (const [ae, v] of Object.entries(peers)) {
    const [title, address] =
      typeof v === 'string' ? parsePeer(`${ae}=${v}`) : [checkAeTitle(ae, 'peers'), v];
    out[title] = {
      host: String(address.host),
      port: int(address.port, `peers.${ae}.port`, 1, 65535),
    };
  }
  return out;
}

/**
 * Builds the configuration from parsed options: `--config FILE` first, every
 * option given on the command line over it, then the defaults.
 *
 * @param values - what `parseArgs` returned for {@link OPTIONS}
 * @throws ConfigError
 */
export function resolveConfig(values: Values): ScpConfig {
  const file = values.config ? readConfigFile(values.config) : {};
  const fileTls = typeof file.tls === 'object' ? file.tls : {};
  const storage = resolve(values.storage ?? file.storage ?? './dnet-data');
  const peers = filePeers(file.peers);
  for (const p of values.peer ?? []) {
    const [ae, address] = parsePeer(p);
    peers[ae] = address;
  }
  const level = values['log-level'] ?? file.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, '--log-level');
  }
  const useTls = values.tls ?? (file.tls === true || typeof file.tls === 'object');
  let tls: TlsConfig | undefined;
  if (useTls) {
    const cert = values.cert ?? fileTls.cert ?? file.cert;
    const key = values.key ?? fileTls.key ?? file.key;
    if (!cert || !key) throw new ConfigError('--tls needs --cert and --key', '--tls');
    const ca = values.ca ?? fileTls.ca ?? file.ca;
    const requireClientCert =
      values['require-client-cert'] ?? fileTls.requireClientCert ?? file.requireClientCert ?? false;
    if (requireClientCert && !ca) {
      throw new ConfigError('--require-client-cert needs --ca', '--require-client-cert');
    }
    const allowCertSubjects = [
      ...(fileTls.allowCertSubjects ?? file.allowCertSubjects ?? []),
      ...(values['allow-cert-subject'] ?? []),
    ].map(String);
    const allowCertFingerprints = [
      ...(fileTls.allowCertFingerprints ?? file.allowCertFingerprints ?? []),
      ...(values['allow-cert-fingerprint'] ?? []),
    ].map((f) => fingerprint(String(f)));
    if ((allowCertSubjects.length > 0 || allowCertFingerprints.length > 0) && !ca) {
      throw new ConfigError('--allow-cert-subject/--allow-cert-fingerprint need --ca', '--ca');
    }
    tls = {
      cert,
      key,
      ...(ca && { ca }),
      requireClientCert,
      allowCertSubjects,
      allowCertFingerprints,
    };
  } else if (
    values['require-client-cert'] ||
    values.cert ||
    values.key ||
    values['allow-cert-subject'] ||
    values['allow-cert-fingerprint']
  ) {
    throw new ConfigError(
      '--cert, --key, --require-client-cert and --allow-cert-* need --tls',
      '--tls',
    );
  }
  const jwtKey = values['jwt-key'] ?? file.jwtKey;
  const jwtIssuer = values['jwt-issuer'] ?? file.jwtIssuer;
  const jwtAudience = values['jwt-audience'] ?? file.jwtAudience;
  const users = values.users ?? file.users;
  if ((jwtIssuer !== undefined || jwtAudience !== undefined) && jwtKey === undefined) {
    throw new ConfigError('--jwt-issuer and --jwt-audience need --jwt-key', '--jwt-key');
  }
  const userIdentity: UserIdentityConfig | undefined =
    jwtKey !== undefined || users !== undefined
      ? {
          ...(jwtKey !== undefined && { jwtKey: resolve(jwtKey) }),
          ...(jwtIssuer !== undefined && { jwtIssuer }),
          ...(jwtAudience !== undefined && { jwtAudience }),
          ...(users !== undefined && { users: resolve(users) }),
        }
      : undefined;
  const maxPerAe = values['max-associations-per-ae'] ?? file.maxAssociationsPerAe;
  const maxPdu = values['max-pdu'] ?? file.maxPdu;
  const maxAssociations = values['max-associations'] ?? file.maxAssociations;
  const worklist = values.worklist ?? file.worklist;
  const db = dbLocation(values.db ?? file.db ?? join(storage, 'index.sqlite'));
  const onDuplicate = values['on-duplicate'] ?? file.onDuplicate ?? DEFAULT_DUPLICATE_POLICY;
  if (!isDuplicatePolicy(onDuplicate)) {
    throw new ConfigError(
      `--on-duplicate must be one of ${DUPLICATE_POLICIES.join(', ')}, got '${onDuplicate}'`,
      '--on-duplicate',
    );
  }
  const storeAs = storeAsConfig(values['store-as'] ?? file.storeAs, values.lossy ?? file.lossy);
  return {
    host: values.host ?? file.host ?? '0.0.0.0',
    // 2762 is the registered port of DICOM over TLS (PS3.15 Annex B), 11112 of plain DICOM.
    port: int(values.port ?? file.port ?? (tls ? 2762 : 11112), '--port', 0, 65535),
    aeTitle: checkAeTitle(values.aet ?? file.aet ?? 'DNETSCP', '--aet'),
    storage,
    db,
    nodeId:
      nodeId(values['node-id'] ?? file.nodeId) ?? (isPostgresUrl(db) ? hostNodeId() : undefined),
    maxPdu: maxPdu === undefined ? undefined : int(maxPdu, '--max-pdu', MIN_PDU, MAX_PDU),
    peers,
    allowAeTitles: [...(file.allowAet ?? []), ...(values['allow-aet'] ?? [])].map((a) =>
      checkAeTitle(a, '--allow-aet'),
    ),
    maxAssociations:
      maxAssociations === undefined
        ? undefined
        : int(maxAssociations, '--max-associations', 1, 10_000),
    maxAssociationsPerAe:
      maxPerAe === undefined ? undefined : int(maxPerAe, '--max-associations-per-ae', 1, 10_000),
    gcEveryMib: int(values['gc-every-mib'] ?? file.gcEveryMib ?? 8, '--gc-every-mib', 0, 1024),
    userIdentity,
    worklist: worklist === undefined ? undefined : resolve(worklist),
    tls,
    logLevel: level as LogLevel,
    shutdownTimeoutMs: int(
      values['shutdown-timeout'] ?? file.shutdownTimeoutMs ?? 10_000,
      '--shutdown-timeout',
      0,
      600_000,
    ),
    workers: workersOption(values.workers ?? file.workers),
    onDuplicate,
    storeAs,
  };
}

/**
 * Checks `--store-as` and `--lossy`: a syntax name or UID the codecs write
 * (resolveTransferSyntax of @dnet/codecs), and `--lossy` for a syntax whose
 * encoding loses information (PS3.5 §8.2): lossless by default.
 */
function storeAsConfig(name: unknown, lossy: unknown) {
  if (lossy !== undefined && typeof lossy !== 'boolean') {
    throw new ConfigError('lossy must be true or false', '--lossy');
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new ConfigError('storeAs must be a transfer syntax name or UID', '--store-as');
  }
  if (name === undefined) {
    if (lossy) throw new ConfigError('--lossy needs --store-as', '--lossy');
    return undefined;
  }
  let transferSyntaxUid: string;
  try {
    transferSyntaxUid = resolveTransferSyntax(name);
  } catch (cause) {
    throw new ConfigError(`--store-as: ${(cause as Error).message}`, '--store-as');
  }
  // Any syntax the codecs write: checked from Explicit VR Little Endian, which every codec reads.
  if (!canTranscode('1.2.840.10008.1.2.1', transferSyntaxUid)) {
    throw new ConfigError(`--store-as: no codec writes ${transferSyntaxUid}`, '--store-as');
  }
  if (codecFor(transferSyntaxUid)?.lossy && !lossy) {
    throw new ConfigError(
      `--store-as ${name} compresses with loss: add --lossy to allow it`,
      '--lossy',
    );
  }
  return { transferSyntaxUid, lossy: lossy === true };
}

/** A SHA-256 fingerprint as 64 hex digits, colons or not (`openssl x509 -fingerprint -sha256`). */
function fingerprint(value: string): string {
  const hex = value.replace(/^sha256 fingerprint=/i, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new ConfigError(
      `--allow-cert-fingerprint must be a SHA-256 fingerprint (64 hex digits), got '${value}'`,
      '--allow-cert-fingerprint',
    );
  }
  return hex.toUpperCase().match(/.{2}/g)!.join(':');
}

/** Whether `db` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** A SQLite path is resolved against the working folder; a PostgreSQL URL is kept as given. */
function dbLocation(db: string): string {
  return isPostgresUrl(db) ? db : resolve(db);
}

/**
 * The node id of a node on a shared PostgreSQL index when none is given: the
 * host name, so that a node's start-up clean-up of temporary files never
 * touches another host's transfers on a shared storage root. Two nodes on one
 * host still need their own --node-id.
 */
export function hostNodeId(host = hostname()): string {
  const id = host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return id.length > 0 ? id : 'node';
}

/** `--node-id`: 1-64 of `[A-Za-z0-9_-]`, since it becomes part of temporary file names. */
function nodeId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new ConfigError(
      `--node-id must be 1-64 of A-Z a-z 0-9 _ - (got ${JSON.stringify(value)})`,
      '--node-id',
    );
  }
  return value;
}

/**
 * Parses the command line (`argv` without node and the script).
 *
 * @throws ConfigError on an unknown option, a positional argument or an invalid value
 */
export function parseCommandLine(argv: readonly string[]): {
  help: boolean;
  version: boolean;
  /** `serve` (no command named), or `conformance`: print the conformance statement and exit. */
  command: ScpCommand;
  config: ScpConfig | undefined;
} {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new ConfigError((cause as Error).message);
  }
  const { values, positionals } = parsed;
  const [first, ...rest] = positionals;
  if (first !== undefined && !(SCP_COMMANDS as readonly string[]).includes(first)) {
    throw new ConfigError(`unknown command '${first}'`);
  }
  if (rest.length > 0) throw new ConfigError(`unexpected argument '${rest[0]}'`);
  const command = (first ?? 'serve') as ScpCommand;
  if (values.help || values.version) {
    return { help: !!values.help, version: !!values.version, command, config: undefined };
  }
  return { help: false, version: false, command, config: resolveConfig(values as Values) };
}
