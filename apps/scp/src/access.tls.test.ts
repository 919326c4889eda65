/**
 * dnet-scp `--tls --ca --require-client-cert --allow-cert-subject`: of two
 * client certificates from the same CA only the allowed one associates; the
 * other gets an A-ASSOCIATE-RJ (1/2/1, PS3.7 Annex D.3.3.7), and a plaintext
 * client a refused handshake; each refusal is logged at warn.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, verification } from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { tls } from '@dnet/tls';
import type { Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type InProcessScp, startInProcess } from './test-support.js';

/** A CA (EC P-256) with a server and two client certificates. */
async function makePki(dir: string) {
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=scp-access-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  for (const [name, usage] of [
    ['server', 'serverAuth'],
    ['modality', 'clientAuth'],
    ['intruder', 'clientAuth'],
  ] as const) {
    run(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    await writeFile(
      join(dir, `${name}.ext`),
      `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\nsubjectAltName=IP:127.0.0.1\n`,
    );
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
    ]);
  }
}

describe.skipIf(!hasCommand('openssl') && !process.env.CI)(
  'dnet-scp --allow-cert-subject (mutual TLS, PS3.15 Annex B)',
  () => {
    let dir: string;
    let scp: InProcessScp;
    const pem = (f: string) => readFile(join(dir, f), 'utf8');

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-tlsaccess-'));
      await makePki(dir);
      scp = await startInProcess([
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--storage',
        join(dir, 'storage'),
        '--tls',
        '--cert',
        join(dir, 'server.pem'),
        '--key',
        join(dir, 'server.key'),
        '--ca',
        join(dir, 'ca.pem'),
        '--require-client-cert',
        '--allow-cert-subject',
        'modality',
      ]);
    });
    afterAll(async () => {
      await scp?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    const connect = (transport: Transport) =>
      Client.connect({
        transport,
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'MOD',
        calledAeTitle: 'DNETSCP',
        contexts: [verification()],
        timeouts: { connectMs: 5000, acseMs: 5000 },
      });
    const client = async (name: string) =>
      tls({
        ca: await pem('ca.pem'),
        cert: await pem(`${name}.pem`),
        key: await pem(`${name}.key`),
      });
    const warnings = () => scp.logs.filter((l) => l.level === 40 && l.status === 'rejected');

    it('the allowed certificate is served; another of the same CA is rejected 1/2/1 and logged', async () => {
      const ok = await connect(await client('modality'));
      expect(await ok.echo()).toBe(0);
      await ok.release();
      await expect(connect(await client('intruder'))).rejects.toMatchObject({
        result: 1,
        source: 2,
        reason: 1,
      });
      await eventually(() => warnings().some((l) => l.msg === 'association rejected'));
      expect(warnings().find((l) => l.msg === 'association rejected')).toMatchObject({
        peer: 'MOD',
        encrypted: true,
        certificate: { subject: 'intruder' },
        result: 1,
        source: 2,
        reason: 1,
        cause: 'peer certificate not authorized: certificate CN=intruder is not allowed',
      });
    });

    it('a plaintext client never associates; the refused handshake is logged', async () => {
      const error = await connect(tcp()).then(
        (c) => {
          c.abort();
          return 'accepted';
        },
        (e: unknown) => e,
      );
      expect(error).not.toBe('accepted');
      await eventually(() => warnings().some((l) => l.msg === 'TLS handshake refused'));
    });
  },
);
