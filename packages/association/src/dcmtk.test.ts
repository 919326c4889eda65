/**
 * Interop with DCMTK 3.6.7 over TCP on 127.0.0.1: echoscu, storescu and
 * getscu against a minimal acceptor written directly on @dnet/association,
 * and our requestor against storescp (echo, store, and storescp aborting
 * mid-transfer).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandField, respondTo } from '@dnet/dimse';
import { describePeer, runTool, startPeer } from '@dnet/testkit';
import type { Listener } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Association } from './association.js';
import { channels } from './diagnostics.js';
import { AssociationAbortedError } from './errors.js';
import type { AcceptorPolicy, Negotiation } from './negotiation.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const PIXELS = 512 * 512 * 2;

let dir: string;
let ctFile: string;
let mrFile: string;
let bigFile: string;

/** A Part 10 file made by dump2dcm, 512 KiB of pixel data. */
async function makeFile(name: string, sopClass: string, uid: string, rows = 512): Promise<string> {
  const pix = join(dir, `${name}.raw`);
  const pixels = new Uint8Array(rows * 512 * 2);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) & 0xff;
  writeFileSync(pix, pixels);
  const dump = join(dir, `${name}.dump`);
  writeFileSync(
    dump,
    [
      `(0008,0016) UI [${sopClass}]`,
      `(0008,0018) UI [${uid}]`,
      '(0008,0060) CS [CT]',
      '(0010,0010) PN [Test^Patient]',
      '(0010,0020) LO [ID1]',
      '(0020,000d) UI [1.2.826.0.1.3680043.9.7433.1]',
      '(0020,000e) UI [1.2.826.0.1.3680043.9.7433.1.1]',
      '(0028,0002) US 1',
      '(0028,0004) CS [MONOCHROME2]',
      `(0028,0010) US ${rows}`,
      '(0028,0011) US 512',
      '(0028,0100) US 16',
      '(0028,0101) US 16',
      '(0028,0102) US 15',
      '(0028,0103) US 0',
      `(7fe0,0010) OW =${pix}`,
    ].join('\n'),
  );
  const out = join(dir, `${name}.dcm`);
  const r = await runTool('dump2dcm', ['+te', dump, out], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`dump2dcm failed: ${r.stderr}`);
  return out;
}

/** The data set of a Part 10 file and its transfer syntax (PS3.10 §7.1: meta group in Explicit VR LE). */
function readPart10(file: string): {
  transferSyntax: string;
  dataSet: Uint8Array;
  sopInstanceUid: string;
} {
  const bytes = new Uint8Array(readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 132;
  let end = bytes.length;
  let transferSyntax = '';
  let sopInstanceUid = '';
  while (offset < end) {
    const group = view.getUint16(offset, true);
    if (group !== 2) break;
    const element = view.getUint16(offset + 2, true);
    const vr = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!);
    let length: number;
    let header: number;
    if (['OB', 'OW', 'UN', 'SQ', 'UT', 'UC', 'UR', 'OD', 'OF', 'OL', 'OV'].includes(vr)) {
      length = view.getUint32(offset + 8, true);
      header = 12;
    } else {
      length = view.getUint16(offset + 6, true);
      header = 8;
    }
    const value = bytes.subarray(offset + header, offset + header + length);
    const text = new TextDecoder().decode(value).replace(/[\0 ]+$/, '');
    if (element === 0x0000) end = offset + header + length + view.getUint32(offset + header, true);
    if (element === 0x0010) transferSyntax = text;
    if (element === 0x0003) sopInstanceUid = text;
    offset += header + length;
  }
  return { transferSyntax, dataSet: bytes.subarray(offset), sopInstanceUid };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dnet-association-'));
  ctFile = await makeFile('ct', CT, '1.2.826.0.1.3680043.9.7433.1.1.1');
  mrFile = await makeFile('mr', MR, '1.2.826.0.1.3680043.9.7433.1.1.2');
  // 32 MiB: more than the loopback socket buffers hold, so the transfer is cut for real.
  bigFile = await makeFile('big', CT, '1.2.826.0.1.3680043.9.7433.1.1.3', 32 * 1024);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A minimal acceptor on @dnet/association: verification and CT storage, data sets kept in memory. */
async function startAcceptor(policy: AcceptorPolicy) {
  const stored = new Map<string, Uint8Array>();
  const negotiations: Negotiation[] = [];
  const associations: Association[] = [];
  const errors: unknown[] = [];
  const listener: Listener = await tcp().listen({ host: '127.0.0.1', port: 0 }, (connection) => {
    Association.accept(connection, { policy }).then(
      (association) => {
        associations.push(association);
        negotiations.push(association.negotiation!);
        association.handle('C-STORE', async (rq) => {
          try {
            const data = await rq.dataSet!.bytes();
            stored.set(rq.message.affectedSopInstanceUid, data);
            await rq.respond(respondTo(rq.message, { status: 0x0000 }));
          } catch (error) {
            errors.push(error);
          }
        });
      },
      (error: unknown) => errors.push(error),
    );
  });
  return {
    port: listener.port,
    stored,
    negotiations,
    associations,
    errors,
    close: async () => {
      await listener.close();
      await Promise.all(associations.map((a) => a.closed));
    },
  };
}

const acceptorPolicy: AcceptorPolicy = {
  contexts: [
    { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT, EXPLICIT] },
    { abstractSyntax: CT, transferSyntaxes: [EXPLICIT, IMPLICIT] },
  ],
  calledAeTitles: ['DNET'],
  maxPduLength: 131_072,
};

