import { describe, expect, it } from 'vitest';
import { encodePdu } from './encode-pdu.js';
import { PduError } from './errors.js';
import type { PresentationDataValue } from './p-data-tf.js';
import type { Pdu } from './pdu.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';
import { pdvParts } from './pdv-parts.js';

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

  it('decodes a stream split at every offset', () => {
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

  it('decodes a P-DATA-TF above 1 MiB arriving in 64 KiB chunks as views, copying nothing', () => {
    const data = new Uint8Array(3 * 1024 * 1024 + 5);
    for (let i = 0; i < data.length; i += 4093) data[i] = i & 0xff;
    const big: Pdu = {
      type: PduType.P_DATA_TF,
      pdvs: [{ contextId: 3, command: false, last: true, data }],
    };
    const bytes = encodePdu(big);
    const decoder = new PduDecoder({ maxPduLength: 4 * 1024 * 1024 });
    const out: Pdu[] = [];
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += 65536) {
      // Each chunk its own memory, as a socket delivers it.
      const chunk = bytes.slice(o, o + 65536);
      chunks.push(chunk);
      out.push(...decoder.push(chunk));
      if (o + 65536 < bytes.length) expect(decoder.pending).toBe(o + chunk.length);
    }
    expect(out).toHaveLength(1);
    const [pdu] = out;
    if (pdu?.type !== PduType.P_DATA_TF) throw new Error('expected a P-DATA-TF');
    expect(pdu.pdvs).toHaveLength(1);
    const pdv = pdu.pdvs[0]!;
    expect(pdv).toMatchObject({ contextId: 3, command: false, last: true });
    expect(decoder.pending).toBe(0);
    const parts = pdvParts(pdv);
    expect(parts).toHaveLength(chunks.length);
    // Every part is a view of the chunk it arrived in.
    for (const [k, part] of parts.entries()) expect(part.buffer).toBe(chunks[k]!.buffer);
    expect(Buffer.compare(Buffer.concat(parts), data)).toBe(0);
    expect(decoder.bytesCopied).toBe(0);
    // Reading `data` joins the views once.
    expect(Buffer.compare(pdv.data, data)).toBe(0);
    expect(pdv.data).toBe(pdv.data);
    expect(decoder.bytesCopied).toBe(data.length);
  });

  it('hands out each PDV of a straddling P-DATA-TF as views, at every cut', () => {
    const a = new Uint8Array(40).map((_, i) => i);
    const b = new Uint8Array(30).map((_, i) => 200 - i);
    const two: Pdu = {
      type: PduType.P_DATA_TF,
      pdvs: [
        { contextId: 1, command: true, last: true, data: a },
        { contextId: 1, command: false, last: false, data: new Uint8Array(0) },
        { contextId: 1, command: false, last: true, data: b },
      ],
    };
    const bytes = encodePdu(two);
    for (let cut = 1; cut < bytes.length; cut++) {
      for (let cut2 = cut + 1; cut2 <= bytes.length; cut2 += 7) {
        const decoder = new PduDecoder();
        const out = [
          ...decoder.push(bytes.slice(0, cut)),
          ...decoder.push(bytes.slice(cut, cut2)),
          ...decoder.push(bytes.slice(cut2)),
        ];
        expect(out).toHaveLength(1);
        const pdvs = (out[0] as { pdvs: PresentationDataValue[] }).pdvs;
        const joined = pdvs.map((p) => Buffer.concat(pdvParts(p)));
        expect(joined).toEqual([Buffer.from(a), Buffer.alloc(0), Buffer.from(b)]);
        expect(decoder.bytesCopied).toBe(0);
        expect(out).toEqual([two]);
      }
    }
  });

  it('refuses a malformed straddling P-DATA-TF with the error of a whole one', () => {
    // A PDV item length (0x20) larger than what follows it in the PDU.
    const bad = new Uint8Array([4, 0, 0, 0, 0, 10, 0, 0, 0, 0x20, 1, 3, 9, 9, 9, 9]);
    const whole = (() => {
      try {
        new PduDecoder().push(bad);
      } catch (e) {
        return e as PduError;
      }
    })();
    expect(whole).toBeInstanceOf(PduError);
    for (let cut = 1; cut < bad.length; cut++) {
      const decoder = new PduDecoder();
      expect(decoder.push(bad.subarray(0, cut))).toEqual([]);
      let error: PduError | undefined;
      try {
        decoder.push(bad.subarray(cut));
      } catch (e) {
        error = e as PduError;
      }
      expect(error).toBeInstanceOf(PduError);
      expect({ code: error!.code, message: error!.message, offset: error!.offset }).toEqual({
        code: whole!.code,
        message: whole!.message,
        offset: whole!.offset,
      });
      // The decoder stays failed.
      expect(() => decoder.push(new Uint8Array([5]))).toThrow(error);
    }
  });

  it('refuses an empty straddling P-DATA-TF (PS3.8 §9.3.5: one or more PDV items)', () => {
    const decoder = new PduDecoder();
    decoder.push(new Uint8Array([4, 0, 0, 0]));
    expect(() => decoder.push(new Uint8Array([0, 0]))).toThrow(/one or more PDV items/);
  });

  it('keeps the PDV views in step when `data` is replaced', () => {
    const bytes = encodePdu(pdata);
    const decoder = new PduDecoder();
    decoder.push(bytes.subarray(0, 50));
    const [pdu] = decoder.push(bytes.subarray(50));
    const pdv = (pdu as { pdvs: PresentationDataValue[] }).pdvs[0]!;
    expect(pdvParts(pdv)).toHaveLength(2);
    const other = new Uint8Array([1, 2, 3]);
    pdv.data = other;
    expect(pdv.data).toBe(other);
    expect(pdvParts(pdv)).toEqual([other]);
  });

  it('gathers a non-P-DATA PDU above 1 MiB in a growing buffer', () => {
    // An A-ASSOCIATE-RQ of 3 MiB (under a raised cap): gathered, then refused for its content.
    const total = 3 * 1024 * 1024 + 5;
    const bytes = new Uint8Array(6 + total);
    bytes[0] = PduType.A_ASSOCIATE_RQ;
    new DataView(bytes.buffer).setUint32(2, total);
    // Protocol version 1, then an A-ASSOCIATE-AC's item (21H) where the RQ's items start: refused at once.
    bytes[7] = 1;
    bytes[74] = 0x21;
    const decoder = new PduDecoder({ maxAssociationPduLength: 4 * 1024 * 1024 });
    let error: unknown;
    for (let o = 0; o < bytes.length && !error; o += 65536) {
      try {
        decoder.push(bytes.subarray(o, o + 65536));
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(PduError);
    // One copy of the whole PDU, plus the growth copies (1 MiB + 2 MiB).
    expect(decoder.bytesCopied).toBe(bytes.length + 3 * 1024 * 1024);
  });
});
