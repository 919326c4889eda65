// Interop with real DCMTK peers over 127.0.0.1: a minimal SCP made of
// PduDecoder + encodePdu/encodePDataTf answers echoscu and storescu, and a
// minimal SCU does a C-ECHO against storescp. The few DIMSE command fields
// needed are coded by hand here (PS3.7 §9.3, Implicit VR Little Endian).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, freePort, runTool, startPeer } from '@dnet/testkit';
import { afterAll, expect, it } from 'vitest';
import type { AAssociateAc } from './a-associate-ac.js';
import { encodePDataTf, encodePdu } from './encode-pdu.js';
import type { Pdu } from './pdu.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';

const IMPLEMENTATION_CLASS_UID = '2.25.40618937362846137245315467221432';
const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

const ascii = (s: string) => new TextEncoder().encode(s);

/** One Implicit VR LE element: tag, 4-byte length, value padded to even length with NUL (UIDs) or space. */
function element(group: number, elem: number, value: Uint8Array, pad = 0): Uint8Array {
  const length = value.length + (value.length % 2);
  const out = new Uint8Array(8 + length).fill(pad, 8);
  const view = new DataView(out.buffer);
  view.setUint16(0, group, true);
  view.setUint16(2, elem, true);
  view.setUint32(4, length, true);
  out.set(value, 8);
  return out;
}

const us = (n: number) => new Uint8Array([n & 0xff, n >> 8]);

/** A command set with its group length (PS3.7 §6.3.1, §E.1). */
function commandSet(elements: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(elements);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, body.length, true);
  return Buffer.concat([element(0, 0, groupLength), body]);
}

/** Reads the elements of an Implicit VR LE command set into tag -> value. */
function readCommand(bytes: Uint8Array): Map<number, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<number, Uint8Array>();
  for (let o = 0; o + 8 <= bytes.length; ) {
    const tag = view.getUint32(o, true);
    const length = view.getUint32(o + 4, true);
    out.set(((tag & 0xffff) << 16) | (tag >>> 16), bytes.subarray(o + 8, o + 8 + length));
    o += 8 + length;
  }
  return out;
}

const u16 = (v: Uint8Array | undefined) => (v ? v[0]! | (v[1]! << 8) : -1);
const text = (v: Uint8Array | undefined) => new TextDecoder().decode(v).replace(/[\0 ]+$/, '');

