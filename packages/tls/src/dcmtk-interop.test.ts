import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool, startPeer } from '@dnet/testkit';
import type { Connection } from '@dnet/transport';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tls } from './index.js';
import { makeTestPki, type TestPki } from './test-pki.js';

// DICOM over TLS with DCMTK at the transport level: PDUs are hand-built here
// (the PDU codec lives in @dnet/pdu, above this layer). Full associations over
// TLS are the association and services packages' tests.
const ascii = (s: string) => new TextEncoder().encode(s);

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** An item: type, reserved byte, 2-byte length, value (PS3.8 §9.3.2.1-3). */
function item(type: number, value: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(type, 0), u16(value.byteLength), value]);
}

function aeTitle(title: string): Uint8Array {
  return ascii(title.padEnd(16, ' '));
}

/** A minimal A-ASSOCIATE-RQ proposing Verification (PS3.8 §9.3.2). */
function associateRq(called: string, calling: string): Uint8Array {
  const body = concat([
    u16(1), // protocol version
    u16(0),
    aeTitle(called),
    aeTitle(calling),
    new Uint8Array(32),
    item(0x10, ascii('1.2.840.10008.3.1.1.1')), // application context (§9.3.2.1)
    item(
      0x20, // presentation context (§9.3.2.2)
      concat([
        Uint8Array.of(1, 0, 0, 0),
        item(0x30, ascii('1.2.840.10008.1.1')), // Verification SOP Class
        item(0x40, ascii('1.2.840.10008.1.2')), // Implicit VR Little Endian
      ]),
    ),
    item(
      0x50, // user information (§9.3.2.3)
      concat([
        item(0x51, u32(16_384)), // maximum length (PS3.8 Annex D.1)
        item(0x52, ascii('1.2.826.0.1.3680043.9.7433.1')), // implementation class UID
      ]),
    ),
  ]);
  return concat([Uint8Array.of(0x01, 0), u32(body.byteLength), body]);
}

/** Reads one whole PDU (6-byte header + length) from the connection's iterator. */
async function readPdu(reader: AsyncIterator<Uint8Array>, buffered: Uint8Array[]) {
  const have = () => buffered.reduce((n, b) => n + b.byteLength, 0);
  for (;;) {
    const all = concat(buffered);
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
      conn.write(Uint8Array.of(0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0)); // A-RELEASE-RQ (§9.3.6)
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
        conn.write(Uint8Array.of(0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0));
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
