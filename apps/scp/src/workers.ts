import cluster, { type Worker } from 'node:cluster';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type ArchiveIndex,
  failureFields,
  INCOMING_FOLDER,
  type IndexChannel,
  LocalStorage,
  messageOf,
  RemoteIndex,
  SqliteIndex,
  serveIndex,
} from '@dnet/archive';
import type { Admission, AssociationAdmitter } from '@dnet/services';
import { type Logger, pino } from 'pino';
import { AssociationSlots, type SlotRejection } from './association-slots.js';
import { isPostgresUrl, type ScpConfig } from './config.js';
import { ensureFolder } from './ensure-folder.js';
import { StartupError } from './errors.js';
import { lockFolder } from './folder-lock.js';
import { identityVerifierFor, type StartOptions, startScp, transportFor } from './scp.js';
import { WORKER_ENV } from './worker-env.js';

/** How long the workers may take to listen at start. */
const START_TIMEOUT_MS = 60_000;
/** First delay before a dead worker is replaced; doubled after each early death. */
const RESTART_DELAY_MS = 500;
/** Longest delay before a dead worker is replaced. */
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that lived this long died of something new: its replacement starts without delay growth. */
const STABLE_AFTER_MS = 30_000;
/** How long a stopping worker gets beyond the shutdown timeout before it is killed. */
const STOP_GRACE_MS = 5_000;

/** The messages of the primary and its workers (besides the index's, remote-index of @dnet/archive). */
type ControlMessage =
  /** Worker to primary: it listens. */
  | { dnetScp: 'listening'; host: string; port: number }
  /** Worker to primary: it could not start (a missing certificate, a busy port...). */
  | { dnetScp: 'failed'; message: string }
  /** Worker to primary: may association `id` of `callingAeTitle` start? */
  | { dnetScp: 'admit'; id: number; callingAeTitle: string }
  /** Primary to worker: the answer, a slot taken or the A-ASSOCIATE-RJ to send. */
  | { dnetScp: 'admission'; id: number; rejection?: SlotRejection }
  /** Worker to primary: association `id` ended. */
  | { dnetScp: 'release'; id: number }
  /** Primary to worker: stop gracefully (SIGINT/SIGTERM reached the primary). */
  | { dnetScp: 'stop' };

function isControl(message: unknown): message is ControlMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { dnetScp?: unknown }).dnetScp === 'string'
  );
}

/**
 * The node id of worker `slot`: its own temporary folder under `.incoming`
 * (LocalStorage `nodeId`), after the node's own id on a shared storage root.
 */
export function workerNodeId(nodeId: string | undefined, slot: number): string {
  // A node id is at most 64 characters (LocalStorage).
  return nodeId === undefined ? `w${slot}` : `${nodeId.slice(0, 58)}-w${slot}`;
}

/**
 * Removes the temporary files every worker of this node left (its
 * `.incoming/<worker node id>/` folders, for any worker count an earlier run
 * had): called by the primary, which holds the lock, before any worker
 * starts. Resolves the number of files removed.
 */
export async function removeWorkerTemporaryFiles(
  root: string,
  nodeId: string | undefined,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(join(root, INCOMING_FOLDER));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const prefix = workerNodeId(nodeId, 0).slice(0, -1);
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) continue;
    removed += await new LocalStorage(root, { nodeId: name }).removeTemporaryFiles();
  }
  return removed;
}

/** What {@link startWorkers} returns: where the workers listen and how to stop them. */
export interface RunningWorkers {
  /** The bound address. */
  host: string;
  /** The bound port (shared by every worker). */
  port: number;
  /**
   * Graceful stop: every worker stops accepting and finishes its operations
   * within the shutdown timeout, then the index is closed and the storage
   * lock released.
   */
  close(): Promise<void>;
}

/** A failed IPC send: the other process is gone, which its exit (or 'disconnect') handles. */
function ignoreSendError(): void {}

/** The IPC channel to one worker, as the index service and the slots use it. */
function channelOf(worker: Worker): IndexChannel {
  return {
    send(message) {
      // A worker that just died: nothing waits for the message (its exit is handled).
      if (worker.isConnected()) worker.send(message, undefined, undefined, ignoreSendError);
    },
    onMessage(listener) {
      worker.on('message', listener);
      return () => worker.off('message', listener);
    },
  };
}

