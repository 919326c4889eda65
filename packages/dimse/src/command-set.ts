import {
  COMMAND_ELEMENT_BY_TAG,
  COMMAND_ELEMENTS,
  type CommandElementDef,
  CommandTag,
  presentElements,
} from './command-element.js';
import {
  CommandTooLargeError,
  type FieldErrorDetails,
  InvalidCommandSetError,
  InvalidFieldError,
} from './errors.js';

/**
 * A command element outside PS3.7 Table E.1-1 (a retired element of Table
 * E.2-1, or one the message type does not define), kept as its raw value
 * bytes so it passes through unchanged.
 */
export interface RawCommandElement {
  /** The tag, group 0000 (e.g. `0x00000001` for the retired Command Length to End). */
  tag: number;
  /** The value bytes, even length, as they are on the wire. */
  value: Uint8Array;
}

/**
 * A command set as plain fields: each element of PS3.7 Table E.1-1 under its
 * keyword in lower camel case. The Command Group Length (0000,0000) is never
 * stored: the encoder computes it and the decoder checks it (PS3.7 §6.3.1).
 */
export interface CommandSet {
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid?: string;
  /** (0000,0003) Requested SOP Class UID */
  requestedSopClassUid?: string;
  /** (0000,0100) Command Field, see `CommandField` */
  commandField?: number;
  /** (0000,0110) Message ID */
  messageId?: number;
  /** (0000,0120) Message ID Being Responded To */
  messageIdBeingRespondedTo?: number;
  /** (0000,0600) Move Destination */
  moveDestination?: string;
  /** (0000,0700) Priority, see `Priority` */
  priority?: number;
  /** (0000,0800) Command Data Set Type: 0101H when no data set follows */
  commandDataSetType?: number;
  /** (0000,0900) Status */
  status?: number;
  /** (0000,0901) Offending Element: tags as `0xGGGGEEEE` */
  offendingElement?: number[];
  /** (0000,0902) Error Comment */
  errorComment?: string;
  /** (0000,0903) Error ID */
  errorId?: number;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid?: string;
  /** (0000,1001) Requested SOP Instance UID */
  requestedSopInstanceUid?: string;
  /** (0000,1002) Event Type ID */
  eventTypeId?: number;
  /** (0000,1005) Attribute Identifier List: tags as `0xGGGGEEEE` */
  attributeIdentifierList?: number[];
  /** (0000,1008) Action Type ID */
  actionTypeId?: number;
  /** (0000,1020) Number of Remaining Sub-operations */
  numberOfRemainingSuboperations?: number;
  /** (0000,1021) Number of Completed Sub-operations */
  numberOfCompletedSuboperations?: number;
  /** (0000,1022) Number of Failed Sub-operations */
  numberOfFailedSuboperations?: number;
  /** (0000,1023) Number of Warning Sub-operations */
  numberOfWarningSuboperations?: number;
  /** (0000,1030) Move Originator Application Entity Title */
  moveOriginatorAeTitle?: string;
  /** (0000,1031) Move Originator Message ID */
  moveOriginatorMessageId?: number;
  /** Elements outside Table E.1-1, passed through as raw bytes. */
  otherElements?: RawCommandElement[];
}

/** Default cap on a received command set, in bytes (LIMITS.md). */
export const DEFAULT_MAX_COMMAND_LENGTH = 65_536;

/** Options of {@link decodeCommandSet}. */
export interface DecodeCommandSetOptions {
  /** Largest command set accepted, in bytes (default {@link DEFAULT_MAX_COMMAND_LENGTH}). */
  maxCommandLength?: number;
}

/** One element of a parsed command set, with where its value lies. */
interface ParsedElement {
  tag: number;
  offset: number;
  length: number;
}

const GROUP_LENGTH_BYTES = 12; // tag 4 + length 4 + UL value 4

/** Characters allowed in a UI value: digits and dots (PS3.5 §9.1). */
const UI_PATTERN = /^[0-9.]*$/;
/** AE and LO: the default character repertoire without control characters or backslash (PS3.5 §6.2). */
const TEXT_PATTERN = /^[\x20-\x5b\x5d-\x7e]*$/;

