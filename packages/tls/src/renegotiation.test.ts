import * as nodeTls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { tls } from './index.js';
import { makeTestPki, type TestPki } from './pki.test-support.js';

// A dnet TLS server refuses client-initiated renegotiation (TLS 1.2): each one
// costs the server a full handshake, which testssl.sh reports as
// "Secure Client-Initiated Renegotiation: VULNERABLE, potential DoS threat".

const pki: TestPki = makeTestPki();
afterAll(() => pki.remove());

/** A dnet TLS listener that echoes what it reads. */
async function echoServer() {
  const transport = tls({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey });
  return transport.listen({ host: '127.0.0.1', port: 0 }, (conn) => {
    void (async () => {
      for await (const chunk of conn) if (!conn.write(chunk)) await conn.drained();
      await conn.close();
    })().catch(() => {});
  });
}

describe('client-initiated renegotiation', () => {
  it('fails against a dnet TLS server (node:tls renegotiate() over TLS 1.2)', async () => {
    const listener = await echoServer();
    const socket = nodeTls.connect({
      host: '127.0.0.1',
      port: listener.port,
      ca: pki.ca,
      maxVersion: 'TLSv1.2',
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      expect(socket.getProtocol()).toBe('TLSv1.2');
      // Reading and writing drive OpenSSL through the server's answer to the new ClientHello.
      socket.on('data', () => {});
      const outcome = await new Promise<string>((resolve) => {
        socket.on('error', () => resolve('refused'));
        socket.once('close', () => resolve('refused'));
        const ok = socket.renegotiate({}, (error) => resolve(error ? 'refused' : 'renegotiated'));
        if (!ok) resolve('refused');
        socket.write('ping');
        // Neither an answer nor an end would be a hang: bound it.
        setTimeout(() => resolve('no answer'), 10_000).unref();
      });
      expect(outcome).toBe('refused');
    } finally {
      socket.destroy();
      await listener.close();
    }
  });
});

// testssl.sh's renegotiation and protocol checks run against dnet-scp --tls
// (apps/scp/src/scp.testssl.test.ts), the server a user deploys.
