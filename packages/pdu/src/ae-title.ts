import { PduError, PduErrorCode } from './errors.js';

/** Length of an AE title field in the A-ASSOCIATE PDUs (PS3.8 §9.3.2). */
export const AE_TITLE_LENGTH = 16;

const SPACE = 0x20;
const BACKSLASH = 0x5c;

/**
 * True when `aeTitle` is a valid AE title: after removing the non-significant
 * leading and trailing spaces, 1 to 16 characters of the default repertoire
 * without backslash or control characters (PS3.5 §6.2 VR AE, PS3.8 §9.3.2).
 */
export function isValidAeTitle(aeTitle: string): boolean {
  const trimmed = trimSpaces(aeTitle);
  if (trimmed.length === 0 || trimmed.length > AE_TITLE_LENGTH) return false;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed.charCodeAt(i);
    if (c < SPACE || c > 0x7e || c === BACKSLASH) return false;
  }
  return true;
}

/**
 * Returns `aeTitle` without its leading and trailing spaces, or throws a
 * {@link PduError} `DNET_PDU_INVALID_AE_TITLE` when it is not a valid AE title
 * (PS3.5 §6.2 VR AE, PS3.8 §9.3.2).
 */
export function checkAeTitle(aeTitle: string, field = 'ae-title'): string {
  if (typeof aeTitle !== 'string' || !isValidAeTitle(aeTitle)) {
    throw new PduError(
      PduErrorCode.INVALID_AE_TITLE,
      `${field}: ${JSON.stringify(aeTitle)} is not a valid AE title (1-16 characters, no backslash or control characters; PS3.5 §6.2)`,
      { field },
    );
  }
  return trimSpaces(aeTitle);
}

function trimSpaces(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) === SPACE) start++;
  while (end > start && s.charCodeAt(end - 1) === SPACE) end--;
  return s.slice(start, end);
}

/** Writes a checked AE title into its 16-byte field, space padded (PS3.8 §9.3.2). @internal */
export function writeAeTitle(target: Uint8Array, offset: number, aeTitle: string): void {
  let i = 0;
  for (; i < aeTitle.length; i++) target[offset + i] = aeTitle.charCodeAt(i);
  for (; i < AE_TITLE_LENGTH; i++) target[offset + i] = SPACE;
}

/**
 * Reads a 16-byte AE title field: leading and trailing spaces (and trailing
 * NUL padding some peers send) are not significant (PS3.8 §9.3.2). When
 * `strict`, control characters, backslash and bytes outside ASCII raise
 * `DNET_PDU_INVALID_AE_TITLE`; an all-space title reads as `''` and is left
 * for the association layer to refuse. @internal
 */
export function readAeTitle(
  bytes: Uint8Array,
  offset: number,
  strict: boolean,
  field: string,
  pduType: number,
): string {
  let start = offset;
  let end = offset + AE_TITLE_LENGTH;
  while (end > start && (bytes[end - 1] === SPACE || bytes[end - 1] === 0)) end--;
  while (start < end && bytes[start] === SPACE) start++;
  let out = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (strict && (c < SPACE || c > 0x7e || c === BACKSLASH)) {
      throw new PduError(
        PduErrorCode.INVALID_AE_TITLE,
        `${field}: byte 0x${c.toString(16).padStart(2, '0')} is not allowed in an AE title (PS3.5 §6.2)`,
        { field, offset: i, pduType },
      );
    }
    out += String.fromCharCode(c);
  }
  return out;
}
