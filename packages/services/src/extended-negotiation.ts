import type { Negotiation } from '@dnet/association';
import type { ExtendedNegotiation } from '@dnet/pdu';
import { QUERY_MODELS } from './sop-class.js';

/**
 * Storage Service Class UID (PS3.4 §B.3.1.3, PS3.6 Table A-1): the Service
 * Class UID of a Storage SOP class's common extended negotiation sub-item
 * (PS3.7 Annex D.3.3.6).
 */
export const STORAGE_SERVICE_CLASS_UID = '1.2.840.10008.4.2';

/**
 * The Service-class-application-information of a C-FIND SOP class of the
 * Query/Retrieve Service Class (PS3.4 §C.5.1.1, Tables C.5-1 and C.5-2):
 * one byte per field, in this order, 1 for requested (A-ASSOCIATE-RQ) or
 * supported / performed (A-ASSOCIATE-AC), 0 otherwise.
 */
export interface QueryExtendedNegotiation {
  /** Byte 1, relational-queries (PS3.4 §C.4.1.2.2, §C.4.1.3.2). */
  relationalQueries: boolean;
  /** Byte 2, date-time matching: combined date and time range matching. */
  dateTimeMatching: boolean;
  /** Byte 3, fuzzy semantic matching of person names. */
  fuzzySemanticMatchingOfPersonNames: boolean;
  /** Byte 4, timezone query adjustment. */
  timezoneQueryAdjustment: boolean;
  /** Byte 5, Enhanced Multi-Frame Image Conversion. */
  enhancedMultiFrameImageConversion: boolean;
  /** Byte 6, Empty Value Matching. */
  emptyValueMatching: boolean;
  /** Byte 7, Multiple Value Matching (PS3.4 §C.2.2.2.8). */
  multipleValueMatching: boolean;
}

/**
 * The Service-class-application-information of a C-MOVE or C-GET SOP class
 * of the Query/Retrieve Service Class (PS3.4 §C.5.2.1, §C.5.3.1), one byte
 * per field in this order.
 */
export interface RetrieveExtendedNegotiation {
  /** Byte 1, relational-retrieval (PS3.4 §C.4.2.2.2, §C.4.3.2.2). */
  relationalRetrieval: boolean;
  /** Byte 2, Enhanced Multi-Frame Image Conversion. */
  enhancedMultiFrameImageConversion: boolean;
}

/** The byte order of {@link QueryExtendedNegotiation} (PS3.4 §C.5.1.1). */
const QUERY_FIELDS = [
  'relationalQueries',
  'dateTimeMatching',
  'fuzzySemanticMatchingOfPersonNames',
  'timezoneQueryAdjustment',
  'enhancedMultiFrameImageConversion',
  'emptyValueMatching',
  'multipleValueMatching',
] as const satisfies readonly (keyof QueryExtendedNegotiation)[];

/** The byte order of {@link RetrieveExtendedNegotiation} (PS3.4 §C.5.2.1, §C.5.3.1). */
const RETRIEVE_FIELDS = [
  'relationalRetrieval',
  'enhancedMultiFrameImageConversion',
] as const satisfies readonly (keyof RetrieveExtendedNegotiation)[];

function encodeFields<T>(fields: readonly (keyof T)[], options: Partial<T>): Uint8Array {
  // The bytes after the first are optional (PS3.4 §C.5.1.1.1): up to the last one set.
  let length = 1;
  fields.forEach((f, i) => {
    if (options[f]) length = i + 1;
  });
  return Uint8Array.from({ length }, (_, i) => (options[fields[i]!] ? 1 : 0));
}

function decodeFields<T>(fields: readonly (keyof T)[], bytes: Uint8Array | undefined): T {
  // A missing byte counts as 0 (PS3.4 §C.5.1.1.2: "the missing sub-fields shall be
  // treated as 0 values"); each field is 0 or 1, so only 1 means yes.
  const out = {} as Record<keyof T, boolean>;
  fields.forEach((f, i) => {
    out[f] = bytes?.[i] === 1;
  });
  return out as T;
}

/**
 * The Service-class-application-information proposing the C-FIND options set
 * (PS3.4 §C.5.1.1.1): one byte, or as many as the last option set needs.
 *
 * @example
 * ```ts
 * encodeQueryExtendedNegotiation({ relationalQueries: true }); // Uint8Array [1]
 * ```
 */
export function encodeQueryExtendedNegotiation(
  options: Partial<QueryExtendedNegotiation>,
): Uint8Array {
  return encodeFields(QUERY_FIELDS, options);
}

/** Reads a C-FIND Service-class-application-information (PS3.4 §C.5.1.1); absent bytes are 0. */
export function decodeQueryExtendedNegotiation(
  bytes: Uint8Array | undefined,
): QueryExtendedNegotiation {
  return decodeFields<QueryExtendedNegotiation>(QUERY_FIELDS, bytes);
}

/** The Service-class-application-information proposing C-MOVE / C-GET options (PS3.4 §C.5.2.1.1, §C.5.3.1.1). */
export function encodeRetrieveExtendedNegotiation(
  options: Partial<RetrieveExtendedNegotiation>,
): Uint8Array {
  return encodeFields(RETRIEVE_FIELDS, options);
}

