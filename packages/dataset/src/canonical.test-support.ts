/**
 * Helpers shared by this package's tests (not exported from the package).
 */
import type { DataSet } from './data-set.js';
import { swapBytes } from './encode.js';
import { formatTag } from './tag.js';
import { byteSwapUnit } from './vr.js';

/** A comparable form of an element tree: values as little-endian hex. */
export type Canonical = [string, string, string | Canonical[] | string[]][];

/**
 * The canonical form of a data set for deep comparisons: tag, VR and the value
 * in little-endian byte order, items and fragments recursively.
 *
 * @param ds - the data set
 */
export function canonical(ds: DataSet): Canonical {
  return ds.elements().map((e) => {
    if (e.items) return [formatTag(e.tag), e.vr, e.items.map(canonical)];
    if (e.fragments) {
      return [formatTag(e.tag), e.vr, e.fragments.map((f) => Buffer.from(f).toString('hex'))];
    }
    const v = e.value ?? new Uint8Array(0);
    const unit = byteSwapUnit(e.vr);
    const le = e.bigEndian && unit > 1 ? swapBytes(v, unit) : v;
    return [formatTag(e.tag), e.vr, Buffer.from(le).toString('hex')];
  });
}

/**
 * Hex of bytes, for readable assertion failures.
 *
 * @param bytes - the bytes
 */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
