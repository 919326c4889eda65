import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDnetError } from '@dnet/pdu';
import {
  Client,
  MemoryArchive,
  queryRetrieve,
  Server,
  storage,
  storeToFolder,
} from '@dnet/services';
import {
  ABORT,
  IMPLICIT_LE,
  RELEASE_RQ,
  rawAssociateRq,
  VERIFICATION,
} from '@dnet/testkit/raw-pdus';
import { memory, type Transport } from '@dnet/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fault, startFaultProxy } from './support/fault-proxy.js';
import { makeObject, SC_IMAGE } from './support/objects.js';
import { echoStatus, filesUnder } from './support/server-under-test.js';

/** Short timeouts on both sides, so that a stall ends quickly (PS3.8 §9.1.5 ARTIM, DIMSE, idle). */
const TIMEOUTS = { artimMs: 500, acseMs: 800, dimseMs: 800, idleMs: 800, connectMs: 2000 };
/** Every scenario settles within this, whatever the fault (a hang fails the test). */
const SCENARIO_DEADLINE_MS = 8000;

type Outcome = 'ok' | 'typed-error' | { untyped: string } | 'hung';

async function bounded(run: () => Promise<unknown>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((r) => {
    timer = setTimeout(() => r('hung'), SCENARIO_DEADLINE_MS);
  });
  const result = run().then(
    () => 'ok' as const,
    (e: unknown) =>
      isDnetError(e)
        ? ('typed-error' as const)
        : { untyped: `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}` },
  );
  const outcome = await Promise.race([result, deadline]);
  clearTimeout(timer);
  return outcome;
}

/** Faults at every PDU boundary and in the middle of every PDU, both ways, closed and reset. */
function faultPlan(boundaries: Record<'up' | 'down', number[]>): Fault[] {
  const plan: Fault[] = [];
  for (const direction of ['up', 'down'] as const) {
    const ends = boundaries[direction];
    let previous = 0;
    for (const end of ends) {
      const cuts = [previous, Math.floor((previous + end) / 2)];
      for (const afterBytes of cuts) {
        for (const action of ['close', 'reset'] as const)
          plan.push({ direction, afterBytes, action });
      }
      previous = end;
    }
    // A stall after the association is up, and a PDU invalid in Sta6 (an A-ASSOCIATE-RQ), and an A-ABORT.
    const afterAc = ends[0] ?? 0;
    plan.push({ direction, afterBytes: afterAc, action: 'stall' });
    plan.push({
      direction,
      afterBytes: afterAc,
      action: 'inject',
      bytes: rawAssociateRq({
        called: 'SCP',
        calling: 'X',
        contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
      }),
    });
    plan.push({ direction, afterBytes: afterAc, action: 'inject', bytes: ABORT });
    plan.push({ direction, afterBytes: afterAc, action: 'inject', bytes: RELEASE_RQ });
  }
  return plan;
}

function resourceCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Waits (bounded) until `check` holds. */
async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

export const faultFigures = { injected: 0 };

