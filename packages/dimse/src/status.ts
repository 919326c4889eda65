/**
 * DIMSE status codes: the general statuses of PS3.7 Annex C and the service
 * statuses of PS3.4, each with its category and name.
 */

/** Status categories, PS3.7 §C.1 (Success, Warning, Failure, Cancel, Pending). */
export const StatusCategory = {
  /** 0000H, PS3.7 §C.1 */
  SUCCESS: 'success',
  /** 0001H, Bxxx, 0107H, 0116H, PS3.7 §C.1 */
  WARNING: 'warning',
  /** Axxx, Cxxx, 01xx, 02xx, PS3.7 §C.1 */
  FAILURE: 'failure',
  /** FE00H, PS3.7 §C.1 */
  CANCEL: 'cancel',
  /** FF00H and FF01H, PS3.7 §C.1 */
  PENDING: 'pending',
} as const;
/** One of the `StatusCategory` values. */
export type StatusCategory = (typeof StatusCategory)[keyof typeof StatusCategory];

/** Named status codes (PS3.7 Annex C, PS3.4 B.2.3, C.4.1.1.4, C.4.2.1.5, C.4.3.1.4). */
export const Status = {
  /** 0000H Success (PS3.7 Annex C) */
  SUCCESS: 0x0000,
  /** 0001H Warning: requested optional attributes are not supported (PS3.4 F.7.2.2, N-GET) */
  OPTIONAL_ATTRIBUTES_NOT_SUPPORTED: 0x0001,
  /** 0105H Failure: no such attribute (PS3.7 Annex C) */
  NO_SUCH_ATTRIBUTE: 0x0105,
  /** 0106H Failure: invalid attribute value (PS3.7 Annex C) */
  INVALID_ATTRIBUTE_VALUE: 0x0106,
  /** 0107H Warning: attribute list error (PS3.7 Annex C) */
  ATTRIBUTE_LIST_ERROR: 0x0107,
  /** 0110H Failure: processing failure (PS3.7 Annex C) */
  PROCESSING_FAILURE: 0x0110,
  /** 0111H Failure: duplicate SOP Instance (PS3.7 Annex C) */
  DUPLICATE_SOP_INSTANCE: 0x0111,
  /** 0112H Failure: no such SOP Instance (PS3.7 Annex C) */
  NO_SUCH_SOP_INSTANCE: 0x0112,
  /** 0113H Failure: no such event type (PS3.7 Annex C) */
  NO_SUCH_EVENT_TYPE: 0x0113,
  /** 0114H Failure: no such argument (PS3.7 Annex C) */
  NO_SUCH_ARGUMENT: 0x0114,
  /** 0115H Failure: invalid argument value (PS3.7 Annex C) */
  INVALID_ARGUMENT_VALUE: 0x0115,
  /** 0116H Warning: attribute value out of range (PS3.7 Annex C) */
  ATTRIBUTE_VALUE_OUT_OF_RANGE: 0x0116,
  /** 0117H Failure: invalid object instance (PS3.7 Annex C) */
  INVALID_OBJECT_INSTANCE: 0x0117,
  /** 0118H Failure: no such SOP Class (PS3.7 Annex C) */
  NO_SUCH_SOP_CLASS: 0x0118,
  /** 0119H Failure: class-instance conflict (PS3.7 Annex C) */
  CLASS_INSTANCE_CONFLICT: 0x0119,
  /** 0120H Failure: missing attribute (PS3.7 Annex C) */
  MISSING_ATTRIBUTE: 0x0120,
  /** 0121H Failure: missing attribute value (PS3.7 Annex C) */
  MISSING_ATTRIBUTE_VALUE: 0x0121,
  /** 0122H Failure: refused, SOP Class not supported (PS3.7 Annex C) */
  SOP_CLASS_NOT_SUPPORTED: 0x0122,
  /** 0123H Failure: no such action type (PS3.7 Annex C) */
  NO_SUCH_ACTION_TYPE: 0x0123,
  /** 0124H Failure: refused, not authorized (PS3.7 Annex C) */
  NOT_AUTHORIZED: 0x0124,
  /** 0210H Failure: duplicate invocation (PS3.7 Annex C) */
  DUPLICATE_INVOCATION: 0x0210,
  /** 0211H Failure: unrecognized operation (PS3.7 Annex C) */
  UNRECOGNIZED_OPERATION: 0x0211,
  /** 0212H Failure: mistyped argument (PS3.7 Annex C) */
  MISTYPED_ARGUMENT: 0x0212,
  /** 0213H Failure: resource limitation (PS3.7 Annex C) */
  RESOURCE_LIMITATION: 0x0213,
  /** 0131H Failure: duplicate transaction UID (a Storage Commitment Failure Reason, PS3.4 §J.3.2.2.1) */
  DUPLICATE_TRANSACTION_UID: 0x0131,
  /** A700H Failure: refused, out of resources (PS3.4 B.2.3 storage, C.4.1.1.4 find) */
  OUT_OF_RESOURCES: 0xa700,
  /** A701H Failure: out of resources, unable to calculate number of matches (PS3.4 C.4.2.1.5, C.4.3.1.4) */
  OUT_OF_RESOURCES_MATCHES: 0xa701,
  /** A702H Failure: out of resources, unable to perform sub-operations (PS3.4 C.4.2.1.5, C.4.3.1.4) */
  OUT_OF_RESOURCES_SUB_OPERATIONS: 0xa702,
  /** A801H Failure: move destination unknown (PS3.4 C.4.2.1.5) */
  MOVE_DESTINATION_UNKNOWN: 0xa801,
  /** A900H Failure: data set / identifier does not match SOP Class (PS3.4 B.2.3, C.4.x) */
  DOES_NOT_MATCH_SOP_CLASS: 0xa900,
  /** B000H Warning: coercion of data elements (storage) / sub-operations complete with failures (Q/R) */
  WARNING_B000: 0xb000,
  /** B006H Warning: elements discarded (PS3.4 B.2.3) */
  ELEMENTS_DISCARDED: 0xb006,
  /** B007H Warning: data set does not match SOP Class (PS3.4 B.2.3) */
  DATA_SET_DOES_NOT_MATCH_SOP_CLASS_WARNING: 0xb007,
  /** C000H Failure: cannot understand / unable to process (PS3.4 B.2.3, C.4.x; any Cxxx) */
  CANNOT_UNDERSTAND: 0xc000,
  /** FE00H Cancel (PS3.7 Annex C) */
  CANCEL: 0xfe00,
  /** FF00H Pending: current match supplied, sub-operations continuing (PS3.7 Annex C) */
  PENDING: 0xff00,
  /** FF01H Pending: optional keys not supported (PS3.4 C.4.1.1.4) */
  PENDING_WARNING: 0xff01,
} as const;

