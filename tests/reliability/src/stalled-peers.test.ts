import type { Association } from '@dnet/association';
import { isDnetError } from '@dnet/pdu';
import {
  Client,
  queryRetrieve,
  retrieveContexts,
  Server,
  type ServerHandlers,
  storage,
} from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { tls } from '@dnet/tls';
import type { Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fault, startFaultProxy } from './support/fault-proxy.js';
import { makeObject, SC_IMAGE } from './support/objects.js';

// Peers that accept the association and then really stop reading: the fault
// proxy no longer reads from the side that sends, so its receive buffer and
// the kernel's fill and the writer's transport stops taking bytes. Each
// scenario must end with a typed error within a bounded time (the send
// deadline of @dnet/association, or the DIMSE timer), never hang.

/** The send deadline of the side that writes; the other side's timers are far longer. */
const SEND_MS = 800;
/** Every scenario settles within this (a hang fails the test). */
const SCENARIO_DEADLINE_MS = 15_000;
/** More than the kernel's socket buffers on loopback and the association's own write budget. */
const BIG = 24 * 1024 * 1024;

/** Resolves with the error of `run`, or 'hung' after the scenario deadline. */
async function failure(run: () => Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((r) => {
    timer = setTimeout(() => r('hung'), SCENARIO_DEADLINE_MS);
  });
  const result = run().then(
    () => 'completed',
    (e: unknown) => e,
  );
  const outcome = await Promise.race([result, deadline]);
  clearTimeout(timer);
  return outcome;
}

/**
 * The error the Server's association with our client aborts with: the one
 * association listed by `server.associations` that was not there `before`.
 */
async function serverAbort(server: Server, before: ReadonlySet<Association>): Promise<unknown> {
  const end = Date.now() + SCENARIO_DEADLINE_MS;
  let served: Association | undefined;
  while (!served && Date.now() < end) {
    served = server.associations.find((a) => !before.has(a));
    if (!served) await new Promise((r) => setTimeout(r, 10));
  }
  if (!served) return 'not served';
  const association = served;
  return failure(
    () =>
      new Promise((_resolve, reject) => {
        association.once('aborted', reject);
        association.once('released', () => reject(new Error('released')));
      }),
  );
}

const big = makeObject('2.25.7301', 1, BIG);

/** Many large C-FIND matches: together far more than the socket buffers. */
function* manyMatches() {
  const blob = Buffer.alloc(64 * 1024, 7).toString('base64');
  for (let i = 0; i < BIG / (64 * 1024); i++)
    yield {
      '00100020': { vr: 'LO', Value: [`P${i}`] },
      '00420011': { vr: 'OB', InlineBinary: blob },
    };
}

const handlers: ServerHandlers = {
  echo: () => 0,
  store: () => 0,
  find: () => manyMatches(),
  get: () => [big.instance, makeObject('2.25.7301', 2, BIG).instance],
};

