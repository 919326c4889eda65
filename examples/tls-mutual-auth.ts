/**
 * DICOM over TLS with mutual authentication (PS3.15 Annex B.1, the BCP 195
 * profiles of @dnet/tls): both sides present a certificate signed by a CA the
 * other trusts. The PKI (a CA, a server and a client certificate) is made at
 * run time with the `openssl` command in PKI_DIR (a temporary folder by
 * default), unless PKI_DIR already holds `ca.pem`, `server.pem`/`.key` and
 * `client.pem`/`.key`.
 *
 * With a host and port, C-ECHO to that TLS peer with the client certificate;
 * without, a dnet `Server` that requires a client certificate is started
 * here and the client echoes it, each side printing the certificate the
 * other presented.
 *
 * Run (from the repository, after `pnpm build`):
 *   pnpm --filter @dnet/examples exec tsx tls-mutual-auth.ts
 *   PKI_DIR=./pki pnpm --filter @dnet/examples exec tsx tls-mutual-auth.ts 127.0.0.1 2762
 * (the second, against storescp +tls ./pki/server.key ./pki/server.pem -pw +cf ./pki/ca.pem 2762)
 * Environment: PKI_DIR, CALLED_AE (default ANY-SCP).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Server, verification } from '@dnet/services';
import { tls } from '@dnet/tls';

const [host, port] = process.argv.slice(2);
const ownPki = !process.env.PKI_DIR;
const dir = process.env.PKI_DIR ?? mkdtempSync(join(tmpdir(), 'dnet-example-pki-'));
const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });

/** A new P-256 key, unencrypted (the BCP 195 profiles take ECDSA keys of 256 bits). */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA (RFC 5280 §4.2.1.9: CA:TRUE), then a certificate for each side, signed by it. */
function makePki(): void {
  openssl(
    ...'req -x509 -keyout ca.key -out ca.pem -days 2'.split(' '),
    ...EC_KEY,
    '-subj',
    '/CN=dnet example CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  for (const [name, usage] of [
    ['server', 'serverAuth'],
    ['client', 'clientAuth'],
  ] as const) {
    openssl(
      ...`req -keyout ${name}.key -out ${name}.csr`.split(' '),
      ...EC_KEY,
      '-subj',
      `/CN=dnet example ${name}`,
    );
    // RFC 5280 §4.2.1.12: the key is for a TLS server or a TLS client; the address it serves.
    const ext = `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`;
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      ...`x509 -req -in ${name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ${name}.pem -days 2 -extfile ${name}.ext`.split(
        ' ',
      ),
    );
  }
}

if (!existsSync(join(dir, 'client.pem'))) makePki();
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
const cn = (cert: { subject: Readonly<Record<string, unknown>> } | undefined) =>
  String(cert?.subject.CN);

let server: Server | undefined;
try {
  if (!host) {
    // The server asks for a client certificate and refuses the handshake without a valid one.
    server = await Server.listen({
      transport: tls({
        ca: pem('ca.pem'),
        cert: pem('server.pem'),
        key: pem('server.key'),
        clientCertificate: 'require',
      }),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'ANY-SCP',
      handlers: {
        echo: (context) =>
          console.log(
            `server: C-ECHO from a client whose certificate is CN=${cn(context.peerCertificate)}`,
          ),
      },
    });
  }
  const client = await Client.connect({
    // The client checks the server's certificate against the CA and its address (RFC 6125).
    transport: tls({ ca: pem('ca.pem'), cert: pem('client.pem'), key: pem('client.key') }),
    host: host ?? '127.0.0.1',
    port: server?.port ?? Number(port),
    callingAeTitle: 'DNET',
    calledAeTitle: process.env.CALLED_AE ?? 'ANY-SCP',
    contexts: [verification()],
  });
  try {
    console.log(
      `client: connected over TLS to a server whose certificate is CN=${cn(client.association.info.peerCertificate)}`,
    );
    console.log(`client: C-ECHO status ${await client.echo()}`);
  } finally {
    await client.release();
  }
} finally {
  await server?.close({ timeoutMs: 5000 });
  if (ownPki) rmSync(dir, { recursive: true, force: true });
}
