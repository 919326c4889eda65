import { describe, expect, it } from 'vitest';
import { encodePdu } from './encode-pdu.js';
import { PduError } from './errors.js';
import type { Pdu } from './pdu.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';

const pdata: Pdu = {
  type: PduType.P_DATA_TF,
  pdvs: [{ contextId: 1, command: false, last: true, data: new Uint8Array(100).fill(7) }],
};

describe('PduDecoder', () => {
  it('returns PDUs whole and views into the chunk when a PDU lies within it', () => {
    const bytes = encodePdu(pdata);
    const decoder = new PduDecoder();
    const [pdu] = decoder.push(bytes);
    expect(pdu).toEqual(pdata);
    expect((pdu as { pdvs: { data: Uint8Array }[] }).pdvs[0]!.data.buffer).toBe(bytes.buffer);
    expect(decoder.bytesCopied).toBe(0);
    expect(decoder.pending).toBe(0);
  });

  it('hands out plain Uint8Array views when fed Node Buffers, still without copying', () => {
    const chunk = Buffer.from(encodePdu(pdata));
    const decoder = new PduDecoder();
    const [pdu] = decoder.push(chunk);
    if (pdu?.type !== PduType.P_DATA_TF) throw new Error('expected a P-DATA-TF');
    const data = pdu.pdvs[0]!.data;
    expect(data.constructor).toBe(Uint8Array);
    expect(data.buffer).toBe(chunk.buffer);
    expect(data.byteOffset).toBe(chunk.byteOffset + 12);
  });

  it('decodes a stream split at every offset, copying straddling PDUs once', () => {
    const stream = new Uint8Array([
      ...encodePdu(pdata),
      ...encodePdu({ type: PduType.A_RELEASE_RQ }),
      ...encodePdu(pdata),
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new PduDecoder();
      const out = [...decoder.push(stream.subarray(0, cut))];
      out.push(...decoder.push(stream.subarray(cut)));
      expect(out).toEqual([pdata, { type: PduType.A_RELEASE_RQ }, pdata]);
      expect(decoder.pending).toBe(0);
    }
  });

  it('refuses a header announcing 4 GiB before buffering', () => {
    const decoder = new PduDecoder();
    const error = (() => {
      try {
        decoder.push(new Uint8Array([4, 0, 0xff, 0xff, 0xff, 0xff, 0]));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PduError);
    expect((error as PduError).code).toBe('DNET_PDU_TOO_LARGE');
    expect(decoder.pending).toBe(0);
  });

  it('holds no more than 1 MiB for a header announcing a huge PDU under a huge cap', () => {
    const decoder = new PduDecoder({ maxPduLength: 0xffffffff });
    expect(decoder.push(new Uint8Array([4, 0, 0xff, 0xff, 0xff, 0xf0, 0, 0]))).toEqual([]);
    expect(decoder.pending).toBe(8);
  });

  it('gathers a PDU above 1 MiB in a growing buffer', () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i += 4093) data[i] = i & 0xff;
    const big: Pdu = {
      type: PduType.P_DATA_TF,
      pdvs: [{ contextId: 3, command: false, last: true, data }],
    };
    const bytes = encodePdu(big);
    const decoder = new PduDecoder({ maxPduLength: 4 * 1024 * 1024 });
    const out: Pdu[] = [];
    for (let o = 0; o < bytes.length; o += 65536)
      out.push(...decoder.push(bytes.subarray(o, o + 65536)));
    expect(out).toHaveLength(1);
    const [pdu] = out;
    if (pdu?.type !== PduType.P_DATA_TF) throw new Error('expected a P-DATA-TF');
    expect(pdu.pdvs).toHaveLength(1);
    expect(pdu.pdvs[0]).toMatchObject({ contextId: 3, command: false, last: true });
    expect(Buffer.compare(pdu.pdvs[0]!.data, data)).toBe(0);
    expect(decoder.pending).toBe(0);
    // One copy of the whole PDU, plus the growth copies (1 MiB + 2 MiB).
    expect(decoder.bytesCopied).toBe(bytes.length + 3 * 1024 * 1024);
  });
});