describePeer(
  ['echoscu', 'storescu', 'getscu', 'dump2dcm'],
  'DCMTK requestors against our acceptor',
  () => {
    it('answers echoscu (3 C-ECHOs on one association)', async () => {
      const scp = await startAcceptor(acceptorPolicy);
      try {
        const r = await runTool(
          'echoscu',
          ['-aec', 'DNET', '--repeat', '3', '127.0.0.1', String(scp.port)],
          {
            timeoutMs: 20_000,
          },
        );
        expect(r.code, r.stderr).toBe(0);
        await Promise.all(scp.associations.map((a) => a.closed));
        expect(scp.negotiations).toHaveLength(1);
        expect(scp.negotiations[0]!.requestorImplementation.classUid).toMatch(
          /^1\.2\.276\.0\.7230010/,
        );
      } finally {
        await scp.close();
      }
    });

    it('rejects a wrong called AE title with called-AE-title-not-recognized', async () => {
      const scp = await startAcceptor(acceptorPolicy);
      try {
        const r = await runTool('echoscu', ['-aec', 'NOBODY', '127.0.0.1', String(scp.port)], {
          timeoutMs: 20_000,
        });
        expect(r.code).not.toBe(0);
        expect(`${r.stdout}${r.stderr}`).toMatch(/Called AE Title Not Recognized/i);
      } finally {
        await scp.close();
      }
    });

    it('receives a 512 KiB image from storescu, bit for bit', async () => {
      const scp = await startAcceptor(acceptorPolicy);
      try {
        const r = await runTool(
          'storescu',
          ['-aec', 'DNET', '-pdu', '16384', '127.0.0.1', String(scp.port), ctFile],
          {
            timeoutMs: 30_000,
          },
        );
        expect(r.code, r.stderr).toBe(0);
        const { dataSet, sopInstanceUid } = readPart10(ctFile);
        const got = scp.stored.get(sopInstanceUid);
        expect(got?.length).toBe(dataSet.length);
        expect(Buffer.compare(got!, dataSet)).toBe(0);
        expect(scp.errors).toEqual([]);
      } finally {
        await scp.close();
      }
    });

    it('rejects contexts it does not support: storescu cannot send an MR image', async () => {
      const scp = await startAcceptor(acceptorPolicy);
      try {
        const r = await runTool(
          'storescu',
          ['-aec', 'DNET', '127.0.0.1', String(scp.port), mrFile],
          {
            timeoutMs: 30_000,
          },
        );
        expect(`${r.stdout}${r.stderr}`).toMatch(
          /no presentation context|No Acceptable Presentation Contexts/i,
        );
        expect(scp.stored.size).toBe(0);
        for (const n of scp.negotiations) {
          expect(n.contexts.some((c) => c.abstractSyntax === MR && c.accepted)).toBe(false);
          expect(n.contexts.filter((c) => c.abstractSyntax === MR).map((c) => c.result)).toContain(
            3,
          );
        }
      } finally {
        await scp.close();
      }
    });

    it('fails the data set stream with a typed error when storescu dies mid-transfer (A-P-ABORT)', async () => {
      const outcome: { error?: unknown; chunks: number; bytes: number } = { chunks: 0, bytes: 0 };
      let association: Association | undefined;
      let peer: Awaited<ReturnType<typeof startPeer>> | undefined;
      let finished!: () => void;
      const done = new Promise<void>((resolve) => {
        finished = resolve;
      });
      const listener = await tcp().listen({ host: '127.0.0.1', port: 0 }, (connection) => {
        Association.accept(connection, {
          policy: acceptorPolicy,
          dataSetHighWaterMark: 65_536,
        }).then((a) => {
          association = a;
          a.handle('C-STORE', async (rq) => {
            try {
              for await (const chunk of rq.dataSet!) {
                outcome.chunks++;
                outcome.bytes += chunk.length;
                if (outcome.chunks === 1) {
                  // Not reading meanwhile: backpressure holds storescu in write(), where it dies.
                  peer?.process.kill('SIGKILL');
                  await peer?.exited;
                }
              }
            } catch (error) {
              outcome.error = error;
            }
            finished();
          });
        });
      });
      try {
        peer = await startPeer({
          command: 'storescu',
          args: () => [
            '-aec',
            'DNET',
            '-pdu',
            '16384',
            '127.0.0.1',
            String(listener.port),
            bigFile,
          ],
          waitForListen: false,
        });
        await done;
        await association?.closed;
      } finally {
        await peer?.stop();
        await listener.close();
      }
      expect(outcome.bytes).toBeLessThan(32 * 1024 * 1024);
      expect(outcome.error).toMatchObject({
        code: expect.stringMatching(/DNET_ASSOCIATION_CONNECTION_LOST|DNET_ASSOCIATION_ABORTED/),
      });
      expect(association?.state).toBe('Sta1');
    });

    it('refuses the SCP role getscu proposes for storage', async () => {
      const scp = await startAcceptor({
        ...acceptorPolicy,
        contexts: [
          ...acceptorPolicy.contexts,
          { abstractSyntax: '1.2.840.10008.5.1.4.1.2.2.3', transferSyntaxes: [IMPLICIT, EXPLICIT] },
        ],
      });
      const proposedRoles: { sopClassUid: string; scpRole: boolean }[] = [];
      const onRequested = (m: unknown) => {
        const { rq } = m as { rq: { userInformation: { roleSelections: typeof proposedRoles } } };
        proposedRoles.push(...rq.userInformation.roleSelections);
      };
      channels.requested.subscribe(onRequested);
      try {
        await runTool(
          'getscu',
          [
            '-aec',
            'DNET',
            '-S',
            '-od',
            dir,
            '-k',
            'QueryRetrieveLevel=STUDY',
            '-k',
            'StudyInstanceUID=1.2.3',
            '127.0.0.1',
            String(scp.port),
          ],
          { timeoutMs: 30_000 },
        );
        await Promise.all(scp.associations.map((a) => a.closed));
        expect(scp.negotiations).toHaveLength(1);
        const ct = scp.negotiations[0]!.contexts.filter(
          (c) => c.abstractSyntax === CT && c.accepted,
        );
        expect(ct.length).toBeGreaterThan(0);
        // getscu asked to be SCP of CT storage (PS3.7 Annex D.3.3.4); our policy does not allow it.
        expect(proposedRoles).toContainEqual(
          expect.objectContaining({ sopClassUid: CT, scpRole: true }),
        );
        for (const c of ct) expect(c.requestorScp).toBe(false);
      } finally {
        channels.requested.unsubscribe(onRequested);
        await scp.close();
      }
    });
  },
);

