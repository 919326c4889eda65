import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AAssociateRq,
  encodePdu,
  PduDecoder,
  PduType,
  PresentationContextResult,
} from '@dnet/pdu';
import { describePeer, freePort, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandField } from './command-field.js';
import { type CStoreRq, respondTo } from './dimse-message.js';
import { fragmentMessage } from './fragment-message.js';
import { Reassembler } from './reassembler.js';

/** An 8-bit grayscale BMP for img2dcm. */
function grayBmp(w: number, h: number): Uint8Array {
  const off = 54 + 256 * 4;
  const b = Buffer.alloc(off + w * h);
  b.write('BM', 0);
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(off, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(8, 28);
  b.writeUInt32LE(w * h, 34);
  b.writeUInt32LE(256, 46);
  for (let i = 0; i < 256; i++) b.fill(i, 54 + i * 4, 57 + i * 4);
  for (let i = 0; i < w * h; i++) b[off + i] = (i * 7) & 0xff;
  return b;
}

interface Received {
  message: CStoreRq;
  dataSet: Buffer;
  pdvLengths: number[];
}

/**
 * A bare-bones SCP at the PDU level: accepts every context with its first
 * transfer syntax, announces `maxPduLength`, reassembles each message with a
 * Reassembler and answers C-STORE-RQs with success.
 */
function handle(socket: Socket, maxPduLength: number, received: Received[]): void {
  const decoder = new PduDecoder({ maxPduLength });
  const reassembler = new Reassembler();
  let chunks: Buffer[] = [];
  let pdvLengths: number[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const pdu of decoder.push(new Uint8Array(chunk))) {
      if (pdu.type === PduType.A_ASSOCIATE_RQ) {
        const rq = pdu as AAssociateRq;
        socket.write(
          encodePdu({
            type: PduType.A_ASSOCIATE_AC,
            protocolVersion: 1,
            calledAeTitle: rq.calledAeTitle,
            callingAeTitle: rq.callingAeTitle,
            applicationContextName: rq.applicationContextName,
            presentationContexts: rq.presentationContexts.map((c) => ({
              id: c.id,
              result: PresentationContextResult.ACCEPTANCE,
              transferSyntax: c.transferSyntaxes[0]!,
            })),
            userInformation: {
              maxLength: maxPduLength,
              implementationClassUid: '1.2.826.0.1.3680043.9.7433.99',
              roleSelections: [],
              extendedNegotiations: [],
              commonExtendedNegotiations: [],
              unknownItems: [],
            },
          }),
        );
      } else if (pdu.type === PduType.P_DATA_TF) {
        pdvLengths.push(...pdu.pdvs.filter((p) => !p.command).map((p) => p.data.length));
        for (const e of reassembler.push(pdu.pdvs)) {
          if (e.type === 'data') chunks.push(Buffer.from(e.data));
          if (e.type !== 'end' || e.message.commandField !== CommandField.C_STORE_RQ) continue;
          received.push({ message: e.message, dataSet: Buffer.concat(chunks), pdvLengths });
          chunks = [];
          pdvLengths = [];
          const rsp = respondTo(e.message, { status: 0 });
          for (const out of fragmentMessage({
            contextId: e.contextId,
            command: rsp,
            maxPduLength: 16384,
          }))
            for (const part of out) socket.write(part);
        }
      } else if (pdu.type === PduType.A_RELEASE_RQ) {
        socket.end(encodePdu({ type: PduType.A_RELEASE_RP }));
      }
    }
  });
  socket.on('error', () => {});
}

/** DCMTK's fragmentation, received at odd and small maxima, reassembled exactly. */
describePeer(['storescu', 'img2dcm'], 'the Reassembler takes what DCMTK storescu sends', () => {
  let dir: string;
  let file: string;
  let dataSet: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dimse-storescu-'));
    writeFileSync(join(dir, 'in.bmp'), grayBmp(200, 150));
    file = join(dir, 'in.dcm');
    const r = await runTool('img2dcm', ['-i', 'BMP', join(dir, 'in.bmp'), file]);
    expect(r.code).toBe(0);
    const bytes = readFileSync(file);
    // The data set follows the File Meta Information group (PS3.10 §7.1).
    dataSet = bytes.subarray(132 + 12 + bytes.readUInt32LE(140));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const max of [16384, 4097, 8191, 131072]) {
    it(`at a maximum PDU length of ${max}`, async () => {
      const received: Received[] = [];
      const server: Server = createServer((s) => handle(s, max, received));
      const port = await freePort();
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      try {
        const r = await runTool('storescu', ['-R', '127.0.0.1', String(port), file], {
          timeoutMs: 20_000,
        });
        expect(r.code, r.stderr).toBe(0);
      } finally {
        await new Promise((r) => server.close(r));
      }
      expect(received).toHaveLength(1);
      expect(received[0]!.message).toMatchObject({ commandField: CommandField.C_STORE_RQ });
      expect(received[0]!.dataSet.equals(dataSet)).toBe(true);
      // DCMTK honours the maximum we announced.
      expect(Math.max(...received[0]!.pdvLengths)).toBeLessThanOrEqual(max - 6);
    });
  }
});