/** A minimal SCP: accepts every context with its first transfer syntax, answers C-ECHO and C-STORE. */
function scp(socket: Socket, seen: Pdu[], stored: number[]): void {
  const decoder = new PduDecoder({ maxPduLength: 4096 });
  let command: Uint8Array[] = [];
  let store: Map<number, Uint8Array> | undefined;
  let dataBytes = 0;
  const send = (contextId: number, data: Uint8Array) => {
    socket.cork();
    for (const part of encodePDataTf([{ contextId, command: true, last: true, data }]))
      socket.write(part);
    socket.uncork();
  };
  socket.on('data', (chunk: Buffer) => {
    for (const pdu of decoder.push(chunk)) {
      seen.push(pdu);
      if (pdu.type === PduType.A_ASSOCIATE_RQ) {
        const ac: AAssociateAc = {
          ...pdu,
          type: PduType.A_ASSOCIATE_AC,
          presentationContexts: pdu.presentationContexts.map((pc) => ({
            id: pc.id,
            result: 0,
            transferSyntax: pc.transferSyntaxes[0]!,
          })),
          userInformation: {
            maxLength: 4096,
            implementationClassUid: IMPLEMENTATION_CLASS_UID,
            implementationVersionName: 'DNET_PDU_TEST',
            roleSelections: [],
            extendedNegotiations: [],
            commonExtendedNegotiations: [],
            unknownItems: [],
          },
        };
        socket.write(encodePdu(ac));
      } else if (pdu.type === PduType.P_DATA_TF) {
        for (const pdv of pdu.pdvs) {
          if (!pdv.command) {
            dataBytes += pdv.data.length;
            if (pdv.last && store) {
              stored.push(dataBytes);
              send(
                pdv.contextId,
                commandSet([
                  element(0, 0x0002, store.get(0x00000002)!),
                  element(0, 0x0100, us(0x8001)),
                  element(0, 0x0120, store.get(0x00000110)!),
                  element(0, 0x0800, us(0x0101)),
                  element(0, 0x0900, us(0)),
                  element(0, 0x1000, store.get(0x00001000)!),
                ]),
              );
              store = undefined;
            }
            continue;
          }
          command.push(pdv.data.slice());
          if (!pdv.last) continue;
          const fields = readCommand(Buffer.concat(command));
          command = [];
          const field = u16(fields.get(0x00000100));
          if (field === 0x0030) {
            // C-ECHO-RQ -> C-ECHO-RSP (PS3.7 §9.3.5)
            send(
              pdv.contextId,
              commandSet([
                element(0, 0x0002, fields.get(0x00000002)!),
                element(0, 0x0100, us(0x8030)),
                element(0, 0x0120, fields.get(0x00000110)!),
                element(0, 0x0800, us(0x0101)),
                element(0, 0x0900, us(0)),
              ]),
            );
          } else if (field === 0x0001) {
            store = fields; // C-STORE-RQ: answer once its data set is in (PS3.7 §9.3.1)
            dataBytes = 0;
          }
        }
      } else if (pdu.type === PduType.A_RELEASE_RQ) {
        socket.end(encodePdu({ type: PduType.A_RELEASE_RP }));
      } else {
        socket.destroy();
      }
    }
  });
  socket.on('error', () => socket.destroy());
}

