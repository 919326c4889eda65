// Hand-built PDUs with no validation, so that tests can send what an encoder refuses, and
// packages below @dnet/pdu (transports) can speak DICOM to a real peer. No test runner here.
// Layouts: PS3.8 §9.3.2 (A-ASSOCIATE-RQ, Table 9-11), §9.3.2.2 (presentation context item),
// §9.3.2.3 (user information), Annex D.1 (maximum length sub-item), §9.3.5 (P-DATA-TF).

const ascii = (s: string) => new TextEncoder().encode(s);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An item: type, reserved, 2-byte length, value (PS3.8 §9.3.2.1). */
function item(type: number, value: Uint8Array): Uint8Array {
  const head = new Uint8Array(4);
  head[0] = type;
  new DataView(head.buffer).setUint16(2, value.length);
  return concat([head, value]);
}

/** An AE title field: 16 bytes, space padded (PS3.8 §9.3.2, bytes 11-26 and 27-42). */
function aeField(title: string): Uint8Array {
  const out = new Uint8Array(16).fill(0x20);
  out.set(ascii(title).subarray(0, 16));
  return out;
}

/** A proposed presentation context. */
export interface RawContext {
  /** Presentation-context-ID (PS3.8 wants an odd 1..255; any byte here). */
  id: number;
  /** Abstract syntax UID. */
  abstractSyntax: string;
  /** Transfer syntax UIDs. */
  transferSyntaxes: readonly string[];
}

/** Fields of a raw A-ASSOCIATE-RQ. */
export interface RawAssociateRq {
  /** Called AE title. */
  called: string;
  /** Calling AE title. */
  calling: string;
  /** Presentation contexts. */
  contexts: readonly RawContext[];
  /** Maximum length received (Annex D.1, mandatory); default 16384; `null` leaves the sub-item out. */
  maxLength?: number | null;
}

/** Verification SOP class. */
export const VERIFICATION = '1.2.840.10008.1.1';
/** Implicit VR Little Endian. */
export const IMPLICIT_LE = '1.2.840.10008.1.2';

/** Encodes an A-ASSOCIATE-RQ exactly as given (PS3.8 §9.3.2). */
export function rawAssociateRq(rq: RawAssociateRq): Uint8Array {
  const fixed = new Uint8Array(68);
  new DataView(fixed.buffer).setUint16(0, 1); // protocol version 1
  fixed.set(aeField(rq.called), 4);
  fixed.set(aeField(rq.calling), 20);
  const contexts = rq.contexts.map((c) =>
    item(
      0x20,
      concat([
        new Uint8Array([c.id, 0, 0, 0]),
        item(0x30, ascii(c.abstractSyntax)),
        ...c.transferSyntaxes.map((ts) => item(0x40, ascii(ts))),
      ]),
    ),
  );
  const sub: Uint8Array[] = [];
  if (rq.maxLength !== null) {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, (rq.maxLength ?? 16384) >>> 0);
    sub.push(item(0x51, v));
  }
  sub.push(item(0x52, ascii('1.2.3.4.13')));
  const body = concat([
    fixed,
    item(0x10, ascii('1.2.840.10008.3.1.1.1')),
    ...contexts,
    item(0x50, concat(sub)),
  ]);
  return pdu(0x01, body);
}

/** A PDU: type, reserved, 4-byte length, body (PS3.8 §9.3.1). */
export function pdu(type: number, body: Uint8Array): Uint8Array {
  const head = new Uint8Array(6);
  head[0] = type;
  new DataView(head.buffer).setUint32(2, body.length);
  return concat([head, body]);
}

/** A P-DATA-TF with one PDV (PS3.8 §9.3.5, Annex E.2 message control header). */
export function rawPData(contextId: number, command: boolean, last: boolean, data: Uint8Array) {
  const pdvHead = new Uint8Array(6);
  new DataView(pdvHead.buffer).setUint32(0, data.length + 2);
  pdvHead[4] = contextId;
  pdvHead[5] = (command ? 1 : 0) | (last ? 2 : 0);
  return pdu(0x04, concat([pdvHead, data]));
}

/** A-RELEASE-RQ (PS3.8 §9.3.6). */
export const RELEASE_RQ = pdu(0x05, new Uint8Array(4));
/** A-ABORT, service-user source (PS3.8 §9.3.8). */
export const ABORT = pdu(0x07, new Uint8Array(4));

/**
 * A command set encoded without validation (PS3.7 §6.3.1: Implicit VR Little
 * Endian, elements in tag order, (0000,0000) group length first). Strings are
 * padded to even length with a space, or NUL for UIDs (PS3.5 §6.2); numbers are US.
 */
export function rawCommandSet(elements: readonly [number, string | number][]): Uint8Array {
  const sorted = [...elements].sort((a, b) => a[0] - b[0]);
  const encoded = sorted.map(([tag, value]) => {
    let bytes: Uint8Array;
    if (typeof value === 'number') {
      bytes = new Uint8Array(2);
      new DataView(bytes.buffer).setUint16(0, value, true);
    } else {
      bytes = new Uint8Array(Buffer.from(value, 'latin1'));
      if (bytes.length % 2 === 1)
        bytes = concat([bytes, new Uint8Array([tag === 0x0002 || tag === 0x1000 ? 0 : 0x20])]);
    }
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint16(0, 0x0000, true);
    v.setUint16(2, tag, true);
    v.setUint32(4, bytes.length, true);
    return concat([head, bytes]);
  });
  const body = concat(encoded);
  const groupLength = new Uint8Array(12);
  const g = new DataView(groupLength.buffer);
  g.setUint32(4, 4, true);
  g.setUint32(8, body.length, true);
  return concat([groupLength, body]);
}