/** Reads a C-MOVE / C-GET Service-class-application-information (PS3.4 §C.5.2.1, §C.5.3.1). */
export function decodeRetrieveExtendedNegotiation(
  bytes: Uint8Array | undefined,
): RetrieveExtendedNegotiation {
  return decodeFields<RetrieveExtendedNegotiation>(RETRIEVE_FIELDS, bytes);
}

/**
 * The acceptor's answer to a proposal (PS3.4 §C.5.1.1.2, §C.5.2.1.2,
 * §C.5.3.1.2): as many bytes as offered, each 1 only when requested and
 * supported, 0 when turned down: a single byte offered is answered with a
 * single byte, as the standard requires, and no answer is longer than its offer.
 */
function answerFields<T>(
  fields: readonly (keyof T)[],
  offered: Uint8Array,
  supported: Partial<T>,
): Uint8Array {
  return Uint8Array.from(offered, (b, i) => {
    const field = fields[i];
    return b === 1 && field !== undefined && supported[field] ? 1 : 0;
  });
}

/** The Query/Retrieve extended behaviours an SCP supports (PS3.4 §C.5). */
export interface SupportedExtendedNegotiation {
  /** C-FIND options of the Patient Root, Study Root and Patient/Study Only models. */
  query?: Partial<QueryExtendedNegotiation>;
  /** C-MOVE and C-GET options of the same models. */
  retrieve?: Partial<RetrieveExtendedNegotiation>;
}

const FIND_CLASSES = new Set(Object.values(QUERY_MODELS).map((m) => m.find));
const RETRIEVE_CLASSES = new Set(Object.values(QUERY_MODELS).flatMap((m) => [m.move, m.get]));

/**
 * The acceptor's answer to each SOP Class Extended Negotiation sub-item
 * (PS3.7 Annex D.3.3.5) of a Query/Retrieve SOP class (PS3.4 §C.5): what is
 * both proposed and supported; `undefined` (no answer: nothing agreed) for
 * other SOP classes, or for those of a kind `supported` leaves out. For
 * the acceptor policy's `extendedNegotiation`.
 *
 * @example
 * ```ts
 * const policy = { contexts, extendedNegotiation: answerExtendedNegotiation({ query: { relationalQueries: true } }) };
 * ```
 */
export function answerExtendedNegotiation(
  supported: SupportedExtendedNegotiation,
): (item: ExtendedNegotiation) => Uint8Array | undefined {
  return (item) => {
    const offered = item.serviceClassApplicationInformation;
    if (offered.length === 0) return undefined;
    if (supported.query && FIND_CLASSES.has(item.sopClassUid)) {
      return answerFields(QUERY_FIELDS, offered, supported.query);
    }
    if (supported.retrieve && RETRIEVE_CLASSES.has(item.sopClassUid)) {
      return answerFields(RETRIEVE_FIELDS, offered, supported.retrieve);
    }
    return undefined;
  };
}

/**
 * The two sides of the extended negotiation of one SOP class: the
 * requestor's proposal and the acceptor's answer (PS3.7 Annex D.3.3.5).
 */
function sidesOf(
  negotiation: Negotiation | undefined,
  sopClassUid: string,
): [Uint8Array | undefined, Uint8Array | undefined] {
  const find = (list: readonly ExtendedNegotiation[] | undefined) =>
    list?.find((e) => e.sopClassUid === sopClassUid)?.serviceClassApplicationInformation;
  return [find(negotiation?.proposedExtendedNegotiations), find(negotiation?.extendedNegotiations)];
}

function agreed<T>(fields: readonly (keyof T)[], sides: [Uint8Array?, Uint8Array?]): T {
  const [proposed, answered] = sides.map((s) => decodeFields<T>(fields, s));
  const out = {} as Record<keyof T, boolean>;
  for (const f of fields) out[f] = !!proposed?.[f] && !!answered?.[f];
  return out as T;
}

/**
 * The C-FIND options agreed on an association for a SOP class (PS3.4
 * §C.5.1.1): an option holds when the requestor proposed it and the acceptor
 * answered it with 1; without a 56H answer nothing is agreed (baseline
 * behaviour, PS3.4 §C.4.1.2.1, §C.4.1.3.1).
 */
export function agreedQueryExtendedNegotiation(
  negotiation: Negotiation | undefined,
  sopClassUid: string,
): QueryExtendedNegotiation {
  return agreed<QueryExtendedNegotiation>(QUERY_FIELDS, sidesOf(negotiation, sopClassUid));
}

/** The C-MOVE / C-GET options agreed for a SOP class (PS3.4 §C.5.2.1, §C.5.3.1), as {@link agreedQueryExtendedNegotiation}. */
export function agreedRetrieveExtendedNegotiation(
  negotiation: Negotiation | undefined,
  sopClassUid: string,
): RetrieveExtendedNegotiation {
  return agreed<RetrieveExtendedNegotiation>(RETRIEVE_FIELDS, sidesOf(negotiation, sopClassUid));
}
