import { isDnetError } from '@dnet/pdu';
import { Client, type RequestContext, Server, verification } from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { type IssuedCertificate, makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { tls } from '@dnet/tls';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe.skipIf(!hasCommand('openssl') && !process.env.CI)(
  'a TLS-only Server with mutual authentication (PS3.15 Annex B)',
  () => {
    let server: Server;
    let pki: TestPki;
    let rogue: IssuedCertificate;
    const handshakeErrors: Error[] = [];
    const seen: RequestContext[] = [];

    beforeAll(async () => {
      // A CA, a server and a client (CN modality) certificate, and a client from a rogue CA.
      pki = makeTestPki({ clientCn: 'modality' });
      pki.addCa('rogue-ca');
      rogue = pki.issue('rogue', { usage: 'clientAuth', ca: 'rogue-ca' });
      server = await Server.listen({
        transport: tls({
          cert: pki.serverCert,
          key: pki.serverKey,
          ca: pki.ca,
          clientCertificate: 'require',
          handshakeTimeoutMs: 2000,
          onHandshakeError: (e) => handshakeErrors.push(e),
        }),
        host: '127.0.0.1',
        port: 0,
        aeTitle: 'SCP',
        handlers: {
          // Authorization on the certificate today happens per request (no hook at association time yet).
          echo: (context) => {
            seen.push(context);
            const cn = context.peerCertificate?.subject.CN;
            return cn === 'modality' ? 0 : 0x0124; // 0124H refused: not authorized (PS3.7 Annex C)
          },
        },
      });
    });
    afterAll(async () => {
      await server?.close({ timeoutMs: 1000 });
      pki?.remove();
    });

    const connect = (transport: Parameters<typeof Client.connect>[0]['transport']) =>
      Client.connect({
        transport,
        host: '127.0.0.1',
        port: server.port,
        callingAeTitle: 'MOD',
        calledAeTitle: 'SCP',
        contexts: [verification()],
        timeouts: { connectMs: 3000, acseMs: 3000 },
      });

    it('a client with a certificate from our CA is served; the handler sees the encrypted peer and its certificate', async () => {
      const client = await connect(
        tls({
          ca: pki.ca,
          cert: pki.clientCert,
          key: pki.clientKey,
        }),
      );
      expect(await client.echo()).toBe(0);
      await client.release();
      expect(seen.at(-1)?.encrypted).toBe(true);
      expect(seen.at(-1)?.peerCertificate?.subject.CN).toBe('modality');
    });

    it('no client certificate, one from another CA, or plain TCP: a typed error, the handshake refused and reported', async () => {
      const before = handshakeErrors.length;
      for (const transport of [
        tls({ ca: pki.ca }),
        tls({ ca: pki.ca, cert: rogue.cert, key: rogue.key }),
        tcp(),
      ]) {
        const error = await connect(transport).then(
          (c) => {
            c.abort();
            return 'connected';
          },
          (e: unknown) => e,
        );
        expect(isDnetError(error), String(error)).toBe(true);
      }
      expect(handshakeErrors.length - before).toBeGreaterThanOrEqual(2);
      expect(handshakeErrors.every((e) => isDnetError(e))).toBe(true);
    });
  },
);