function details(messageType: string, def: CommandElementDef): FieldErrorDetails {
  return { messageType, field: def.name, tag: def.tag };
}

/** Byte length of a value as written (string VRs padded to even length, PS3.5 §7.1.1). */
function valueLength(def: CommandElementDef, value: unknown, messageType: string): number {
  switch (def.vr) {
    case 'US':
      checkUs(def, value, messageType);
      return 2;
    case 'UL':
      return 4;
    case 'AT': {
      if (!Array.isArray(value) || value.length === 0)
        throw new InvalidFieldError(details(messageType, def), 'must be a non-empty array of tags');
      for (const tag of value) {
        if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff)
          throw new InvalidFieldError(
            details(messageType, def),
            `holds ${String(tag)}, not a 32-bit tag`,
          );
      }
      return value.length * 4;
    }
    default: {
      checkString(def, value, messageType);
      const n = (value as string).length;
      return n + (n & 1);
    }
  }
}

function checkUs(def: CommandElementDef, value: unknown, messageType: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff)
    throw new InvalidFieldError(
      details(messageType, def),
      `holds ${String(value)}, not an unsigned 16-bit integer (US, PS3.5 §6.2)`,
    );
}

function checkString(def: CommandElementDef, value: unknown, messageType: string): void {
  if (typeof value !== 'string')
    throw new InvalidFieldError(details(messageType, def), 'must be a string');
  const max = def.maxChars ?? 64;
  if (value.length > max)
    throw new InvalidFieldError(
      details(messageType, def),
      `is ${value.length} characters long; ${def.vr} allows at most ${max} (PS3.5 §6.2)`,
    );
  const ok = def.vr === 'UI' ? UI_PATTERN.test(value) : TEXT_PATTERN.test(value);
  if (!ok)
    throw new InvalidFieldError(
      details(messageType, def),
      `holds characters ${def.vr} does not allow (PS3.5 §6.2${def.vr === 'UI' ? ', §9.1' : ''}): ${JSON.stringify(value)}`,
    );
  if (def.vr === 'AE' && value.trim().length === 0)
    throw new InvalidFieldError(details(messageType, def), 'must not be all spaces (PS3.5 §6.2)');
}

function checkOther(el: RawCommandElement, set: CommandSet, messageType: string): void {
  const d = { messageType, field: 'otherElements', tag: el.tag };
  if (!Number.isInteger(el.tag) || el.tag >>> 16 !== 0 || el.tag === CommandTag.CommandGroupLength)
    throw new InvalidFieldError(d, 'must be a tag of group 0000 other than the group length');
  const def = COMMAND_ELEMENT_BY_TAG.get(el.tag);
  if (def && set[def.name] !== undefined)
    throw new InvalidFieldError(d, `duplicates the field ${def.name}`);
  if (el.value.length & 1) throw new InvalidFieldError(d, 'has an odd value length (PS3.5 §7.1.1)');
}

/**
 * Encodes a command set: group 0000, Implicit VR Little Endian (PS3.7
 * §6.3.1), elements in ascending tag order (PS3.5 §7.1), the Command Group
 * Length (0000,0000) computed first, one allocation. Values are checked
 * against their VR; `messageType` names the message in errors.
 */
