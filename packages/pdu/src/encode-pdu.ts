import type { AAssociateAc, PresentationContextAc } from './a-associate-ac.js';
import type { AAssociateRq, PresentationContextRq } from './a-associate-rq.js';
import { checkAeTitle, writeAeTitle } from './ae-title.js';
import { PduError, PduErrorCode } from './errors.js';
import { ItemType } from './item-type.js';
import type { PresentationDataValue } from './p-data-tf.js';
import type { Pdu } from './pdu.js';
import { PDU_HEADER_LENGTH, PduType } from './pdu-type.js';
import { checkUid } from './uid.js';
import type {
  UnknownItem,
  UserIdentityAc,
  UserIdentityRq,
  UserInformation,
} from './user-information.js';

const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;

function invalid(message: string, field: string, pduType: number): never {
  throw new PduError(PduErrorCode.INVALID_VALUE, message, { field, pduType });
}

function checkInt(value: number, min: number, max: number, field: string, pduType: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    invalid(`${field} is ${value}, not an integer in ${min}..${max}`, field, pduType);
  }
  return value;
}

/** PS3.8 §9.3.2.2: presentation-context-ID values are odd integers between 1 and 255. */
function checkContextId(id: number, field: string, pduType: number): number {
  if (!Number.isInteger(id) || id < 1 || id > 255 || id % 2 === 0) {
    invalid(`${field} is ${id}, not an odd integer in 1..255 (PS3.8 §9.3.2.2)`, field, pduType);
  }
  return id;
}

/** A cursor over the output buffer: big-endian writes (PS3.8 §9.3.1). */
class Writer {
  o = 0;
  constructor(readonly b: Uint8Array) {}
  u8(v: number): void {
    this.b[this.o++] = v;
  }
  u16(v: number): void {
    this.b[this.o++] = v >>> 8;
    this.b[this.o++] = v & 0xff;
  }
  u32(v: number): void {
    this.b[this.o++] = v >>> 24;
    this.b[this.o++] = (v >>> 16) & 0xff;
    this.b[this.o++] = (v >>> 8) & 0xff;
    this.b[this.o++] = v & 0xff;
  }
  ascii(s: string): void {
    const b = this.b;
    const o = this.o;
    for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i);
    this.o = o + s.length;
  }
  bytes(v: Uint8Array): void {
    this.b.set(v, this.o);
    this.o += v.length;
  }
  /** An item header: type, reserved 00H, 2-byte length (PS3.8 §9.3.2). */
  item(type: number, length: number): void {
    this.u8(type);
    this.u8(0);
    this.u16(length);
  }
}

/**
 * Encodes any PDU into one freshly allocated buffer: every value is checked
 * and every length computed first (PS3.8 §9.3). A P-DATA-TF's data are
 * copied; use {@link encodePDataTf} for a gathered write without the copy.
 * Throws a {@link PduError} for values the standard does not allow.
 */
export function encodePdu(pdu: Pdu): Uint8Array {
  switch (pdu.type) {
    case PduType.P_DATA_TF: {
      const length = pdataLength(pdu.pdvs);
      const w = new Writer(new Uint8Array(PDU_HEADER_LENGTH + length));
      header(w, pdu.type, length);
      for (const pdv of pdu.pdvs) {
        pdvHeader(w, pdv);
        w.bytes(pdv.data);
      }
      return w.b;
    }
    case PduType.A_ASSOCIATE_RQ:
    case PduType.A_ASSOCIATE_AC:
      return encodeAssociate(pdu);
    case PduType.A_ASSOCIATE_RJ:
      // PS3.8 §9.3.4 Table 9-21: reserved, result, source, reason/diag.
      return fixed(pdu.type, 0, [
        checkInt(pdu.result, 0, 255, 'result', pdu.type),
        checkInt(pdu.source, 0, 255, 'source', pdu.type),
        checkInt(pdu.reason, 0, 255, 'reason', pdu.type),
      ]);
    case PduType.A_RELEASE_RQ:
    case PduType.A_RELEASE_RP:
      // PS3.8 §9.3.6-9.3.7: four reserved bytes sent as 00H.
      return fixed(pdu.type, 0, [0, 0, 0]);
    case PduType.A_ABORT:
      // PS3.8 §9.3.8 Table 9-26: reserved, reserved, source, reason/diag.
      return fixed(pdu.type, 0, [
        0,
        checkInt(pdu.source, 0, 255, 'source', pdu.type),
        checkInt(pdu.reason, 0, 255, 'reason', pdu.type),
      ]);
    default:
      return invalid(
        `unknown PDU type ${(pdu as { type: unknown }).type}`,
        'pdu-type',
        Number((pdu as { type: unknown }).type),
      );
  }
}

