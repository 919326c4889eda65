import type { Random } from './random.js';

/** Values that sit on the edges of length and type fields. */
const INTERESTING_U32 = [0, 1, 2, 4, 6, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];
const INTERESTING_U8 = [0, 1, 0x7f, 0x80, 0xfe, 0xff];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One random mutation of `input` (never modified in place): bit flips, edge
 * values written over a byte or a 16/32-bit field in either byte order,
 * inserted, deleted, duplicated or truncated ranges, or a splice with another
 * seed. Length fields are the usual target, so edge values dominate.
 */
export function mutate(input: Uint8Array, rng: Random, seeds: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(input);
  const at = () => rng.int(Math.max(out.length, 1));
  switch (rng.int(9)) {
    case 0: {
      const n = 1 + rng.int(4);
      for (let i = 0; i < n && out.length > 0; i++) {
        const j = at();
        out[j] = (out[j] as number) ^ (1 << rng.int(8));
      }
      return out;
    }
    case 1:
      if (out.length > 0) out[at()] = rng.pick(INTERESTING_U8);
      return out;
    case 2:
    case 3: {
      if (out.length < 4) return out;
      const i = rng.int(out.length - 3);
      const v = rng.pick(INTERESTING_U32);
      const view = new DataView(out.buffer, out.byteOffset, out.length);
      if (rng.int(2) === 0) view.setUint32(i, v, rng.int(2) === 0);
      else view.setUint16(i, v & 0xffff, rng.int(2) === 0);
      return out;
    }
    case 4: {
      const i = at();
      return concat([out.subarray(0, i), rng.bytes(1 + rng.int(16)), out.subarray(i)]);
    }
    case 5: {
      const i = at();
      return concat([out.subarray(0, i), out.subarray(i + 1 + rng.int(32))]);
    }
    case 6: {
      const i = at();
      const piece = out.subarray(i, i + 1 + rng.int(64));
      return concat([out.subarray(0, i), piece, piece, out.subarray(i)]);
    }
    case 7:
      return out.subarray(0, at());
    default: {
      const other = rng.pick(seeds);
      return concat([out.subarray(0, at()), other.subarray(rng.int(Math.max(other.length, 1)))]);
    }
  }
}

/** A seed with 1 to 4 stacked mutations, or now and then plain random bytes. */
export function nextInput(rng: Random, seeds: readonly Uint8Array[]): Uint8Array {
  if (seeds.length === 0 || rng.int(16) === 0) return rng.bytes(rng.int(512));
  let input = rng.pick(seeds);
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) input = mutate(input, rng, seeds);
  return input;
}

/** Hex of bytes, lower case, no separators (the fixture format). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Bytes of a hex string; whitespace ignored. */
export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}
