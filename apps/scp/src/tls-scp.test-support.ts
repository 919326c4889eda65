import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { afterAll, beforeAll } from 'vitest';
import { type InProcessScp, startOnLoopback } from './in-process-scp.test-support.js';

// Test support of the TLS tests (CONTRIBUTING.md, "Test support"): dnet-scp
// `--tls` on loopback with a fresh test PKI, for one describe block.

/** What {@link useTlsScp} started; read it in the tests, not at collection time. */
export interface TlsScp {
  /** The temporary folder (storage under `storage/`), removed afterwards. */
  readonly dir: string;
  /** The CA, with `server` and `client` certificates (and any `issue` made). */
  readonly pki: TestPki;
  /** The running dnet-scp. */
  readonly scp: InProcessScp;
}

/** Options of {@link useTlsScp}. */
export interface TlsScpOptions {
  /** Options after `--tls --cert --key --ca` (`--require-client-cert`...). */
  args?: readonly string[];
  /** Issues more certificates before the SCP starts. */
  issue?: (pki: TestPki) => void;
}

/**
 * Starts dnet-scp `--tls --cert server.pem --key server.key --ca ca.pem` before
 * the tests of the calling describe block and stops it, removing its folder
 * and the PKI, after them.
 */
export function useTlsScp(prefix: string, options: TlsScpOptions = {}): TlsScp {
  let dir: string | undefined;
  let pki: TestPki | undefined;
  let scp: InProcessScp | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    pki = makeTestPki();
    options.issue?.(pki);
    scp = await startOnLoopback([
      join(dir, 'storage'),
      '--tls',
      '--cert',
      pki.path('server.pem'),
      '--key',
      pki.path('server.key'),
      '--ca',
      pki.path('ca.pem'),
      ...(options.args ?? []),
    ]);
  }, 60_000);
  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    pki?.remove();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the TLS dnet-scp is not started yet');
    return value;
  };
  return {
    get dir() {
      return started(dir);
    },
    get pki() {
      return started(pki);
    },
    get scp() {
      return started(scp);
    },
  };
}
