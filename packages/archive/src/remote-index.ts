import type { DicomJsonDataSet } from '@dnet/dataset';
import type {
  ArchiveIndex,
  FindOptions,
  IndexCounts,
  InstanceRecord,
  PutResult,
  QueryOptions,
  RetrieveInstance,
} from './archive-index.js';
import {
  ArchiveError,
  type ArchiveErrorCode,
  IndexClosedError,
  InvalidQueryError,
  InvalidRecordError,
  StorageFailedError,
} from './errors.js';
import type { QueryLevel } from './query-model.js';

/**
 * A two-way message channel between a {@link RemoteIndex} and the process
 * that serves the index ({@link serveIndex}): a cluster worker's `process`
 * and the primary's `Worker`, a `worker_threads` port, a test's in-memory
 * pair. Messages are plain JSON values (they survive Node's IPC
 * serialization); messages that are not the index's are ignored, so the
 * channel may carry other traffic too.
 */
export interface IndexChannel {
  /** Sends one message (a plain JSON object, opaque to the channel) to the other side. */
  send(message: object): void;
  /** Calls `listener` with every message received; returns what stops it. */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** The methods of {@link ArchiveIndex} answered with one reply. */
type CallMethod = 'put' | 'get' | 'remove' | 'instances' | 'hasInstance' | 'count';

/** An error as it crosses the channel: enough to rebuild the archive's error classes. */
interface ErrorFields {
  name: string;
  message: string;
  code?: string;
  tag?: string;
  status?: number;
  offendingElement?: string;
}

/**
 * One message of the index protocol (internal to this module and its test) (`dnetIndex` marks it): a call and its
 * reply, or a `find` whose responses come in batches, each asked for by
 * `more` (so a slow C-FIND never makes the serving side buffer the whole
 * answer) and stopped by `cancel`.
 */
export type IndexMessage =
  | { dnetIndex: 'call'; id: number; method: CallMethod; args: unknown[] }
  | { dnetIndex: 'find'; id: number; level: QueryLevel; query: DicomJsonDataSet; options: object }
  | { dnetIndex: 'more'; id: number }
  | { dnetIndex: 'cancel'; id: number }
  | { dnetIndex: 'reply'; id: number; value?: unknown; error?: ErrorFields }
  | {
      dnetIndex: 'items';
      id: number;
      items: DicomJsonDataSet[];
      done: boolean;
      error?: ErrorFields;
    };

/** C-FIND responses sent in one `items` message. */
const FIND_BATCH = 64;

const CALL_METHODS: ReadonlySet<string> = new Set<CallMethod>([
  'put',
  'get',
  'remove',
  'instances',
  'hasInstance',
  'count',
]);

function isIndexMessage(message: unknown): message is IndexMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { dnetIndex?: unknown }).dnetIndex === 'string' &&
    typeof (message as { id?: unknown }).id === 'number'
  );
}

function errorFields(error: unknown): ErrorFields {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & Partial<Omit<ErrorFields, 'name' | 'message'>>;
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.code === 'string' && { code: e.code }),
    ...(typeof e.tag === 'string' && { tag: e.tag }),
    ...(typeof e.status === 'number' && { status: e.status }),
    ...(typeof e.offendingElement === 'string' && { offendingElement: e.offendingElement }),
  };
}

/**
 * The error of `fields` as the archive's own class, so that callers branch
 * on it as on a local index's (`InvalidQueryError.status`, the codes of
 * `statusOf` in the C-STORE handler).
 */
function errorOf(fields: ErrorFields): Error {
  switch (fields.name) {
    case 'InvalidQueryError':
      return new InvalidQueryError(fields.message, fields.offendingElement, fields.status);
    case 'InvalidRecordError':
      return new InvalidRecordError(fields.message, fields.tag);
    case 'IndexClosedError':
      return new IndexClosedError();
    case 'StorageFailedError':
      return new StorageFailedError(fields.message);
  }
  if (fields.code?.startsWith('DNET_')) {
    const error = new ArchiveError(fields.message, fields.code as ArchiveErrorCode);
    error.name = fields.name;
    return error;
  }
  const error = new Error(fields.message);
  error.name = fields.name;
  return error;
}

/** Resolves `promise`, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface FindStream {
  /** The next batch (or the end), once it arrives. */
  next: Promise<Extract<IndexMessage, { dnetIndex: 'items' }>>;
  deliver(message: Extract<IndexMessage, { dnetIndex: 'items' }>): void;
  fail(error: Error): void;
}

