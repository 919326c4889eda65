import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool, startPeer } from '@dnet/testkit';
import {
  ABORT,
  IMPLICIT_LE,
  RELEASE_RQ,
  rawAssociateRq,
  VERIFICATION,
} from '@dnet/testkit/raw-pdus';
import type { Connection } from '@dnet/transport';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tls } from './index.js';
import { makeTestPki, type TestPki } from './pki.test-support.js';

// DICOM over TLS with DCMTK at the transport level: PDUs are hand-built here
// (the PDU codec lives in @dnet/pdu, above this layer). Full associations over
// TLS are the association and services packages' tests.
const associateRq = (called: string, calling: string) =>
  rawAssociateRq({
    called,
    calling,
    contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
  });

/** Reads one whole PDU (6-byte header + length) from the connection's iterator. */
async function readPdu(reader: AsyncIterator<Uint8Array>, buffered: Uint8Array[]) {
  const have = () => buffered.reduce((n, b) => n + b.byteLength, 0);
  for (;;) {
    const all = Buffer.concat(buffered);
    if (all.byteLength >= 6) {
      const length = new DataView(all.buffer, all.byteOffset).getUint32(2);
      if (all.byteLength >= 6 + length) {
        buffered.splice(0, buffered.length, all.subarray(6 + length));
        return all.subarray(0, 6 + length);
      }
    }
    const next = await reader.next();
    if (next.done) throw new Error(`connection ended after ${have()} bytes`);
    buffered.push(next.value);
  }
}

describePeer(['storescp', 'echoscu', 'openssl'], 'DICOM over TLS with DCMTK 3.6.7', () => {
  let pki: TestPki;
  let work: string;
  beforeAll(() => {
    pki = makeTestPki();
    work = mkdtempSync(join(tmpdir(), 'dnet-tls-dcmtk-'));
  });
  afterAll(() => {
    pki?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('associates and releases with storescp +tls, with mutual authentication', async () => {
    const scp = await startPeer({
      command: 'storescp',
      args: (port) => [...pki.dcmtkArgs('server'), '-od', work, String(port)],
    });
    const port = scp.port;
    let conn: Connection | undefined;
    try {
      conn = await tls({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }).connect({
        host: '127.0.0.1',
        port,
        timeoutMs: 10_000,
      });
      expect(conn.info.encrypted).toBe(true);
      expect(conn.info.protocol).toBe('TLSv1.3');
      expect(conn.info.peerCertificate?.subject.CN).toBe('localhost');
      const reader = conn[Symbol.asyncIterator]();
      const buffered: Uint8Array[] = [];
      conn.write(associateRq('STORESCP', 'DNET'));
      const ac = await readPdu(reader, buffered);
      expect(ac[0], scp.log()).toBe(0x02); // A-ASSOCIATE-AC
      conn.write(RELEASE_RQ); // A-RELEASE-RQ (§9.3.6)
      const rp = await readPdu(reader, buffered);
      expect(rp[0]).toBe(0x06); // A-RELEASE-RP (§9.3.7)
      await conn.close();
    } finally {
      conn?.abort();
      await scp.stop();
    }
  });

  it('storescp refuses a client without a certificate', async () => {
    const scp = await startPeer({
      command: 'storescp',
      args: (port) => ['-v', ...pki.dcmtkArgs('server'), String(port)],
      cwd: work,
    });
    const port = scp.port;
    try {
      const outcome = await tls({ ca: pki.ca })
        .connect({ host: '127.0.0.1', port, timeoutMs: 10_000 })
        .then(async (conn) => {
          conn.write(associateRq('STORESCP', 'DNET'));
          try {
            for await (const chunk of conn) {
              // An A-ASSOCIATE-AC (or anything else) must not come back.
              if (chunk.byteLength > 0) return 'answered';
            }
            return 'ended';
          } catch {
            return 'failed';
          } finally {
            conn.abort();
          }
        })
        .catch(() => 'refused');
      expect(['refused', 'failed', 'ended']).toContain(outcome);
      expect(scp.log()).not.toContain('Association Received');
    } finally {
      await scp.stop();
    }
  });

  it('echoscu +tls reaches a dnet TLS listener that requires its certificate', async () => {
    let received: { bytes: Uint8Array; cn: unknown; protocol: unknown } | undefined;
    const server = tls({
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      clientCertificate: 'require',
    });
    const listener = await server.listen({ port: 0 }, (conn) => {
      void (async () => {
        const buffered: Uint8Array[] = [];
        const pdu = await readPdu(conn[Symbol.asyncIterator](), buffered);
        received = {
          bytes: pdu,
          cn: conn.info.peerCertificate?.subject.CN,
          protocol: conn.info.protocol,
        };
        // A-ABORT (§9.3.8), then close: this test stops at the transport level.
        conn.write(ABORT);
        await conn.close();
      })().catch(() => conn.abort());
    });
    try {
      const run = await runTool('echoscu', [
        ...pki.dcmtkArgs('client'),
        '-aec',
        'DNETSCP',
        '127.0.0.1',
        String(listener.port),
      ]);
      expect(received, run.stdout + run.stderr).toBeDefined();
      expect(received!.bytes[0]).toBe(0x01); // A-ASSOCIATE-RQ
      expect(new TextDecoder().decode(received!.bytes.subarray(10, 26)).trim()).toBe('DNETSCP');
      expect(received!.cn).toBe('dnet-client');
      expect(received!.protocol).toBe('TLSv1.3');
    } finally {
      await listener.close();
    }
  });
});