function scenarios(name: string, pair: () => { server: Transport; client: Transport }) {
  describe(`peers that stop reading (${name})`, () => {
    let server: Server;
    let transports: { server: Transport; client: Transport };

    beforeAll(async () => {
      transports = pair();
      server = await Server.listen({
        transport: transports.server,
        host: '127.0.0.1',
        port: 0,
        aeTitle: 'SCP',
        handlers,
        // The Server writes under a short send deadline; it never gives up first otherwise.
        timeouts: { sendMs: SEND_MS, dimseMs: 30_000, idleMs: 30_000, artimMs: 1000 },
      });
    });
    afterAll(async () => {
      await server?.close({ timeoutMs: 1000 });
    });

    /** A Client through a proxy that freezes `fault`; the Client's own timers as given. */
    async function through(
      fault: Fault,
      contexts: Parameters<typeof Client.connect>[0]['contexts'],
      timeouts: Record<string, number>,
    ) {
      const proxy = await startFaultProxy({
        listen: transports.server,
        connect: transports.client,
        targetPort: server.port,
        fault,
      });
      const client = await Client.connect({
        transport: transports.client,
        host: '127.0.0.1',
        port: proxy.port,
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts,
        timeouts: { acseMs: 5000, artimMs: 1000, ...timeouts },
      });
      return {
        client,
        proxy,
        async end() {
          client.association.abort();
          await proxy.close();
        },
      };
    }

    // Our SCU writes; the SCP stops reading once the association is up.
    const scpFrozen: Fault = { direction: 'up', afterPdus: 1, action: 'freeze' };
    // Our SCP writes; the SCU stops reading once the A-ASSOCIATE-AC is through.
    const scuFrozen: Fault = { direction: 'down', afterPdus: 1, action: 'freeze' };

    it('C-STORE from our SCU to an SCP that stopped reading: send TimeoutError, A-ABORT', async () => {
      const { client, proxy, end } = await through(scpFrozen, [storage([SC_IMAGE])], {
        sendMs: SEND_MS,
        dimseMs: 30_000,
        idleMs: 30_000,
      });
      try {
        const error = await failure(() => client.store(big.instance));
        expect(proxy.fired()).toBe(true);
        expect(isDnetError(error)).toBe(true);
        expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'send' });
        await client.association.closed;
        expect(client.association.established).toBe(false);
      } finally {
        await end();
      }
    });

    it('C-FIND from our SCU to an SCP that stopped reading: DIMSE TimeoutError', async () => {
      const { client, end } = await through(
        scpFrozen,
        [queryRetrieve('study', { operations: ['find'] })],
        { dimseMs: SEND_MS, idleMs: 30_000 },
      );
      try {
        const error = await failure(async () => {
          for await (const _ of client.find({ '00100020': { vr: 'LO' } }, { level: 'PATIENT' })) {
            // no match can come
          }
        });
        expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'dimse' });
      } finally {
        await end();
      }
    });

    it('C-GET from our SCU to an SCP that stopped reading: DIMSE TimeoutError', async () => {
      const { client, end } = await through(scpFrozen, [retrieveContexts('study', [SC_IMAGE])], {
        dimseMs: SEND_MS,
        idleMs: 30_000,
      });
      try {
        const error = await failure(() =>
          client.get(
            { '0020000D': { vr: 'UI', Value: ['2.25.7301.1'] } },
            { level: 'STUDY', sink: () => 0 },
          ),
        );
        expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'dimse' });
      } finally {
        await end();
      }
    });

    it('C-FIND responses from our SCP to an SCU that stopped reading: the Server aborts (send TimeoutError)', async () => {
      const before = new Set(server.associations);
      const { client, end } = await through(
        scuFrozen,
        [queryRetrieve('study', { operations: ['find'] })],
        { dimseMs: 30_000, idleMs: 30_000 },
      );
      try {
        const finding = (async () => {
          for await (const _ of client.find({ '00100020': { vr: 'LO' } }, { level: 'PATIENT' })) {
            // nothing comes through the frozen proxy
          }
        })().catch(() => {});
        const error = await serverAbort(server, before);
        expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'send' });
        await end();
        await finding;
      } finally {
        await end();
      }
    });

    it('C-GET sub-operations from our SCP to an SCU that stopped reading: the Server aborts (send TimeoutError)', async () => {
      const before = new Set(server.associations);
      const { client, end } = await through(scuFrozen, [retrieveContexts('study', [SC_IMAGE])], {
        dimseMs: 30_000,
        idleMs: 30_000,
      });
      try {
        const getting = client
          .get(
            { '0020000D': { vr: 'UI', Value: ['2.25.7301.1'] } },
            { level: 'STUDY', sink: () => 0 },
          )
          .catch(() => {});
        const error = await serverAbort(server, before);
        expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'send' });
        await end();
        await getting;
      } finally {
        await end();
      }
    });

    it('C-STORE to our SCP from an SCU that stopped reading and sending: the Server aborts (idle)', async () => {
      // The SCU sends the command and part of the data set, then nothing: the Server's
      // idle timer ends it (a stalled incoming message is not "busy").
      const quick = await Server.listen({
        transport: transports.server,
        host: '127.0.0.1',
        port: 0,
        aeTitle: 'SCP',
        handlers,
        timeouts: { sendMs: SEND_MS, idleMs: SEND_MS, artimMs: 1000 },
      });
      const proxy = await startFaultProxy({
        listen: transports.server,
        connect: transports.client,
        targetPort: quick.port,
        fault: { direction: 'up', afterBytes: 64 * 1024, action: 'freeze' },
      });
      const client = await Client.connect({
        transport: transports.client,
        host: '127.0.0.1',
        port: proxy.port,
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [storage([SC_IMAGE])],
        timeouts: { sendMs: 30_000, dimseMs: 30_000, idleMs: 30_000 },
      });
      try {
        const storing = client.store(big.instance).catch(() => {});
        const error = await serverAbort(quick, new Set());
        expect(error).toMatchObject({ code: 'DNET_ASSOCIATION_TIMEOUT', timer: 'idle' });
        client.association.abort();
        await storing;
      } finally {
        client.association.abort();
        await proxy.close();
        await quick.close({ timeoutMs: 1000 });
      }
    });
  });
}

scenarios('TCP', () => ({ server: tcp(), client: tcp() }));

const haveOpenssl = hasCommand('openssl');
if (!haveOpenssl && !process.env.CI) console.warn('[skip] stalled peers over TLS: no openssl');
describe.skipIf(!haveOpenssl && !process.env.CI)('over TLS', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki?.remove());
  scenarios('TLS', () => ({
    server: tls({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey }),
    client: tls({ ca: pki.ca }),
  }));
});
