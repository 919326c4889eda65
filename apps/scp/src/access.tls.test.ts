/**
 * dnet-scp `--tls --ca --require-client-cert --allow-cert-subject`: of two
 * client certificates from the same CA only the allowed one associates; the
 * other gets an A-ASSOCIATE-RJ (1/2/1, PS3.7 Annex D.3.3.7), and a plaintext
 * client a refused handshake; each refusal is logged at warn.
 */
import { readFile } from 'node:fs/promises';
import { Client, verification } from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { tls } from '@dnet/tls';
import type { Transport } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { describe, expect, it } from 'vitest';
import { eventually } from './in-process-scp.test-support.js';
import { useTlsScp } from './tls-scp.test-support.js';

describe.skipIf(!hasCommand('openssl') && !process.env.CI)(
  'dnet-scp --allow-cert-subject (mutual TLS, PS3.15 Annex B)',
  () => {
    // A CA with a server and two client certificates.
    const server = useTlsScp('dnet-scp-tlsaccess-', {
      issue: (pki) => {
        pki.issue('modality', { usage: 'clientAuth' });
        pki.issue('intruder', { usage: 'clientAuth' });
      },
      args: ['--require-client-cert', '--allow-cert-subject', 'modality'],
    });

    const connect = (transport: Transport) =>
      Client.connect({
        transport,
        host: '127.0.0.1',
        port: server.scp.port,
        callingAeTitle: 'MOD',
        calledAeTitle: 'DNETSCP',
        contexts: [verification()],
        timeouts: { connectMs: 5000, acseMs: 5000 },
      });
    const client = async (name: string) =>
      tls({
        ca: server.pki.ca,
        cert: await readFile(server.pki.path(`${name}.pem`), 'utf8'),
        key: await readFile(server.pki.path(`${name}.key`), 'utf8'),
      });
    const warnings = () => server.scp.logs.filter((l) => l.level === 40 && l.status === 'rejected');

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
