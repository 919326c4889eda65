import type { AAssociateAc, PresentationContextAc } from './a-associate-ac.js';
import type { AAssociateRq, PresentationContextRq } from './a-associate-rq.js';
import { readAeTitle } from './ae-title.js';
import { PduError, PduErrorCode } from './errors.js';
import { ItemType } from './item-type.js';
import type { PresentationDataValue } from './p-data-tf.js';
import type { Pdu } from './pdu.js';
import { PDU_HEADER_LENGTH, PduType } from './pdu-type.js';
import { latin1, readUid } from './uid.js';
import type {
  CommonExtendedNegotiation,
  ExtendedNegotiation,
  RoleSelection,
  UnknownItem,
  UserIdentityAc,
  UserIdentityRq,
  UserInformation,
} from './user-information.js';

/** Length of the fixed fields of the A-ASSOCIATE-RQ/AC before the items (PS3.8 Table 9-11). */
const ASSOCIATE_FIXED_LENGTH = 68;
/** Length of the fixed-size PDUs A-ASSOCIATE-RJ, A-RELEASE-RQ/RP, A-ABORT (PS3.8 §9.3.4-9.3.8). */
export const FIXED_PDU_LENGTH = 4;

function fail(
  code: PduErrorCode,
  message: string,
  field: string,
  offset: number,
  pduType: number,
): never {
  throw new PduError(code, `${message} (at byte ${offset})`, { field, offset, pduType });
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

/**
 * Decodes one complete PDU: `bytes` holds exactly the 6-byte header and the
 * number of bytes its length field announces (PS3.8 §9.3.1). P-DATA-TF
 * presentation data values are views into `bytes`. Throws a {@link PduError}
 * for any malformed input.
 */
export function decodePdu(bytes: Uint8Array): Pdu {
  // Views handed out are plain Uint8Arrays, even when a Node Buffer comes in.
  if (bytes.constructor !== Uint8Array) bytes = plain(bytes);
  if (bytes.length < PDU_HEADER_LENGTH) {
    fail(PduErrorCode.INVALID_LENGTH, 'a PDU needs its 6-byte header', 'pdu-length', 0, 0);
  }
  const type = bytes[0]!;
  const length = u32(bytes, 2);
  if (length !== bytes.length - PDU_HEADER_LENGTH) {
    fail(
      PduErrorCode.INVALID_LENGTH,
      `PDU length ${length} but ${bytes.length - PDU_HEADER_LENGTH} bytes follow the header`,
      'pdu-length',
      2,
      type,
    );
  }
  switch (type) {
    case PduType.P_DATA_TF:
      return { type, pdvs: decodePdvs(bytes, 0, bytes.length) };
    case PduType.A_ASSOCIATE_RQ:
    case PduType.A_ASSOCIATE_AC:
      return decodeAssociate(bytes, type);
    case PduType.A_ASSOCIATE_RJ:
      checkFixedLength(length, type);
      // PS3.8 §9.3.4 Table 9-21: reserved, result, source, reason/diag.
      return { type, result: bytes[7]!, source: bytes[8]!, reason: bytes[9]! };
    case PduType.A_RELEASE_RQ:
    case PduType.A_RELEASE_RP:
      // PS3.8 §9.3.6-9.3.7: four reserved bytes, not tested.
      checkFixedLength(length, type);
      return { type };
    case PduType.A_ABORT:
      checkFixedLength(length, type);
      // PS3.8 §9.3.8 Table 9-26: reserved, reserved, source, reason/diag.
      return { type, source: bytes[8]!, reason: bytes[9]! };
    default:
      throw unknownType(type);
  }
}

/** The error for a PDU type outside 01H..07H (PS3.8 §9.3.1). @internal */
export function unknownType(type: number): PduError {
  return new PduError(
    PduErrorCode.UNKNOWN_TYPE,
    `unrecognized PDU type ${hex(type)} (PS3.8 §9.3.1) (at byte 0)`,
    { field: 'pdu-type', offset: 0, pduType: type },
  );
}

/** A plain Uint8Array view of the same memory (no copy). @internal */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The PDUs of a fixed 4-byte length (PS3.8 §9.3.4, §9.3.6-9.3.8). @internal */
export function isFixedLengthPdu(type: number): boolean {
  return (
    type === PduType.A_ASSOCIATE_RJ ||
    type === PduType.A_RELEASE_RQ ||
    type === PduType.A_RELEASE_RP ||
    type === PduType.A_ABORT
  );
}

/** Checks a fixed-size PDU's length field (PS3.8 §9.3.4, §9.3.6-9.3.8). @internal */
export function checkFixedLength(length: number, type: number): void {
  if (length !== FIXED_PDU_LENGTH) {
    fail(
      PduErrorCode.INVALID_LENGTH,
      `PDU type 0x0${type} has a length of 4, not ${length} (PS3.8 §9.3.${type === 3 ? 4 : type + 1})`,
      'pdu-length',
      2,
      type,
    );
  }
}

/** PDV items of a P-DATA-TF, PS3.8 §9.3.5.1 Table 9-23 and Annex E.2. */
/**
 * The PDV items of the P-DATA-TF at [start, end) of `bytes` (a plain
 * Uint8Array), PS3.8 §9.3.5.1 Table 9-23 and Annex E.2. Error offsets count
 * from `start`. Used by {@link PduDecoder} to decode in place. @internal
 */
export function decodePdvs(bytes: Uint8Array, start: number, end: number): PresentationDataValue[] {
  const pdvs: PresentationDataValue[] = [];
  let o = start + PDU_HEADER_LENGTH;
  if (o === end) {
    fail(
      PduErrorCode.MISSING_ITEM,
      'a P-DATA-TF holds one or more PDV items (PS3.8 §9.3.5)',
      'pdv-item',
      o - start,
      4,
    );
  }
  const buffer = bytes.buffer;
  const base = bytes.byteOffset;
  while (o < end) {
    if (end - o < 6) {
      fail(
        PduErrorCode.INVALID_LENGTH,
        'truncated PDV item header (PS3.8 §9.3.5.1)',
        'pdv-item/item-length',
        o - start,
        4,
      );
    }
    const itemLength = u32(bytes, o);
    // The item length counts the context ID and the message control header (PS3.8 Table 9-23).
    if (itemLength < 2 || itemLength > end - o - 4) {
      fail(
        PduErrorCode.INVALID_LENGTH,
        `PDV item length ${itemLength} outside 2..${end - o - 4} (PS3.8 §9.3.5.1)`,
        'pdv-item/item-length',
        o - start,
        4,
      );
    }
    const control = bytes[o + 5]!;
    pdvs.push({
      contextId: bytes[o + 4]!,
      // PS3.8 Annex E.2: bit 0 command/data, bit 1 last/not last, bits 2-7 not tested.
      command: (control & 1) !== 0,
      last: (control & 2) !== 0,
      data: new Uint8Array(buffer, base + o + 6, itemLength - 2),
    });
    o += 4 + itemLength;
  }
  return pdvs;
}

/** Walks the items in [start, end): calls `visit(type, valueStart, valueEnd, itemStart)`. */
function forEachItem(
  bytes: Uint8Array,
  start: number,
  end: number,
  parent: string,
  pduType: number,
  visit: (type: number, valueStart: number, valueEnd: number, itemStart: number) => void,
): void {
  let o = start;
  while (o < end) {
    // PS3.8 §9.3.2: item-type, reserved, 2-byte item-length, then the value.
    if (end - o < 4) {
      fail(
        PduErrorCode.INVALID_LENGTH,
        `truncated item header in ${parent}`,
        `${parent}/item-length`,
        o,
        pduType,
      );
    }
    const length = u16(bytes, o + 2);
    if (length > end - o - 4) {
      fail(
        PduErrorCode.INVALID_LENGTH,
        `item 0x${bytes[o]!.toString(16)} of length ${length} overruns ${parent} (${end - o - 4} bytes left)`,
        `${parent}/item-length`,
        o + 2,
        pduType,
      );
    }
    visit(bytes[o]!, o + 4, o + 4 + length, o);
    o += 4 + length;
  }
}

const KNOWN_ITEM_TYPES = new Set<number>(Object.values(ItemType));

function hex(type: number): string {
  return `0x${type.toString(16).padStart(2, '0')}`;
}

function unexpected(type: number, where: string, offset: number, pduType: number): never {
  return fail(
    PduErrorCode.UNEXPECTED_ITEM,
    `item ${hex(type)} is not allowed in ${where}`,
    `${where}/item-type`,
    offset,
    pduType,
  );
}

function duplicate(name: string, offset: number, pduType: number): never {
  return fail(PduErrorCode.DUPLICATE_ITEM, `more than one ${name} item`, name, offset, pduType);
}

function missing(name: string, where: string, offset: number, pduType: number): never {
  return fail(PduErrorCode.MISSING_ITEM, `${where} lacks its ${name} item`, name, offset, pduType);
}

function expectLength(
  actual: number,
  expected: number,
  field: string,
  offset: number,
  pduType: number,
): void {
  if (actual !== expected) {
    fail(
      PduErrorCode.INVALID_LENGTH,
      `${field} item length ${actual}, expected ${expected}`,
      field,
      offset,
      pduType,
    );
  }
}

function flag(value: number, field: string, offset: number, pduType: number): boolean {
  if (value > 1) {
    fail(PduErrorCode.INVALID_VALUE, `${field} is ${value}, not 0 or 1`, field, offset, pduType);
  }
  return value === 1;
}

/** A-ASSOCIATE-RQ (PS3.8 §9.3.2, Table 9-11) and A-ASSOCIATE-AC (PS3.8 §9.3.3, Table 9-17). */
function decodeAssociate(bytes: Uint8Array, type: 1 | 2): AAssociateRq | AAssociateAc {
  const rq = type === PduType.A_ASSOCIATE_RQ;
  const end = bytes.length;
  if (end - PDU_HEADER_LENGTH < ASSOCIATE_FIXED_LENGTH) {
    fail(
      PduErrorCode.INVALID_LENGTH,
      `A-ASSOCIATE PDU length ${end - PDU_HEADER_LENGTH} below its ${ASSOCIATE_FIXED_LENGTH} fixed bytes (PS3.8 Table 9-11)`,
      'pdu-length',
      2,
      type,
    );
  }
  const protocolVersion = u16(bytes, 6);
  // PS3.8 §9.3.3: in the AC these fields are echoed and "shall not be tested when received".
  const calledAeTitle = readAeTitle(bytes, 10, rq, 'called-ae-title', type);
  const callingAeTitle = readAeTitle(bytes, 26, rq, 'calling-ae-title', type);
  let applicationContextName: string | undefined;
  const presentationContexts: Array<PresentationContextRq | PresentationContextAc> = [];
  let userInformation: UserInformation | undefined;
  const unknownItems: UnknownItem[] = [];
  const pduName = rq ? 'a-associate-rq' : 'a-associate-ac';

  forEachItem(bytes, 74, end, pduName, type, (itemType, vs, ve, at) => {
    switch (itemType) {
      case ItemType.APPLICATION_CONTEXT:
        // PS3.8 §9.3.2.1: exactly one Application Context Item.
        if (applicationContextName !== undefined) duplicate('application-context', at, type);
        applicationContextName = readUid(bytes, vs, ve, 'application-context-name', type);
        return;
      case ItemType.PRESENTATION_CONTEXT_RQ:
        if (!rq) unexpected(itemType, pduName, at, type);
        presentationContexts.push(decodeContextRq(bytes, vs, ve, at));
        return;
      case ItemType.PRESENTATION_CONTEXT_AC:
        if (rq) unexpected(itemType, pduName, at, type);
        presentationContexts.push(decodeContextAc(bytes, vs, ve, at));
        return;
      case ItemType.USER_INFORMATION:
        // PS3.8 §9.3.2.3: exactly one User Information Item.
        if (userInformation !== undefined) duplicate('user-information', at, type);
        userInformation = decodeUserInformation(bytes, vs, ve, type);
        return;
      default:
        if (KNOWN_ITEM_TYPES.has(itemType)) unexpected(itemType, pduName, at, type);
        unknownItems.push({ type: itemType, data: bytes.subarray(vs, ve) });
    }
  });
  if (applicationContextName === undefined) missing('application-context', pduName, 74, type);
  if (presentationContexts.length === 0) missing('presentation-context', pduName, 74, type);
  if (userInformation === undefined) missing('user-information', pduName, 74, type);
  const pdu = {
    type,
    protocolVersion,
    calledAeTitle,
    callingAeTitle,
    applicationContextName,
    presentationContexts,
    userInformation,
  } as AAssociateRq | AAssociateAc;
  if (unknownItems.length > 0) pdu.unknownItems = unknownItems;
  return pdu;
}

/** Presentation Context Item (RQ), PS3.8 §9.3.2.2 Table 9-13. */
function decodeContextRq(
  bytes: Uint8Array,
  vs: number,
  ve: number,
  at: number,
): PresentationContextRq {
  const pduType = PduType.A_ASSOCIATE_RQ;
  if (ve - vs < 4) {
    fail(
      PduErrorCode.INVALID_LENGTH,
      'presentation context item shorter than 4 bytes',
      'presentation-context/item-length',
      at + 2,
      pduType,
    );
  }
  const id = bytes[vs]!;
  let abstractSyntax: string | undefined;
  const transferSyntaxes: string[] = [];
  const unknownItems: UnknownItem[] = [];
  forEachItem(bytes, vs + 4, ve, 'presentation-context', pduType, (t, s, e, sub) => {
    if (t === ItemType.ABSTRACT_SYNTAX) {
      // PS3.8 §9.3.2.2: one Abstract Syntax Sub-Item.
      if (abstractSyntax !== undefined) duplicate('abstract-syntax', sub, pduType);
      abstractSyntax = readUid(bytes, s, e, 'abstract-syntax-name', pduType);
    } else if (t === ItemType.TRANSFER_SYNTAX) {
      transferSyntaxes.push(readUid(bytes, s, e, 'transfer-syntax-name', pduType));
    } else if (KNOWN_ITEM_TYPES.has(t)) {
      unexpected(t, 'presentation-context', sub, pduType);
    } else {
      unknownItems.push({ type: t, data: bytes.subarray(s, e) });
    }
  });
  if (abstractSyntax === undefined) missing('abstract-syntax', 'presentation context', at, pduType);
  // PS3.8 §9.3.2.2: one or more Transfer Syntax Sub-Items.
  if (transferSyntaxes.length === 0)
    missing('transfer-syntax', 'presentation context', at, pduType);
  const context: PresentationContextRq = { id, abstractSyntax, transferSyntaxes };
  if (unknownItems.length > 0) context.unknownItems = unknownItems;
  return context;
}

/** Presentation Context Item (AC), PS3.8 §9.3.3.2 Table 9-18. */
function decodeContextAc(
  bytes: Uint8Array,
  vs: number,
  ve: number,
  at: number,
): PresentationContextAc {
  const pduType = PduType.A_ASSOCIATE_AC;
  if (ve - vs < 4) {
    fail(
      PduErrorCode.INVALID_LENGTH,
      'presentation context item shorter than 4 bytes',
      'presentation-context/item-length',
      at + 2,
      pduType,
    );
  }
  const id = bytes[vs]!;
  const result = bytes[vs + 2]!;
  let transferSyntax: string | undefined;
  const unknownItems: UnknownItem[] = [];
  forEachItem(bytes, vs + 4, ve, 'presentation-context', pduType, (t, s, e, sub) => {
    if (t === ItemType.TRANSFER_SYNTAX) {
      if (transferSyntax !== undefined) duplicate('transfer-syntax', sub, pduType);
      // PS3.8 §9.3.3.2.1: not significant, and not tested, unless the context is accepted.
      transferSyntax = readUid(bytes, s, e, 'transfer-syntax-name', pduType, result !== 0);
    } else if (KNOWN_ITEM_TYPES.has(t)) {
      unexpected(t, 'presentation-context', sub, pduType);
    } else {
      unknownItems.push({ type: t, data: bytes.subarray(s, e) });
    }
  });
  if (transferSyntax === undefined) {
    if (result === 0) missing('transfer-syntax', 'accepted presentation context', at, pduType);
    transferSyntax = '';
  }
  const context: PresentationContextAc = { id, result, transferSyntax };
  if (unknownItems.length > 0) context.unknownItems = unknownItems;
  return context;
}

/** User Information Item and its sub-items, PS3.8 §9.3.2.3, Annex D.1; PS3.7 Annex D.3.3. */
function decodeUserInformation(
  bytes: Uint8Array,
  vs: number,
  ve: number,
  pduType: number,
): UserInformation {
  const rq = pduType === PduType.A_ASSOCIATE_RQ;
  let maxLength: number | undefined;
  let implementationClassUid: string | undefined;
  let implementationVersionName: string | undefined;
  let asyncOperationsWindow: { maxInvoked: number; maxPerformed: number } | undefined;
  let userIdentity: UserIdentityRq | UserIdentityAc | undefined;
  const roleSelections: RoleSelection[] = [];
  const extendedNegotiations: ExtendedNegotiation[] = [];
  const commonExtendedNegotiations: CommonExtendedNegotiation[] = [];
  const unknownItems: UnknownItem[] = [];
  const where = 'user-information';

  forEachItem(bytes, vs, ve, where, pduType, (t, s, e, at) => {
    const len = e - s;
    switch (t) {
      case ItemType.MAXIMUM_LENGTH:
        // PS3.8 Annex D.1 Table D.1-1: a 4-byte maximum-length-received.
        if (maxLength !== undefined) duplicate('maximum-length', at, pduType);
        expectLength(len, 4, 'maximum-length', at + 2, pduType);
        maxLength = u32(bytes, s);
        return;
      case ItemType.IMPLEMENTATION_CLASS_UID:
        // PS3.7 Annex D.3.3.2 Table D.3-1.
        if (implementationClassUid !== undefined)
          duplicate('implementation-class-uid', at, pduType);
        implementationClassUid = readUid(bytes, s, e, 'implementation-class-uid', pduType);
        return;
      case ItemType.IMPLEMENTATION_VERSION_NAME: {
        // PS3.7 Annex D.3.3.2 Table D.3-3: 1-16 characters; read as sent.
        if (implementationVersionName !== undefined)
          duplicate('implementation-version-name', at, pduType);
        implementationVersionName = latin1(bytes, s, e);
        return;
      }
      case ItemType.ASYNCHRONOUS_OPERATIONS_WINDOW:
        // PS3.7 Annex D.3.3.3 Table D.3-7: two 2-byte counts.
        if (asyncOperationsWindow !== undefined)
          duplicate('asynchronous-operations-window', at, pduType);
        expectLength(len, 4, 'asynchronous-operations-window', at + 2, pduType);
        asyncOperationsWindow = { maxInvoked: u16(bytes, s), maxPerformed: u16(bytes, s + 2) };
        return;
      case ItemType.ROLE_SELECTION: {
        // PS3.7 Annex D.3.3.4 Table D.3-9: UID-length, SOP-class-uid, SCU-role, SCP-role.
        if (len < 2) expectLength(len, 4, 'role-selection', at + 2, pduType);
        const uidLength = u16(bytes, s);
        expectLength(len, uidLength + 4, 'role-selection', at + 2, pduType);
        roleSelections.push({
          sopClassUid: readUid(
            bytes,
            s + 2,
            s + 2 + uidLength,
            'role-selection/sop-class-uid',
            pduType,
          ),
          scuRole: flag(bytes[e - 2]!, 'role-selection/scu-role', e - 2, pduType),
          scpRole: flag(bytes[e - 1]!, 'role-selection/scp-role', e - 1, pduType),
        });
        return;
      }
      case ItemType.SOP_CLASS_EXTENDED_NEGOTIATION: {
        // PS3.7 Annex D.3.3.5 Table D.3-11: SOP-class-uid-length, UID, application information.
        const uidLength = len >= 2 ? u16(bytes, s) : -1;
        if (uidLength < 0 || uidLength > len - 2) {
          fail(
            PduErrorCode.INVALID_LENGTH,
            'SOP-class-uid-length overruns its sub-item',
            'extended-negotiation/sop-class-uid-length',
            s,
            pduType,
          );
        }
        extendedNegotiations.push({
          sopClassUid: readUid(
            bytes,
            s + 2,
            s + 2 + uidLength,
            'extended-negotiation/sop-class-uid',
            pduType,
          ),
          serviceClassApplicationInformation: bytes.subarray(s + 2 + uidLength, e),
        });
        return;
      }
      case ItemType.SOP_CLASS_COMMON_EXTENDED_NEGOTIATION:
        commonExtendedNegotiations.push(decodeCommonExtendedNegotiation(bytes, s, e, pduType));
        return;
      case ItemType.USER_IDENTITY_RQ: {
        // PS3.7 Annex D.3.3.7.1 Table D.3-14.
        if (!rq) unexpected(t, where, at, pduType);
        if (userIdentity !== undefined) duplicate('user-identity', at, pduType);
        const field = 'user-identity/primary-field-length';
        if (len < 4)
          fail(
            PduErrorCode.INVALID_LENGTH,
            'user identity sub-item shorter than 6 bytes',
            field,
            at + 2,
            pduType,
          );
        const primaryLength = u16(bytes, s + 2);
        if (primaryLength + 6 > len)
          fail(
            PduErrorCode.INVALID_LENGTH,
            'primary-field-length overruns its sub-item',
            field,
            s + 2,
            pduType,
          );
        const secondaryAt = s + 4 + primaryLength;
        const secondaryLength = u16(bytes, secondaryAt);
        expectLength(len, primaryLength + secondaryLength + 6, 'user-identity', at + 2, pduType);
        userIdentity = {
          type: bytes[s]!,
          positiveResponseRequested: flag(
            bytes[s + 1]!,
            'user-identity/positive-response-requested',
            s + 1,
            pduType,
          ),
          primaryField: bytes.subarray(s + 4, secondaryAt),
          secondaryField: bytes.subarray(secondaryAt + 2, e),
        };
        return;
      }
      case ItemType.USER_IDENTITY_AC: {
        // PS3.7 Annex D.3.3.7.2 Table D.3-15.
        if (rq) unexpected(t, where, at, pduType);
        if (userIdentity !== undefined) duplicate('user-identity', at, pduType);
        if (len < 2) expectLength(len, 2, 'user-identity', at + 2, pduType);
        expectLength(len, u16(bytes, s) + 2, 'user-identity', at + 2, pduType);
        userIdentity = { serverResponse: bytes.subarray(s + 2, e) };
        return;
      }
      default:
        if (KNOWN_ITEM_TYPES.has(t)) unexpected(t, where, at, pduType);
        unknownItems.push({ type: t, data: bytes.subarray(s, e) });
    }
  });
  // PS3.8 Annex D.1 and PS3.7 Annex D.3.3.2: both sub-items are mandatory.
  if (maxLength === undefined) missing('maximum-length', where, vs - 4, pduType);
  if (implementationClassUid === undefined)
    missing('implementation-class-uid', where, vs - 4, pduType);
  const info: UserInformation = {
    maxLength,
    implementationClassUid,
    roleSelections,
    extendedNegotiations,
    commonExtendedNegotiations,
    unknownItems,
  };
  if (implementationVersionName !== undefined)
    info.implementationVersionName = implementationVersionName;
  if (asyncOperationsWindow !== undefined) info.asyncOperationsWindow = asyncOperationsWindow;
  if (userIdentity !== undefined) info.userIdentity = userIdentity;
  return info;
}

/** SOP Class Common Extended Negotiation Sub-Item, PS3.7 Annex D.3.3.6 Tables D.3-12 and D.3-13. */
function decodeCommonExtendedNegotiation(
  bytes: Uint8Array,
  s: number,
  e: number,
  pduType: number,
): CommonExtendedNegotiation {
  const name = 'common-extended-negotiation';
  let o = s;
  const field = (what: string, count: number): number => {
    if (e - o < 2)
      fail(PduErrorCode.INVALID_LENGTH, `${what} missing`, `${name}/${what}`, o, pduType);
    const length = u16(bytes, o);
    if (length > e - o - 2 || (count >= 0 && count !== length)) {
      fail(
        PduErrorCode.INVALID_LENGTH,
        `${what} ${length} overruns its sub-item`,
        `${name}/${what}`,
        o,
        pduType,
      );
    }
    o += 2;
    return length;
  };
  let length = field('sop-class-uid-length', -1);
  const sopClassUid = readUid(bytes, o, o + length, `${name}/sop-class-uid`, pduType);
  o += length;
  length = field('service-class-uid-length', -1);
  const serviceClassUid = readUid(bytes, o, o + length, `${name}/service-class-uid`, pduType);
  o += length;
  // The identification length must cover exactly the rest of the sub-item.
  field('related-general-sop-class-identification-length', e - o - 2);
  const relatedGeneralSopClassUids: string[] = [];
  while (o < e) {
    length = field('related-general-sop-class-uid-length', -1);
    relatedGeneralSopClassUids.push(
      readUid(bytes, o, o + length, `${name}/related-general-sop-class-uid`, pduType),
    );
    o += length;
  }
  return { sopClassUid, serviceClassUid, relatedGeneralSopClassUids };
}
