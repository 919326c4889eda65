import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describePeer } from './peers.js';
import { issueRevokedClient, makeTestPki } from './pki.js';

describePeer(['openssl'], 'testkit PKI', () => {
  it('makes a CA and server and client certificates it signs, for 127.0.0.1, and removes them', () => {
    let dir: string;
    {
      using pki = makeTestPki({ clientCn: 'modality' });
      dir = pki.dir;
      const ca = new X509Certificate(pki.ca);
      const server = new X509Certificate(pki.serverCert);
      const client = new X509Certificate(pki.clientCert);
      expect(ca.ca).toBe(true);
      expect(server.ca).toBe(false);
      expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
      expect(client.checkIssued(ca) && client.verify(ca.publicKey)).toBe(true);
      expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(server.checkHost('localhost')).toBe('localhost');
      expect(server.subject).toContain('CN=localhost');
      expect(client.subject).toContain('CN=modality');
      expect(client.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // id-kp-clientAuth
      expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // id-kp-serverAuth
      // openssl itself accepts the chain for the purpose each certificate has.
      execFileSync(
        'openssl',
        ['verify', '-CAfile', 'ca.pem', '-purpose', 'sslserver', 'server.pem'],
        { cwd: dir, stdio: 'pipe', timeout: 30_000 },
      );
      pki.addCa('rogue-ca');
      const rogue = pki.issue('rogue', { usage: 'clientAuth', ca: 'rogue-ca', cn: 'rogue-client' });
      expect(new X509Certificate(rogue.cert).checkIssued(ca)).toBe(false);
      expect(existsSync(rogue.keyPath)).toBe(true);
      expect(pki.dcmtkArgs('rogue')).toEqual([
        '+tls',
        rogue.keyPath,
        rogue.certPath,
        '-pw',
        '+cf',
        pki.path('ca.pem'),
      ]);
      const revoked = issueRevokedClient(pki, 'revoked');
      expect(revoked.crl).toMatch(/^-----BEGIN X509 CRL-----/);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