describePeer(['storescp', 'dump2dcm'], 'our requestor against DCMTK storescp', () => {
  it('echoes and stores; storescp writes the file bit for bit', async () => {
    const out = mkdtempSync(join(dir, 'scp-'));
    await using scp = await startPeer({
      command: 'storescp',
      args: (port) => ['-od', out, '+B', '+xa', '-pdu', '65536', String(port)],
    });
    const { dataSet, transferSyntax, sopInstanceUid } = readPart10(ctFile);
    const a = await Association.request({
      transport: tcp(),
      host: '127.0.0.1',
      port: scp.port,
      proposal: {
        callingAeTitle: 'DNET',
        calledAeTitle: 'STORESCP',
        contexts: [
          { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
          { abstractSyntax: CT, transferSyntaxes: [transferSyntax] },
        ],
      },
    });
    expect(a.info.peerMaxPduLength).toBe(65536);
    expect((await a.cEcho()).message.status).toBe(0);
    const rsp = await a.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: sopInstanceUid,
        priority: 0,
        hasDataSet: true,
      },
      dataSet,
    );
    expect(rsp.message.status).toBe(0);
    await a.release();
    expect(a.state).toBe('Sta1');
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    const written = readPart10(join(out, files[0]!));
    expect(Buffer.compare(written.dataSet, dataSet)).toBe(0);
    expect(statSync(join(out, files[0]!)).size).toBeGreaterThan(PIXELS);
  });

  it('settles the store with a typed error when storescp aborts mid-transfer', async () => {
    const out = mkdtempSync(join(dir, 'abort-'));
    await using scp = await startPeer({
      command: 'storescp',
      args: (port) => ['-od', out, '--abort-during', String(port)],
    });
    const { dataSet, transferSyntax, sopInstanceUid } = readPart10(ctFile);
    const a = await Association.request({
      transport: tcp(),
      host: '127.0.0.1',
      port: scp.port,
      proposal: {
        callingAeTitle: 'DNET',
        calledAeTitle: 'STORESCP',
        contexts: [{ abstractSyntax: CT, transferSyntaxes: [transferSyntax] }],
      },
    });
    const aborted: unknown[] = [];
    a.on('aborted', (e) => aborted.push(e));
    const error = await a
      .cStore(
        {
          commandField: CommandField.C_STORE_RQ,
          affectedSopClassUid: CT,
          affectedSopInstanceUid: sopInstanceUid,
          priority: 0,
          hasDataSet: true,
        },
        dataSet,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code: string }).code).toMatch(
      /DNET_ASSOCIATION_ABORTED|DNET_ASSOCIATION_CONNECTION_LOST/,
    );
    await a.closed;
    expect(a.state).toBe('Sta1');
    expect(aborted).toHaveLength(1);
    expect(a.outstanding).toEqual({ invoked: 0, performing: 0 });
    if (error instanceof AssociationAbortedError) expect(error.local).toBe(false);
  });
});
