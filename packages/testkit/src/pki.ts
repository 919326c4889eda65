/**
 * A throw-away test PKI made with the `openssl` command in a temporary
 * folder, for DICOM over TLS (PS3.15 Annex B), and bounded runs of `openssl
 * s_client` / `openssl s_server`. No test runner is imported here.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The PEM texts and paths of one issued certificate. */
export interface IssuedCertificate {
  /** The certificate (PEM). */
  cert: string;
  /** Its private key (PEM, unencrypted). */
  key: string;
  /** Path of `<name>.pem`. */
  certPath: string;
  /** Path of `<name>.key`. */
  keyPath: string;
}

/** How {@link TestPki.issue} makes a certificate. */
export interface IssueOptions {
  /** Extended key usage (RFC 5280 §4.2.1.12). */
  usage: 'serverAuth' | 'clientAuth';
  /** Subject common name; the file name when absent. */
  cn?: string;
  /** RSA key size (default 2048; 1024 makes a key too small for PS3.15 Annex B.13). */
  bits?: number;
  /** The issuing CA's file name without `.pem` (default `ca`). */
  ca?: string;
}

/**
 * One test PKI in its own folder: a CA (`ca.pem`, `ca.key`, CN `dnet test
 * CA`), a server certificate (`server.pem`, `server.key`) and a client
 * certificate (`client.pem`, `client.key`) it signs, valid for 2 days, with
 * subjectAltName IP:127.0.0.1, IP:::1 and DNS:localhost.
 */
export interface TestPki extends Disposable {
  /** Folder holding the files. */
  dir: string;
  /** Path of a file in {@link dir} by name (`ca.pem`, `server.key`...). */
  path(name: string): string;
  /** The CA certificate (PEM). */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Makes another self-signed CA `<name>.pem` / `<name>.key` (e.g. one nobody trusts). */
  addCa(name: string, cn?: string): void;
  /** Issues `<name>.pem` / `<name>.key`, signed by `options.ca` (default the test CA). */
  issue(name: string, options: IssueOptions): IssuedCertificate;
  /**
   * The options of a DCMTK tool (storescu, storescp, echoscu...) for TLS with
   * the key and certificate `name` (e.g. `server`, `client`) and the test CA
   * trusted: `+tls <name>.key <name>.pem -pw +cf ca.pem` (`-pw`: the key has
   * no password; `+cf`: a trusted certificate file).
   */
  dcmtkArgs(name: string): string[];
  /** Removes the folder (also `using`). */
  remove(): void;
}

/** Names of the default server and client certificates. */
export interface TestPkiOptions {
  /** Subject CN of `server.pem` (default `localhost`). */
  serverCn?: string;
  /** Subject CN of `client.pem` (default `dnet-client`). */
  clientCn?: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
}

function makeCa(dir: string, name: string, cn: string): void {
  // A CA certificate: basicConstraints CA:TRUE and keyCertSign (RFC 5280 §4.2.1.9, §4.2.1.3).
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

function issue(dir: string, name: string, options: IssueOptions): IssuedCertificate {
  const ca = options.ca ?? 'ca';
  openssl(dir, [
    'req',
    '-newkey',
    `rsa:${options.bits ?? 2048}`,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${options.cn ?? name}/O=dnet tests`,
  ]);
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.usage}`,
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
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  return {
    cert: readFileSync(certPath, 'utf8'),
    key: readFileSync(keyPath, 'utf8'),
    certPath,
    keyPath,
  };
}

/**
 * Makes a {@link TestPki} in a new temporary folder with `openssl` (each
 * call bounded by 30 s). Remove it with `remove()` or `using`.
 *
 * @example
 * ```ts
 * using pki = makeTestPki();
 * const server = tls({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey });
 * ```
 */
export function makeTestPki(options: TestPkiOptions = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'dnet-pki-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    makeCa(dir, 'ca', 'dnet test CA');
    const server = issue(dir, 'server', {
      usage: 'serverAuth',
      cn: options.serverCn ?? 'localhost',
    });
    const client = issue(dir, 'client', {
      usage: 'clientAuth',
      cn: options.clientCn ?? 'dnet-client',
    });
    return {
      dir,
      path: (name) => join(dir, name),
      ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      serverCert: server.cert,
      serverKey: server.key,
      clientCert: client.cert,
      clientKey: client.key,
      addCa: (name, cn = name) => makeCa(dir, name, cn),
      issue: (name, issueOptions) => issue(dir, name, issueOptions),
      dcmtkArgs: (name) => [
        '+tls',
        join(dir, `${name}.key`),
        join(dir, `${name}.pem`),
        '-pw',
        '+cf',
        join(dir, 'ca.pem'),
      ],
      remove,
      [Symbol.dispose]: remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
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
  const issued = pki.issue(name, { usage: 'clientAuth' });
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
  return { cert: issued.cert, key: issued.key, crl: readFileSync(join(dir, 'ca.crl'), 'utf8') };
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
    // Close stdin a moment after the handshake (not after the start: on a busy
    // machine the handshake alone can take longer): s_client then closes the
    // connection and exits. A failed handshake makes it exit by itself.
    let ending = false;
    const endSoon = () => {
      if (ending) return;
      ending = true;
      setTimeout(() => child.stdin.end(), 300);
    };
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('CONNECTION ESTABLISHED')) endSoon();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
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

/** Starts `openssl s_server` on 127.0.0.1:port for one connection and waits until it accepts. */
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