function header(w: Writer, type: number, length: number): void {
  // PS3.8 §9.3.1: PDU-type, reserved 00H, 4-byte PDU-length.
  w.u8(type);
  w.u8(0);
  w.u32(length);
}

function fixed(type: number, b0: number, rest: number[]): Uint8Array {
  const w = new Writer(new Uint8Array(PDU_HEADER_LENGTH + 4));
  header(w, type, 4);
  w.u8(b0);
  for (const v of rest) w.u8(v);
  return w.b;
}

function pdataLength(pdvs: readonly PresentationDataValue[]): number {
  if (pdvs.length === 0) {
    throw new PduError(
      PduErrorCode.MISSING_ITEM,
      'a P-DATA-TF holds one or more PDV items (PS3.8 §9.3.5)',
      {
        field: 'pdv-item',
        pduType: PduType.P_DATA_TF,
      },
    );
  }
  let length = 0;
  for (const pdv of pdvs) {
    checkContextId(pdv.contextId, 'pdv-item/presentation-context-id', PduType.P_DATA_TF);
    length += 6 + pdv.data.length;
  }
  if (length > MAX_U32)
    invalid(`P-DATA-TF length ${length} exceeds 2^32-1`, 'pdu-length', PduType.P_DATA_TF);
  return length;
}

/** PDV item header: 4-byte item length, context ID, message control header (PS3.8 §9.3.5.1, Annex E.2). */
function pdvHeader(w: Writer, pdv: PresentationDataValue): void {
  w.u32(pdv.data.length + 2);
  w.u8(pdv.contextId);
  w.u8((pdv.command ? 1 : 0) | (pdv.last ? 2 : 0));
}

/**
 * Encodes a P-DATA-TF as a gathered list for a vectored write: small headers
 * (all in one small allocation) and the PDVs' data as the very same views,
 * never copied (PS3.8 §9.3.5). Concatenated, the list is the PDU.
 */
export function encodePDataTf(pdvs: readonly PresentationDataValue[]): Uint8Array[] {
  const length = pdataLength(pdvs);
  const headers = new Uint8Array(PDU_HEADER_LENGTH + 6 * pdvs.length);
  const w = new Writer(headers);
  header(w, PduType.P_DATA_TF, length);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const pdv of pdvs) {
    pdvHeader(w, pdv);
    if (pdv.data.length > 0) {
      out.push(headers.subarray(start, w.o), pdv.data);
      start = w.o;
    }
  }
  if (start < headers.length) out.push(headers.subarray(start));
  return out;
}

/** Checked values of a presentation context, ready to write. */
interface ContextPlan {
  length: number;
  write(w: Writer): void;
}

function unknownLength(
  items: readonly UnknownItem[] | undefined,
  where: string,
  pduType: number,
): number {
  let length = 0;
  for (const item of items ?? []) {
    checkInt(item.type, 0, 255, `${where}/unknown-item/type`, pduType);
    if (item.data.length > MAX_U16)
      invalid(`unknown item longer than 65535 bytes`, `${where}/unknown-item`, pduType);
    length += 4 + item.data.length;
  }
  return length;
}

