/**
 * Test support (not exported by the package): a throw-away PKI made with the
 * `openssl` command in a temporary folder, and bounded runs of `openssl
 * s_client` / `openssl s_server`.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts of one test PKI. */
export interface TestPki {
  /** Folder holding the files. */
  dir: string;
  /** Paths by name (`ca.pem`, `server.key`...). */
  path(name: string): string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second server certificate from the same CA (for reloading). */
  server2Cert: string;
  server2Key: string;
  /** A client certificate from a CA nobody trusts. */
  rogueCert: string;
  rogueKey: string;
  /** A server certificate with a 1024-bit RSA key (too small for PS3.15 Annex B.13). */
  weakCert: string;
  weakKey: string;
  /** Removes the folder. */
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

function issue(
  dir: string,
  name: string,
  cn: string,
  usage: 'serverAuth' | 'clientAuth',
  ca: string,
  bits = 2048,
): void {
  openssl(dir, [
    'req',
    '-newkey',
    `rsa:${bits}`,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}/O=dnet tests`,
  ]);
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${usage}`,
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
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

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-sha256',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** Makes a CA, server and client certificates (SAN IP:127.0.0.1, DNS:localhost), a rogue CA and client. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'dnet-tls-'));
  makeCa(dir, 'ca', 'dnet test CA');
  makeCa(dir, 'rogue-ca', 'rogue CA');
  issue(dir, 'server', 'localhost', 'serverAuth', 'ca');
  issue(dir, 'server2', 'localhost', 'serverAuth', 'ca');
  issue(dir, 'client', 'dnet-client', 'clientAuth', 'ca');
  issue(dir, 'rogue', 'rogue-client', 'clientAuth', 'rogue-ca');
  issue(dir, 'weak', 'localhost', 'serverAuth', 'ca', 1024);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    dir,
    path: (name) => join(dir, name),
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    server2Cert: read('server2.pem'),
    server2Key: read('server2.key'),
    rogueCert: read('rogue.pem'),
    rogueKey: read('rogue.key'),
    weakCert: read('weak.pem'),
    weakKey: read('weak.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Result of one `openssl s_client` run. */
export interface SClientResult {
  code: number | null;
  output: string;
  /** The protocol the handshake settled on, when it succeeded. */
  protocol?: string;
  /** The cipher (OpenSSL name) the handshake settled on, when it succeeded. */
  cipher?: string;
}

/** Runs `openssl s_client` against 127.0.0.1:port with `args`, bounded by `timeoutMs`. */
export function sClient(port: number, args: string[], timeoutMs = 10_000): Promise<SClientResult> {
  return new Promise((resolve) => {
    const child = spawn(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-brief', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    // Close stdin a moment after the handshake (not after the start: on a busy
    // machine the handshake alone can take longer): s_client then closes the
    // connection and exits. A failed handshake makes it exit by itself.
    let ending = false;
    const endSoon = () => {
      if (ending) return;
      ending = true;
      setTimeout(() => child.stdin.end(), 300);
    };
    child.stdout.on('data', () => {
      if (output.includes('CONNECTION ESTABLISHED')) endSoon();
    });
    child.stderr.on('data', () => {
      if (output.includes('CONNECTION ESTABLISHED')) endSoon();
    });
    const fallback = setTimeout(endSoon, Math.min(5_000, timeoutMs / 2));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      clearTimeout(fallback);
      const protocol = /Protocol version:\s*(\S+)/.exec(output)?.[1];
      const cipher = /Ciphersuite:\s*(\S+)/.exec(output)?.[1];
      resolve({ code, output, ...(protocol ? { protocol } : {}), ...(cipher ? { cipher } : {}) });
    });
  });
}

/** A running `openssl s_server`. */
export interface SServer {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `openssl s_server` on 127.0.0.1:port and waits until it accepts. */
export function sServer(port: number, args: string[], timeoutMs = 10_000): Promise<SServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      'openssl',
      ['s_server', '-accept', `127.0.0.1:${port}`, '-naccept', '1', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    let ready = false;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const stop = async () => {
      child.kill('SIGKILL');
      await exited;
    };
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`s_server did not start:\n${output}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (!ready && output.includes('ACCEPT')) {
        ready = true;
        clearTimeout(timer);
        resolve({ port, output: () => output, stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`s_server exited:\n${output}`));
      }
    });
  });
}

/** A started DCMTK tool (or any long-running command). */
export interface RunningTool {
  output(): string;
  stop(): Promise<void>;
}

/** True when `command` runs (`command --version` or `-v` exits). */
export function hasCommand(command: string): boolean {
  const result = spawnSync(command, ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return result.error === undefined;
}

/**
 * Starts `command args` with TCP_NODELAY=1 (PEERS.md) and waits until
 * 127.0.0.1:port accepts connections (bounded by `timeoutMs`).
 */
export async function startTool(
  command: string,
  args: string[],
  port: number,
  { cwd, timeoutMs = 15_000 }: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunningTool> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  let exited = false;
  const done = new Promise<void>((resolve) =>
    child.once('close', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (!exited) child.kill('SIGKILL');
    await done;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${command} exited before listening:\n${output}`);
    const ok = await new Promise<boolean>((resolve) => {
      const probe = netConnect({ host: '127.0.0.1', port }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not listen on ${port} within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { output: () => output, stop };
}

/** Runs `command args` to completion with TCP_NODELAY=1, bounded by `timeoutMs`. */
export function runTool(
  command: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * Issues a client certificate `name` from the test CA, revokes it, and
 * returns the CA's CRL (PEM) listing it, with `openssl ca`.
 */
export function issueRevokedClient(
  pki: TestPki,
  name: string,
): { cert: string; key: string; crl: string } {
  const dir = pki.dir;
  issue(dir, name, name, 'clientAuth', 'ca');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = dnet_test_ca',
      '[ dnet_test_ca ]',
      'database = index.txt',
      'crlnumber = crlnumber',
      'default_md = sha256',
      'default_crl_days = 2',
      'certificate = ca.pem',
      'private_key = ca.key',
      '',
    ].join('\n'),
  );
  openssl(dir, ['ca', '-config', 'ca.cnf', '-revoke', `${name}.pem`]);
  openssl(dir, ['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl']);
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return { cert: read(`${name}.pem`), key: read(`${name}.key`), crl: read('ca.crl') };
}