describe('fault injection between a Client and a Server (memory transport)', () => {
  const transport: Transport = memory();
  const root = mkdtempSync(join(tmpdir(), 'dnet-faults-'));
  const folder = join(root, 'in');
  const destFolder = join(root, 'dest');
  const archive = new MemoryArchive();
  let server: Server;
  let destination: Server;
  let before: Record<string, number>;
  const serverErrors: Error[] = [];

  beforeAll(async () => {
    before = resourceCounts();
    mkdirSync(folder);
    mkdirSync(destFolder);
    destination = await Server.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DEST',
      handlers: { store: storeToFolder(destFolder) },
      timeouts: TIMEOUTS,
    });
    const handlers = archive.handlers();
    server = await Server.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'SCP',
      handlers: { ...handlers, store: storeToFolder(folder) },
      aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
      timeouts: TIMEOUTS,
      moveAssociationOptions: { timeouts: TIMEOUTS },
    });
    server.on('error', (e) => serverErrors.push(e));
    for (let i = 0; i < 3; i++)
      await archive.add(makeObject('1.2.826.0.1.3680043.13.9', i, 20_000).instance);
  });

  afterAll(async () => {
    await server.close({ timeoutMs: 1000 });
    await destination.close({ timeoutMs: 1000 });
    rmSync(root, { recursive: true, force: true });
    // No sockets, timers or handles left behind by the faults (settling bounded).
    const settled = await eventually(() => {
      const now = resourceCounts();
      return Object.entries(now).every(([k, n]) => n <= (before[k] ?? 0));
    });
    expect(settled, JSON.stringify({ before, after: resourceCounts() })).toBe(true);
  });

  let objectCount = 0;
  const connect = (port: number, contexts: Parameters<typeof Client.connect>[0]['contexts']) =>
    Client.connect({
      transport,
      host: '127.0.0.1',
      port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts,
      maxPduLength: 16_384,
      timeouts: TIMEOUTS,
    });

  const scenarios: Record<string, (port: number) => Promise<unknown>> = {
    'C-STORE': async (port) => {
      const object = makeObject('1.2.826.0.1.3680043.13.8', objectCount++, 60_000);
      const client = await connect(port, [storage(SC_IMAGE)]);
      try {
        await client.store(object.instance);
        await client.release();
      } finally {
        client.abort();
      }
    },
    'C-FIND': async (port) => {
      const client = await connect(port, [queryRetrieve('study', { operations: ['find'] })]);
      try {
        const found = [];
        for await (const m of client.find(
          { '00080018': { vr: 'UI' } },
          { level: 'IMAGE', model: 'study' },
        ))
          found.push(m);
        if (found.length !== 3) throw new Error(`found ${found.length}`);
        await client.release();
      } finally {
        client.abort();
      }
    },
    'C-MOVE': async (port) => {
      const client = await connect(port, [queryRetrieve('study', { operations: ['move'] })]);
      try {
        await client.move(
          { '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.3680043.13.9.1'] } },
          { level: 'STUDY', destination: 'DEST' },
        );
        await client.release();
      } finally {
        client.abort();
      }
    },
  };

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`${name}: every fault ends in success or a typed error, bounded; no partial file; the server still answers`, async () => {
      const probe = await startFaultProxy({
        listen: transport,
        connect: transport,
        targetPort: server.port,
      });
      expect(await bounded(() => scenario(probe.port))).toBe('ok');
      await probe.close();
      const plan = faultPlan(probe.boundaries);
      expect(plan.length).toBeGreaterThan(20);
      const outcomes: Record<string, number> = {};
      const bad: string[] = [];
      for (const fault of plan) {
        const proxy = await startFaultProxy({
          listen: transport,
          connect: transport,
          targetPort: server.port,
          fault,
        });
        const outcome = await bounded(() => scenario(proxy.port));
        await proxy.close();
        faultFigures.injected++;
        const key = typeof outcome === 'string' ? outcome : 'untyped';
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        if (typeof outcome !== 'string' || outcome === 'hung')
          bad.push(
            `${JSON.stringify({ ...fault, bytes: fault.bytes?.length })}: ${JSON.stringify(outcome)}`,
          );
      }
      expect(bad).toEqual([]);
      expect(outcomes['typed-error']).toBeGreaterThan(0);
      // No partial files: only complete <uid>.dcm files once the server is done with the faulted associations.
      expect(
        await eventually(() =>
          [...filesUnder(folder), ...filesUnder(destFolder)].every((f) => f.endsWith('.dcm')),
        ),
      ).toBe(true);
      expect(await echoStatus(transport, server.port)).toBe(0);
      expect(serverErrors.filter((e) => !isDnetError(e)).map(String)).toEqual([]);
      console.log(`${name}: ${plan.length} faults`, outcomes);
    }, 120_000);
  }
});