function writeUnknown(w: Writer, items: readonly UnknownItem[] | undefined): void {
  for (const item of items ?? []) {
    w.item(item.type, item.data.length);
    w.bytes(item.data);
  }
}

function itemLength(length: number, field: string, pduType: number): number {
  if (length > MAX_U16) invalid(`${field} item of ${length} bytes exceeds 65535`, field, pduType);
  return length;
}

/** Presentation Context Item (RQ), PS3.8 §9.3.2.2 Table 9-13. */
function planContextRq(pc: PresentationContextRq, pduType: number): ContextPlan {
  checkContextId(pc.id, 'presentation-context-id', pduType);
  const abstractSyntax = checkUid(pc.abstractSyntax, 'abstract-syntax-name');
  if (pc.transferSyntaxes.length === 0) {
    throw new PduError(
      PduErrorCode.MISSING_ITEM,
      'a presentation context proposes one or more transfer syntaxes (PS3.8 §9.3.2.2)',
      {
        field: 'transfer-syntax',
        pduType,
      },
    );
  }
  let value = 4 + 4 + abstractSyntax.length;
  for (const ts of pc.transferSyntaxes) value += 4 + checkUid(ts, 'transfer-syntax-name').length;
  value += unknownLength(pc.unknownItems, 'presentation-context', pduType);
  itemLength(value, 'presentation-context', pduType);
  return {
    length: 4 + value,
    write(w) {
      w.item(ItemType.PRESENTATION_CONTEXT_RQ, value);
      w.u8(pc.id);
      w.u8(0);
      w.u8(0);
      w.u8(0);
      w.item(ItemType.ABSTRACT_SYNTAX, abstractSyntax.length);
      w.ascii(abstractSyntax);
      for (const ts of pc.transferSyntaxes) {
        w.item(ItemType.TRANSFER_SYNTAX, ts.length);
        w.ascii(ts);
      }
      writeUnknown(w, pc.unknownItems);
    },
  };
}

/** Presentation Context Item (AC), PS3.8 §9.3.3.2 Table 9-18. */
function planContextAc(pc: PresentationContextAc, pduType: number): ContextPlan {
  checkContextId(pc.id, 'presentation-context-id', pduType);
  checkInt(pc.result, 0, 255, 'presentation-context/result', pduType);
  // PS3.8 §9.3.3.2.1: the transfer syntax is significant only when accepted.
  const ts =
    pc.result === 0 || pc.transferSyntax !== ''
      ? checkUid(pc.transferSyntax, 'transfer-syntax-name')
      : '';
  const value = 4 + 4 + ts.length + unknownLength(pc.unknownItems, 'presentation-context', pduType);
  itemLength(value, 'presentation-context', pduType);
  return {
    length: 4 + value,
    write(w) {
      w.item(ItemType.PRESENTATION_CONTEXT_AC, value);
      w.u8(pc.id);
      w.u8(0);
      w.u8(pc.result);
      w.u8(0);
      w.item(ItemType.TRANSFER_SYNTAX, ts.length);
      w.ascii(ts);
      writeUnknown(w, pc.unknownItems);
    },
  };
}

function checkVersionName(name: string, pduType: number): string {
  // PS3.7 Annex D.3.3.2 Table D.3-3: 1 to 16 characters of the default repertoire.
  let ok = typeof name === 'string' && name.length >= 1 && name.length <= 16;
  for (let i = 0; ok && i < name.length; i++) {
    const c = name.charCodeAt(i);
    ok = c >= 0x20 && c <= 0x7e && c !== 0x5c;
  }
  if (!ok) {
    invalid(
      `implementation version name ${JSON.stringify(name)} is not 1-16 printable characters (PS3.7 D.3.3.2)`,
      'implementation-version-name',
      pduType,
    );
  }
  return name;
}

