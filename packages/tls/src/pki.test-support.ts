/**
 * Test support (not exported by the package): the test PKI of
 * `@dnet/testkit/pki` with the extra certificates this package's tests use.
 */
import { type TestPki as BasePki, makeTestPki as makeBasePki } from '@dnet/testkit/pki';

export {
  issueRevokedClient,
  type SClientResult,
  type SServer,
  sClient,
  sServer,
} from '@dnet/testkit/pki';

/** The test PKI with a second server certificate, a rogue client and a weak server. */
export interface TestPki extends BasePki {
  /** A second server certificate from the same CA (for reloading). */
  server2Cert: string;
  server2Key: string;
  /** A client certificate (CN `rogue-client`) from a CA nobody trusts. */
  rogueCert: string;
  rogueKey: string;
  /** A server certificate with a 1024-bit RSA key (too small for PS3.15 Annex B.13). */
  weakCert: string;
  weakKey: string;
}

/** Makes the test PKI (SAN IP:127.0.0.1, DNS:localhost) with the extras of {@link TestPki}. */
export function makeTestPki(): TestPki {
  const pki = makeBasePki();
  try {
    pki.addCa('rogue-ca', 'rogue CA');
    const server2 = pki.issue('server2', { usage: 'serverAuth', cn: 'localhost' });
    const rogue = pki.issue('rogue', { usage: 'clientAuth', cn: 'rogue-client', ca: 'rogue-ca' });
    const weak = pki.issue('weak', { usage: 'serverAuth', cn: 'localhost', bits: 1024 });
    return Object.assign(pki, {
      server2Cert: server2.cert,
      server2Key: server2.key,
      rogueCert: rogue.cert,
      rogueKey: rogue.key,
      weakCert: weak.cert,
      weakKey: weak.key,
    });
  } catch (err) {
    pki.remove();
    throw err;
  }
}
