import { X509Certificate } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { type Connection, isDnetError, TransportErrorCode } from '@dnet/transport';
import { readAll, transportCompliance } from '@dnet/transport/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { TlsErrorCode, tls } from './index.js';
import { issueRevokedClient, makeTestPki, type TestPki } from './pki.test-support.js';

const pki: TestPki = makeTestPki();
afterAll(() => pki.remove());

const serverOptions = () => ({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey });
const clientOptions = () => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });

transportCompliance(
  'tls, mutual authentication',
  () => ({
    client: tls(clientOptions()),
    server: tls({ ...serverOptions(), clientCertificate: 'require' }),
  }),
  { encrypted: true, largeTransferBytes: Number(process.env.DNET_TLS_LARGE ?? 1024 * 1024 * 1024) },
);

/** Listens with `server`, returns the listener and the next accepted connection. */
async function serve(server: ReturnType<typeof tls>) {
  const accepted: Connection[] = [];
  const waiters: ((c: Connection) => void)[] = [];
  const listener = await server.listen({ host: '127.0.0.1', port: 0 }, (c) => {
    const w = waiters.shift();
    if (w) w(c);
    else accepted.push(c);
  });
  const next = () =>
    accepted.length > 0
      ? Promise.resolve(accepted.shift()!)
      : new Promise<Connection>((resolve) => waiters.push(resolve));
  return { listener, next };
}

/** Connects and reads to the end: the error, if the handshake or the reads failed. */
async function tryConnect(client: ReturnType<typeof tls>, port: number): Promise<unknown> {
  try {
    const conn = await client.connect({ host: '127.0.0.1', port, timeoutMs: 5_000 });
    try {
      for await (const _ of conn) {
        // nothing expected
      }
      conn.abort();
      return undefined;
    } catch (error) {
      conn.abort();
      return error;
    }
  } catch (error) {
    return error;
  }
}