/**
 * An {@link ArchiveIndex} served by another process (or thread) over an
 * {@link IndexChannel}: every call is a message to the side that owns the
 * database ({@link serveIndex}), and resolves with its reply. A `put` or
 * `remove` therefore resolves only once the serving index's transaction
 * resolved there, that is once it is durable: the C-STORE handler's rule
 * (Success only after the file and its row are durable) holds through it.
 * Several processes' puts reach the one serving index, whose group commit
 * shares one WAL sync among those that arrive together. `close()` closes
 * this side only; the serving side owns the database.
 *
 * @example
 * ```ts
 * // In a cluster worker; the primary runs serveIndex(new SqliteIndex(path), channelOf(worker)).
 * const index = new RemoteIndex({
 *   send: (message) => process.send?.(message),
 *   onMessage: (listener) => {
 *     process.on('message', listener);
 *     return () => process.off('message', listener);
 *   },
 * });
 * const archive = openArchive({ storage, index, aeTitle: 'DNETSCP' });
 * ```
 */
export class RemoteIndex implements ArchiveIndex {
  readonly #channel: IndexChannel;
  readonly #stop: () => void;
  readonly #calls = new Map<number, PendingCall>();
  readonly #finds = new Map<number, FindStream>();
  #nextId = 0;
  #closed = false;

  /** @param channel - the channel to the serving side */
  constructor(channel: IndexChannel) {
    this.#channel = channel;
    this.#stop = channel.onMessage((message) => this.#receive(message));
  }