export function encodeCommandSet(set: CommandSet, messageType = 'command set'): Uint8Array {
  const record = set as Record<string, unknown>;
  const present = presentElements(record);
  const n = present.length;
  // Value lengths of the present elements (one pass to size, one to write).
  const lengths = new Int32Array(n);
  let groupLength = 0;
  for (let i = 0; i < n; i++) {
    const def = COMMAND_ELEMENTS[present[i]!]!;
    const length = valueLength(def, record[def.name], messageType);
    lengths[i] = length;
    groupLength += 8 + length;
  }
  let others: RawCommandElement[] = [];
  if (set.otherElements !== undefined && set.otherElements.length > 0) {
    others = [...set.otherElements].sort((a, b) => a.tag - b.tag);
    let previous = -1;
    for (const el of others) {
      checkOther(el, set, messageType);
      if (el.tag === previous)
        throw new InvalidFieldError(
          { messageType, field: 'otherElements', tag: el.tag },
          'appears twice',
        );
      previous = el.tag;
      groupLength += 8 + el.value.length;
    }
  }

  // A slice of Node's shared small-buffer pool (no allocation of its own for the
  // usual few hundred bytes), zeroed so no byte of earlier use can leak.
  const size = GROUP_LENGTH_BYTES + groupLength;
  const pooled = Buffer.allocUnsafe(size).fill(0);
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
  const view = new DataView(pooled.buffer, pooled.byteOffset, size);
  // (0000,0000) UL: the byte count after this element to the end of the group (PS3.7 Table E.1-1).
  view.setUint32(0, CommandTag.CommandGroupLength, true);
  view.setUint32(4, 4, true);
  view.setUint32(8, groupLength, true);
  let pos = GROUP_LENGTH_BYTES;

  const writeHeader = (tag: number, length: number) => {
    // Implicit VR: group (2 LE), element (2 LE), length (4 LE), PS3.5 §7.1.3.
    view.setUint16(pos, tag >>> 16, true);
    view.setUint16(pos + 2, tag & 0xffff, true);
    view.setUint32(pos + 4, length, true);
    pos += 8;
  };
  const writeOther = (el: RawCommandElement) => {
    writeHeader(el.tag, el.value.length);
    out.set(el.value, pos);
    pos += el.value.length;
  };

  let o = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i]!;
    const def = COMMAND_ELEMENTS[present[i]!]!;
    const value = record[def.name];
    while (o < others.length && others[o]!.tag < def.tag) writeOther(others[o++]!);
    writeHeader(def.tag, length);
    switch (def.vr) {
      case 'US':
        view.setUint16(pos, value as number, true);
        break;
      case 'UL':
        view.setUint32(pos, value as number, true);
        break;
      case 'AT': {
        const tags = value as number[];
        for (let k = 0; k < tags.length; k++) {
          view.setUint16(pos + 4 * k, tags[k]! >>> 16, true);
          view.setUint16(pos + 4 * k + 2, tags[k]! & 0xffff, true);
        }
        break;
      }
      default: {
        const str = value as string;
        for (let k = 0; k < str.length; k++) out[pos + k] = str.charCodeAt(k);
        // UI pads with 00H, AE and LO with a space (PS3.5 §6.2).
        if (length > str.length) out[pos + str.length] = def.vr === 'UI' ? 0x00 : 0x20;
      }
    }
    pos += length;
  }
  while (o < others.length) writeOther(others[o++]!);
  return out;
}

/**
 * Walks a command set's elements, checking the structure: every tag in group
 * 0000, ascending and unique (PS3.5 §7.1), lengths within the bytes, and the
 * Command Group Length present first and equal to the rest (PS3.7 §6.3.1).
 */
