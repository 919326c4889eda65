/**
 * The transfer syntax of a bare data set (no preamble, no `DICM`, no File Meta
 * Information, PS3.10 §7.1), guessed from its first element header the way
 * DCMTK does (`DcmItem::checkTransferSyntax`): PS3.5 gives a data set no mark
 * of its own encoding, so this is an inference, not a rule of the standard.
 */
import { lookupTag } from './dictionary.js';
import { InvalidPart10Error } from './errors.js';
import { TransferSyntax } from './uid.js';
import { isVr } from './vr.js';

/** Bytes {@link inferTransferSyntax} looks at: a tag (4) and what would be an explicit VR (2). */
export const INFER_HEADER_BYTES = 6;

/** What {@link inferTransferSyntax} found. */
export interface InferredTransferSyntax {
  /** Implicit VR Little Endian, Explicit VR Little Endian or Explicit VR Big Endian (PS3.5 Annex A). */
  transferSyntaxUid: string;
  /** True when bytes 4-5 are a VR of PS3.5 Table 6.2-1 (explicit VR, PS3.5 §7.1.2). */
  explicitVr: boolean;
  /** True for little endian (PS3.5 §7.3). */
  littleEndian: boolean;
}

/** Two letters that name a VR of PS3.5 Table 6.2-1. */
function vrAt(bytes: Uint8Array, at: number): boolean {
  return isVr(String.fromCharCode(bytes[at]!, bytes[at + 1]!));
}

/**
 * Infers the transfer syntax of a bare data set from its first 6 bytes, as
 * DCMTK reads a file without meta header:
 *
 * - explicit VR when bytes 4-5 are a VR of PS3.5 Table 6.2-1 (PS3.5 §7.1.2:
 *   an explicit VR header puts the VR right after the tag), implicit otherwise;
 * - byte order: the one whose reading of the first tag is in the data
 *   dictionary when only one is; otherwise little endian, unless the group
 *   reads above 00FFH in little endian and at most 00FFH in big endian (a data
 *   set usually opens with group 0008, rarely with group 0800).
 *
 * Limits (LIMITS.md): a data set whose first element is private or unknown in
 * both byte orders falls back on the group rule; Implicit VR Big Endian is
 * not a DICOM transfer syntax (PS3.5 Annex A) and is refused; group 0002 at
 * the start (File Meta Information without preamble) is refused too, since
 * it is no part of a data set that may be sent (PS3.7 §6.3.1 / PS3.10 §7.1).
 *
 * @param bytes - the start of the data set (at least 6 bytes)
 * @throws InvalidPart10Error when fewer than 6 bytes, or for the refused cases above
 */
export function inferTransferSyntax(bytes: Uint8Array): InferredTransferSyntax {
  if (bytes.length < INFER_HEADER_BYTES) {
    throw new InvalidPart10Error(
      `${bytes.length} bytes are too few for a data set's first element header`,
    );
  }
  const groupLe = bytes[0]! | (bytes[1]! << 8);
  const elementLe = bytes[2]! | (bytes[3]! << 8);
  const groupBe = (bytes[0]! << 8) | bytes[1]!;
  const elementBe = (bytes[2]! << 8) | bytes[3]!;
  const knownLe = lookupTag(((groupLe << 16) | elementLe) >>> 0) !== undefined;
  const knownBe = lookupTag(((groupBe << 16) | elementBe) >>> 0) !== undefined;
  let littleEndian: boolean;
  if (knownLe !== knownBe) littleEndian = knownLe;
  else littleEndian = !(groupLe > 0xff && groupBe <= 0xff);
  const explicitVr = vrAt(bytes, 4);
  const group = littleEndian ? groupLe : groupBe;
  if (group === 0x0002) {
    throw new InvalidPart10Error(
      'File Meta Information (group 0002) without preamble and "DICM" prefix (PS3.10 7.1)',
      { offset: 0 },
    );
  }
  if (!littleEndian && !explicitVr) {
    throw new InvalidPart10Error(
      'a bare data set that reads as Implicit VR Big Endian, which is no DICOM transfer syntax (PS3.5 Annex A)',
      { offset: 0 },
    );
  }
  const transferSyntaxUid = !explicitVr
    ? TransferSyntax.ImplicitVRLittleEndian
    : littleEndian
      ? TransferSyntax.ExplicitVRLittleEndian
      : TransferSyntax.ExplicitVRBigEndian;
  return { transferSyntaxUid, explicitVr, littleEndian };
}