/** The service whose statuses give a code its meaning (PS3.4 defines some codes per service). */
export const StatusService = {
  /** Codes of PS3.7 Annex C only (verification, N-services) */
  GENERAL: 'general',
  /** Storage Service Class, PS3.4 B.2.3 */
  STORAGE: 'storage',
  /** Query/Retrieve FIND (and worklist), PS3.4 C.4.1.1.4 */
  FIND: 'find',
  /** Query/Retrieve MOVE, PS3.4 C.4.2.1.5 */
  MOVE: 'move',
  /** Query/Retrieve GET, PS3.4 C.4.3.1.4 */
  GET: 'get',
} as const;
/** One of the `StatusService` values. */
export type StatusService = (typeof StatusService)[keyof typeof StatusService];

/** What a status code means. */
export interface StatusInfo {
  /** The code. */
  code: number;
  /** Its category (PS3.7 §C.1). */
  category: StatusCategory;
  /** The standard's name ("Refused: Out of Resources"), or "Unknown status" for unregistered codes. */
  name: string;
  /** True when the code is in the registry (exactly or through a range such as A7xx). */
  known: boolean;
}

type Entry = readonly [StatusCategory, string];
const S = StatusCategory;

/** General statuses, PS3.7 Annex C. */
const GENERAL: ReadonlyMap<number, Entry> = new Map<number, Entry>([
  [0x0000, [S.SUCCESS, 'Success']],
  [0x0105, [S.FAILURE, 'No such attribute']],
  [0x0106, [S.FAILURE, 'Invalid attribute value']],
  [0x0107, [S.WARNING, 'Attribute list error']],
  [0x0110, [S.FAILURE, 'Processing failure']],
  [0x0111, [S.FAILURE, 'Duplicate SOP Instance']],
  [0x0112, [S.FAILURE, 'No such SOP Instance']],
  [0x0113, [S.FAILURE, 'No such event type']],
  [0x0114, [S.FAILURE, 'No such argument']],
  [0x0115, [S.FAILURE, 'Invalid argument value']],
  [0x0116, [S.WARNING, 'Attribute value out of range']],
  [0x0117, [S.FAILURE, 'Invalid object instance']],
  [0x0118, [S.FAILURE, 'No such SOP Class']],
  [0x0119, [S.FAILURE, 'Class-instance conflict']],
  [0x0120, [S.FAILURE, 'Missing attribute']],
  [0x0121, [S.FAILURE, 'Missing attribute value']],
  [0x0122, [S.FAILURE, 'Refused: SOP Class not supported']],
  [0x0123, [S.FAILURE, 'No such action type']],
  [0x0124, [S.FAILURE, 'Refused: not authorized']],
  [0x0210, [S.FAILURE, 'Duplicate invocation']],
  [0x0211, [S.FAILURE, 'Unrecognized operation']],
  [0x0212, [S.FAILURE, 'Mistyped argument']],
  [0x0213, [S.FAILURE, 'Resource limitation']],
  [0xfe00, [S.CANCEL, 'Cancel']],
  // 0001H appears in the N-GET responses of several PS3.4 SOP Classes (e.g. F.7.2.2).
  [0x0001, [S.WARNING, 'Requested optional attributes are not supported']],
]);

