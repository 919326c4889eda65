import { PduError, PduErrorCode } from './errors.js';

/** Maximum length of a UID (PS3.5 §9.1). */
export const UID_MAX_LENGTH = 64;

/**
 * True when `uid` is a UID we may send: at most 64 characters, digits and
 * dots, components not empty and without a leading zero (PS3.5 §9.1).
 */
export function isValidUid(uid: string): boolean {
  if (typeof uid !== 'string' || uid.length === 0 || uid.length > UID_MAX_LENGTH) return false;
  // Components of digits separated by dots, none empty, no leading zero unless "0" itself.
  let componentStart = 0;
  for (let i = 0; i <= uid.length; i++) {
    const c = i === uid.length ? 0x2e : uid.charCodeAt(i);
    if (c === 0x2e) {
      const length = i - componentStart;
      if (length === 0) return false;
      if (length > 1 && uid.charCodeAt(componentStart) === 0x30) return false;
      componentStart = i + 1;
    } else if (c < 0x30 || c > 0x39) {
      return false;
    }
  }
  return true;
}

/**
 * Returns `uid`, or throws a {@link PduError} `DNET_PDU_INVALID_UID` when it
 * breaks PS3.5 §9.1.
 */
export function checkUid(uid: string, field = 'uid'): string {
  if (!isValidUid(uid)) {
    throw new PduError(
      PduErrorCode.INVALID_UID,
      `${field}: ${JSON.stringify(uid)} is not a valid UID (1-64 digits and dots, no leading zero; PS3.5 §9.1)`,
      { field },
    );
  }
  return uid;
}

/**
 * Reads a UID as peers in the field send it: trailing NUL and space padding is
 * stripped and a leading zero in a component tolerated; empty values, values
 * over 64 characters and bytes outside printable ASCII raise
 * `DNET_PDU_INVALID_UID` (PS3.5 §9.1). With `lenient`, only non-ASCII
 * bytes raise (for fields the standard says are not tested). @internal
 */
export function readUid(
  bytes: Uint8Array,
  start: number,
  end: number,
  field: string,
  pduType: number,
  lenient = false,
): string {
  while (end > start && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20)) end--;
  const length = end - start;
  if (!lenient && (length === 0 || length > UID_MAX_LENGTH)) {
    throw new PduError(
      PduErrorCode.INVALID_UID,
      `${field}: a UID of ${length} characters (1 to 64 allowed, PS3.5 §9.1)`,
      { field, offset: start, pduType },
    );
  }
  let hash = length;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c < 0x20 || c > 0x7e) {
      if (lenient) return latin1(bytes, start, end).replace(/[^\x20-\x7e]/g, '');
      throw new PduError(
        PduErrorCode.INVALID_UID,
        `${field}: byte 0x${c.toString(16).padStart(2, '0')} is not printable ASCII (PS3.5 §9.1)`,
        { field, offset: i, pduType },
      );
    }
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  // An A-ASSOCIATE-RQ repeats the same few UIDs (transfer syntaxes, SOP classes)
  // hundreds of times: reuse the string made the last time.
  const cached = uidCache.get(hash);
  if (cached !== undefined && sameAscii(cached, bytes, start, end)) return cached;
  const uid = latin1(bytes, start, end);
  if (uidCache.size >= UID_CACHE_SIZE) uidCache.clear();
  uidCache.set(hash, uid);
  return uid;
}

/** Strings of recently read UIDs by hash; bounded, cleared when full. */
const uidCache = new Map<number, string>();
const UID_CACHE_SIZE = 512;

function sameAscii(s: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (s.length !== end - start) return false;
  for (let i = start; i < end; i++) if (s.charCodeAt(i - start) !== bytes[i]) return false;
  return true;
}

/** The bytes in [start, end) as one character each (ISO 8859-1). @internal */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Copying the codes to a plain array first is faster than applying a typed array.
  const codes = new Array<number>(end - start);
  for (let i = start; i < end; i++) codes[i - start] = bytes[i]!;
  return String.fromCharCode.apply(null, codes);
}
