/**
 * `--relational` on find and get: the built `dnet-scu` proposes relational
 * queries / retrievals (SOP Class Extended Negotiation, PS3.4 §C.5.1.1,
 * §C.5.3.1) and warns when the SCP turns relational queries down.
 */
import { Server } from '@dnet/services';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scu, tempDir, useBuiltCli } from './scu-cli.test-support.js';

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
const servers: Server[] = [];
/** What the find and get handlers of each server saw agreed. */
const seen: { server: string; op: string; relational: boolean }[] = [];

async function listen(name: string, supported: boolean): Promise<Server> {
  const server = await Server.listen({
    transport: tcp(),
    host: '127.0.0.1',
    port: 0,
    aeTitle: 'DNET',
    handlers: {
      find: (request) => {
        seen.push({
          server: name,
          op: 'find',
          relational: request.extendedNegotiation.relationalQueries,
        });
        return [];
      },
      get: (request) => {
        seen.push({
          server: name,
          op: 'get',
          relational: request.extendedNegotiation.relationalRetrieval,
        });
        return [];
      },
    },
    ...(supported && {
      extendedNegotiation: {
        query: { relationalQueries: true },
        retrieve: { relationalRetrieval: true },
      },
    }),
  });
  servers.push(server);
  return server;
}

let relational: Server;
let baseline: Server;
const at = (server: Server) => ['127.0.0.1', String(server.port), '--aec', 'DNET'];
const image = ['--level', 'IMAGE', '-k', 'SOPInstanceUID=1.2.3.4'];

beforeAll(async () => {
  dir = await tempDir();
  cli = await useBuiltCli();
  relational = await listen('relational', true);
  baseline = await listen('baseline', false);
});

afterAll(async () => {
  for (const s of servers) await s.close({ timeoutMs: 1000 });
  await dir?.[Symbol.asyncDispose]();
  await cli?.[Symbol.asyncDispose]();
});

it('find --relational proposes relational queries; without the flag, none', async () => {
  seen.length = 0;
  const on = await scu(['find', ...at(relational), '--relational', ...image]);
  expect(on.code, on.stderr).toBe(0);
  expect(on.stderr).not.toMatch(/relational/);
  expect((await scu(['find', ...at(relational), ...image])).code).toBe(0);
  expect(seen).toEqual([
    { server: 'relational', op: 'find', relational: true },
    { server: 'relational', op: 'find', relational: false },
  ]);
});

it('find --relational warns when the SCP does not accept relational queries', async () => {
  const r = await scu(['find', ...at(baseline), '--relational', ...image]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/did not accept relational queries/);
});

it('get --relational proposes relational retrieval', async () => {
  seen.length = 0;
  const r = await scu(['get', ...at(relational), '--relational', '--out', dir.path, ...image]);
  expect(r.code, r.stderr).toBe(0);
  expect(seen).toEqual([{ server: 'relational', op: 'get', relational: true }]);
});

it('--relational has no meaning for the worklist model: usage error', async () => {
  const r = await scu(['find', ...at(relational), '-W', '--relational', '-k', 'PatientName']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--relational/);
});
