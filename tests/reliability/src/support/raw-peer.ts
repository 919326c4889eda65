import { isDnetError, type Pdu, PduDecoder } from '@dnet/pdu';
import type { Connection, Transport } from '@dnet/transport';

/** What a raw peer saw: the PDUs received and how the connection ended. */
export interface RawExchange {
  /** PDUs the other side sent, decoded. */
  pdus: Pdu[];
  /**
   * 'closed' when the other side closed; 'ended' when it sent A-ASSOCIATE-RJ,
   * A-RELEASE-RP or A-ABORT (then we close, as a requestor does: PS3.8 AR-3,
   * AA-3); 'open' when still open at the deadline.
   */
  end: 'closed' | 'ended' | 'open';
  /** Bytes received that did not decode (a dnet error), if any. */
  decodeError?: string;
}

/**
 * A scripted peer at the byte level: connects, then for each step writes
 * bytes, or waits until a PDU of a type arrives (bounded), then reads until
 * the other side closes or `deadlineMs` passes. The connection is always
 * aborted on return.
 */
export async function rawExchange(
  transport: Transport,
  port: number,
  steps: readonly (Uint8Array | { waitFor: number } | { closeAfter: true })[],
  deadlineMs = 3000,
): Promise<RawExchange> {
  const conn: Connection = await transport.connect({ host: '127.0.0.1', port });
  const decoder = new PduDecoder({ maxPduLength: 16 << 20 });
  const out: RawExchange = { pdus: [], end: 'open' };
  const waiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  const reading = (async () => {
    try {
      for await (const chunk of conn) {
        try {
          for (const p of decoder.push(chunk)) {
            out.pdus.push(p);
            if (p.type === 0x03 || p.type === 0x06 || p.type === 0x07) out.end = 'ended';
          }
        } catch (error) {
          out.decodeError = isDnetError(error) ? (error as Error).message : String(error);
        }
        for (const w of waiters.splice(0)) w();
        if (out.end === 'ended') break;
      }
    } catch {
      // reset: closed
    }
    if (out.end === 'open') out.end = 'closed';
    for (const w of waiters.splice(0)) w();
  })();
  try {
    for (const step of steps) {
      if (step instanceof Uint8Array) {
        if (out.end !== 'open') break;
        try {
          if (!conn.write(step)) await Promise.race([conn.drained(), deadline]);
        } catch {
          break;
        }
      } else if ('waitFor' in step) {
        while (out.end === 'open' && !out.pdus.some((p) => p.type === step.waitFor)) {
          const settled = await Promise.race([
            new Promise<boolean>((r) => waiters.push(() => r(true))),
            deadline.then(() => false),
          ]);
          if (!settled) break;
        }
      } else {
        conn.abort();
      }
    }
    await Promise.race([reading, deadline]);
  } finally {
    clearTimeout(timer);
    const end = out.end;
    conn.abort();
    await reading;
    out.end = end;
  }
  return out;
}
