/**
 * Interop with DCMTK over TLS (PS3.15 Annex B) on 127.0.0.1: `storescu +tls`
 * against an acceptor on @dnet/association over @dnet/tls, and our requestor
 * against `storescp +tls`, with a throw-away PKI made by openssl.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandField, respondTo } from '@dnet/dimse';
import { describePeer, runTool, startPeer } from '@dnet/testkit';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { tls } from '@dnet/tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Association } from './association.js';
import { listenForAssociations } from './listen-for-associations.js';

const VERIFICATION = '1.2.840.10008.1.1';
const SC = '1.2.840.10008.5.1.4.1.1.7';
const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';

let pki: TestPki;
let dir: string;
let file: string;

/** The data set of a Part 10 file: what follows the meta group (PS3.10 §7.1). */
function dataSetOf(path: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  const metaLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(132 + 8, true);
  return bytes.subarray(132 + 12 + metaLength);
}

describePeer(['storescu', 'storescp', 'dump2dcm', 'openssl'], 'DCMTK over TLS', () => {
  beforeAll(async () => {
    pki = makeTestPki();
    dir = pki.dir;
    writeFileSync(
      join(dir, 'sc.dump'),
      [
        '(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]',
        '(0008,0018) UI [1.2.826.0.1.3680043.9.7433.2.1]',
        '(0010,0010) PN [Tls^Test]',
        `(7fe0,0010) OW ${Array.from({ length: 64 }, () => '1234').join('\\')}`,
      ].join('\n'),
    );
    file = join(dir, 'sc.dcm');
    const r = await runTool('dump2dcm', ['+te', join(dir, 'sc.dump'), file], { timeoutMs: 20_000 });
    if (r.code !== 0) throw new Error(r.stderr);
  });
  afterAll(() => pki?.remove());

  it('storescu +tls stores into our acceptor, which sees TLS and the client certificate', async () => {
    const stored: number[] = [];
    const seen: { encrypted: boolean; cn: unknown; protocol: string | undefined }[] = [];
    const scp = await listenForAssociations(
      tls({
        ca: pki.ca,
        cert: pki.serverCert,
        key: pki.serverKey,
        clientCertificate: 'require',
      }),
      {
        port: 0,
        policy: {
          contexts: [
            { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
            { abstractSyntax: SC, transferSyntaxes: [EXPLICIT, IMPLICIT] },
          ],
        },
      },
      (association) => {
        seen.push({
          encrypted: association.info.encrypted,
          cn: association.info.peerCertificate?.subject.CN,
          protocol: association.info.connection?.protocol,
        });
        association.handle('C-STORE', async (rq) => {
          stored.push((await rq.dataSet!.bytes()).length);
          await rq.respond(respondTo(rq.message, { status: 0 }));
        });
      },
    );
    try {
      const r = await runTool(
        'storescu',
        [...pki.dcmtkArgs('client'), '127.0.0.1', String(scp.port), file],
        { timeoutMs: 30_000 },
      );
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toBe(dataSetOf(file).length);
      expect(seen).toEqual([
        { encrypted: true, cn: 'dnet-client', protocol: expect.stringMatching(/^TLSv1\.[23]$/) },
      ]);
    } finally {
      await scp.close();
    }
  });

  it('our requestor echoes and stores to storescp +tls', async () => {
    const out = mkdtempSync(join(dir, 'out-'));
    await using scp = await startPeer({
      command: 'storescp',
      args: (port) => [...pki.dcmtkArgs('server'), '-od', out, '+xa', String(port)],
    });
    const dataSet = dataSetOf(file);
    const a = await Association.request({
      transport: tls({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }),
      host: '127.0.0.1',
      port: scp.port,
      proposal: {
        callingAeTitle: 'DNET',
        calledAeTitle: 'STORESCP',
        contexts: [
          { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
          { abstractSyntax: SC, transferSyntaxes: [EXPLICIT] },
        ],
      },
    });
    expect(a.info.encrypted).toBe(true);
    expect(a.info.peerCertificate?.subject.CN).toBe('localhost');
    expect((await a.cEcho()).message.status).toBe(0);
    const rsp = await a.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: SC,
        affectedSopInstanceUid: '1.2.826.0.1.3680043.9.7433.2.1',
        priority: 0,
        hasDataSet: true,
      },
      dataSet,
    );
    expect(rsp.message.status).toBe(0);
    await a.release();
    expect(readdirSync(out)).toHaveLength(1);
  });
});
