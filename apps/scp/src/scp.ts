import diagnosticsChannel from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type Archive,
  type ArchiveIndex,
  DEFAULT_WORKLIST_READERS,
  FolderWorklist,
  failureFields,
  LocalStorage,
  type ObjectStorage,
  openArchive,
  part10WorklistReader,
  SqliteIndex,
} from '@dnet/archive';
import * as codecs from '@dnet/codecs';
import {
  type AssociationAdmitter,
  allowCertificates,
  type OperationRecord,
  type RequestContext,
  Server,
  type ServerOptions,
  SubAssociationError,
  userIdentityVerifier,
} from '@dnet/services';
import { GcPacer } from '@dnet/services/internal';
import { tls } from '@dnet/tls';
import type { Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import type { Logger } from 'pino';
import { isPostgresUrl, type ScpConfig } from './config.js';
import { ensureFolder } from './ensure-folder.js';
import { ConfigError } from './errors.js';
import { lockFolder } from './folder-lock.js';

/** The `@dnet/services` diagnostics channel with one record per DIMSE operation. */
const OPERATION_CHANNEL = 'dnet:services:operation';

/** A running dnet-scp: the server, its archive, and a graceful stop. */
export interface RunningScp {
  /** The DICOM server. */
  server: Server;
  /** The index (for inspection). */
  index: ArchiveIndex;
  /** The storage. */
  storage: LocalStorage;
  /** The bound address. */
  host: string;
  /** The bound port. */
  port: number;
  /**
   * Graceful stop: stop accepting, let in-flight operations finish within
   * the configured deadline (then abort what is left), close the database.
   */
  close(): Promise<void>;
}

/** Process-level settings of {@link startScp} (the CLI's; tests and embedders leave them out). */
export interface StartOptions {
  /**
   * Runs one young-generation collection (`youngGenerationCollector()` of
   * `heap.ts`). When given, it is called each time 8 MiB more data set bytes
   * have been received (all associations together), which bounds the socket
   * read buffers awaiting collection (see `heap.ts`).
   */
  collectYoungGeneration?: () => void;
  /**
   * Set in a worker of `--workers` (workers.ts): the primary process holds
   * the storage lock, so none is taken here.
   */
  worker?: WorkerParts;
}

/** What a worker process of `--workers` serves with, besides the configuration (workers.ts). */
export interface WorkerParts {
  /** This worker's node id: its own temporary folder under `.incoming` (docs/scale-out.md). */
  nodeId: string;
  /**
   * The index the primary serves over IPC (SQLite); none with a PostgreSQL
   * `--db`, which each worker connects to itself.
   */
  index?: ArchiveIndex;
  /** Asks the primary for one of the association slots shared by every worker. */
  admitAssociation: AssociationAdmitter;
}

/** The listener's transport for `config`: TCP, or TLS (PS3.15 Annex B) with the files it names. */
export function transportFor(config: ScpConfig, logger: Logger): Transport {
  if (!config.tls) return tcp();
  const t = config.tls;
  return tls({
    cert: readFileSync(t.cert),
    key: readFileSync(t.key),
    ...(t.ca && { ca: readFileSync(t.ca) }),
    clientCertificate: t.requireClientCert ? 'require' : t.ca ? 'request' : 'none',
    // A plaintext client or a refused certificate never reaches the association layer.
    onHandshakeError: (error) =>
      logger.warn(
        { event: 'association', status: 'rejected', err: error.message, code: error.code },
        'TLS handshake refused',
      ),
  });
}

/** The user identity verifier of `--jwt-key` / `--users` (PS3.7 Annex D.3.3.7), or none. */
export function identityVerifierFor(config: ScpConfig) {
  const u = config.userIdentity;
  if (!u) return undefined;
  let users: Record<string, string> | undefined;
  if (u.users) {
    const value: unknown = JSON.parse(readFileSync(u.users, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(
        `--users ${u.users}: a JSON object of user: hash is expected`,
        '--users',
      );
    }
    users = value as Record<string, string>;
  }
  let key: string | Buffer | undefined;
  if (u.jwtKey) {
    const bytes = readFileSync(u.jwtKey);
    const text = bytes.toString('utf8');
    // A PEM public key (RS256/ES256), else the file's bytes are the HS256 secret (a final newline dropped).
    key = text.includes('-----BEGIN') ? text : Buffer.from(text.replace(/\r?\n$/, ''), 'utf8');
  }
  try {
    return userIdentityVerifier({
      ...(users && { users }),
      ...(key !== undefined && {
        jwt: {
          key,
          ...(u.jwtIssuer !== undefined && { issuer: u.jwtIssuer }),
          ...(u.jwtAudience !== undefined && { audience: u.jwtAudience }),
        },
      }),
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, u.jwtKey ? '--jwt-key' : '--users');
  }
}

/** What {@link archiveFor} and {@link serverOptionsFor} are built over, besides the configuration. */
export interface ScpParts {
  /** The listener's transport (`tcp()`, or `tls(...)` with `--tls`), also that of outgoing associations. */
  transport: Transport;
  /** Where the operation lines go. */
  logger: Logger;
}

/**
 * The archive dnet-scp serves for `config`, over an open `storage` and
 * `index`: the worklist folder when configured, the duplicate policy, and
 * the peers Storage Commitment reports may go to. Nothing is opened here, so
 * the conformance statement (conformance.ts) reads the same contexts and
 * extended negotiation as the running server.
 */
export function archiveFor(
  config: ScpConfig,
  parts: ScpParts & {
    storage: ObjectStorage;
    index: ArchiveIndex;
    /** Called with the length of each data set chunk received (GC pacing, heap.ts). */
    received?: (bytes: number) => void;
  },
): Archive {
  const worklist = config.worklist
    ? new FolderWorklist(config.worklist, {
        readers: { ...DEFAULT_WORKLIST_READERS, '.wl': part10WorklistReader },
      })
    : undefined;
  return openArchive({
    storage: parts.storage,
    index: parts.index,
    aeTitle: config.aeTitle,
    ...(worklist && { worklist }),
    logger: parts.logger,
    onDuplicate: config.onDuplicate,
    ...(parts.received && { received: parts.received }),
    ...(config.storeAs && {
      storeAs: {
        transferSyntaxUid: config.storeAs.transferSyntaxUid,
        codecs,
        ...(config.storeAs.lossy && { lossy: {} }),
      },
    }),
    // A report whose requesting association has ended goes to the peer's address.
    commitment: { peers: config.peers, transport: parts.transport },
  });
}

/**
 * The options dnet-scp listens with for `config`: the archive's handlers,
 * contexts and extended negotiation, C-ECHO, the limits, the access checks
 * (AE titles, TLS only, client certificates, user identity) and the C-MOVE
 * destinations. `Server.listen` takes them as they are; the conformance
 * statement (conformance.ts) reads the same object, so the two cannot drift.
 */
export function serverOptionsFor(
  config: ScpConfig,
  archive: Pick<Archive, 'handlers' | 'contexts' | 'extendedNegotiation'>,
  parts: ScpParts & {
    /** The user identity verifier of `--jwt-key` / `--users` ({@link identityVerifierFor}). */
    verifyUserIdentity?: NonNullable<ServerOptions['policy']>['verifyUserIdentity'];
  },
): ServerOptions {
  const { logger, verifyUserIdentity } = parts;
  // C-ECHO (PS3.4 Annex A): always Success, one log line.
  const echo = (context: RequestContext) => {
    logger.info(
      {
        op: 'C-ECHO',
        peer: context.callingAeTitle,
        address: `${context.remoteAddress}:${context.remotePort}`,
        status: '0x0000',
      },
      'C-ECHO',
    );
  };
  const allowed = config.tls;
  const certificateCheck =
    allowed && (allowed.allowCertSubjects.length > 0 || allowed.allowCertFingerprints.length > 0)
      ? allowCertificates({
          subjects: allowed.allowCertSubjects,
          fingerprints: allowed.allowCertFingerprints,
        })
      : undefined;
  const aeTable = Object.fromEntries(
    Object.entries(config.peers).map(([ae, p]) => [ae, { host: p.host, port: p.port }]),
  );
  return {
    transport: parts.transport,
    host: config.host,
    port: config.port,
    aeTitle: config.aeTitle,
    handlers: { echo, ...archive.handlers },
    // Relational queries and retrieves when the SCU proposes them (PS3.4 §C.5).
    extendedNegotiation: archive.extendedNegotiation,
    aeTable,
    // C-MOVE / C-GET: each instance in a syntax the destination accepted, transcoded losslessly.
    transcoder: codecs.transcoder(),
    ...(config.maxAssociations && { maxAssociations: config.maxAssociations }),
    ...(config.maxAssociationsPerAe && { maxAssociationsPerAe: config.maxAssociationsPerAe }),
    // With --tls the listener is TLS-only: no plaintext association is ever served.
    ...(config.tls && { tlsOnly: true }),
    ...(certificateCheck && { authorizePeerCertificate: certificateCheck }),
    policy: {
      // Storage, Query/Retrieve, Storage Commitment; Modality Worklist only when a
      // worklist folder is configured (PS3.4 Annex K).
      contexts: archive.contexts,
      ...(config.maxPdu && { maxPduLength: config.maxPdu }),
      ...(config.allowAeTitles.length > 0 && { callingAeTitles: config.allowAeTitles }),
      // With a verifier, an association without a user identity is refused too.
      ...(verifyUserIdentity && { verifyUserIdentity, requireUserIdentity: true }),
    },
  };
}

/**
 * Starts the archive SCP: Verification, Storage, Query/Retrieve (Patient
 * and Study Root FIND, MOVE, GET), Storage Commitment Push Model and, with a
 * worklist folder, Modality Worklist, over files in `config.storage` and a
 * SQLite index.
 *
 * @example
 * ```ts
 * const scp = await startScp(resolveConfig({ port: '0', storage: '/tmp/data' }), pino());
 * console.log(`listening on ${scp.host}:${scp.port}`);
 * await scp.close();
 * ```
 */
export async function startScp(
  config: ScpConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningScp> {
  const worker = options.worker;
  const nodeId = worker?.nodeId ?? config.nodeId;
  const storage = new LocalStorage(config.storage, {
    // The next object's temporary file is made while the current one arrives.
    prepareNext: true,
    ...(nodeId !== undefined && { nodeId }),
  });
  // Files named by options are read before anything is locked or opened.
  const transport = transportFor(config, logger);
  const verifyUserIdentity = identityVerifierFor(config);
  await ensureFolder(config.storage);
  const postgres = isPostgresUrl(config.db);
  // With the embedded index the storage folder is this process's alone; nodes sharing
  // it (PostgreSQL, docs/scale-out.md) each lock their own temporary folder.
  if (postgres || worker) await ensureFolder(storage.incoming);
  // A worker's folders are locked by its primary, and its temporary folder is its alone.
  const lock = worker
    ? { release: async () => {} }
    : await lockFolder(postgres ? storage.incoming : config.storage);
  let index: ArchiveIndex;
  try {
    if (!postgres) await ensureFolder(dirname(config.db));
    const removed = await storage.removeTemporaryFiles();
    if (removed > 0) {
      logger.warn({ removed, folder: storage.incoming }, 'removed temporary files left by a crash');
    }
    // Several nodes share one PostgreSQL (docs/scale-out.md); one node uses its SQLite file.
    index = worker?.index
      ? worker.index
      : postgres
        ? // Loaded only when used: the pg driver adds about 15 MB to every process that imports it.
          await (await import('@dnet/archive/postgres')).PostgresIndex.open(config.db)
        : new SqliteIndex(config.db);
  } catch (error) {
    await lock.release();
    throw error;
  }
  // (A worker's SQLite index is its primary's: the primary's lines say where it is.)
  if (postgres || (!worker && nodeId !== undefined)) {
    // A scale-out node says which node it is and where its index lives (never the password).
    const where = postgres ? new URL(config.db) : undefined;
    logger.info(
      {
        node: nodeId,
        db: postgres ? 'postgres' : 'sqlite',
        ...(where && { dbHost: where.host, dbName: where.pathname }),
      },
      'index opened',
    );
  }
  // --gc-every-mib 0: collections left to V8 (faster, more garbage held; heap.ts).
  const pacer =
    options.collectYoungGeneration && config.gcEveryMib > 0
      ? new GcPacer(options.collectYoungGeneration, config.gcEveryMib * 1024 * 1024)
      : undefined;
  const archive = archiveFor(config, {
    storage,
    index,
    transport,
    logger,
    ...(pacer && { received: (bytes: number) => pacer.received(bytes) }),
  });
  let server: Server;
  try {
    server = await Server.listen({
      ...serverOptionsFor(config, archive, {
        transport,
        logger,
        ...(verifyUserIdentity && { verifyUserIdentity }),
      }),
      // --workers: the association limits hold across every worker (the primary counts).
      ...(worker && { admitAssociation: worker.admitAssociation }),
    });
  } catch (error) {
    await archive.close();
    await lock.release();
    throw error;
  }
  server.on('error', (error) => {
    if (error instanceof SubAssociationError) {
      // Why a C-MOVE failed its sub-operations (A702H): the destination and the connect error.
      logger.warn(
        {
          op: 'C-MOVE',
          destination: error.destination,
          destinationAddress: `${error.host}:${error.port}`,
          phase: error.phase,
          ...failureFields(error.cause),
        },
        'C-MOVE sub-association failed',
      );
    } else logger.debug({ err: error }, 'operation error');
  });
  // Every A-ASSOCIATE-RJ we send (PS3.8 §9.3.4 Table 9-21), with why.
  server.on('rejected', (r) =>
    logger.warn(
      {
        event: 'association',
        status: 'rejected',
        peer: r.callingAeTitle,
        called: r.calledAeTitle,
        address: `${r.remoteAddress}:${r.remotePort}`,
        encrypted: r.encrypted,
        ...(r.peerCertificate && {
          certificate: {
            subject: r.peerCertificate.subject.CN,
            fingerprint256: r.peerCertificate.fingerprint256,
          },
        }),
        result: r.result,
        source: r.source,
        reason: r.reason,
        cause: r.cause,
      },
      'association rejected',
    ),
  );
  server.on('association', (a) => {
    const started = performance.now();
    const info = a.info;
    const fields = {
      peer: (info.callingAeTitle ?? '').trim(),
      address: `${info.connection?.remoteAddress ?? ''}:${info.connection?.remotePort ?? 0}`,
      encrypted: info.encrypted,
    };
    logger.info({ ...fields, event: 'association', status: 'accepted' }, 'association');
    void a.closed.then(() =>
      logger.info(
        {
          ...fields,
          event: 'association',
          status: 'closed',
          durationMs: Math.round(performance.now() - started),
        },
        'association',
      ),
    );
  });
  // C-MOVE / C-GET end after the handler returns (the server runs the sub-operations), and a
  // refused N-ACTION never reaches the archive: their final status (and counts) come from
  // @dnet/services' operation channel.
  const onOperation = (message: unknown) => {
    const r = message as OperationRecord;
    if (r.role !== 'scp') return;
    if (r.operation === 'N-ACTION' && r.status !== 0) {
      // A refused Storage Commitment request (an accepted one is logged with its report).
      logger.info(
        {
          op: 'N-ACTION',
          peer: r.peerAeTitle,
          status:
            r.status === undefined ? 'aborted' : `0x${r.status.toString(16).padStart(4, '0')}`,
          durationMs: Math.round(r.durationMs),
        },
        'N-ACTION',
      );
      return;
    }
    if (r.operation !== 'C-MOVE' && r.operation !== 'C-GET') return;
    logger.info(
      {
        op: r.operation,
        peer: r.peerAeTitle,
        status: r.status === undefined ? 'aborted' : `0x${r.status.toString(16).padStart(4, '0')}`,
        completed: r.completed,
        failed: r.failed,
        warning: r.warning,
        durationMs: Math.round(r.durationMs),
      },
      `${r.operation} done`,
    );
  };
  diagnosticsChannel.subscribe(OPERATION_CHANNEL, onOperation);
  let closing: Promise<void> | undefined;
  return {
    server,
    index,
    storage,
    host: server.host,
    port: server.port,
    close() {
      closing ??= (async () => {
        try {
          await server.close({ timeoutMs: config.shutdownTimeoutMs });
        } finally {
          diagnosticsChannel.unsubscribe(OPERATION_CHANNEL, onOperation);
          try {
            // The server has waited for the Storage Commitment reports in flight.
            await archive.close();
          } finally {
            await lock.release();
          }
        }
      })();
      return closing;
    },
  };
}
