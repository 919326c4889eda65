/**
 * Value Representations, PS3.5 §6.2 Table 6.2-1.
 */

/** Every VR of PS3.5 Table 6.2-1. */
export const VR = {
  /** Application Entity: 16 bytes max, default repertoire. */
  AE: 'AE',
  /** Age String: nnnD, nnnW, nnnM or nnnY. */
  AS: 'AS',
  /** Attribute Tag: a pair of 16-bit unsigned integers. */
  AT: 'AT',
  /** Code String: 16 bytes max, upper case, digits, space, underscore. */
  CS: 'CS',
  /** Date: YYYYMMDD. */
  DA: 'DA',
  /** Decimal String: 16 bytes max. */
  DS: 'DS',
  /** Date Time: YYYYMMDDHHMMSS.FFFFFF&ZZXX, 26 bytes max. */
  DT: 'DT',
  /** Floating Point Double: IEEE 754 binary64. */
  FD: 'FD',
  /** Floating Point Single: IEEE 754 binary32. */
  FL: 'FL',
  /** Integer String: 12 bytes max. */
  IS: 'IS',
  /** Long String: 64 characters max. */
  LO: 'LO',
  /** Long Text: 10240 characters max, one value. */
  LT: 'LT',
  /** Other Byte: a byte stream. */
  OB: 'OB',
  /** Other Double: a stream of binary64 values. */
  OD: 'OD',
  /** Other Float: a stream of binary32 values. */
  OF: 'OF',
  /** Other Long: a stream of 32-bit words. */
  OL: 'OL',
  /** Other 64-bit Very Long: a stream of 64-bit words. */
  OV: 'OV',
  /** Other Word: a stream of 16-bit words. */
  OW: 'OW',
  /** Person Name: five components in up to three component groups (§6.2.1). */
  PN: 'PN',
  /** Short String: 16 characters max. */
  SH: 'SH',
  /** Signed Long: 32-bit signed integer. */
  SL: 'SL',
  /** Sequence of Items (§7.5). */
  SQ: 'SQ',
  /** Signed Short: 16-bit signed integer. */
  SS: 'SS',
  /** Short Text: 1024 characters max, one value. */
  ST: 'ST',
  /** Signed 64-bit Very Long. */
  SV: 'SV',
  /** Time: HHMMSS.FFFFFF. */
  TM: 'TM',
  /** Unlimited Characters. */
  UC: 'UC',
  /** Unique Identifier: 64 bytes max, padded with NUL. */
  UI: 'UI',
  /** Unsigned Long: 32-bit unsigned integer. */
  UL: 'UL',
  /** Unknown (§6.2.2). */
  UN: 'UN',
  /** Universal Resource Identifier (§6.2.3). */
  UR: 'UR',
  /** Unsigned Short: 16-bit unsigned integer. */
  US: 'US',
  /** Unlimited Text, one value. */
  UT: 'UT',
  /** Unsigned 64-bit Very Long. */
  UV: 'UV',
} as const;

/** One of the two-letter VR codes of {@link VR}. */
export type Vr = (typeof VR)[keyof typeof VR];

const ALL = new Set<string>(Object.values(VR));

/** Whether `text` is a VR code of PS3.5 Table 6.2-1. @param text - two characters */
export function isVr(text: string): text is Vr {
  return ALL.has(text);
}

/**
 * How to read an explicit VR header whose VR code is none of PS3.5 Table 6.2-1,
 * the way DCMTK does (`DcmVR::setVR`, `DcmItem::readTagAndLength`): two
 * upper-case letters are taken for a VR of a later edition, with the 32-bit
 * length form of PS3.5 §7.1.2 (every VR added since 1993, from UN and UT to
 * OV, SV and UV, has it); anything else (`??`, lower case, digits) has the
 * 16-bit length form. Either way the element is read as UN (PS3.5 §6.2.2).
 *
 * @param first - the first byte of the VR field
 * @param second - the second byte of the VR field
 * @returns whether the header is 12 bytes long (2 reserved bytes, 32-bit length)
 */
export function unknownVrHasLongHeader(first: number, second: number): boolean {
  const upper = (c: number) => c >= 0x41 && c <= 0x5a;
  return upper(first) && upper(second);
}

/**
 * VRs whose explicit-VR header has two reserved bytes and a 32-bit length
 * (PS3.5 §7.1.2, Table 7.1-1); every other VR has a 16-bit length.
 */
const LONG_HEADER = new Set<Vr>([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

/** Whether the VR uses the 12-byte explicit header with a 32-bit length (PS3.5 §7.1.2). @param vr - the VR */
export function hasLongHeader(vr: Vr): boolean {
  return LONG_HEADER.has(vr);
}

/** Character string VRs (PS3.5 §6.2); their values are padded with a space, UI with NUL. */
const STRING_VRS = new Set<Vr>([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);

/** Whether values of this VR are character strings. @param vr - the VR */
export function isStringVr(vr: Vr): boolean {
  return STRING_VRS.has(vr);
}

/**
 * VRs whose text is affected by Specific Character Set (PS3.5 §6.1.2.3): the
 * others use the default repertoire only.
 */
const CHARSET_VRS = new Set<Vr>(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);

/** Whether Specific Character Set applies to this VR (PS3.5 §6.1.2.3). @param vr - the VR */
export function usesCharacterSet(vr: Vr): boolean {
  return CHARSET_VRS.has(vr);
}

/** VRs whose single value may contain a backslash: they have VM 1 (PS3.5 §6.4). */
const SINGLE_VALUE_VRS = new Set<Vr>(['LT', 'ST', 'UT', 'UR']);

/** Whether a backslash is data, not a value delimiter, in this VR (PS3.5 §6.4). @param vr - the VR */
export function isSingleValueText(vr: Vr): boolean {
  return SINGLE_VALUE_VRS.has(vr);
}

/**
 * The byte used to pad a value to even length (PS3.5 §7.1.1): NUL for UI and the
 * binary VRs, space for the other strings.
 *
 * @param vr - the VR
 */
export function padByte(vr: Vr): number {
  return STRING_VRS.has(vr) && vr !== 'UI' ? 0x20 : 0x00;
}

/**
 * The size of one binary unit, which is also the unit swapped between little
 * and big endian (PS3.5 §7.3): 2 for US/SS/OW/AT, 4 for UL/SL/FL/OF/OL, 8 for
 * FD/OD/SV/UV/OV; 1 for everything else (bytes and text, never swapped).
 *
 * @param vr - the VR
 */
export function byteSwapUnit(vr: Vr): 1 | 2 | 4 | 8 {
  switch (vr) {
    case 'US':
    case 'SS':
    case 'OW':
    case 'AT':
      return 2;
    case 'UL':
    case 'SL':
    case 'FL':
    case 'OF':
    case 'OL':
      return 4;
    case 'FD':
    case 'OD':
    case 'SV':
    case 'UV':
    case 'OV':
      return 8;
    default:
      return 1;
  }
}