/** A service's exact codes plus its ranges (`mask` applied before comparing to `base`). */
interface ServiceTable {
  exact: ReadonlyMap<number, Entry>;
  ranges: readonly { base: number; mask: number; entry: Entry }[];
}

const CXXX = { base: 0xc000, mask: 0xf000 };

const SERVICES: Readonly<Record<Exclude<StatusService, 'general'>, ServiceTable>> = {
  // PS3.4 Table B.2-1
  storage: {
    exact: new Map<number, Entry>([
      [0xb000, [S.WARNING, 'Coercion of data elements']],
      [0xb006, [S.WARNING, 'Elements discarded']],
      [0xb007, [S.WARNING, 'Data set does not match SOP Class']],
    ]),
    ranges: [
      { base: 0xa700, mask: 0xff00, entry: [S.FAILURE, 'Refused: out of resources'] },
      {
        base: 0xa900,
        mask: 0xff00,
        entry: [S.FAILURE, 'Error: data set does not match SOP Class'],
      },
      { ...CXXX, entry: [S.FAILURE, 'Error: cannot understand'] },
    ],
  },
  // PS3.4 Table C.4-1
  find: {
    exact: new Map<number, Entry>([
      [0x0000, [S.SUCCESS, 'Matching is complete']],
      [0xa700, [S.FAILURE, 'Refused: out of resources']],
      [0xa900, [S.FAILURE, 'Identifier does not match SOP Class']],
      [0xfe00, [S.CANCEL, 'Matching terminated due to cancel request']],
      [0xff00, [S.PENDING, 'Matches are continuing: current match supplied']],
      [0xff01, [S.PENDING, 'Matches are continuing: one or more optional keys not supported']],
    ]),
    ranges: [{ ...CXXX, entry: [S.FAILURE, 'Unable to process'] }],
  },
  // PS3.4 Table C.4-2
  move: {
    exact: new Map<number, Entry>([
      [0x0000, [S.SUCCESS, 'Sub-operations complete: no failures']],
      [0xa701, [S.FAILURE, 'Refused: out of resources, unable to calculate number of matches']],
      [0xa702, [S.FAILURE, 'Refused: out of resources, unable to perform sub-operations']],
      [0xa801, [S.FAILURE, 'Refused: move destination unknown']],
      [0xa900, [S.FAILURE, 'Identifier does not match SOP Class']],
      [0xb000, [S.WARNING, 'Sub-operations complete: one or more failures']],
      [0xfe00, [S.CANCEL, 'Sub-operations terminated due to cancel indication']],
      [0xff00, [S.PENDING, 'Sub-operations are continuing']],
    ]),
    ranges: [{ ...CXXX, entry: [S.FAILURE, 'Unable to process'] }],
  },
  // PS3.4 Table C.4-3
  get: {
    exact: new Map<number, Entry>([
      [0x0000, [S.SUCCESS, 'Sub-operations complete: no failures or warnings']],
      [0xa701, [S.FAILURE, 'Refused: out of resources, unable to calculate number of matches']],
      [0xa702, [S.FAILURE, 'Refused: out of resources, unable to perform sub-operations']],
      [0xa900, [S.FAILURE, 'Identifier does not match SOP Class']],
      [0xb000, [S.WARNING, 'Sub-operations complete: one or more failures or warnings']],
      [0xfe00, [S.CANCEL, 'Sub-operations terminated due to cancel indication']],
      [0xff00, [S.PENDING, 'Sub-operations are continuing']],
    ]),
    ranges: [{ ...CXXX, entry: [S.FAILURE, 'Unable to process'] }],
  },
};

