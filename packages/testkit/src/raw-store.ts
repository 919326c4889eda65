// A requestor at the byte level that sends C-STOREs with any data set bytes, odd lengths and
// cut data sets included: what a faulty or hostile peer sends and dnet's own encoder refuses
// (its fragmenter never sends an odd fragment). Built on raw-pdus; no validation.
// Layouts: PS3.8 §9.3 (PDUs), §9.3.5 (P-DATA-TF), PS3.7 §9.3.1.1 (C-STORE-RQ), §6.3.1
// (command sets in Implicit VR Little Endian).
import { connect, type Socket } from 'node:net';
import { pdu, RELEASE_RQ, rawAssociateRq, rawCommandSet, rawPData } from './raw-pdus.js';

/** The final C-STORE-RSP: its status and Error Comment. */
export interface RawStoreResponse {
  /** Status (0000,0900). */
  status: number;
  /** Error Comment (0000,0902), if any. */
  errorComment: string | undefined;
}

/** Options of {@link rawStoreAssociation}. */
export interface RawStoreOptions {
  /** The acceptor's port on 127.0.0.1. */
  port: number;
  /** Storage SOP class proposed. */
  sopClassUid: string;
  /** The one transfer syntax proposed for it. */
  transferSyntaxUid: string;
  /** Called AE title (the acceptor's). */
  called: string;
  /** Calling AE title; default `RAWSCU`. */
  calling?: string;
  /** The longest wait for any answer, in ms; default 10 000. */
  timeoutMs?: number;
}

/** An association that stores raw data set bytes, one C-STORE at a time. */
export interface RawStoreAssociation {
  /** Sends one C-STORE-RQ with `dataSet` as it is, in one PDV, and waits for its response. */
  store(sopInstanceUid: string, dataSet: Uint8Array): Promise<RawStoreResponse>;
  /** A-RELEASE-RQ, then the connection is closed (bounded by the timeout). */
  release(): Promise<void>;
  /** Closes the connection at once. */
  abort(): void;
}

/** Reads whole PDUs off a socket: type and body. */
class PduReader {
  #buffer = new Uint8Array(0);
  readonly #waiters: (() => void)[] = [];
  #closed = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Uint8Array) => {
      const joined = new Uint8Array(this.#buffer.length + chunk.length);
      joined.set(this.#buffer);
      joined.set(chunk, this.#buffer.length);
      this.#buffer = joined;
      for (const w of this.#waiters.splice(0)) w();
    });
    const close = () => {
      this.#closed = true;
      for (const w of this.#waiters.splice(0)) w();
    };
    socket.on('close', close);
    socket.on('error', close);
  }

  async next(timeoutMs: number): Promise<{ type: number; body: Uint8Array }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buffer.length >= 6) {
        const length = new DataView(this.#buffer.buffer).getUint32(2);
        if (this.#buffer.length >= 6 + length) {
          const type = this.#buffer[0]!;
          const body = this.#buffer.slice(6, 6 + length);
          this.#buffer = this.#buffer.slice(6 + length);
          return { type, body };
        }
      }
      if (this.#closed) throw new Error('raw store: the connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`raw store: no PDU within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The elements of an Implicit VR LE command set: tag to value bytes. */
function commandElements(bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + 8 <= bytes.length; ) {
    const tag = ((dv.getUint16(off, true) << 16) | dv.getUint16(off + 2, true)) >>> 0;
    const length = dv.getUint32(off + 4, true);
    out.set(tag, bytes.subarray(off + 8, off + 8 + length));
    off += 8 + length;
  }
  return out;
}

/**
 * Opens an association proposing one storage context (ID 1) and returns a
 * requestor that sends data set bytes as they are.
 *
 * @throws when the association is not accepted within the timeout
 */
export async function rawStoreAssociation(options: RawStoreOptions): Promise<RawStoreAssociation> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const socket = connect({ host: '127.0.0.1', port: options.port });
  socket.setNoDelay(true);
  const reader = new PduReader(socket);
  socket.write(
    rawAssociateRq({
      called: options.called,
      calling: options.calling ?? 'RAWSCU',
      contexts: [
        {
          id: 1,
          abstractSyntax: options.sopClassUid,
          transferSyntaxes: [options.transferSyntaxUid],
        },
      ],
      maxLength: 0,
    }),
  );
  const answer = await reader.next(timeoutMs).catch((e: unknown) => {
    socket.destroy();
    throw e;
  });
  if (answer.type !== 0x02) {
    socket.destroy();
    // A-ASSOCIATE-RJ: result, source, reason in bytes 7-9 of the PDU (PS3.8 §9.3.4).
    const why =
      answer.type === 0x03 ? ` (result/source/reason ${[...answer.body.subarray(1, 4)]})` : '';
    throw new Error(`raw store: association not accepted, PDU type ${answer.type}${why}`);
  }
  let messageId = 0;
  return {
    async store(sopInstanceUid, dataSet) {
      messageId = (messageId + 1) & 0xffff;
      const command = rawCommandSet([
        [0x0002, options.sopClassUid], // Affected SOP Class UID
        [0x0100, 0x0001], // Command Field: C-STORE-RQ
        [0x0110, messageId], // Message ID
        [0x0700, 0x0000], // Priority: MEDIUM
        [0x0800, 0x0000], // Command Data Set Type: a data set follows
        [0x1000, sopInstanceUid], // Affected SOP Instance UID
      ]);
      socket.write(rawPData(1, true, true, command));
      socket.write(rawPData(1, false, true, dataSet));
      // The response's command set may come in several PDVs and PDUs (PS3.8 Annex E).
      const parts: Uint8Array[] = [];
      for (;;) {
        const p = await reader.next(timeoutMs);
        if (p.type !== 0x04) throw new Error(`raw store: PDU type ${p.type} instead of a response`);
        const dv = new DataView(p.body.buffer, p.body.byteOffset, p.body.byteLength);
        let last = false;
        for (let off = 0; off + 6 <= p.body.length; ) {
          const length = dv.getUint32(off);
          const header = p.body[off + 5]!;
          parts.push(p.body.subarray(off + 6, off + 4 + length));
          last = (header & 0x03) === 0x03;
          off += 4 + length;
        }
        if (last) break;
      }
      const command_ = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
      let at = 0;
      for (const x of parts) {
        command_.set(x, at);
        at += x.length;
      }
      const elements = commandElements(command_);
      const status = elements.get(0x00000900);
      const comment = elements.get(0x00000902);
      return {
        status: status ? new DataView(status.buffer, status.byteOffset).getUint16(0, true) : -1,
        errorComment: comment
          ? Buffer.from(comment)
              .toString('latin1')
              .replace(/[ \0]+$/, '')
          : undefined,
      };
    },
    async release() {
      socket.write(RELEASE_RQ);
      await reader.next(timeoutMs).catch(() => undefined);
      socket.destroy();
    },
    abort() {
      socket.write(pdu(0x07, new Uint8Array(4)));
      socket.destroy();
    },
  };
}
