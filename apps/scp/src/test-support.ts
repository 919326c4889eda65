import { Client, type ClientOptions } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';
import { type Io, main } from './main.js';
import type { RunningScp } from './scp.js';

/** A client association from TESTSCU to dnet-scp (AE DNETSCP) on 127.0.0.1:`port`. */
export function connectClient(port: number, contexts: ClientOptions['contexts']): Promise<Client> {
  return Client.connect({
    transport: tcp(),
    host: '127.0.0.1',
    port,
    callingAeTitle: 'TESTSCU',
    calledAeTitle: 'DNETSCP',
    contexts,
  });
}

/** dnet-scp started in-process by {@link startInProcess}. */
export interface InProcessScp {
  /** The running archive. */
  scp: RunningScp;
  /** Its port. */
  port: number;
  /** The JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** What it printed on stdout. */
  out: string[];
  /** Stops it (as SIGTERM does) and resolves its exit code. */
  stop(): Promise<number>;
}

/**
 * Runs `main()` with `args` until {@link InProcessScp.stop}; rejects if it does not listen within 10 s.
 * `io` adds the process-level hooks the CLI passes (e.g. `collectYoungGeneration`).
 */
export async function startInProcess(
  args: string[],
  io: Pick<Io, 'collectYoungGeneration'> = {},
): Promise<InProcessScp> {
  const stop = new AbortController();
  const logs: Record<string, unknown>[] = [];
  const out: string[] = [];
  const err: string[] = [];
  let listening!: (scp: RunningScp) => void;
  const ready = new Promise<RunningScp>((resolve) => {
    listening = resolve;
  });
  const exit = main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    services: 'test',
    signal: stop.signal,
    log: { write: (line: string) => void logs.push(JSON.parse(line)) },
    onListening: (scp) => listening(scp),
    ...io,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const scp = await Promise.race([
    ready,
    exit.then((code) => {
      throw new Error(`dnet-scp exited with ${code}: ${err.join('\n')}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('dnet-scp did not listen within 10 s')), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return {
    scp,
    port: scp.port,
    logs,
    out,
    stop: () => {
      stop.abort();
      return exit;
    },
  };
}

/** Waits until `check()` is true, polling every 20 ms, for at most `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The final C-STORE-RSP of {@link storeRaw}: its status and Error Comment. */
export interface RawStoreResponse {
  /** Status (0000,0900). */
  status: number;
  /** Error Comment (0000,0902), if any. */
  errorComment: string | undefined;
}

/**
 * Sends `dataSet` as it is (any bytes, even a cut data set) in one C-STORE-RQ
 * on the client's association, through the association-level API: no source
 * resolution, no check of ours on the sending side.
 */
export async function storeRaw(
  client: Client,
  sopClassUid: string,
  sopInstanceUid: string,
  dataSet: Uint8Array,
): Promise<RawStoreResponse> {
  const rsp = await client.association.cStore(
    {
      commandField: 0x0001, // C-STORE-RQ (PS3.7 §9.3.1.1)
      affectedSopClassUid: sopClassUid,
      affectedSopInstanceUid: sopInstanceUid,
      priority: 0, // MEDIUM
      hasDataSet: true,
    },
    dataSet,
  );
  const message = rsp.message as { status: number; errorComment?: string };
  return { status: message.status, errorComment: message.errorComment };
}
