import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDnetError } from '@dnet/pdu';
import { Client, MemoryArchive, Server, verification } from '@dnet/services';
import type { Transport } from '@dnet/transport';
import { fromHex, mutate, toHex } from './mutate.js';
import type { Random } from './random.js';
import { PDU_FIXTURES } from './targets.js';

const fixture = (name: string) => fromHex(readFileSync(join(PDU_FIXTURES, `${name}.hex`), 'utf8'));

/** Complete conversations a requestor could have, PDU by PDU, from the captured fixtures. */
export function conversations(): Uint8Array[][] {
  return [
    [
      fixture('echoscu-a-associate-rq'),
      fixture('echoscu-p-data-tf-c-echo-rq'),
      fixture('echoscu-a-release-rq'),
    ],
    [
      fixture('storescu-a-associate-rq'),
      fixture('storescu-p-data-tf-c-store-rq'),
      fixture('storescu-p-data-tf-data-set'),
      fixture('echoscu-a-release-rq'),
    ],
    [fixture('storescu-a-associate-rq-user-identity'), fixture('echoscu-a-abort')],
    [fixture('getscu-a-associate-rq'), fixture('echoscu-a-release-rq')],
  ];
}

/** The server's timeouts while fuzzing: short, so that a stalled stream is closed quickly. */
export const FUZZ_TIMEOUTS = { artimMs: 300, acseMs: 300, idleMs: 500, dimseMs: 500 };

/** A Server answering as STORESCP (the fixtures' called AE title) with a memory archive. */
export async function startFuzzServer(transport: Transport): Promise<{
  server: Server;
  archive: MemoryArchive;
  errors: Error[];
}> {
  const archive = new MemoryArchive();
  const server = await Server.listen({
    transport,
    host: '127.0.0.1',
    port: 0,
    aeTitle: 'STORESCP',
    handlers: { echo: () => 0, ...archive.handlers() },
    timeouts: FUZZ_TIMEOUTS,
  });
  const errors: Error[] = [];
  server.on('error', (e) => errors.push(e));
  return { server, archive, errors };
}

/**
 * One byte stream for the server: a conversation with one PDU mutated (or
 * dropped, or the stream cut), or plain random bytes now and then.
 */
export function nextStream(rng: Random, all: readonly Uint8Array[][]): Uint8Array[] {
  if (rng.int(20) === 0) return [rng.bytes(1 + rng.int(300))];
  const pdus = [...rng.pick(all)];
  const seeds = all.flat();
  const i = rng.int(pdus.length);
  switch (rng.int(4)) {
    case 0:
      pdus.splice(i, 1);
      break;
    case 1:
      pdus[i] = (pdus[i] as Uint8Array).subarray(0, rng.int((pdus[i] as Uint8Array).length));
      pdus.length = i + 1;
      break;
    default: {
      let p = pdus[i] as Uint8Array;
      const n = 1 + rng.int(3);
      for (let k = 0; k < n; k++) p = mutate(p, rng, seeds);
      pdus[i] = p;
    }
  }
  // Cut the whole stream into chunks at random places.
  const total = pdus.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const p of pdus) {
    joined.set(p, at);
    at += p.length;
  }
  const out: Uint8Array[] = [];
  at = 0;
  while (at < joined.length) {
    const n = 1 + rng.int(Math.max(1, joined.length - at));
    out.push(joined.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Sends one stream to the server and waits until the server closes the
 * connection; resolves 'closed', or 'hung' when it has not after
 * `deadlineMs` (then the connection is aborted from our side).
 */
export async function sendStream(
  transport: Transport,
  port: number,
  stream: readonly Uint8Array[],
  deadlineMs: number,
): Promise<'closed' | 'hung'> {
  const conn = await transport.connect({ host: '127.0.0.1', port });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), deadlineMs);
  });
  const drain = (async () => {
    try {
      for await (const _ of conn) {
        // Responses are read and dropped.
      }
    } catch {
      // A reset is a close.
    }
    return 'closed' as const;
  })();
  try {
    for (const chunk of stream) {
      if (!conn.write(chunk)) await Promise.race([conn.drained(), deadline]);
    }
  } catch {
    // The server may have closed already.
  }
  const result = await Promise.race([drain, deadline]);
  clearTimeout(timer);
  conn.abort();
  await drain;
  return result;
}

/** Figures of a server fuzz run. */
export interface ServerFuzzResult {
  /** Streams sent. */
  streams: number;
  /** Streams after which the server did not close the connection in time. */
  hung: number;
  /** Untyped errors the server reported. */
  untypedErrors: string[];
  /** The first streams that hung, hex of each chunk. */
  hungStreams: string[][];
  /** Errors the server reported in all. */
  errors: number;
  /** C-ECHO status after the run (0 = the server still answers). */
  echoStatus: number | string;
  /** heapUsed growth over the run, bytes. */
  heapGrowth: number;
}

/** Streams mutated conversations at a running Server, `parallel` at a time, then checks C-ECHO. */
export async function fuzzServer(
  transport: Transport,
  rng: Random,
  options: { count?: number; untilMs?: number; parallel?: number; deadlineMs?: number },
): Promise<ServerFuzzResult> {
  const { server, errors } = await startFuzzServer(transport);
  const all = conversations();
  const count = options.count ?? Number.POSITIVE_INFINITY;
  const until = options.untilMs ?? Number.POSITIVE_INFINITY;
  const result: ServerFuzzResult = {
    streams: 0,
    hung: 0,
    hungStreams: [],
    untypedErrors: [],
    errors: 0,
    echoStatus: 'not tried',
    heapGrowth: 0,
  };
  const heapBefore = process.memoryUsage().heapUsed;
  const worker = async () => {
    while (result.streams < count && Date.now() < until) {
      result.streams++;
      const stream = nextStream(rng, all);
      const r = await sendStream(transport, server.port, stream, options.deadlineMs ?? 3000);
      if (r === 'hung') {
        result.hung++;
        if (result.hungStreams.length < 10) result.hungStreams.push(stream.map(toHex));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.parallel ?? 8 }, worker));
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'FUZZ',
      calledAeTitle: 'STORESCP',
      contexts: [verification()],
    });
    try {
      result.echoStatus = await client.echo();
    } finally {
      await client.release();
    }
  } catch (error) {
    result.echoStatus = String(error);
  } finally {
    await server.close({ timeoutMs: 2000 });
  }
  result.heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  result.errors = errors.length;
  for (const e of errors) {
    if (!isDnetError(e) && result.untypedErrors.length < 20) {
      result.untypedErrors.push(`${e.constructor.name}: ${e.message}`);
    }
  }
  return result;
}
