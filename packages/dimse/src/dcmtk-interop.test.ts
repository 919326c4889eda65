import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AAssociateAc,
  DICOM_APPLICATION_CONTEXT,
  encodePdu,
  type Pdu,
  PduDecoder,
  PduType,
} from '@dnet/pdu';
import { describePeer, startPeer } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandField, Priority } from './command-field.js';
import type { DimseMessage } from './dimse-message.js';
import { fragmentMessage } from './fragment-message.js';
import { Reassembler } from './reassembler.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const dataSet = new Uint8Array(
  Buffer.from(readFileSync(join(fixtures, 'img1.dataset.hex'), 'utf8').replace(/\s+/g, ''), 'hex'),
);
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';
const VERIFICATION = '1.2.840.10008.1.1';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';

/** A minimal association over a socket: enough to drive DIMSE at the PDU level. */
class Wire {
  readonly #socket: Socket;
  readonly #decoder = new PduDecoder({ maxPduLength: 16384 });
  #queue: Pdu[] = [];
  #wake: (() => void) | undefined;

  log: () => string = () => '';

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#queue.push(...this.#decoder.push(new Uint8Array(chunk)));
      this.#wake?.();
    });
    socket.on('close', () => this.#wake?.());
  }

  send(chunks: Uint8Array[]): void {
    for (const c of chunks) this.#socket.write(c);
  }

  /** The next PDU, within 10 s. */
  async next(): Promise<Pdu> {
    const deadline = Date.now() + 10_000;
    while (this.#queue.length === 0) {
      if (this.#socket.destroyed || Date.now() > deadline)
        throw new Error(`no PDU from the peer: ${this.log()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.#queue.shift()!;
  }
}

/**
 * Our fragmentation against DCMTK's storescp: odd maxima, odd and tiny chunks,
 * the command sharing a PDU with the data set, commands cut into 2-byte
 * fragments. DCMTK 3.6.7 refuses odd command fragments and crashes on several
 * data set PDVs in one PDU, which is why fragmentMessage avoids both.
 */
describePeer(['storescp'], 'DCMTK storescp takes our fragmentation', () => {
  let dir: string;
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let socket: Socket;
  let wire: Wire;
  let ac: AAssociateAc;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dimse-interop-'));
    peer = await startPeer({
      command: 'storescp',
      args: (port) => ['-od', dir, '+B', '+xa', '-pdu', '16384', String(port)],
    });
    socket = createConnection({ host: '127.0.0.1', port: peer.port });
    socket.setNoDelay(true);
    await new Promise((r) => socket.once('connect', r));
    wire = new Wire(socket);
    wire.log = () => peer.log().slice(-2000);
    wire.send([
      encodePdu({
        type: PduType.A_ASSOCIATE_RQ,
        protocolVersion: 1,
        calledAeTitle: 'STORESCP',
        callingAeTitle: 'DNET',
        applicationContextName: DICOM_APPLICATION_CONTEXT,
        presentationContexts: [
          { id: 1, abstractSyntax: SECONDARY_CAPTURE, transferSyntaxes: [EXPLICIT_LE] },
          { id: 3, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] },
        ],
        userInformation: {
          maxLength: 16384,
          implementationClassUid: '1.2.826.0.1.3680043.9.7433.99',
          roleSelections: [],
          extendedNegotiations: [],
          commonExtendedNegotiations: [],
          unknownItems: [],
        },
      }),
    ]);
    const pdu = await wire.next();
    expect(pdu.type).toBe(PduType.A_ASSOCIATE_AC);
    ac = pdu as AAssociateAc;
    expect(ac.presentationContexts.map((c) => c.result)).toEqual([0, 0]);
  });

  afterAll(async () => {
    socket?.destroy();
    await peer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends a message fragmented at `max`, returns the response reassembled. */
  async function exchange(
    contextId: number,
    message: DimseMessage,
    max: number,
    data?: Uint8Array[],
  ): Promise<DimseMessage> {
    for (const pdu of fragmentMessage({
      contextId,
      command: message,
      dataSet: data,
      maxPduLength: max,
    }))
      wire.send(pdu);
    const reassembler = new Reassembler({ isAcceptedContext: (id) => id === 1 || id === 3 });
    for (;;) {
      const pdu = await wire.next();
      if (pdu.type !== PduType.P_DATA_TF)
        throw new Error(`unexpected PDU type ${pdu.type}: ${peer.log().slice(-3000)}`);
      for (const e of reassembler.push(pdu.pdvs)) if (e.type === 'end') return e.message;
    }
  }

  it('answers a C-ECHO-RQ whose command is cut into 9-byte PDUs (2-byte fragments)', async () => {
    const rsp = await exchange(
      3,
      {
        commandField: CommandField.C_ECHO_RQ,
        messageId: 1,
        affectedSopClassUid: VERIFICATION,
        hasDataSet: false,
      },
      9,
    );
    expect(rsp).toMatchObject({
      commandField: CommandField.C_ECHO_RSP,
      messageIdBeingRespondedTo: 1,
      status: 0,
    });
  });

  // The peer's maximum, odd and small maxima, and odd chunkings of the data set:
  // command and data in one PDU, several PDVs per PDU, odd fragment lengths.
  const runs: [number, number][] = [
    [16384, dataSet.length],
    [16383, 4099],
    [16384, 8192],
    [9000, 4000],
    [4097, 65536],
    [1001, 777],
    [16384, 16],
  ];
  runs.forEach(([max, chunkSize], i) => {
    it(`stores a C-STORE fragmented at ${max} (chunks of ${chunkSize}) bit for bit`, async () => {
      expect(ac.userInformation.maxLength).toBe(16384);
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < dataSet.length; o += chunkSize)
        chunks.push(dataSet.subarray(o, o + chunkSize));
      const rsp = await exchange(
        1,
        {
          commandField: CommandField.C_STORE_RQ,
          messageId: 10 + i,
          priority: Priority.MEDIUM,
          affectedSopClassUid: SECONDARY_CAPTURE,
          affectedSopInstanceUid: '1.2.826.0.1.3680043.9.7433.1.1.1.1',
          hasDataSet: true,
        },
        max,
        chunks,
      );
      expect(rsp).toMatchObject({
        commandField: CommandField.C_STORE_RSP,
        status: 0,
        messageIdBeingRespondedTo: 10 + i,
      });
      // storescp +B writes the received data set bytes after a meta header (PS3.10 §7.1).
      const files = readdirSync(dir);
      expect(files).toHaveLength(1);
      const file = readFileSync(join(dir, files[0]!));
      rmSync(join(dir, files[0]!));
      const metaEnd = 132 + 12 + file.readUInt32LE(140);
      expect(Buffer.from(dataSet).equals(file.subarray(metaEnd))).toBe(true);
    });
  });
});
