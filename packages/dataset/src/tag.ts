/**
 * Data element tags (PS3.5 §7.1): an ordered pair of 16-bit numbers, the group
 * and the element number, held here as one unsigned 32-bit number
 * `(group << 16) | element` so tags compare and sort as numbers.
 */

/** A tag as `(group << 16) | element`, unsigned. */
export type Tag = number;

/**
 * Makes a tag from its group and element numbers.
 *
 * @param group - the group number (0x0000–0xFFFF)
 * @param element - the element number (0x0000–0xFFFF)
 */
export function makeTag(group: number, element: number): Tag {
  return ((group << 16) | (element & 0xffff)) >>> 0;
}

/** The group number of a tag. @param tag - the tag */
export function tagGroup(tag: Tag): number {
  return tag >>> 16;
}

/** The element number of a tag. @param tag - the tag */
export function tagElement(tag: Tag): number {
  return tag & 0xffff;
}

/**
 * Formats a tag as `(GGGG,EEEE)` with upper-case hexadecimal digits, the form of
 * PS3.6 and of `dcmdump`.
 *
 * @param tag - the tag
 */
export function formatTag(tag: Tag): string {
  const h = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/**
 * The eight-hex-digit form used as the key of the DICOM JSON model
 * (PS3.18 §F.2.1.1), e.g. `00100010`.
 *
 * @param tag - the tag
 */
export function tagToHex(tag: Tag): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/**
 * Parses `(GGGG,EEEE)`, `GGGG,EEEE` or `GGGGEEEE`; returns `undefined` when the
 * text is none of these.
 *
 * @param text - the tag as text
 */
export function parseTag(text: string): Tag | undefined {
  const m = /^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$/.exec(text.trim());
  if (!m) return undefined;
  return makeTag(Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16));
}

/** Whether the tag is in a private group: odd group number (PS3.5 §7.8.1). @param tag - the tag */
export function isPrivateTag(tag: Tag): boolean {
  const g = tag >>> 16;
  return (g & 1) === 1 && g > 0x0008 && g !== 0xffff;
}

/**
 * Whether the tag is a Private Creator element, `(gggg,0010-00FF)` with an odd
 * group (PS3.5 §7.8.1).
 *
 * @param tag - the tag
 */
export function isPrivateCreatorTag(tag: Tag): boolean {
  const e = tag & 0xffff;
  return isPrivateTag(tag) && e >= 0x0010 && e <= 0x00ff;
}

/**
 * For a private data element `(gggg,xxEE)`, the tag of the Private Creator that
 * reserves its block `(gggg,00xx)` (PS3.5 §7.8.1); `undefined` otherwise.
 *
 * @param tag - a private tag
 */
export function privateCreatorTagOf(tag: Tag): Tag | undefined {
  const e = tag & 0xffff;
  if (!isPrivateTag(tag) || e < 0x1000) return undefined;
  return makeTag(tag >>> 16, e >>> 8);
}

/** Whether the tag is a group length `(gggg,0000)` (PS3.5 §7.2). @param tag - the tag */
export function isGroupLengthTag(tag: Tag): boolean {
  return (tag & 0xffff) === 0;
}

/** Tags of the item and delimitation elements of PS3.5 §7.5. */
export const ItemTag = {
  /** (FFFE,E000) Item: starts an item of a sequence or a fragment. */
  Item: 0xfffee000,
  /** (FFFE,E00D) Item Delimitation Item: ends an item of undefined length. */
  ItemDelimitation: 0xfffee00d,
  /** (FFFE,E0DD) Sequence Delimitation Item: ends a sequence of undefined length. */
  SequenceDelimitation: 0xfffee0dd,
} as const;

/** The tag of Pixel Data (7FE0,0010), which may be encapsulated (PS3.5 §A.4). */
export const PIXEL_DATA_TAG: Tag = 0x7fe00010;

/** The tag of Specific Character Set (0008,0005), PS3.3 §C.12.1.1.2. */
export const SPECIFIC_CHARACTER_SET_TAG: Tag = 0x00080005;