/**
 * `dnet-scp --workers N` with N above 1: this process becomes the primary. It
 * takes the storage folder lock, opens THE index writer (a SQLite `--db`;
 * with PostgreSQL each worker connects itself) and serves it to the workers
 * over IPC (`serveIndex`), so that the puts of every worker share its
 * transactions and its group commit; it keeps the association limits for all
 * the workers together ({@link AssociationSlots}), forks N workers that all
 * listen on the one port (node:cluster hands them the connections), replaces a
 * worker that dies (after a delay that grows while they keep dying early),
 * and resolves once every worker listens. Throws when a worker cannot start.
 *
 * @param config - the configuration, the workers' too
 * @param logger - the primary's log lines (the workers write their own, with their `worker` number)
 */
export async function startWorkers(config: ScpConfig, logger: Logger): Promise<RunningWorkers> {
  // Files named by options fail here, once, rather than in every worker.
  transportFor(config, logger);
  identityVerifierFor(config);
  const postgres = isPostgresUrl(config.db);
  const storage = new LocalStorage(config.storage, {
    ...(config.nodeId !== undefined && { nodeId: config.nodeId }),
  });
  await ensureFolder(config.storage);
  if (postgres) await ensureFolder(storage.incoming);
  const lock = await lockFolder(postgres ? storage.incoming : config.storage);
  let index: ArchiveIndex | undefined;
  try {
    if (!postgres) await ensureFolder(dirname(config.db));
    const removed =
      (await storage.removeTemporaryFiles()) +
      (await removeWorkerTemporaryFiles(config.storage, config.nodeId));
    if (removed > 0) {
      logger.warn({ removed, folder: storage.incoming }, 'removed temporary files left by a crash');
    }
    if (!postgres) index = new SqliteIndex(config.db);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const slots = new AssociationSlots(config.maxAssociations, config.maxAssociationsPerAe);
  const workers = new Map<number, Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  let quickDeaths = 0;
  let started: (where: { host: string; port: number }) => void;
  let failed: (error: Error) => void;
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    started = resolve;
    failed = reject;
  });
  let listening = 0;
  let startedUp = false;
  cluster.setupPrimary({ exec: process.argv[1] as string, args: [] });

  const fork = (slot: number, replacing: boolean) => {
    const born = Date.now();
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify({ slot, config }) });
    workers.set(slot, worker);
    const channel = channelOf(worker);
    worker.on('error', (error) =>
      logger.warn({ worker: slot, err: error.message }, 'worker IPC error'),
    );
    const service = index ? serveIndex(index, channel) : undefined;
    worker.on('message', (message: unknown) => {
      if (!isControl(message)) return;
      switch (message.dnetScp) {
        case 'admit': {
          const rejection = slots.take(slot, message.id, message.callingAeTitle);
          channel.send({
            dnetScp: 'admission',
            id: message.id,
            ...(rejection && { rejection }),
          } satisfies ControlMessage);
          break;
        }
        case 'release':
          slots.release(slot, message.id);
          break;
        case 'listening':
          if (replacing) logger.info({ worker: slot, pid: worker.process.pid }, 'worker replaced');
          else if (++listening === config.workers) {
            startedUp = true;
            started({ host: message.host, port: message.port });
          }
          break;
        case 'failed':
          if (!startedUp) {
            failed(
              new StartupError(`worker ${slot} could not start`, {
                cause: new Error(message.message),
              }),
            );
          }
          break;
      }
    });
    worker.on('exit', (code, signal) => {
      service?.stop();
      // Its associations are gone with it.
      slots.releaseAll(slot);
      if (workers.get(slot) === worker) workers.delete(slot);
      if (stopping) return;
      if (!startedUp) {
        failed(
          new StartupError(`worker ${slot} exited before listening (${signal ?? `code ${code}`})`),
        );
        return;
      }
      quickDeaths = Date.now() - born < STABLE_AFTER_MS ? quickDeaths + 1 : 0;
      const delayMs = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** quickDeaths);
      logger.error(
        { worker: slot, pid: worker.process.pid, code, signal, restartInMs: delayMs },
        'worker exited',
      );
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!stopping) fork(slot, true);
      }, delayMs);
      restarts.add(timer);
    });
  };

  /** Stops every worker (gracefully, then killed), the index, the lock. */
  const stopAll = async () => {
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    const exits = [...workers.values()].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          channelOf(worker).send({ dnetScp: 'stop' } satisfies ControlMessage);
        }),
    );
    const all = Promise.all(exits);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), config.shutdownTimeoutMs + STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      for (const [slot, worker] of workers) {
        logger.warn({ worker: slot, pid: worker.process.pid }, 'worker killed at shutdown');
        worker.process.kill('SIGKILL');
      }
      await all;
    }
    try {
      await index?.close();
    } finally {
      await lock.release();
    }
  };

  for (let slot = 1; slot <= config.workers; slot++) fork(slot, false);
  let timeout: NodeJS.Timeout | undefined;
  let where: { host: string; port: number };
  try {
    where = await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () =>
            reject(new StartupError(`the workers did not listen within ${START_TIMEOUT_MS} ms`)),
          START_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    await stopAll();
    throw error;
  } finally {
    clearTimeout(timeout);
  }
  logger.info(
    { workers: config.workers, pids: [...workers.values()].map((w) => w.process.pid) },
    'workers listening',
  );
  let closing: Promise<void> | undefined;
  return {
    ...where,
    close() {
      closing ??= stopAll();
      return closing;
    },
  };
}

