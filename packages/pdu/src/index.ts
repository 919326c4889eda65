/**
 * @packageDocumentation
 * `@dnet/pdu`: the PS3.8 §9.3 upper layer PDUs and their items, with an
 * encoder and an incremental, bounded decoder. No I/O, no dependencies.
 *
 * @example
 * ```ts
 * import { PduDecoder, PduType, encodePDataTf, encodePdu } from '@dnet/pdu';
 *
 * const decoder = new PduDecoder({ maxPduLength: 16384 });
 * for (const pdu of decoder.push(chunk)) {
 *   if (pdu.type === PduType.P_DATA_TF) for (const pdv of pdu.pdvs) handle(pdv);
 * }
 * socket.write(encodePdu({ type: PduType.A_RELEASE_RQ }));
 * // A P-DATA-TF for a gathered write: headers plus the payload's own views.
 * const parts = encodePDataTf([{ contextId: 1, command: false, last: true, data: payload }]);
 * ```
 */

export { type AAbort, AbortReason, AbortSource } from './a-abort.js';
export {
  type AAssociateAc,
  type PresentationContextAc,
  PresentationContextResult,
} from './a-associate-ac.js';
export { type AAssociateRj, RejectReason, RejectResult, RejectSource } from './a-associate-rj.js';
export {
  type AAssociateRq,
  DICOM_APPLICATION_CONTEXT,
  type PresentationContextRq,
} from './a-associate-rq.js';
export type { AReleaseRp, AReleaseRq } from './a-release.js';
export { AE_TITLE_LENGTH, checkAeTitle, isValidAeTitle } from './ae-title.js';
export { decodePdu } from './decode-pdu.js';
export { encodePDataTf, encodePdu } from './encode-pdu.js';
export {
  DnetError,
  type DnetErrorOptions,
  isDnetError,
  isPduError,
  PduError,
  PduErrorCode,
  type PduErrorOptions,
} from './errors.js';
export { formatPdu } from './format-pdu.js';
export { ItemType } from './item-type.js';
export type { PDataTf, PresentationDataValue } from './p-data-tf.js';
export type { Pdu } from './pdu.js';
export {
  DEFAULT_DECODER_MAX_PDU_LENGTH,
  DEFAULT_MAX_ASSOCIATION_PDU_LENGTH,
  EAGER_ALLOCATION_LIMIT,
  PduDecoder,
  type PduDecoderOptions,
} from './pdu-decoder.js';
export { PDU_HEADER_LENGTH, PduType } from './pdu-type.js';
export { pdvParts } from './pdv-parts.js';
export { checkUid, isValidUid, UID_MAX_LENGTH } from './uid.js';
export {
  type AsyncOperationsWindow,
  type CommonExtendedNegotiation,
  type ExtendedNegotiation,
  type RoleSelection,
  type UnknownItem,
  type UserIdentityAc,
  type UserIdentityRq,
  UserIdentityType,
  type UserInformation,
} from './user-information.js';
