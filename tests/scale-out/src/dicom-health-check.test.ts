import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage } from '@dnet/dimse';
import { decodePdu, PduType } from '@dnet/pdu';
import { hashPassword, Server, userIdentityVerifier } from '@dnet/services';
import { describePeer, freePort, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { type HaproxyServer, haproxyServers } from '@dnet/testkit/haproxy';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyTcpCheck, healthCheckRequests, toHex, VERIFICATION } from './dicom-health-check.js';

const DOC = join(import.meta.dirname, '../../../docs/scale-out.md');

describe('DICOM health check bytes', () => {
  it('decode as the PDUs and C-ECHO-RQ they claim to be', () => {
    const r = healthCheckRequests({ callingAeTitle: 'HAPROXY', calledAeTitle: 'DNETSCP' });
    const rq = decodePdu(r.associateRq);
    expect(rq).toMatchObject({
      type: PduType.A_ASSOCIATE_RQ,
      calledAeTitle: 'DNETSCP',
      callingAeTitle: 'HAPROXY',
      presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION }],
    });
    const data = decodePdu(r.echoRq);
    expect(data.type).toBe(PduType.P_DATA_TF);
    const pdv = data.type === PduType.P_DATA_TF ? data.pdvs[0] : undefined;
    expect(pdv).toMatchObject({ contextId: 1, command: true, last: true });
    expect(decodeMessage(pdv?.data as Uint8Array)).toMatchObject({
      commandField: 0x0030,
      messageId: 1,
      affectedSopClassUid: VERIFICATION,
    });
    expect(toHex(r.releaseRq)).toBe('05000000000400000000');
  });

  it('carry a username and passcode (User Identity type 2) when given, asking no response', () => {
    const plain = decodePdu(healthCheckRequests().associateRq);
    expect(plain.type === PduType.A_ASSOCIATE_RQ && plain.userInformation.userIdentity).toBe(
      undefined,
    );
    const rq = decodePdu(
      healthCheckRequests({ user: { username: 'check', passcode: 'pw' } }).associateRq,
    );
    expect(rq.type === PduType.A_ASSOCIATE_RQ && rq.userInformation.userIdentity).toEqual({
      type: 2,
      positiveResponseRequested: false,
      primaryField: new TextEncoder().encode('check'),
      secondaryField: new TextEncoder().encode('pw'),
    });
  });

  it('are the ones printed in docs/scale-out.md', () => {
    const doc = readFileSync(DOC, 'utf8');
    const block =
      /<!-- tcp-check:begin -->\s*```[a-z]*\n([\s\S]*?)```\s*<!-- tcp-check:end -->/.exec(doc);
    expect(block, 'docs/scale-out.md has the tcp-check block').not.toBeNull();
    const lines = (block?.[1] ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    expect(lines).toEqual(haproxyTcpCheck({ callingAeTitle: 'HAPROXY', calledAeTitle: 'DNETSCP' }));
  });
});