describe('tls()', () => {
  it('exposes protocol, cipher and both certificates to the association', async () => {
    const server = tls({ ...serverOptions(), clientCertificate: 'require' });
    const { listener, next } = await serve(server);
    const client = await tls(clientOptions()).connect({ host: '127.0.0.1', port: listener.port });
    const accepted = await next();
    expect(client.info.protocol).toBe('TLSv1.3');
    expect(client.info.cipher).toMatch(/^TLS_AES_(256|128)_GCM_SHA(384|256)$/);
    expect(client.info.authorized).toBe(true);
    expect(client.info.peerCertificate?.subject.CN).toBe('localhost');
    expect(accepted.info.authorized).toBe(true);
    const peer = accepted.info.peerCertificate!;
    expect(peer.subject.CN).toBe('dnet-client');
    expect(peer.issuer.CN).toBe('dnet test CA');
    expect(new X509Certificate(peer.raw).fingerprint256).toBe(peer.fingerprint256);
    client.abort();
    accepted.abort();
    await listener.close();
  });

  it('refuses an unknown client certificate when mutual authentication is required', async () => {
    const refused: { code: string; message: string }[] = [];
    const server = tls({
      ...serverOptions(),
      clientCertificate: 'require',
      onHandshakeError: (e) => refused.push(e),
    });
    let accepted = 0;
    const listener = await server.listen({ port: 0 }, () => {
      accepted++;
    });
    // The server drops the connection right after the handshake: the client
    // sees an error or an end, never a served connection.
    const rogue = tls({ ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey });
    const e1 = await tryConnect(rogue, listener.port);
    if (e1 !== undefined) expect(isDnetError(e1)).toBe(true);
    // And a client without any certificate.
    const anonymous = tls({ ca: pki.ca });
    const e2 = await tryConnect(anonymous, listener.port);
    if (e2 !== undefined) expect(isDnetError(e2)).toBe(true);
    expect(accepted).toBe(0);
    expect(refused.map((e) => e.code)).toEqual([
      TlsErrorCode.CERTIFICATE_REJECTED,
      TlsErrorCode.CERTIFICATE_REJECTED,
    ]);
    // The reasons: an issuer the server does not trust, then no certificate at all.
    expect(refused[0]?.message).not.toContain('sent no certificate');
    expect(refused[1]?.message).toContain('the client sent no certificate');
    await listener.close();
  });

  it("refuses a revoked client certificate when given the CA's CRL", async () => {
    const revoked = issueRevokedClient(pki, 'revoked-client');
    const refused: { code: string; message: string }[] = [];
    const server = tls({
      ...serverOptions(),
      crl: revoked.crl,
      clientCertificate: 'require',
      onHandshakeError: (e) => refused.push(e),
    });
    const { listener, next } = await serve(server);
    const bad = await tryConnect(
      tls({ ca: pki.ca, cert: revoked.cert, key: revoked.key }),
      listener.port,
    );
    if (bad !== undefined) expect(isDnetError(bad)).toBe(true);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: TlsErrorCode.CERTIFICATE_REJECTED });
    expect(refused[0]?.message).toContain('CERT_REVOKED');
    // A client that is not on the list still gets in.
    const good = await tls(clientOptions()).connect({ host: '127.0.0.1', port: listener.port });
    const accepted = await next();
    expect(accepted.info.authorized).toBe(true);
    good.abort();
    accepted.abort();
    await listener.close();
  });

  it("'request' mode accepts an unverified client and says so", async () => {
    const server = tls({ ...serverOptions(), clientCertificate: 'request' });
    const { listener, next } = await serve(server);
    const rogue = tls({ ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey });
    const client = await rogue.connect({ host: '127.0.0.1', port: listener.port });
    const accepted = await next();
    expect(accepted.info.authorized).toBe(false);
    expect(accepted.info.authorizationError).toBeTruthy();
    expect(accepted.info.peerCertificate?.subject.CN).toBe('rogue-client');
    client.abort();
    accepted.abort();
    await listener.close();
  });

  it('refuses a server whose certificate does not chain to the CA', async () => {
    const server = tls({ ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey });
    const listener = await server.listen({ port: 0 }, (c) => c.abort());
    const error = await tls({ ca: pki.ca })
      .connect({ host: '127.0.0.1', port: listener.port })
      .catch((e) => e);
    expect(error).toMatchObject({ code: TlsErrorCode.HANDSHAKE_FAILED });
    await listener.close();
  });

  it('refuses a plaintext client, and reports it', async () => {
    const refused: { code: string }[] = [];
    const server = tls({ ...serverOptions(), onHandshakeError: (e) => refused.push(e) });
    let accepted = 0;
    const listener = await server.listen({ port: 0 }, () => {
      accepted++;
    });
    // The first bytes of an A-ASSOCIATE-RQ, as a plain DICOM client would send them.
    const plain = tcpConnect({ host: '127.0.0.1', port: listener.port });
    await new Promise<void>((resolve) => plain.once('connect', () => resolve()));
    plain.write(Uint8Array.from([0x01, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x01, 0x00, 0x00]));
    const received: Buffer[] = [];
    plain.on('data', (d: Buffer) => received.push(d));
    await new Promise<void>((resolve) => {
      plain.once('close', () => resolve());
      plain.once('error', () => {});
    });
    expect(accepted).toBe(0);
    // Whatever came back is a TLS alert record (content type 21), never DICOM.
    if (received.length > 0) expect(Buffer.concat(received)[0]).toBe(21);
    expect(refused.length).toBe(1);
    expect(refused[0]?.code).toBe(TlsErrorCode.HANDSHAKE_FAILED);
    await listener.close();
  });

  it('drops an accepted connection whose handshake never comes, after handshakeTimeoutMs', async () => {
    const refused: { code: string }[] = [];
    const server = tls({
      ...serverOptions(),
      handshakeTimeoutMs: 150,
      onHandshakeError: (e) => refused.push(e),
    });
    let accepted = 0;
    const listener = await server.listen({ port: 0 }, () => {
      accepted++;
    });
    const silent = tcpConnect({ host: '127.0.0.1', port: listener.port });
    silent.on('error', () => {});
    await new Promise<void>((resolve) => silent.once('close', () => resolve()));
    expect(accepted).toBe(0);
    expect(refused.map((e) => e.code)).toEqual([TlsErrorCode.HANDSHAKE_FAILED]);
    await listener.close();
  });

  it('times out a handshake the server never answers', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const port = (silent.address() as { port: number }).port;
    const error = await tls({ ca: pki.ca })
      .connect({ host: '127.0.0.1', port, timeoutMs: 200 })
      .catch((e) => e);
    expect(error).toMatchObject({ code: TransportErrorCode.CONNECT_TIMEOUT });
    silent.close();
    silent.unref();
  });

  it('reloads certificates for new connections without a restart', async () => {
    const server = tls(serverOptions());
    const { listener, next } = await serve(server);
    const client = tls({ ca: pki.ca });
    const first = await client.connect({ host: '127.0.0.1', port: listener.port });
    const firstServer = await next();
    const serial1 = first.info.peerCertificate!.serialNumber;
    server.setCredentials({ cert: pki.server2Cert, key: pki.server2Key });
    const second = await client.connect({ host: '127.0.0.1', port: listener.port });
    const secondServer = await next();
    const serial2 = second.info.peerCertificate!.serialNumber;
    expect(serial2).not.toBe(serial1);
    expect(second.info.peerCertificate!.raw).toEqual(
      new Uint8Array(new X509Certificate(pki.server2Cert).raw),
    );
    // The open connection still works.
    first.write(new TextEncoder().encode('ok'));
    const closing = first.close();
    expect(new TextDecoder().decode(await readAll(firstServer))).toBe('ok');
    await firstServer.close();
    await closing;
    for (const c of [second, secondServer]) c.abort();
    await listener.close();
  });

  it('serves per-name credentials by SNI', async () => {
    const server = tls({
      ...serverOptions(),
      sni: { localhost: { cert: pki.server2Cert, key: pki.server2Key } },
    });
    const { listener, next } = await serve(server);
    const byName = await tls({ ca: pki.ca }).connect({ host: 'localhost', port: listener.port });
    const a = await next();
    expect(a.info.servername).toBe('localhost');
    expect(byName.info.peerCertificate!.raw).toEqual(
      new Uint8Array(new X509Certificate(pki.server2Cert).raw),
    );
    const byIp = await tls({ ca: pki.ca }).connect({ host: '127.0.0.1', port: listener.port });
    const b = await next();
    expect(byIp.info.peerCertificate!.raw).toEqual(
      new Uint8Array(new X509Certificate(pki.serverCert).raw),
    );
    for (const c of [byName, byIp, a, b]) c.abort();
    await listener.close();
  });

  it('refuses a 1024-bit RSA server key under the Modified BCP 195 RFC 8996 profile', async () => {
    const weak = { ca: pki.ca, cert: pki.weakCert, key: pki.weakKey };
    const server = tls({ ...weak });
    const listener = await server.listen({ port: 0 }, (c) => c.abort());
    const error = await tls({ ca: pki.ca, profile: 'modified-bcp195-rfc8996' })
      .connect({ host: '127.0.0.1', port: listener.port })
      .catch((e) => e);
    expect(isDnetError(error)).toBe(true);
    await listener.close();
  });

  it('checks the server name against the certificate', async () => {
    const listener = await tls(serverOptions()).listen({ port: 0 }, (c) => c.abort());
    const error = await tls({ ca: pki.ca, servername: 'pacs.example' })
      .connect({ host: '127.0.0.1', port: listener.port })
      .catch((e) => e);
    expect(error).toMatchObject({
      code: TlsErrorCode.HANDSHAKE_FAILED,
      reason: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    await listener.close();
  });

  it('will not listen without a certificate and key', async () => {
    await expect(tls({ ca: pki.ca }).listen({ port: 0 }, () => {})).rejects.toThrow(TypeError);
  });

  it('rejects an unknown profile name', () => {
    expect(() => tls({ profile: 'ssl3' as never })).toThrow(RangeError);
  });
});
