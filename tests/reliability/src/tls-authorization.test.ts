import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allowCertificates,
  Client,
  type RejectedAssociation,
  Server,
  verification,
} from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { tls } from '@dnet/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A throw-away PKI (openssl, EC P-256): a CA, a server and two client certificates of that CA. */
function makePki(dir: string) {
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
    '/CN=access-ca',
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
    writeFileSync(
      join(dir, `${name}.ext`),
      `basicConstraints=CA:FALSE\nextendedKeyUsage=${usage}\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`,
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
  return (f: string) => readFileSync(join(dir, f), 'utf8');
}

describe.skipIf(!hasCommand('openssl') && !process.env.CI)(
  'mutual TLS with an authorization hook on the peer certificate (PS3.15 Annex B, PS3.7 D.3.3.7)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnet-rel-tlsauth-'));
    let read: ReturnType<typeof makePki>;
    let server: Server;
    const rejected: RejectedAssociation[] = [];

    beforeAll(async () => {
      read = makePki(dir);
      const fingerprint = new X509Certificate(read('modality.pem')).fingerprint256;
      server = await Server.listen({
        transport: tls({
          cert: read('server.pem'),
          key: read('server.key'),
          ca: read('ca.pem'),
          clientCertificate: 'require',
          handshakeTimeoutMs: 2000,
        }),
        host: '127.0.0.1',
        port: 0,
        aeTitle: 'SCP',
        handlers: { echo: () => 0 },
        tlsOnly: true,
        // Both certificates chain to our CA; only the modality's is authorized.
        authorizePeerCertificate: allowCertificates({ fingerprints: [fingerprint] }),
      });
      server.on('rejected', (r) => rejected.push(r));
    });
    afterAll(async () => {
      await server?.close({ timeoutMs: 1000 });
      rmSync(dir, { recursive: true, force: true });
    });

    const connect = (name: string) =>
      Client.connect({
        transport: tls({ ca: read('ca.pem'), cert: read(`${name}.pem`), key: read(`${name}.key`) }),
        host: '127.0.0.1',
        port: server.port,
        callingAeTitle: 'MOD',
        calledAeTitle: 'SCP',
        contexts: [verification()],
        timeouts: { connectMs: 5000, acseMs: 5000 },
      });

    it('the authorized client certificate is accepted', async () => {
      const client = await connect('modality');
      expect(await client.echo()).toBe(0);
      await client.release();
      expect(rejected).toEqual([]);
    });

    it('a valid certificate of our CA that is not authorized: A-ASSOCIATE-RJ permanent, provider ACSE, no-reason-given, reported with the certificate', async () => {
      const error = await connect('intruder').then(
        (c) => {
          c.abort();
          return 'accepted';
        },
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'DNET_ASSOCIATION_REJECTED',
        result: 1,
        source: 2,
        reason: 1,
      });
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({
        callingAeTitle: 'MOD',
        encrypted: true,
        result: 1,
        source: 2,
        reason: 1,
        cause: 'peer certificate not authorized: certificate CN=intruder is not allowed',
      });
      expect(rejected[0]?.peerCertificate?.subject.CN).toBe('intruder');
    });
  },
);
