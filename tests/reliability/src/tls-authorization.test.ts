import { X509Certificate } from 'node:crypto';
import {
  allowCertificates,
  Client,
  type RejectedAssociation,
  Server,
  verification,
} from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { type IssuedCertificate, makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { tls } from '@dnet/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe.skipIf(!hasCommand('openssl') && !process.env.CI)(
  'mutual TLS with an authorization hook on the peer certificate (PS3.15 Annex B, PS3.7 D.3.3.7)',
  () => {
    let pki: TestPki;
    const clients: Record<string, IssuedCertificate> = {};
    let server: Server;
    const rejected: RejectedAssociation[] = [];

    beforeAll(async () => {
      // A CA, a server and two client certificates of that CA.
      pki = makeTestPki();
      for (const name of ['modality', 'intruder']) {
        clients[name] = pki.issue(name, { usage: 'clientAuth' });
      }
      const fingerprint = new X509Certificate(clients.modality!.cert).fingerprint256;
      server = await Server.listen({
        transport: tls({
          cert: pki.serverCert,
          key: pki.serverKey,
          ca: pki.ca,
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
      pki?.remove();
    });

    const connect = (name: string) =>
      Client.connect({
        transport: tls({ ca: pki.ca, cert: clients[name]!.cert, key: clients[name]!.key }),
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