/** User Information Item and sub-items, PS3.8 §9.3.2.3, Annex D.1; PS3.7 Annex D.3.3. */
function planUserInformation(info: UserInformation, pduType: number): ContextPlan {
  const rq = pduType === PduType.A_ASSOCIATE_RQ;
  checkInt(info.maxLength, 0, MAX_U32, 'maximum-length', pduType);
  const classUid = checkUid(info.implementationClassUid, 'implementation-class-uid');
  const versionName =
    info.implementationVersionName === undefined
      ? undefined
      : checkVersionName(info.implementationVersionName, pduType);
  let value = 8 + 4 + classUid.length;
  if (versionName !== undefined) value += 4 + versionName.length;
  const window = info.asyncOperationsWindow;
  if (window) {
    checkInt(window.maxInvoked, 0, MAX_U16, 'asynchronous-operations-window/max-invoked', pduType);
    checkInt(
      window.maxPerformed,
      0,
      MAX_U16,
      'asynchronous-operations-window/max-performed',
      pduType,
    );
    value += 8;
  }
  for (const role of info.roleSelections) {
    value += 4 + 4 + checkUid(role.sopClassUid, 'role-selection/sop-class-uid').length;
  }
  for (const ext of info.extendedNegotiations) {
    const length =
      2 +
      checkUid(ext.sopClassUid, 'extended-negotiation/sop-class-uid').length +
      ext.serviceClassApplicationInformation.length;
    value += 4 + itemLength(length, 'extended-negotiation', pduType);
  }
  const commonLengths: number[] = [];
  for (const common of info.commonExtendedNegotiations) {
    let related = 0;
    for (const uid of common.relatedGeneralSopClassUids) {
      related +=
        2 + checkUid(uid, 'common-extended-negotiation/related-general-sop-class-uid').length;
    }
    const length =
      6 +
      checkUid(common.sopClassUid, 'common-extended-negotiation/sop-class-uid').length +
      checkUid(common.serviceClassUid, 'common-extended-negotiation/service-class-uid').length +
      related;
    commonLengths.push(related);
    value += 4 + itemLength(length, 'common-extended-negotiation', pduType);
  }
  const identity = info.userIdentity;
  if (identity) {
    if (rq) {
      const id = identity as UserIdentityRq;
      checkInt(id.type, 1, 255, 'user-identity/user-identity-type', pduType);
      if (id.primaryField.length > MAX_U16 || id.secondaryField.length > MAX_U16) {
        invalid('user identity field longer than 65535 bytes', 'user-identity', pduType);
      }
      value +=
        4 +
        itemLength(6 + id.primaryField.length + id.secondaryField.length, 'user-identity', pduType);
    } else {
      const id = identity as UserIdentityAc;
      value += 4 + itemLength(2 + id.serverResponse.length, 'user-identity', pduType);
    }
  }
  value += unknownLength(info.unknownItems, 'user-information', pduType);
  itemLength(value, 'user-information', pduType);
  return {
    length: 4 + value,
    write(w) {
      w.item(ItemType.USER_INFORMATION, value);
      w.item(ItemType.MAXIMUM_LENGTH, 4);
      w.u32(info.maxLength);
      w.item(ItemType.IMPLEMENTATION_CLASS_UID, classUid.length);
      w.ascii(classUid);
      if (window) {
        w.item(ItemType.ASYNCHRONOUS_OPERATIONS_WINDOW, 4);
        w.u16(window.maxInvoked);
        w.u16(window.maxPerformed);
      }
      for (const role of info.roleSelections) {
        w.item(ItemType.ROLE_SELECTION, 4 + role.sopClassUid.length);
        w.u16(role.sopClassUid.length);
        w.ascii(role.sopClassUid);
        w.u8(role.scuRole ? 1 : 0);
        w.u8(role.scpRole ? 1 : 0);
      }
      if (versionName !== undefined) {
        w.item(ItemType.IMPLEMENTATION_VERSION_NAME, versionName.length);
        w.ascii(versionName);
      }
      for (const ext of info.extendedNegotiations) {
        w.item(
          ItemType.SOP_CLASS_EXTENDED_NEGOTIATION,
          2 + ext.sopClassUid.length + ext.serviceClassApplicationInformation.length,
        );
        w.u16(ext.sopClassUid.length);
        w.ascii(ext.sopClassUid);
        w.bytes(ext.serviceClassApplicationInformation);
      }
      info.commonExtendedNegotiations.forEach((common, i) => {
        const related = commonLengths[i]!;
        w.item(
          ItemType.SOP_CLASS_COMMON_EXTENDED_NEGOTIATION,
          6 + common.sopClassUid.length + common.serviceClassUid.length + related,
        );
        w.u16(common.sopClassUid.length);
        w.ascii(common.sopClassUid);
        w.u16(common.serviceClassUid.length);
        w.ascii(common.serviceClassUid);
        w.u16(related);
        for (const uid of common.relatedGeneralSopClassUids) {
          w.u16(uid.length);
          w.ascii(uid);
        }
      });
      if (identity) {
        if (rq) {
          const id = identity as UserIdentityRq;
          w.item(ItemType.USER_IDENTITY_RQ, 6 + id.primaryField.length + id.secondaryField.length);
          w.u8(id.type);
          w.u8(id.positiveResponseRequested ? 1 : 0);
          w.u16(id.primaryField.length);
          w.bytes(id.primaryField);
          w.u16(id.secondaryField.length);
          w.bytes(id.secondaryField);
        } else {
          const id = identity as UserIdentityAc;
          w.item(ItemType.USER_IDENTITY_AC, 2 + id.serverResponse.length);
          w.u16(id.serverResponse.length);
          w.bytes(id.serverResponse);
        }
      }
      writeUnknown(w, info.unknownItems);
    },
  };
}

