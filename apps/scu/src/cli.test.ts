/**
 * The built `dnet-scu` against a raw peer that never answers: every wait is
 * bounded by `--timeout` (the process ends within it plus one second of the
 * wait starting, ARTIM included), and SIGINT/SIGTERM end the association with
 * an A-ABORT, never an A-RELEASE-RQ, and exit 130.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mutePeer, scu, tempDir, useBuiltCli, writeCtFiles } from './scu-cli.test-support.js';

/** PS3.8 §9.3.1 PDU types. */
const A_RELEASE_RQ = 0x05;
const A_ABORT = 0x07;

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
let files: string[];

beforeAll(async () => {
  dir = await tempDir();
  cli = await useBuiltCli();
  files = await writeCtFiles(dir.path, 1, 1, 3);
});

afterAll(async () => {
  await dir?.[Symbol.asyncDispose]();
  await cli?.[Symbol.asyncDispose]();
});

/** Polls `test` every 20 ms, at most `ms`. */
async function until(test: () => boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; !test() && waited < ms; waited += 20)
    await new Promise((r) => setTimeout(r, 20));
}

it('echo to a peer that accepts TCP and never answers ends within --timeout + 1 s (not after ARTIM)', async () => {
  await using peer = await mutePeer();
  const r = await scu(['echo', '127.0.0.1', String(peer.port), '--timeout', '2']);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe('dnet-scu echo: timed out: acse timeout after 2000 ms');
  // The wait started when the connection opened; the process may outlive it by 1 s at most.
  expect(r.endedAt - peer.connectedAt!).toBeLessThan(3000);
});

it('echo after a DIMSE timeout ends within --timeout + 1 s, the peer getting an A-ABORT', async () => {
  await using peer = await mutePeer({ associate: true });
  const r = await scu(['echo', '127.0.0.1', String(peer.port), '--timeout', '2', '--max-pdu', '0']);
  // --max-pdu 0: no maximum length (PS3.8 Annex D.1), as proposed.
  expect(peer.associateRq?.userInformation.maxLength).toBe(0);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe('dnet-scu echo: timed out: dimse timeout after 2000 ms');
  // The DIMSE wait starts with the C-ECHO-RQ; the process may outlive it by 1 s at most.
  expect(peer.commands).toBe(1);
  expect(r.endedAt - peer.lastCommandAt!).toBeLessThan(3000);
  await until(() => peer.pduTypes.includes(A_ABORT), 2000);
  expect(peer.pduTypes).toContain(A_ABORT);
});

it.each(['SIGINT', 'SIGTERM'] as const)(
  'store: %s aborts the association (A-ABORT, no A-RELEASE-RQ), prints the summary, exits 130',
  async (signal) => {
    await using peer = await mutePeer({ associate: true });
    let child: ChildProcess | undefined;
    const run = scu(['store', '127.0.0.1', String(peer.port), ...files], {
      onSpawn: (c) => {
        child = c;
      },
    });
    // Interrupt once the first C-STORE-RQ is out.
    await until(() => peer.commands >= 1);
    child!.kill(signal);
    const r = await run;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toMatch(/^stored 0 of 3 files \(3 failed\)/);
    expect(r.stderr).toContain('interrupted after 0 of 3 files (association aborted)');
    await until(() => peer.pduTypes.includes(A_ABORT), 2000);
    expect(peer.pduTypes).toContain(A_ABORT);
    expect(peer.pduTypes).not.toContain(A_RELEASE_RQ);
  },
);

it('find: Ctrl-C sends C-CANCEL; a second Ctrl-C exits at once, before the DIMSE timer', async () => {
  await using peer = await mutePeer({ associate: true });
  let child: ChildProcess | undefined;
  const run = scu(['find', '127.0.0.1', String(peer.port), '--timeout', '60', '-k', 'PatientID'], {
    onSpawn: (c) => {
      child = c;
    },
  });
  await until(() => peer.commands >= 1); // the C-FIND-RQ
  child!.kill('SIGINT');
  // The C-CANCEL-RQ (PS3.7 §9.3.2.3), whose answer never comes.
  await until(() => peer.commands >= 2);
  expect(peer.commands).toBe(2);
  child!.kill('SIGINT');
  const r = await run;
  expect(r.code).toBe(130);
  expect(r.endedAt - peer.connectedAt!).toBeLessThan(30_000);
});

it('a peer that closes the connection before answering the A-ASSOCIATE-RQ: no association, not "connection lost"', async () => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const r = await scu(['echo', '127.0.0.1', String(port)]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^dnet-scu echo: no association: the peer closed the connection before accepting or rejecting it/,
    );
    expect(r.stderr).not.toContain('connection lost');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