describePeer(['haproxy', 'storescp', 'echoscu'], 'HAProxy with the DICOM health check', () => {
  let dir: string;
  let dnet: Server;
  /** dnet requiring a user identity (dnet-scp `--users`): the check must carry one. */
  let dnetAuth: Server;
  let storescp: RunningPeer;
  let notDicom: NetServer;
  const sockets = new Set<Socket>();
  let haproxy: RunningPeer;
  let ports: { dnet: number; storescp: number; notDicom: number; closed: number; auth: number };
  /** TCP port 1 (tcpmux, RFC 1078): privileged, unassigned here, never handed out by the system. */
  const CLOSED_PORT = 1;
  const CHECK_USER = { username: 'haproxy-check', passcode: 'check-only-secret' };
  const socket = () => join(dir, 'admin.sock');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-haproxy-'));
    dnet = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETSCP',
      handlers: { echo: () => undefined },
    });
    dnetAuth = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETSCP',
      handlers: { echo: () => undefined },
      policy: {
        requireUserIdentity: true,
        verifyUserIdentity: userIdentityVerifier({
          users: { [CHECK_USER.username]: await hashPassword(CHECK_USER.passcode) },
        }),
      },
    });
    storescp = await startPeer({
      command: 'storescp',
      args: (port) => ['-aet', 'DNETSCP', '-od', dir, String(port)],
    });
    // Accepts TCP and answers like a web server: a bare connect check would call it UP.
    notDicom = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
      s.end('HTTP/1.0 200 OK\r\n\r\n');
    });
    await new Promise<void>((r) => notDicom.listen(0, '127.0.0.1', r));
    const address = (s: NetServer) => (s.address() as { port: number }).port;
    ports = {
      dnet: dnet.port,
      storescp: storescp.port,
      notDicom: address(notDicom),
      // A port below the ephemeral range that nothing here listens on: a free port
      // picked now could be taken meanwhile by a server another test starts.
      closed: CLOSED_PORT,
      auth: dnetAuth.port,
    };
    const config = [
      'global',
      `  stats socket ${socket()} mode 600 level admin`,
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      '  timeout check 2s',
      'listen dicom',
      '  bind 127.0.0.1:@PORT@',
      '  balance leastconn',
      ...haproxyTcpCheck().map((l) => `  ${l}`),
      '  default-server check inter 300ms fall 2 rise 1',
      `  server dnet 127.0.0.1:${ports.dnet}`,
      `  server storescp 127.0.0.1:${ports.storescp}`,
      `  server notdicom 127.0.0.1:${ports.notDicom}`,
      `  server closed 127.0.0.1:${ports.closed}`,
      // Without a user identity the check is rejected (A-ASSOCIATE-RJ): DOWN.
      `  server dnetauth 127.0.0.1:${ports.auth}`,
      // With the check's own account it passes.
      'listen dicom-auth',
      '  bind 127.0.0.1:@PORT2@',
      ...haproxyTcpCheck({ user: CHECK_USER }).map((l) => `  ${l}`),
      '  default-server check inter 300ms fall 2 rise 1',
      `  server dnetauth 127.0.0.1:${ports.auth}`,
      '',
    ].join('\n');
    const file = join(dir, 'haproxy.cfg');
    const port = await freePort();
    await writeFile(
      file,
      config.replace('@PORT@', String(port)).replace('@PORT2@', String(await freePort())),
    );
    haproxy = await startPeer({ command: 'haproxy', port, args: () => ['-db', '-f', file] });
  }, 60_000);

  afterAll(async () => {
    await haproxy?.stop();
    await storescp?.stop();
    await dnet?.close({ timeoutMs: 1000 });
    await dnetAuth?.close({ timeoutMs: 1000 });
    for (const s of sockets) s.destroy();
    await new Promise((r) => notDicom?.close(r));
    await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('marks DICOM nodes UP and a non-DICOM listener and a closed port DOWN', async () => {
    let stats: HaproxyServer[] = [];
    const deadline = Date.now() + 20_000;
    const settled = () =>
      stats.length === 5 &&
      stats.find((s) => s.name === 'dnet')?.status === 'UP' &&
      stats.find((s) => s.name === 'storescp')?.status === 'UP' &&
      stats.find((s) => s.name === 'notdicom')?.status === 'DOWN' &&
      stats.find((s) => s.name === 'closed')?.status === 'DOWN' &&
      stats.find((s) => s.name === 'dnetauth')?.status === 'DOWN';
    while (Date.now() < deadline) {
      stats = await haproxyServers(socket(), 'dicom');
      if (settled()) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stats).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'dnet', status: 'UP', check: 'L7OK' }),
        expect.objectContaining({ name: 'storescp', status: 'UP', check: 'L7OK' }),
        expect.objectContaining({ name: 'notdicom', status: 'DOWN' }),
        expect.objectContaining({ name: 'closed', status: 'DOWN' }),
        expect.objectContaining({ name: 'dnetauth', status: 'DOWN' }),
      ]),
    );
    // And DICOM goes through the balancer to the healthy nodes.
    const echo = await runTool('echoscu', ['-aec', 'DNETSCP', '127.0.0.1', String(haproxy.port)], {
      timeoutMs: 20_000,
    });
    expect(echo.code, echo.stderr).toBe(0);
  }, 40_000);

  it('a node that requires a user identity is UP with a check that carries one', async () => {
    let stats: HaproxyServer[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      stats = await haproxyServers(socket(), 'dicom-auth');
      if (stats[0]?.status === 'UP') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stats).toEqual([{ name: 'dnetauth', status: 'UP', check: 'L7OK' }]);
  }, 40_000);
});
