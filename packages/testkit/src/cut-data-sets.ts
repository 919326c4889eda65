// Data sets encoded by hand, element by element, for the "every cut" tests: a
// data set cut at each byte must be refused unless the cut falls on a
// top-level element boundary (PS3.5 §7.1, §7.5). Encoded here rather than by
// @dnet/dataset so that the tests do not trust the encoder they check against,
// and so that lengths can be undefined. Little Endian only (Explicit and
// Implicit VR, PS3.5 §A.1, §A.2).

/** The undefined length FFFFFFFFH (PS3.5 §7.1.1). */
export const UNDEFINED_LENGTH = 0xffffffff;

/** VRs with a 4-byte length field in explicit VR (PS3.5 §7.1.2, Table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);

/** Item (FFFE,E000), Item Delimitation (FFFE,E00D), Sequence Delimitation (FFFE,E0DD) (PS3.5 §7.5). */
export const ItemTag = {
  /** Item (FFFE,E000). */
  ITEM: 0xfffee000,
  /** Item Delimitation Item (FFFE,E00D). */
  ITEM_END: 0xfffee00d,
  /** Sequence Delimitation Item (FFFE,E0DD). */
  SEQUENCE_END: 0xfffee0dd,
} as const;

/** The parts, one after the other. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An item or delimiter header: the tag and a 4-byte length, always implicit (PS3.5 §7.5). */
export function itemHeader(tag: number, length: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, tag >>> 16, true);
  dv.setUint16(2, tag & 0xffff, true);
  dv.setUint32(4, length, true);
  return out;
}

/**
 * One Little Endian element (PS3.5 §7.1): a string value is encoded as
 * Latin-1/ASCII; an odd value is padded (UI with 00H, others with a space,
 * PS3.5 §6.2); `length` overrides the length field (`UNDEFINED_LENGTH` for a
 * sequence or encapsulated Pixel Data whose items follow in `value`).
 */
export function encodeElement(
  explicit: boolean,
  tag: number,
  vr: string,
  value: Uint8Array | string | readonly Uint8Array[],
  length?: number,
): Uint8Array {
  let body =
    typeof value === 'string'
      ? new TextEncoder().encode(value)
      : value instanceof Uint8Array
        ? value
        : concatBytes(value);
  if (body.length % 2 === 1) body = concatBytes([body, new Uint8Array([vr === 'UI' ? 0 : 0x20])]);
  const len = length ?? body.length;
  const long = explicit && LONG_VRS.has(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, tag >>> 16, true);
  dv.setUint16(2, tag & 0xffff, true);
  if (!explicit) dv.setUint32(4, len, true);
  else {
    head[4] = vr.charCodeAt(0);
    head[5] = vr.charCodeAt(1);
    if (long) dv.setUint32(8, len, true);
    else dv.setUint16(6, len, true);
  }
  return concatBytes([head, body]);
}

/** Elements, sequences and encapsulated Pixel Data in one Little Endian syntax. */
export class LittleEndianElements {
  /** @param explicit - Explicit VR (true) or Implicit VR (false) Little Endian */
  constructor(readonly explicit: boolean) {}

  /** An element with a defined-length value. */
  element(tag: number, vr: string, value: Uint8Array | string): Uint8Array {
    return encodeElement(this.explicit, tag, vr, value);
  }

  /** A sequence of undefined length whose items have undefined length (PS3.5 §7.5.2). */
  sequence(tag: number, items: readonly (readonly Uint8Array[])[]): Uint8Array {
    const parts: Uint8Array[] = [];
    for (const item of items) {
      parts.push(
        itemHeader(ItemTag.ITEM, UNDEFINED_LENGTH),
        ...item,
        itemHeader(ItemTag.ITEM_END, 0),
      );
    }
    parts.push(itemHeader(ItemTag.SEQUENCE_END, 0));
    return encodeElement(this.explicit, tag, 'SQ', parts, UNDEFINED_LENGTH);
  }

  /** Encapsulated Pixel Data (PS3.5 §A.4): an empty Basic Offset Table, the fragments, the delimiter. */
  encapsulated(fragments: readonly Uint8Array[]): Uint8Array {
    const parts = [itemHeader(ItemTag.ITEM, 0)];
    for (const f of fragments) parts.push(itemHeader(ItemTag.ITEM, f.length), f);
    parts.push(itemHeader(ItemTag.SEQUENCE_END, 0));
    return encodeElement(this.explicit, 0x7fe00010, 'OB', parts, UNDEFINED_LENGTH);
  }
}

/**
 * The offsets where a data set made of `elements` (top-level, in order) may be
 * cut and still be whole: the end of each element, and 0 when `empty` is set
 * (an empty data set is complete too).
 */
export function elementBoundaries(
  elements: readonly Uint8Array[],
  { empty = false }: { empty?: boolean } = {},
): Set<number> {
  const out = new Set<number>(empty ? [0] : []);
  let at = 0;
  for (const e of elements) {
    at += e.length;
    out.add(at);
  }
  return out;
}
