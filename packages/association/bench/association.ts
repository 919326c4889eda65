// Association throughput over TCP loopback: C-ECHO round trips and a 32 MiB
// C-STORE, dnet to dnet, and (when DCMTK is installed) dnet to storescp.
// Run on its own: pnpm exec tsx packages/association/bench/association.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CommandField, respondTo } from '@dnet/dimse';
import { tcp } from '@dnet/transport-tcp';
import { type Result, summarize } from '../../../bench/stats.js';
import { Association } from '../src/index.js';

export type { Result };

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const ECHOES = 500;
const STORE_BYTES = 32 * 1024 * 1024;
const RUNS = 5;

function proposal() {
  return {
    callingAeTitle: 'BENCH',
    calledAeTitle: 'DNET',
    maxPduLength: 262_144,
    contexts: [
      { abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: [IMPLICIT] },
      { abstractSyntax: CT, transferSyntaxes: [EXPLICIT] },
    ],
  };
}

async function measure(a: Association): Promise<{ echo: number; store: number; cpu: number }> {
  let t0 = performance.now();
  for (let i = 0; i < ECHOES; i++) await a.cEcho();
  const echo = ECHOES / ((performance.now() - t0) / 1000);
  const data = new Uint8Array(STORE_BYTES).fill(0x5a);
  // CPU time of this process (both ends when dnet talks to dnet): steadier than wall time on a busy machine.
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  const rsp = await a.cStore(
    {
      commandField: CommandField.C_STORE_RQ,
      affectedSopClassUid: CT,
      affectedSopInstanceUid: `1.2.3.${Date.now()}`,
      priority: 0,
      hasDataSet: true,
    },
    data,
  );
  if (rsp.message.status !== 0) throw new Error(`store failed: ${rsp.message.status}`);
  const store = STORE_BYTES / 1e6 / ((performance.now() - t0) / 1000);
  const used = process.cpuUsage(cpu0);
  const cpu = STORE_BYTES / 1e6 / ((used.user + used.system) / 1e6);
  return { echo, store, cpu };
}

async function dnetToDnet(): Promise<Result[]> {
  const transport = tcp();
  const listener = await transport.listen({ host: '127.0.0.1', port: 0 }, (connection) => {
    Association.accept(connection, {
      policy: {
        contexts: [{ abstractSyntax: '*', transferSyntaxes: ['*'] }],
        maxPduLength: 262_144,
      },
    }).then((a) => {
      a.handle('C-STORE', async (rq) => {
        for await (const _ of rq.dataSet!) {
          // consume
        }
        await rq.respond(respondTo(rq.message, { status: 0 }));
      });
    });
  });
  const echo: number[] = [];
  const store: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const a = await Association.request({
        transport,
        host: '127.0.0.1',
        port: listener.port,
        proposal: proposal(),
      });
      const m = await measure(a);
      echo.push(m.echo);
      store.push(m.store);
      cpu.push(m.cpu);
      await a.release();
    }
  } finally {
    await listener.close();
  }
  return [
    summarize('association: C-ECHO round trips, dnet -> dnet (tcp)', 'ops/s', echo),
    summarize('association: C-STORE 32 MiB, dnet -> dnet (tcp, 256 KiB PDU)', 'MB/s', store),
    summarize('association: C-STORE, dnet -> dnet, both ends: MB per CPU second', 'MB/cpu-s', cpu),
  ];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function dnetToStorescp(): Promise<Result[]> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dnet-bench-'));
  const child = spawn('storescp', ['-od', dir, '+B', '+xa', '-pdu', '131072', String(port)], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: 'ignore',
  });
  const failed = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(true));
    setTimeout(() => resolve(false), 500);
  });
  if (failed) return [];
  const echo: number[] = [];
  const store: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const a = await Association.request({
        transport: tcp(),
        host: '127.0.0.1',
        port,
        proposal: { ...proposal(), calledAeTitle: 'STORESCP' },
      });
      const m = await measure(a);
      echo.push(m.echo);
      store.push(m.store);
      await a.release();
    }
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    summarize('association: C-ECHO round trips, dnet -> storescp', 'ops/s', echo),
    summarize('association: C-STORE 32 MiB, dnet -> storescp +B (128 KiB PDU)', 'MB/s', store),
  ];
}

/** Every association benchmark. */
export async function run(): Promise<Result[]> {
  return [...(await dnetToDnet()), ...(await dnetToStorescp())];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) {
    console.log(
      `${r.name.padEnd(64)} ${r.median.toFixed(0).padStart(8)} ${r.unit} (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)})`,
    );
  }
}