async function withScp<T>(
  body: (port: number, seen: Pdu[], stored: number[]) => Promise<T>,
): Promise<T> {
  const seen: Pdu[] = [];
  const stored: number[] = [];
  const server = createServer((socket) => scp(socket, seen, stored));
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  try {
    return await body(port, seen, stored);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

const work = mkdtempSync(join(tmpdir(), 'dnet-pdu-dcmtk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A Part 10 file (PS3.10 §7.1) with a 100 000-byte private OB value, written by hand. */
function part10File(): string {
  const explicit = (group: number, elem: number, vr: string, value: Uint8Array, long = false) => {
    const length = value.length + (value.length % 2);
    const header = long ? 12 : 8;
    const out = new Uint8Array(header + length);
    const view = new DataView(out.buffer);
    view.setUint16(0, group, true);
    view.setUint16(2, elem, true);
    out.set(ascii(vr), 4);
    if (long) view.setUint32(8, length, true);
    else view.setUint16(6, length, true);
    out.set(value, header);
    return out;
  };
  const instance = '2.25.1234567890123456789';
  const meta = Buffer.concat([
    explicit(2, 0x0001, 'OB', new Uint8Array([0, 1]), true),
    explicit(2, 0x0002, 'UI', ascii(SECONDARY_CAPTURE)),
    explicit(2, 0x0003, 'UI', ascii(instance)),
    explicit(2, 0x0010, 'UI', ascii(EXPLICIT_LE)),
  ]);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, meta.length, true);
  const file = Buffer.concat([
    new Uint8Array(128),
    ascii('DICM'),
    explicit(2, 0x0000, 'UL', groupLength),
    meta,
    explicit(8, 0x0016, 'UI', ascii(SECONDARY_CAPTURE)),
    explicit(8, 0x0018, 'UI', ascii(instance)),
    explicit(0x10, 0x0010, 'PN', ascii('Interop^Test')),
    explicit(0x11, 0x0010, 'LO', ascii('DNET')),
    explicit(0x11, 0x1001, 'OB', new Uint8Array(100_000).fill(0x5a), true),
  ]);
  const path = join(work, 'large.dcm');
  writeFileSync(path, file);
  return path;
}

describePeer(['echoscu', 'storescu', 'storescp'], 'DCMTK interop', () => {
  it('answers echoscu: RQ decoded, our AC accepted, three C-ECHOs, release', async () => {
    await withScp(async (port, seen) => {
      const result = await runTool(
        'echoscu',
        ['-aet', 'ECHOSCU', '-aec', 'DNET', '--repeat', '3', '127.0.0.1', String(port)],
        { timeoutMs: 20_000 },
      );
      expect(result.code, result.stderr).toBe(0);
      expect(seen.map((p) => p.type)).toEqual([1, 4, 4, 4, 5]);
      expect(seen[0]).toMatchObject({ calledAeTitle: 'DNET', callingAeTitle: 'ECHOSCU' });
    });
  });

  it('receives a 100 kB object from storescu in PDUs of our 4096-byte maximum length', async () => {
    await withScp(async (port, seen, stored) => {
      const file = part10File();
      const result = await runTool('storescu', ['-aec', 'DNET', '127.0.0.1', String(port), file], {
        timeoutMs: 20_000,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toBeGreaterThan(100_000);
      const pdata = seen.filter((p) => p.type === PduType.P_DATA_TF);
      expect(pdata.length).toBeGreaterThan(25);
    });
  });

  it('echoes against storescp with our A-ASSOCIATE-RQ, gathered P-DATA-TF and release', async () => {
    await using peer = await startPeer({
      command: 'storescp',
      args: (port) => ['-aet', 'STORESCP', '-od', work, String(port)],
    });
    const socket = createConnection({ host: '127.0.0.1', port: peer.port, noDelay: true });
    const decoder = new PduDecoder();
    const received: Pdu[] = [];
    const waiters: Array<() => void> = [];
    socket.on('data', (chunk: Buffer) => {
      received.push(...decoder.push(chunk));
      for (const w of waiters.splice(0)) w();
    });
    const next = async (): Promise<Pdu> => {
      const deadline = Date.now() + 10_000;
      while (received.length === 0) {
        if (Date.now() > deadline) throw new Error('no PDU from storescp');
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 500);
        });
      }
      return received.shift()!;
    };
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      socket.write(
        encodePdu({
          type: PduType.A_ASSOCIATE_RQ,
          protocolVersion: 1,
          calledAeTitle: 'STORESCP',
          callingAeTitle: 'DNETSCU',
          applicationContextName: '1.2.840.10008.3.1.1.1',
          presentationContexts: [
            { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] },
          ],
          userInformation: {
            maxLength: 16384,
            implementationClassUid: IMPLEMENTATION_CLASS_UID,
            implementationVersionName: 'DNET_PDU_TEST',
            roleSelections: [],
            extendedNegotiations: [],
            commonExtendedNegotiations: [],
            unknownItems: [],
          },
        }),
      );
      const ac = await next();
      expect(ac).toMatchObject({
        type: PduType.A_ASSOCIATE_AC,
        presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT_LE }],
      });
      const echo = commandSet([
        element(0, 0x0002, ascii(VERIFICATION)),
        element(0, 0x0100, us(0x0030)),
        element(0, 0x0110, us(7)),
        element(0, 0x0800, us(0x0101)),
      ]);
      socket.cork();
      for (const part of encodePDataTf([{ contextId: 1, command: true, last: true, data: echo }]))
        socket.write(part);
      socket.uncork();
      const rsp = await next();
      if (rsp.type !== PduType.P_DATA_TF) throw new Error(`expected P-DATA-TF, got ${rsp.type}`);
      const fields = readCommand(rsp.pdvs[0]!.data);
      expect(u16(fields.get(0x00000100))).toBe(0x8030);
      expect(u16(fields.get(0x00000120))).toBe(7);
      expect(u16(fields.get(0x00000900))).toBe(0);
      expect(text(fields.get(0x00000002))).toBe(VERIFICATION);
      socket.write(encodePdu({ type: PduType.A_RELEASE_RQ }));
      expect(await next()).toEqual({ type: PduType.A_RELEASE_RP });
    } finally {
      socket.destroy();
    }
  });
});
