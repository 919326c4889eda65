/**
 * The registry of DICOM unique identifiers (PS3.6 Annex A, Table A-1), generated
 * at build time, and the properties of the transfer syntaxes (PS3.5 §10).
 */
import { UnsupportedTransferSyntaxError } from './errors.js';
import { UIDS_JSON } from './generated/uids.js';

/** The uncompressed transfer syntaxes this codec reads and writes (PS3.5 §10, Annex A). */
export const TransferSyntax = {
  /** Implicit VR Little Endian, the default transfer syntax (PS3.5 §A.1). */
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  /** Explicit VR Little Endian (PS3.5 §A.2). */
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  /** Deflated Explicit VR Little Endian (PS3.5 §A.5). */
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  /** Explicit VR Big Endian, retired but still met (PS3.5 §A.3). */
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
} as const;

/** One entry of PS3.6 Table A-1. */
export interface UidEntry {
  /** The UID value. */
  readonly uid: string;
  /** The keyword, e.g. `CTImageStorage`. */
  readonly keyword: string;
  /** The name, e.g. `CT Image Storage`. */
  readonly name: string;
  /** The UID type of Table A-1, e.g. `SOP Class`, `Transfer Syntax`. */
  readonly type: string;
  /** Whether the UID is retired. */
  readonly retired: boolean;
}

let byUid: Map<string, UidEntry> | undefined;
let byKeyword: Map<string, UidEntry> | undefined;

function load(): Map<string, UidEntry> {
  if (byUid) return byUid;
  byUid = new Map();
  byKeyword = new Map();
  for (const [uid, keyword, name, type, retired] of JSON.parse(UIDS_JSON) as [
    string,
    string,
    string,
    string,
    number,
  ][]) {
    const entry: UidEntry = { uid, keyword, name, type, retired: retired === 1 };
    byUid.set(uid, entry);
    if (keyword && !byKeyword.has(keyword)) byKeyword.set(keyword, entry);
  }
  return byUid;
}

/**
 * Looks a UID up in PS3.6 Table A-1.
 *
 * @param uid - a UID value
 */
export function lookupUid(uid: string): UidEntry | undefined {
  return load().get(uid.replace(/\0+$/, '').trim());
}

/**
 * Looks a UID up by its keyword, e.g. `CTImageStorage`.
 *
 * @param keyword - the keyword of Table A-1
 */
export function lookupUidKeyword(keyword: string): UidEntry | undefined {
  load();
  return byKeyword!.get(keyword);
}

/** Every entry of the UID registry, in UID order. */
export function uidEntries(): UidEntry[] {
  return [...load().values()];
}

/** How a transfer syntax encodes a data set (PS3.5 §10). */
export interface TransferSyntaxInfo {
  /** The UID. */
  readonly uid: string;
  /** VR written in each element header (PS3.5 §7.1.2) or not (§7.1.3). */
  readonly explicitVr: boolean;
  /** Little endian byte order (PS3.5 §7.3). */
  readonly littleEndian: boolean;
  /** The data set is deflated (PS3.5 §A.5). */
  readonly deflated: boolean;
  /** Pixel data is encapsulated (PS3.5 §A.4): compressed fragments passed through. */
  readonly encapsulated: boolean;
}

/**
 * The encoding of a transfer syntax: the four native ones of Annex A.1–A.3 and
 * A.5, and, as Explicit VR Little Endian with encapsulated pixel data (PS3.5
 * §A.4), every other transfer syntax in the registry. Unknown UIDs are
 * refused.
 *
 * @param uid - the transfer syntax UID
 * @throws UnsupportedTransferSyntaxError for a UID that is not a known transfer syntax
 */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo {
  const clean = uid.replace(/\0+$/, '').trim();
  switch (clean) {
    case TransferSyntax.ImplicitVRLittleEndian:
      return {
        uid: clean,
        explicitVr: false,
        littleEndian: true,
        deflated: false,
        encapsulated: false,
      };
    case TransferSyntax.ExplicitVRLittleEndian:
      return {
        uid: clean,
        explicitVr: true,
        littleEndian: true,
        deflated: false,
        encapsulated: false,
      };
    case TransferSyntax.DeflatedExplicitVRLittleEndian:
      return {
        uid: clean,
        explicitVr: true,
        littleEndian: true,
        deflated: true,
        encapsulated: false,
      };
    case TransferSyntax.ExplicitVRBigEndian:
      return {
        uid: clean,
        explicitVr: true,
        littleEndian: false,
        deflated: false,
        encapsulated: false,
      };
  }
  if (clean === '1.2.840.10008.1.2.1.98') {
    // Encapsulated Uncompressed Explicit VR Little Endian (PS3.5 §A.4.11).
    return {
      uid: clean,
      explicitVr: true,
      littleEndian: true,
      deflated: false,
      encapsulated: true,
    };
  }
  const entry = lookupUid(clean);
  // Every later transfer syntax of PS3.5 is explicit VR little endian with
  // encapsulated pixel data (§A.4); JPIP Referenced Deflate (§A.6) is deflated.
  if (entry?.type === 'Transfer Syntax' || /^1\.2\.840\.10008\.1\.2\.[4-9]/.test(clean)) {
    const deflated = /Deflate/.test(entry?.keyword ?? '');
    return { uid: clean, explicitVr: true, littleEndian: true, deflated, encapsulated: !deflated };
  }
  throw new UnsupportedTransferSyntaxError(clean);
}
