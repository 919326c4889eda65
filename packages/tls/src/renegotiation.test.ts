import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeTls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { tls } from './index.js';
import { makeTestPki, type TestPki } from './test-pki.js';

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

// testssl.sh's renegotiation and protocol checks. Skipped only without the
// tool and outside CI (the tool is part of the CI image).
const testssl = ['testssl', 'testssl.sh'].find(
  (name) => spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0,
);
const skipTestssl = testssl === undefined && !process.env.CI;
if (skipTestssl)
  console.warn('[skip] testssl.sh checks: neither testssl nor testssl.sh is installed');

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

describe.skipIf(skipTestssl)('testssl.sh against a dnet TLS server', () => {
  it('finds nothing vulnerable in the renegotiation and protocol checks', async () => {
    if (testssl === undefined) throw new Error('testssl.sh is required in CI');
    const listener = await echoServer();
    const dir = mkdtempSync(join(tmpdir(), 'dnet-testssl-'));
    try {
      const json = join(dir, 'findings.json');
      const { spawn } = await import('node:child_process');
      const child = spawn(
        testssl,
        [
          '--renegotiation',
          '--protocols',
          '--quiet',
          '--color',
          '0',
          '--warnings',
          'off',
          '--nodns',
          'none',
          '--openssl-timeout',
          '5',
          '--jsonfile',
          json,
          `127.0.0.1:${listener.port}`,
        ],
        { stdio: 'ignore' },
      );
      // Bounded: testssl gives up on its own, the kill is the last resort.
      const killer = setTimeout(() => child.kill('SIGKILL'), 170_000);
      await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      clearTimeout(killer);
      const findings = JSON.parse(readFileSync(json, 'utf8')) as Finding[];
      const byId = new Map(findings.map((f) => [f.id, f]));
      expect(byId.get('secure_client_renego')?.finding).toMatch(/not vulnerable/i);
      expect(byId.get('secure_renego')?.severity).toBe('OK');
      // Only TLS 1.2 and 1.3 are offered (RFC 8996).
      for (const old of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1'])
        expect(byId.get(old)?.finding).toMatch(/not offered/);
      const bad = findings.filter(
        (f) => /VULNERABLE/.test(f.finding) || ['MEDIUM', 'HIGH', 'CRITICAL'].includes(f.severity),
      );
      expect(bad).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await listener.close();
    }
  }, 180_000);
});
