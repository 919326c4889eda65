/**
 * testssl.sh's renegotiation and protocol checks against dnet-scp `--tls`
 * (PS3.15 Annex B, BCP 195): no client-initiated renegotiation (each one costs
 * the server a full handshake: testssl.sh calls it "VULNERABLE, potential DoS
 * threat"), secure renegotiation as such, and only TLS 1.2 and 1.3 offered
 * (RFC 8996).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describePeer } from '@dnet/testkit';
import { expect, it } from 'vitest';
import { useTlsScp } from './tls-scp.test-support.js';

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

describePeer(['openssl', 'testssl'], 'testssl.sh against dnet-scp --tls', () => {
  const tls = useTlsScp('dnet-scp-testssl-');

  it('finds nothing vulnerable in the renegotiation and protocol checks', async () => {
    const json = join(tls.dir, 'findings.json');
    const child = spawn(
      'testssl',
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
        `127.0.0.1:${tls.scp.port}`,
      ],
      { stdio: 'ignore' },
    );
    // Bounded: testssl gives up on its own; the kill is the last resort.
    const killer = setTimeout(() => child.kill('SIGKILL'), 170_000);
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    clearTimeout(killer);
    const findings = JSON.parse(await readFile(json, 'utf8')) as Finding[];
    const byId = new Map(findings.map((f) => [f.id, f]));
    expect(byId.get('secure_client_renego')?.finding).toMatch(/not vulnerable/i);
    expect(byId.get('secure_renego')?.severity).toBe('OK');
    for (const old of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1'])
      expect(byId.get(old)?.finding).toMatch(/not offered/);
    const bad = findings.filter(
      (f) => /VULNERABLE/.test(f.finding) || ['MEDIUM', 'HIGH', 'CRITICAL'].includes(f.severity),
    );
    expect(bad).toEqual([]);
  }, 180_000);
});