/** The IPC channel of this worker process to its primary. */
function primaryChannel(): IndexChannel {
  return {
    send(message) {
      // The primary is gone: 'disconnect' stops this worker.
      if (process.connected) process.send?.(message, undefined, undefined, ignoreSendError);
    },
    onMessage(listener) {
      process.on('message', listener);
      return () => process.off('message', listener);
    },
  };
}

/** Asks the primary for association slots ({@link AssociationSlots}) over `channel`. */
function slotAdmitter(channel: IndexChannel): AssociationAdmitter {
  let next = 0;
  const waiting = new Map<number, (rejection: SlotRejection | undefined) => void>();
  channel.onMessage((message) => {
    if (isControl(message) && message.dnetScp === 'admission') {
      waiting.get(message.id)?.(message.rejection);
    }
  });
  return async ({ callingAeTitle }): Promise<Admission> => {
    const id = ++next;
    const rejection = await new Promise<SlotRejection | undefined>((resolve) => {
      waiting.set(id, resolve);
      channel.send({ dnetScp: 'admit', id, callingAeTitle } satisfies ControlMessage);
    });
    waiting.delete(id);
    if (rejection) return { admitted: false, rejection };
    return {
      admitted: true,
      release: () => channel.send({ dnetScp: 'release', id } satisfies ControlMessage),
    };
  };
}

/**
 * Runs this process as worker of a `--workers` primary ({@link WORKER_ENV}
 * set): an ordinary dnet-scp server on the shared port, with its own node id
 * for its temporary files, the primary's index over IPC (`RemoteIndex`: a
 * C-STORE is answered Success only once the primary's transaction is
 * durable) and the primary's association slots. Resolves the exit code once
 * stopped: by the primary, by SIGINT/SIGTERM, or when the primary is gone.
 *
 * @param options - what the command line passes to `startScp` besides
 */
export async function runWorker(
  options: Pick<StartOptions, 'collectYoungGeneration'> & { signal?: AbortSignal } = {},
): Promise<number> {
  const { slot, config } = JSON.parse(process.env[WORKER_ENV] as string) as {
    slot: number;
    config: ScpConfig;
  };
  const logger = pino(
    { level: config.logLevel, base: { name: 'dnet-scp', worker: slot } },
    pino.destination({ dest: 2, sync: true }),
  );
  const channel = primaryChannel();
  const stop = new Promise<string>((resolve) => {
    channel.onMessage((message) => {
      if (isControl(message) && message.dnetScp === 'stop') resolve('primary');
    });
    options.signal?.addEventListener('abort', () => resolve('signal'), { once: true });
    // The primary is gone (killed): its index and its lock with it.
    process.once('disconnect', () => resolve('disconnected'));
  });
  const index = isPostgresUrl(config.db) ? undefined : new RemoteIndex(channel);
  let scp: Awaited<ReturnType<typeof startScp>>;
  try {
    scp = await startScp(config, logger, {
      ...(options.collectYoungGeneration && {
        collectYoungGeneration: options.collectYoungGeneration,
      }),
      worker: {
        nodeId: workerNodeId(config.nodeId, slot),
        ...(index && { index }),
        admitAssociation: slotAdmitter(channel),
      },
    });
  } catch (error) {
    logger.fatal(failureFields(error), 'cannot start');
    channel.send({ dnetScp: 'failed', message: messageOf(error) } satisfies ControlMessage);
    return 1;
  }
  channel.send({ dnetScp: 'listening', host: scp.host, port: scp.port } satisfies ControlMessage);
  const why = await stop;
  if (why === 'disconnected') {
    logger.error('the primary process is gone: stopping now');
    return 1;
  }
  await scp.close();
  return 0;
}