/**
 * The category of any status code by the ranges of PS3.7 §C.1: 0000H
 * success; 0001H, Bxxx, 0107H, 0116H warning; FE00H cancel; FF00H, FF01H
 * pending; everything else (Axxx, Cxxx, 01xx, 02xx, unregistered) failure.
 */
export function statusCategory(code: number): StatusCategory {
  if (code === 0x0000) return S.SUCCESS;
  if (code === 0xff00 || code === 0xff01) return S.PENDING;
  if (code === 0xfe00) return S.CANCEL;
  if (code === 0x0001 || code === 0x0107 || code === 0x0116 || (code & 0xf000) === 0xb000)
    return S.WARNING;
  return S.FAILURE;
}

/**
 * What a status code means, in the service given (default `general`):
 * the service's own codes and ranges (PS3.4) first, then the general codes
 * of PS3.7 Annex C, then the category by range with the name "Unknown status".
 */
export function describeStatus(code: number, service: StatusService = 'general'): StatusInfo {
  if (service !== 'general') {
    const table = SERVICES[service];
    const exact = table.exact.get(code);
    if (exact) return { code, category: exact[0], name: exact[1], known: true };
    for (const r of table.ranges) {
      if ((code & r.mask) === r.base)
        return { code, category: r.entry[0], name: r.entry[1], known: true };
    }
  }
  const general = GENERAL.get(code);
  if (general) return { code, category: general[0], name: general[1], known: true };
  if (code === 0xff00 || code === 0xff01)
    return { code, category: S.PENDING, name: 'Pending', known: true };
  return { code, category: statusCategory(code), name: 'Unknown status', known: false };
}

/** True for pending statuses FF00H and FF01H (PS3.7 Annex C): more responses follow. */
export function isPending(code: number): boolean {
  return code === 0xff00 || code === 0xff01;
}

/** True for a final status that is success or warning (the operation took effect). */
export function isSuccessOrWarning(code: number): boolean {
  const c = statusCategory(code);
  return c === S.SUCCESS || c === S.WARNING;
}

/** `0xA700` as `A700H`, the standard's notation. */
export function formatStatus(code: number): string {
  return `${code.toString(16).toUpperCase().padStart(4, '0')}H`;
}