  #receive(message: unknown): void {
    if (!isIndexMessage(message)) return;
    if (message.dnetIndex === 'reply') {
      const call = this.#calls.get(message.id);
      if (!call) return;
      this.#calls.delete(message.id);
      if (message.error) call.reject(errorOf(message.error));
      else call.resolve(message.value);
    } else if (message.dnetIndex === 'items') {
      this.#finds.get(message.id)?.deliver(message);
    }
  }

  #check(): void {
    if (this.#closed) throw new IndexClosedError();
  }

  async #call<T>(method: CallMethod, args: unknown[], signal?: AbortSignal): Promise<T> {
    this.#check();
    signal?.throwIfAborted();
    const id = ++this.#nextId;
    const reply = new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.#channel.send({ dnetIndex: 'call', id, method, args });
    try {
      return await untilAborted(reply, signal);
    } catch (error) {
      // Aborted here: the serving side stops too (a retrieve's selection is not needed any more).
      if (signal?.aborted && this.#calls.delete(id)) {
        this.#channel.send({ dnetIndex: 'cancel', id });
      }
      throw error;
    }
  }

  /** {@inheritDoc ArchiveIndex.put} */
  put(record: InstanceRecord): Promise<PutResult> {
    return this.#call('put', [record]);
  }

  /** {@inheritDoc ArchiveIndex.get} */
  get(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    return this.#call('get', [sopInstanceUid]);
  }

  /** {@inheritDoc ArchiveIndex.remove} */
  remove(sopInstanceUid: string): Promise<InstanceRecord | undefined> {
    return this.#call('remove', [sopInstanceUid]);
  }

  /** {@inheritDoc ArchiveIndex.instances} */
  instances(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options: QueryOptions = {},
  ): Promise<RetrieveInstance[]> {
    const { signal, ...rest } = options;
    return this.#call('instances', [level, query, rest], signal);
  }

  /** {@inheritDoc ArchiveIndex.hasInstance} */
  hasInstance(sopInstanceUid: string, sopClassUid: string): Promise<boolean> {
    return this.#call('hasInstance', [sopInstanceUid, sopClassUid]);
  }

  /** {@inheritDoc ArchiveIndex.count} */
  count(): Promise<IndexCounts> {
    return this.#call('count', []);
  }

  /** {@inheritDoc ArchiveIndex.find} */
  async *find(
    level: QueryLevel,
    query: DicomJsonDataSet,
    options: FindOptions = {},
  ): AsyncIterable<DicomJsonDataSet> {
    this.#check();
    const { signal, ...rest } = options;
    signal?.throwIfAborted();
    const id = ++this.#nextId;
    const stream = findStream();
    this.#finds.set(id, stream);
    let done = false;
    this.#channel.send({ dnetIndex: 'find', id, level, query, options: rest });
    try {
      for (;;) {
        const batch = await untilAborted(stream.next, signal);
        done = batch.done;
        for (const item of batch.items) {
          // PS3.4 §C.4.1.3.2: a C-CANCEL stops the responses between two of them.
          signal?.throwIfAborted();
          yield item;
        }
        if (batch.error) throw errorOf(batch.error);
        if (done) return;
        signal?.throwIfAborted();
        stream.reset();
        this.#channel.send({ dnetIndex: 'more', id });
      }
    } finally {
      this.#finds.delete(id);
      if (!done && !this.#closed) this.#channel.send({ dnetIndex: 'cancel', id });
    }
  }

  /**
   * Closes this side: calls waiting for a reply reject with
   * `IndexClosedError`, later calls too. The serving side's index stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    for (const call of this.#calls.values()) call.reject(new IndexClosedError());
    this.#calls.clear();
    for (const stream of this.#finds.values()) stream.fail(new IndexClosedError());
    this.#finds.clear();
  }
}

/** The batches of one `find`, one at a time. */
function findStream(): FindStream & { reset(): void } {
  let deliver!: FindStream['deliver'];
  let fail!: FindStream['fail'];
  const stream = {
    next: undefined as unknown as FindStream['next'],
    deliver: (m: Parameters<FindStream['deliver']>[0]) => deliver(m),
    fail: (e: Error) => fail(e),
    reset() {
      stream.next = new Promise((resolve, reject) => {
        deliver = resolve;
        fail = reject;
      });
      // A batch that arrives after the consumer stopped is dropped, never an unhandled rejection.
      stream.next.catch(() => undefined);
    },
  };
  stream.reset();
  return stream;
}

/** What {@link serveIndex} returns. */
export interface IndexService {
  /** Stops answering this channel and cancels its queries in flight (the index stays open). */
  stop(): void;
}

/**
 * Serves `index` to a {@link RemoteIndex} at the other end of `channel`: runs
 * each call and replies with its result or error, streams C-FIND responses in
 * batches as the client asks for them, and cancels what the client cancels.
 * One index may serve many channels (every worker of a cluster): their
 * writes share its transactions and group commit.
 *
 * @param index - the index that owns the database
 * @param channel - the channel to one client
 */
export function serveIndex(index: ArchiveIndex, channel: IndexChannel): IndexService {
  const running = new Map<number, AbortController>();
  /** Finds waiting for `more`: the resolver of each. */
  const waiting = new Map<number, (more: boolean) => void>();
  const cancel = (id: number) => {
    running.get(id)?.abort();
    waiting.get(id)?.(false);
  };
  const send = (message: IndexMessage) => {
    try {
      channel.send(message);
    } catch {
      // The client is gone (its process exited): nothing is waiting for this.
    }
  };

  const call = async (message: Extract<IndexMessage, { dnetIndex: 'call' }>) => {
    const { id, method, args } = message;
    const controller = new AbortController();
    running.set(id, controller);
    try {
      if (!CALL_METHODS.has(method)) throw new Error(`unknown index method '${String(method)}'`);
      let value: unknown;
      if (method === 'instances') {
        const [level, query, options] = args as [QueryLevel, DicomJsonDataSet, QueryOptions];
        value = await index.instances(level, query, { ...options, signal: controller.signal });
      } else {
        const fn = index[method] as (...a: unknown[]) => Promise<unknown>;
        value = await fn.apply(index, args);
      }
      send({ dnetIndex: 'reply', id, value });
    } catch (error) {
      send({ dnetIndex: 'reply', id, error: errorFields(error) });
    } finally {
      running.delete(id);
    }
  };

  const find = async (message: Extract<IndexMessage, { dnetIndex: 'find' }>) => {
    const { id, level, query, options } = message;
    const controller = new AbortController();
    running.set(id, controller);
    let items: DicomJsonDataSet[] = [];
    try {
      for await (const item of index.find(level, query, {
        ...(options as FindOptions),
        signal: controller.signal,
      })) {
        items.push(item);
        if (items.length < FIND_BATCH) continue;
        const more = new Promise<boolean>((resolve) => waiting.set(id, resolve));
        send({ dnetIndex: 'items', id, items, done: false });
        items = [];
        const go = await more;
        waiting.delete(id);
        if (!go) return;
      }
      send({ dnetIndex: 'items', id, items, done: true });
    } catch (error) {
      if (!controller.signal.aborted) {
        send({ dnetIndex: 'items', id, items, done: true, error: errorFields(error) });
      }
    } finally {
      running.delete(id);
      waiting.delete(id);
    }
  };

  const stop = channel.onMessage((message) => {
    if (!isIndexMessage(message)) return;
    switch (message.dnetIndex) {
      case 'call':
        void call(message);
        break;
      case 'find':
        void find(message);
        break;
      case 'more':
        waiting.get(message.id)?.(true);
        break;
      case 'cancel':
        cancel(message.id);
        break;
    }
  });
  return {
    stop() {
      stop();
      for (const id of [...running.keys()]) cancel(id);
    },
  };
}