/** A-ASSOCIATE-RQ (PS3.8 §9.3.2 Table 9-11) and A-ASSOCIATE-AC (PS3.8 §9.3.3 Table 9-17). */
function encodeAssociate(pdu: AAssociateRq | AAssociateAc): Uint8Array {
  const type = pdu.type;
  checkInt(pdu.protocolVersion, 0, MAX_U16, 'protocol-version', type);
  // PS3.8 §9.3.3: an AC echoes the RQ's titles, so a blank one received (read as '') is sent back blank.
  const echoBlank = (ae: string) => type === PduType.A_ASSOCIATE_AC && ae.trim() === '';
  const called = echoBlank(pdu.calledAeTitle)
    ? ''
    : checkAeTitle(pdu.calledAeTitle, 'called-ae-title');
  const calling = echoBlank(pdu.callingAeTitle)
    ? ''
    : checkAeTitle(pdu.callingAeTitle, 'calling-ae-title');
  const context = checkUid(pdu.applicationContextName, 'application-context-name');
  if (pdu.presentationContexts.length === 0) {
    throw new PduError(
      PduErrorCode.MISSING_ITEM,
      'an A-ASSOCIATE PDU carries one or more presentation contexts (PS3.8 §9.3.2)',
      {
        field: 'presentation-context',
        pduType: type,
      },
    );
  }
  const contexts =
    type === PduType.A_ASSOCIATE_RQ
      ? pdu.presentationContexts.map((pc) => planContextRq(pc, type))
      : pdu.presentationContexts.map((pc) => planContextAc(pc, type));
  const user = planUserInformation(pdu.userInformation, type);
  let length = 68 + 4 + context.length + user.length + unknownLength(pdu.unknownItems, 'pdu', type);
  for (const c of contexts) length += c.length;
  const w = new Writer(new Uint8Array(PDU_HEADER_LENGTH + length));
  header(w, type, length);
  w.u16(pdu.protocolVersion);
  w.u16(0);
  writeAeTitle(w.b, w.o, called);
  writeAeTitle(w.b, w.o + 16, calling);
  w.o += 32 + 32; // AE titles, then 32 reserved bytes sent as 00H
  w.item(ItemType.APPLICATION_CONTEXT, context.length);
  w.ascii(context);
  for (const c of contexts) c.write(w);
  user.write(w);
  writeUnknown(w, pdu.unknownItems);
  return w.b;
}