function parseElements(bytes: Uint8Array, maxCommandLength: number): ParsedElement[] {
  if (bytes.length > maxCommandLength)
    throw new CommandTooLargeError(bytes.length, maxCommandLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: ParsedElement[] = [];
  let pos = 0;
  let lastTag = -1;
  while (pos < bytes.length) {
    if (bytes.length - pos < 8) throw new InvalidCommandSetError('truncated element header', pos);
    const group = view.getUint16(pos, true);
    const tag = ((group << 16) | view.getUint16(pos + 2, true)) >>> 0;
    const length = view.getUint32(pos + 4, true);
    if (group !== 0x0000)
      throw new InvalidCommandSetError(
        `element of group ${group.toString(16).padStart(4, '0')} in a command set, which holds group 0000 only (PS3.7 §6.3.1)`,
        pos,
      );
    if (tag <= lastTag)
      throw new InvalidCommandSetError(
        'elements out of ascending tag order or repeated (PS3.5 §7.1)',
        pos,
      );
    if (length === 0xffffffff)
      throw new InvalidCommandSetError(
        'undefined length in a command set (PS3.7 §6.3.1: Implicit VR, defined lengths)',
        pos,
      );
    if (length > bytes.length - pos - 8)
      throw new InvalidCommandSetError(`value length ${length} runs past the end`, pos);
    elements.push({ tag, offset: pos + 8, length });
    lastTag = tag;
    pos += 8 + length;
  }
  const first = elements[0];
  if (first === undefined || first.tag !== CommandTag.CommandGroupLength)
    throw new InvalidCommandSetError(
      'Command Group Length (0000,0000) must be the first element (PS3.7 Table E.1-1)',
      0,
    );
  if (first.length !== 4)
    throw new InvalidCommandSetError('Command Group Length (0000,0000) must be 4 bytes (UL)', 4);
  const declared = view.getUint32(first.offset, true);
  const actual = bytes.length - (first.offset + 4);
  if (declared !== actual)
    throw new InvalidCommandSetError(
      `Command Group Length (0000,0000) says ${declared} bytes but ${actual} follow (PS3.7 §6.3.1)`,
      first.offset,
    );
  return elements.slice(1);
}

function readString(bytes: Uint8Array, offset: number, length: number, vr: string): string {
  let end = offset + length;
  // Trailing padding (00H for UI, space otherwise) is not part of the value (PS3.5 §6.2).
  while (end > offset && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0x20)) end--;
  let start = offset;
  // Leading spaces are not significant in AE and LO (PS3.5 §6.2).
  if (vr !== 'UI') while (start < end && bytes[start] === 0x20) start++;
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/**
 * Decodes a command set (group 0000, Implicit VR Little Endian, PS3.7
 * §6.3.1). Checks the structure and each value's VR; does not check which
 * fields the message type needs (that is `decodeMessage`). Elements outside
 * PS3.7 Table E.1-1 land in `otherElements` as copies of their bytes.
 */
export function decodeCommandSet(
  bytes: Uint8Array,
  options: DecodeCommandSetOptions = {},
): CommandSet {
  return decodeParsed(
    bytes,
    parseElements(bytes, options.maxCommandLength ?? DEFAULT_MAX_COMMAND_LENGTH),
  );
}

function decodeParsed(bytes: Uint8Array, elements: ParsedElement[]): CommandSet {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const set: CommandSet = {};
  const record = set as Record<string, unknown>;
  for (const { tag, offset, length } of elements) {
    const def = COMMAND_ELEMENT_BY_TAG.get(tag);
    if (def === undefined) {
      set.otherElements ??= [];
      set.otherElements.push({ tag, value: bytes.slice(offset, offset + length) });
      continue;
    }
    switch (def.vr) {
      case 'US':
        if (length !== 2)
          throw new InvalidCommandSetError(
            `${def.name} (US) has length ${length}, not 2 (PS3.5 §6.2)`,
            offset - 4,
          );
        record[def.name] = view.getUint16(offset, true);
        break;
      case 'AT': {
        if (length === 0 || length % 4 !== 0)
          throw new InvalidCommandSetError(
            `${def.name} (AT) has length ${length}, not a positive multiple of 4 (PS3.5 §6.2)`,
            offset - 4,
          );
        const tags: number[] = [];
        for (let p = offset; p < offset + length; p += 4)
          tags.push(((view.getUint16(p, true) << 16) | view.getUint16(p + 2, true)) >>> 0);
        record[def.name] = tags;
        break;
      }
      default: {
        const s = readString(bytes, offset, length, def.vr);
        try {
          checkString(def, s, 'command set');
        } catch (cause) {
          throw new InvalidCommandSetError(`${def.name} (${def.vr}) is invalid`, offset, { cause });
        }
        record[def.name] = s;
      }
    }
  }
  return set;
}

/**
 * Decodes a command set and also returns a copy of each element's raw value
 * bytes by tag, so a message decoder can pass elements it does not define
 * through unchanged. Internal to the package.
 */
export function decodeCommandSetWithRaw(
  bytes: Uint8Array,
  options: DecodeCommandSetOptions = {},
): { set: CommandSet; raw: (tag: number) => RawCommandElement | undefined } {
  const elements = parseElements(bytes, options.maxCommandLength ?? DEFAULT_MAX_COMMAND_LENGTH);
  const set = decodeParsed(bytes, elements);
  const raw = (tag: number) => {
    const el = elements.find((e) => e.tag === tag);
    return el && { tag, value: bytes.slice(el.offset, el.offset + el.length) };
  };
  return { set, raw };
}
