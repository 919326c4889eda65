import {
  COMMAND_ELEMENT_BY_NAME,
  COMMAND_ELEMENTS,
  type CommandFieldName,
  CommandTag,
  presentElements,
} from './command-element.js';
import { CommandDataSetType, CommandField, commandName, isCommandField } from './command-field.js';
import {
  type CommandSet,
  type DecodeCommandSetOptions,
  decodeCommandSetWithRaw,
  encodeCommandSet,
  type RawCommandElement,
} from './command-set.js';
import {
  FieldNotAllowedError,
  InvalidFieldError,
  MissingFieldError,
  ResponseMismatchError,
  UnknownCommandError,
} from './errors.js';
import { isPending, statusCategory } from './status.js';

/** Fields every DIMSE message has. */
export interface MessageBase {
  /**
   * Whether a data set follows the command (Command Data Set Type (0000,0800)
   * other than 0101H, PS3.7 §E.1). Known as soon as the command is decoded.
   */
  hasDataSet: boolean;
  /**
   * Command elements the message type does not define (retired elements of
   * PS3.7 Table E.2-1, or fields a peer added), kept as raw bytes and written
   * back unchanged.
   */
  otherElements?: RawCommandElement[];
}

/** Status-related fields of responses with a warning or failure status (PS3.7 Annex C). */
export interface StatusDetail {
  /** (0000,0901) Offending Element: the tags (`0xGGGGEEEE`) at fault. */
  offendingElement?: number[];
  /** (0000,0902) Error Comment: at most 64 characters. */
  errorComment?: string;
  /** (0000,0903) Error ID: an implementation-specific code. */
  errorId?: number;
}

/** Fields of every response (PS3.7 §9.3, §10.3). */
export interface ResponseBase extends MessageBase, StatusDetail {
  /** (0000,0120) Message ID Being Responded To: the request's Message ID. */
  messageIdBeingRespondedTo: number;
  /** (0000,0900) Status, see `Status` and `describeStatus`. */
  status: number;
  /** (0000,0002) Affected SOP Class UID: optional in responses, equal to the request's (U(=)). */
  affectedSopClassUid?: string;
}

/** The sub-operation counters of C-GET-RSP and C-MOVE-RSP (PS3.7 §9.3.3.2, §9.3.4.2). */
export interface SubOperationCounts {
  /** (0000,1020) Number of Remaining Sub-operations: required when pending. */
  numberOfRemainingSuboperations?: number;
  /** (0000,1021) Number of Completed Sub-operations: required when pending. */
  numberOfCompletedSuboperations?: number;
  /** (0000,1022) Number of Failed Sub-operations: required when pending. */
  numberOfFailedSuboperations?: number;
  /** (0000,1023) Number of Warning Sub-operations: required when pending. */
  numberOfWarningSuboperations?: number;
}

/** C-STORE-RQ, PS3.7 §9.3.1.1 (Table 9.3-1). A data set always follows. */
export interface CStoreRq extends MessageBase {
  /** 0001H */
  commandField: typeof CommandField.C_STORE_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid: string;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid: string;
  /** (0000,0700) Priority, see `Priority` */
  priority: number;
  /** (0000,1030) Move Originator AE Title: set when the store is a C-MOVE sub-operation. */
  moveOriginatorAeTitle?: string;
  /** (0000,1031) Move Originator Message ID: set when the store is a C-MOVE sub-operation. */
  moveOriginatorMessageId?: number;
}

/** C-STORE-RSP, PS3.7 §9.3.1.2 (Table 9.3-2). No data set. */
export interface CStoreRsp extends ResponseBase {
  /** 8001H */
  commandField: typeof CommandField.C_STORE_RSP;
  /** (0000,1000) Affected SOP Instance UID (U(=)) */
  affectedSopInstanceUid?: string;
}

/** C-FIND-RQ, PS3.7 §9.3.2.1 (Table 9.3-3). The Identifier data set follows. */
export interface CFindRq extends MessageBase {
  /** 0020H */
  commandField: typeof CommandField.C_FIND_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid: string;
  /** (0000,0700) Priority */
  priority: number;
}

/** C-FIND-RSP, PS3.7 §9.3.2.2 (Table 9.3-4). An Identifier follows exactly when pending. */
export interface CFindRsp extends ResponseBase {
  /** 8020H */
  commandField: typeof CommandField.C_FIND_RSP;
}

/** C-CANCEL-RQ, PS3.7 §9.3.2.3 (Table 9.3-5; same for C-GET and C-MOVE). No data set. */
export interface CCancelRq extends MessageBase {
  /** 0FFFH */
  commandField: typeof CommandField.C_CANCEL_RQ;
  /** (0000,0120) Message ID Being Responded To: the operation to cancel. */
  messageIdBeingRespondedTo: number;
}

/** C-GET-RQ, PS3.7 §9.3.3.1 (Table 9.3-6). The Identifier follows. */
export interface CGetRq extends MessageBase {
  /** 0010H */
  commandField: typeof CommandField.C_GET_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid: string;
  /** (0000,0700) Priority */
  priority: number;
}

/** C-GET-RSP, PS3.7 §9.3.3.2 (Table 9.3-7). An Identifier (failed SOP Instance UIDs) may follow. */
export interface CGetRsp extends ResponseBase, SubOperationCounts {
  /** 8010H */
  commandField: typeof CommandField.C_GET_RSP;
}

/** C-MOVE-RQ, PS3.7 §9.3.4.1 (Table 9.3-8). The Identifier follows. */
export interface CMoveRq extends MessageBase {
  /** 0021H */
  commandField: typeof CommandField.C_MOVE_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid: string;
  /** (0000,0700) Priority */
  priority: number;
  /** (0000,0600) Move Destination: the AE title the instances go to. */
  moveDestination: string;
}

/** C-MOVE-RSP, PS3.7 §9.3.4.2 (Table 9.3-9). An Identifier (failed SOP Instance UIDs) may follow. */
export interface CMoveRsp extends ResponseBase, SubOperationCounts {
  /** 8021H */
  commandField: typeof CommandField.C_MOVE_RSP;
}

/** C-ECHO-RQ, PS3.7 §9.3.5.1 (Table 9.3-12). No data set. */
export interface CEchoRq extends MessageBase {
  /** 0030H */
  commandField: typeof CommandField.C_ECHO_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID (Verification, 1.2.840.10008.1.1) */
  affectedSopClassUid: string;
}

/** C-ECHO-RSP, PS3.7 §9.3.5.2 (Table 9.3-13). No data set. */
export interface CEchoRsp extends ResponseBase {
  /** 8030H */
  commandField: typeof CommandField.C_ECHO_RSP;
}

/** N-EVENT-REPORT-RQ, PS3.7 §10.3.1.1 (Table 10.3-1). Event Information may follow. */
export interface NEventReportRq extends MessageBase {
  /** 0100H */
  commandField: typeof CommandField.N_EVENT_REPORT_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid: string;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid: string;
  /** (0000,1002) Event Type ID */
  eventTypeId: number;
}

/** N-EVENT-REPORT-RSP, PS3.7 §10.3.1.2 (Table 10.3-2). An Event Reply may follow. */
export interface NEventReportRsp extends ResponseBase {
  /** 8100H */
  commandField: typeof CommandField.N_EVENT_REPORT_RSP;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid?: string;
  /** (0000,1002) Event Type ID */
  eventTypeId?: number;
}

/** N-GET-RQ, PS3.7 §10.3.2.1 (Table 10.3-3). No data set. */
export interface NGetRq extends MessageBase {
  /** 0110H */
  commandField: typeof CommandField.N_GET_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0003) Requested SOP Class UID */
  requestedSopClassUid: string;
  /** (0000,1001) Requested SOP Instance UID */
  requestedSopInstanceUid: string;
  /** (0000,1005) Attribute Identifier List: the tags wanted; absent means all. */
  attributeIdentifierList?: number[];
}

/** N-GET-RSP, PS3.7 §10.3.2.2 (Table 10.3-4). The Attribute List may follow. */
export interface NGetRsp extends ResponseBase {
  /** 8110H */
  commandField: typeof CommandField.N_GET_RSP;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid?: string;
  /** (0000,1005) Attribute Identifier List: status-related (0107H, PS3.7 Annex C). */
  attributeIdentifierList?: number[];
}

/** N-SET-RQ, PS3.7 §10.3.3.1 (Table 10.3-5). The Modification List follows. */
export interface NSetRq extends MessageBase {
  /** 0120H */
  commandField: typeof CommandField.N_SET_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0003) Requested SOP Class UID */
  requestedSopClassUid: string;
  /** (0000,1001) Requested SOP Instance UID */
  requestedSopInstanceUid: string;
}

/** N-SET-RSP, PS3.7 §10.3.3.2 (Table 10.3-6). The Attribute List may follow. */
export interface NSetRsp extends ResponseBase {
  /** 8120H */
  commandField: typeof CommandField.N_SET_RSP;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid?: string;
  /** (0000,1005) Attribute Identifier List: status-related (0107H, PS3.7 Annex C). */
  attributeIdentifierList?: number[];
}

/** N-ACTION-RQ, PS3.7 §10.3.4.1 (Table 10.3-7). Action Information may follow. */
export interface NActionRq extends MessageBase {
  /** 0130H */
  commandField: typeof CommandField.N_ACTION_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0003) Requested SOP Class UID */
  requestedSopClassUid: string;
  /** (0000,1001) Requested SOP Instance UID */
  requestedSopInstanceUid: string;
  /** (0000,1008) Action Type ID */
  actionTypeId: number;
}

/** N-ACTION-RSP, PS3.7 §10.3.4.2 (Table 10.3-8). An Action Reply may follow. */
export interface NActionRsp extends ResponseBase {
  /** 8130H */
  commandField: typeof CommandField.N_ACTION_RSP;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid?: string;
  /** (0000,1008) Action Type ID */
  actionTypeId?: number;
}

/** N-CREATE-RQ, PS3.7 §10.3.5.1 (Table 10.3-9). The Attribute List may follow. */
export interface NCreateRq extends MessageBase {
  /** 0140H */
  commandField: typeof CommandField.N_CREATE_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0002) Affected SOP Class UID */
  affectedSopClassUid: string;
  /** (0000,1000) Affected SOP Instance UID: absent lets the SCP choose it. */
  affectedSopInstanceUid?: string;
}

/** N-CREATE-RSP, PS3.7 §10.3.5.2 (Table 10.3-10). The Attribute List may follow. */
export interface NCreateRsp extends ResponseBase {
  /** 8140H */
  commandField: typeof CommandField.N_CREATE_RSP;
  /** (0000,1000) Affected SOP Instance UID: required when the request had none. */
  affectedSopInstanceUid?: string;
  /** (0000,1005) Attribute Identifier List: status-related (0107H, PS3.7 Annex C). */
  attributeIdentifierList?: number[];
}

/** N-DELETE-RQ, PS3.7 §10.3.6.1 (Table 10.3-11). No data set. */
export interface NDeleteRq extends MessageBase {
  /** 0150H */
  commandField: typeof CommandField.N_DELETE_RQ;
  /** (0000,0110) Message ID */
  messageId: number;
  /** (0000,0003) Requested SOP Class UID */
  requestedSopClassUid: string;
  /** (0000,1001) Requested SOP Instance UID */
  requestedSopInstanceUid: string;
}

/** N-DELETE-RSP, PS3.7 §10.3.6.2 (Table 10.3-12). No data set. */
export interface NDeleteRsp extends ResponseBase {
  /** 8150H */
  commandField: typeof CommandField.N_DELETE_RSP;
  /** (0000,1000) Affected SOP Instance UID */
  affectedSopInstanceUid?: string;
}

/** The 11 request types and C-CANCEL-RQ. */
export type DimseRequest =
  | CStoreRq
  | CFindRq
  | CGetRq
  | CMoveRq
  | CEchoRq
  | CCancelRq
  | NEventReportRq
  | NGetRq
  | NSetRq
  | NActionRq
  | NCreateRq
  | NDeleteRq;

/** The 11 response types. */
export type DimseResponse =
  | CStoreRsp
  | CFindRsp
  | CGetRsp
  | CMoveRsp
  | CEchoRsp
  | NEventReportRsp
  | NGetRsp
  | NSetRsp
  | NActionRsp
  | NCreateRsp
  | NDeleteRsp;

/** Any of the 23 DIMSE messages, discriminated by `commandField`. */
export type DimseMessage = DimseRequest | DimseResponse;

/**
 * How a field may appear in a message: `M` mandatory, `U` optional, `S`
 * status-related (allowed only with a non-success status, PS3.7 Annex C),
 * `P` sub-operation counter (mandatory when pending, optional otherwise).
 */
type Presence = 'M' | 'U' | 'S' | 'P';

/** Whether a data set follows: always, never, or either. */
type DataSetRule = 'required' | 'none' | 'optional';

interface MessageSpec {
  section: string;
  fields: Partial<Record<CommandFieldName, Presence>>;
  dataSet: DataSetRule;
}

const STATUS_FIELDS = { offendingElement: 'S', errorComment: 'S', errorId: 'S' } as const;
const RESPONSE = {
  messageIdBeingRespondedTo: 'M',
  status: 'M',
  affectedSopClassUid: 'U',
  ...STATUS_FIELDS,
} as const;
const SUB_OPERATIONS = {
  numberOfRemainingSuboperations: 'P',
  numberOfCompletedSuboperations: 'P',
  numberOfFailedSuboperations: 'P',
  numberOfWarningSuboperations: 'P',
} as const;
const N_REQUEST = {
  messageId: 'M',
  requestedSopClassUid: 'M',
  requestedSopInstanceUid: 'M',
} as const;

/** Field tables of PS3.7 §9.3 and §10.3, by Command Field. */
const SPECS: Readonly<Record<CommandField, MessageSpec>> = {
  [CommandField.C_STORE_RQ]: {
    section: 'PS3.7 §9.3.1.1',
    dataSet: 'required',
    fields: {
      messageId: 'M',
      affectedSopClassUid: 'M',
      affectedSopInstanceUid: 'M',
      priority: 'M',
      moveOriginatorAeTitle: 'U',
      moveOriginatorMessageId: 'U',
    },
  },
  [CommandField.C_STORE_RSP]: {
    section: 'PS3.7 §9.3.1.2',
    dataSet: 'none',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U' },
  },
  [CommandField.C_FIND_RQ]: {
    section: 'PS3.7 §9.3.2.1',
    dataSet: 'required',
    fields: { messageId: 'M', affectedSopClassUid: 'M', priority: 'M' },
  },
  [CommandField.C_FIND_RSP]: {
    section: 'PS3.7 §9.3.2.2',
    dataSet: 'optional', // required exactly when pending: checked in checkConditions
    fields: { ...RESPONSE },
  },
  [CommandField.C_CANCEL_RQ]: {
    section: 'PS3.7 §9.3.2.3',
    dataSet: 'none',
    fields: { messageIdBeingRespondedTo: 'M' },
  },
  [CommandField.C_GET_RQ]: {
    section: 'PS3.7 §9.3.3.1',
    dataSet: 'required',
    fields: { messageId: 'M', affectedSopClassUid: 'M', priority: 'M' },
  },
  [CommandField.C_GET_RSP]: {
    section: 'PS3.7 §9.3.3.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, ...SUB_OPERATIONS },
  },
  [CommandField.C_MOVE_RQ]: {
    section: 'PS3.7 §9.3.4.1',
    dataSet: 'required',
    fields: { messageId: 'M', affectedSopClassUid: 'M', priority: 'M', moveDestination: 'M' },
  },
  [CommandField.C_MOVE_RSP]: {
    section: 'PS3.7 §9.3.4.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, ...SUB_OPERATIONS },
  },
  [CommandField.C_ECHO_RQ]: {
    section: 'PS3.7 §9.3.5.1',
    dataSet: 'none',
    fields: { messageId: 'M', affectedSopClassUid: 'M' },
  },
  [CommandField.C_ECHO_RSP]: {
    section: 'PS3.7 §9.3.5.2',
    dataSet: 'none',
    fields: { ...RESPONSE },
  },
  [CommandField.N_EVENT_REPORT_RQ]: {
    section: 'PS3.7 §10.3.1.1',
    dataSet: 'optional',
    fields: {
      messageId: 'M',
      affectedSopClassUid: 'M',
      affectedSopInstanceUid: 'M',
      eventTypeId: 'M',
    },
  },
  [CommandField.N_EVENT_REPORT_RSP]: {
    section: 'PS3.7 §10.3.1.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U', eventTypeId: 'U' },
  },
  [CommandField.N_GET_RQ]: {
    section: 'PS3.7 §10.3.2.1',
    dataSet: 'none',
    fields: { ...N_REQUEST, attributeIdentifierList: 'U' },
  },
  [CommandField.N_GET_RSP]: {
    section: 'PS3.7 §10.3.2.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U', attributeIdentifierList: 'S' },
  },
  [CommandField.N_SET_RQ]: {
    section: 'PS3.7 §10.3.3.1',
    dataSet: 'required',
    fields: { ...N_REQUEST },
  },
  [CommandField.N_SET_RSP]: {
    section: 'PS3.7 §10.3.3.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U', attributeIdentifierList: 'S' },
  },
  [CommandField.N_ACTION_RQ]: {
    section: 'PS3.7 §10.3.4.1',
    dataSet: 'optional',
    fields: { ...N_REQUEST, actionTypeId: 'M' },
  },
  [CommandField.N_ACTION_RSP]: {
    section: 'PS3.7 §10.3.4.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U', actionTypeId: 'U' },
  },
  [CommandField.N_CREATE_RQ]: {
    section: 'PS3.7 §10.3.5.1',
    dataSet: 'optional',
    fields: { messageId: 'M', affectedSopClassUid: 'M', affectedSopInstanceUid: 'U' },
  },
  [CommandField.N_CREATE_RSP]: {
    section: 'PS3.7 §10.3.5.2',
    dataSet: 'optional',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U', attributeIdentifierList: 'S' },
  },
  [CommandField.N_DELETE_RQ]: {
    section: 'PS3.7 §10.3.6.1',
    dataSet: 'none',
    fields: { ...N_REQUEST },
  },
  [CommandField.N_DELETE_RSP]: {
    section: 'PS3.7 §10.3.6.2',
    dataSet: 'none',
    fields: { ...RESPONSE, affectedSopInstanceUid: 'U' },
  },
};

/** Each spec's fields as a list, computed once. */
const SPEC_ENTRIES: Readonly<Record<number, readonly [CommandFieldName, Presence][]>> =
  Object.fromEntries(
    Object.entries(SPECS).map(([cf, spec]) => [
      cf,
      Object.entries(spec.fields) as [CommandFieldName, Presence][],
    ]),
  );

function tagOf(name: CommandFieldName | 'commandDataSetType'): number {
  return name === 'commandDataSetType'
    ? CommandTag.CommandDataSetType
    : (COMMAND_ELEMENT_BY_NAME.get(name)?.tag ?? 0);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

/**
 * Whether `name` may appear in a message of `spec` with `status`, and
 * whether it must: returns the presence that applies under the conditions.
 */
function effectivePresence(
  presence: Presence | undefined,
  status: number | undefined,
): 'M' | 'U' | undefined {
  switch (presence) {
    case 'S':
      // Status-related fields accompany warning and failure statuses (PS3.7 Annex C).
      return status !== undefined && statusCategory(status) !== 'success' ? 'U' : undefined;
    case 'P':
      // Sub-operation counters are required while pending (PS3.7 §9.3.3.2, §9.3.4.2).
      return status !== undefined && isPending(status) ? 'M' : 'U';
    default:
      return presence;
  }
}

function ruleText(spec: MessageSpec, presence: Presence | undefined, status?: number): string {
  if (presence === 'S')
    return `status-related fields go with a warning or failure status, not ${hex(status ?? 0)} (PS3.7 Annex C)`;
  if (presence === 'P')
    return `sub-operation counters are required in a pending response (${spec.section})`;
  return `see ${spec.section}`;
}

function hex(n: number): string {
  return `${n.toString(16).toUpperCase().padStart(4, '0')}H`;
}

/**
 * Checks a message against PS3.7 §9.3 / §10.3: the Command Field is known,
 * every mandatory and conditionally mandatory field is present, no field is
 * present that the type (under its status) does not allow, the data set
 * presence matches the type, and enumerated values are in range.
 */
export function validateMessage(message: DimseMessage): void {
  check(message, true);
}

/**
 * The checks of {@link validateMessage}. `sending` adds the rules a receiver
 * tolerates because deployed peers break them (DCMTK's movescu, for one,
 * copes with a data set after a pending C-MOVE-RSP).
 */
function check(message: DimseMessage, sending: boolean): void {
  const cf = message.commandField as number;
  if (!isCommandField(cf)) throw new UnknownCommandError(cf);
  const spec = SPECS[cf];
  const type = commandName[cf];
  const record = message as unknown as Record<string, unknown>;
  const status = typeof record.status === 'number' ? record.status : undefined;

  for (const [key, presence] of SPEC_ENTRIES[cf]!) {
    if (effectivePresence(presence, status) === 'M' && isEmpty(record[key]))
      throw new MissingFieldError(
        { messageType: type, field: key, tag: tagOf(key) },
        presence === 'P' ? ruleText(spec, presence) : `mandatory in ${type} (${spec.section})`,
      );
  }
  for (const i of presentElements(record)) {
    const def = COMMAND_ELEMENTS[i]!;
    const key = def.name;
    if (key === 'commandField' || key === 'commandDataSetType') continue;
    const presence = spec.fields[key];
    if (effectivePresence(presence, status) === undefined)
      throw new FieldNotAllowedError(
        { messageType: type, field: key, tag: def.tag },
        ruleText(spec, presence, status),
      );
  }
  checkDataSet(message, spec, type, status, sending);
  checkValues(message, type);
}

function checkDataSet(
  message: DimseMessage,
  spec: MessageSpec,
  type: string,
  status: number | undefined,
  sending: boolean,
): void {
  if (typeof message.hasDataSet !== 'boolean')
    throw new InvalidFieldError(
      { messageType: type, field: 'hasDataSet', tag: CommandTag.CommandDataSetType },
      'must be true or false',
    );
  let rule = spec.dataSet;
  let why = spec.section;
  if (message.commandField === CommandField.C_FIND_RSP && status !== undefined) {
    // The Identifier comes with every pending response and never with a success or
    // cancel (PS3.7 §9.3.2.2, PS3.4 C.4.1.1.3); failures may carry one.
    const category = statusCategory(status);
    if (isPending(status)) rule = 'required';
    else if (category === 'success' || category === 'cancel') rule = 'none';
    why = `${spec.section}: an Identifier comes with pending statuses`;
  }
  if (
    sending &&
    status !== undefined &&
    (message.commandField === CommandField.C_GET_RSP ||
      message.commandField === CommandField.C_MOVE_RSP) &&
    (isPending(status) || statusCategory(status) === 'success')
  ) {
    // The Identifier of a C-GET/C-MOVE response holds the Failed SOP Instance UID
    // List: none while pending, none when nothing failed (PS3.4 C.4.2.1.4.2; likewise C.4.3).
    rule = 'none';
    why = `${spec.section}, PS3.4 C.4.2.1.4.2: no Identifier with a pending or success status`;
  }
  const d = { messageType: type, field: 'commandDataSetType', tag: CommandTag.CommandDataSetType };
  if (rule === 'required' && !message.hasDataSet)
    throw new MissingFieldError(d, `${type} carries a data set (${why})`);
  if (rule === 'none' && message.hasDataSet)
    throw new FieldNotAllowedError(d, `${type} carries no data set: 0101H (${why})`);
}

function checkValues(message: DimseMessage, type: string): void {
  if ('priority' in message) {
    // Priority: 0000H medium, 0001H high, 0002H low (PS3.7 §E.1).
    const p = message.priority;
    if (p !== 0 && p !== 1 && p !== 2)
      throw new InvalidFieldError(
        { messageType: type, field: 'priority', tag: CommandTag.Priority },
        `is ${String(p)}; PS3.7 §E.1 allows 0000H (medium), 0001H (high), 0002H (low)`,
      );
  }
  if (message.commandField === CommandField.C_STORE_RQ) {
    // Move Originator AE Title and Message ID identify the C-MOVE a C-STORE serves:
    // together or not at all (PS3.7 §9.3.1.1, PS3.4 C.4.2.2).
    const hasTitle = !isEmpty(message.moveOriginatorAeTitle);
    const hasId = message.moveOriginatorMessageId !== undefined;
    if (hasTitle !== hasId) {
      const field = hasTitle ? 'moveOriginatorMessageId' : 'moveOriginatorAeTitle';
      throw new MissingFieldError(
        { messageType: type, field, tag: tagOf(field) },
        'Move Originator AE Title and Move Originator Message ID go together (PS3.7 §9.3.1.1)',
      );
    }
  }
}

/** The response type of each request type (bit 15 set, PS3.7 §E.1). */
export type ResponseOf = {
  [CommandField.C_STORE_RQ]: CStoreRsp;
  [CommandField.C_FIND_RQ]: CFindRsp;
  [CommandField.C_GET_RQ]: CGetRsp;
  [CommandField.C_MOVE_RQ]: CMoveRsp;
  [CommandField.C_ECHO_RQ]: CEchoRsp;
  [CommandField.N_EVENT_REPORT_RQ]: NEventReportRsp;
  [CommandField.N_GET_RQ]: NGetRsp;
  [CommandField.N_SET_RQ]: NSetRsp;
  [CommandField.N_ACTION_RQ]: NActionRsp;
  [CommandField.N_CREATE_RQ]: NCreateRsp;
  [CommandField.N_DELETE_RQ]: NDeleteRsp;
};

/** Requests that have a response (every request but C-CANCEL-RQ). */
export type AnsweredRequest = Exclude<DimseRequest, CCancelRq>;

/** Fields a caller sets on a response built by {@link respondTo}. */
export type ResponseFields<R extends AnsweredRequest> = Omit<
  ResponseOf[R['commandField']],
  'commandField' | 'messageIdBeingRespondedTo' | 'hasDataSet'
> & { hasDataSet?: boolean };

/**
 * Builds the response to a request: the response Command Field, Message ID
 * Being Responded To = the request's Message ID, the Affected SOP Class UID
 * (and, for C-STORE and the N-services, the Affected SOP Instance UID, and
 * the Event or Action Type ID) equal to the request's (PS3.7 §9.3, §10.3:
 * "U(=)"), then `fields` (status, counters, status details) over them.
 * `hasDataSet` defaults to false. The response is checked when it is
 * encoded ({@link encodeMessage} calls {@link validateMessage}), once, as every
 * message sent is; call `validateMessage` to check it earlier.
 */
export function respondTo<R extends AnsweredRequest>(
  request: R,
  fields: ResponseFields<R>,
): ResponseOf[R['commandField']] {
  const rq = request as AnsweredRequest;
  const base: Record<string, unknown> = {
    commandField: (rq.commandField | 0x8000) as CommandField,
    messageIdBeingRespondedTo: rq.messageId,
    hasDataSet: false,
  };
  const spec = SPECS[base.commandField as CommandField];
  const sopClass = 'affectedSopClassUid' in rq ? rq.affectedSopClassUid : rq.requestedSopClassUid;
  if (sopClass) base.affectedSopClassUid = sopClass;
  if (spec.fields.affectedSopInstanceUid) {
    const instance =
      'requestedSopInstanceUid' in rq
        ? rq.requestedSopInstanceUid
        : 'affectedSopInstanceUid' in rq
          ? rq.affectedSopInstanceUid
          : undefined;
    if (instance) base.affectedSopInstanceUid = instance;
  }
  if (spec.fields.eventTypeId && 'eventTypeId' in rq) base.eventTypeId = rq.eventTypeId;
  if (spec.fields.actionTypeId && 'actionTypeId' in rq) base.actionTypeId = rq.actionTypeId;
  const response = { ...base, ...fields } as unknown as ResponseOf[R['commandField']];
  return response;
}

/**
 * Encodes a message's command set (PS3.7 §6.3.1 / Annex E) after
 * {@link validateMessage}: Implicit VR Little Endian, group length computed,
 * Command Data Set Type 0101H when no data set follows.
 */
export function encodeMessage(message: DimseMessage): Uint8Array {
  validateMessage(message);
  const set: CommandSet = {};
  const record = message as unknown as Record<string, unknown>;
  const target = set as Record<string, unknown>;
  for (const i of presentElements(record)) {
    const name = COMMAND_ELEMENTS[i]!.name;
    target[name] = record[name];
  }
  set.commandDataSetType = message.hasDataSet
    ? CommandDataSetType.PRESENT
    : CommandDataSetType.NONE;
  if (message.otherElements?.length) set.otherElements = message.otherElements;
  return encodeCommandSet(set, commandName[message.commandField]);
}

/**
 * Decodes and validates a command set into one of the 23 typed messages
 * (PS3.7 §9.3, §10.3). Missing mandatory fields, an unknown Command Field, a
 * data set where none may be (or none where one must be) raise typed errors.
 * Fields the message type does not define are not rejected (peers add them):
 * they move to `otherElements`, raw, and are written back unchanged.
 */
export function decodeMessage(
  bytes: Uint8Array,
  options: DecodeCommandSetOptions = {},
): DimseMessage {
  const { set, raw } = decodeCommandSetWithRaw(bytes, options);
  const cf = set.commandField;
  if (cf === undefined)
    throw new MissingFieldError(
      { messageType: 'command set', field: 'commandField', tag: CommandTag.CommandField },
      'every command set has one (PS3.7 Table E.1-1)',
    );
  if (!isCommandField(cf)) throw new UnknownCommandError(cf);
  const type = commandName[cf];
  if (set.commandDataSetType === undefined)
    throw new MissingFieldError(
      { messageType: type, field: 'commandDataSetType', tag: CommandTag.CommandDataSetType },
      'every command set has one (PS3.7 Table E.1-1)',
    );
  const spec = SPECS[cf];
  const status = set.status;
  const message: Record<string, unknown> = {
    commandField: cf,
    hasDataSet: set.commandDataSetType !== CommandDataSetType.NONE,
  };
  const others: RawCommandElement[] = [...(set.otherElements ?? [])];
  for (const def of COMMAND_ELEMENT_BY_NAME.values()) {
    const name = def.name;
    if (name === 'commandField' || name === 'commandDataSetType') continue;
    const value = set[name];
    if (value === undefined) continue;
    if (effectivePresence(spec.fields[name], status) === undefined) {
      const el = raw(def.tag);
      if (el) others.push(el);
    } else {
      message[name] = value;
    }
  }
  if (others.length > 0) message.otherElements = others.sort((a, b) => a.tag - b.tag);
  const typed = message as unknown as DimseMessage;
  check(typed, false);
  return typed;
}

/** The standard's name of a message's type, e.g. `C-STORE-RQ`. */
export function messageType(message: Pick<DimseMessage, 'commandField'>): string {
  return commandName[message.commandField] ?? `0x${(message.commandField as number).toString(16)}`;
}

/** True for the response types (bit 15 of the Command Field, PS3.7 §E.1). */
export function isResponseMessage(message: DimseMessage): message is DimseResponse {
  return ((message.commandField as number) & 0x8000) !== 0;
}

/**
 * Checks that `response` answers `request`: its Command Field is the
 * request's with bit 15 set (PS3.7 §E.1), its Message ID Being Responded To
 * is the request's Message ID, and the fields the standard marks U(=) (the
 * Affected SOP Class UID; the Affected SOP Instance UID of C-STORE and of the
 * N-services, which answer with the Requested UIDs of their requests; the
 * Event and Action Type IDs), when present, equal the request's (PS3.7 §9.3,
 * §10.3). Throws {@link ResponseMismatchError}. N-CREATE-RSP may name an
 * instance the request left to the SCP.
 */
export function checkResponse(request: AnsweredRequest, response: DimseResponse): void {
  const rq = request as unknown as Record<string, unknown>;
  const rsp = response as unknown as Record<string, unknown>;
  const type = messageType(response);
  if (response.commandField !== ((request.commandField | 0x8000) as CommandField))
    throw new ResponseMismatchError(
      'commandField',
      `${type} does not answer ${messageType(request)} (PS3.7 §E.1)`,
    );
  if (response.messageIdBeingRespondedTo !== request.messageId)
    throw new ResponseMismatchError(
      'messageIdBeingRespondedTo',
      `${type} answers Message ID ${response.messageIdBeingRespondedTo}, not ${request.messageId}`,
    );
  const expected: [string, unknown][] = [
    ['affectedSopClassUid', rq.affectedSopClassUid ?? rq.requestedSopClassUid],
    ['affectedSopInstanceUid', rq.affectedSopInstanceUid ?? rq.requestedSopInstanceUid],
    ['eventTypeId', rq.eventTypeId],
    ['actionTypeId', rq.actionTypeId],
  ];
  for (const [field, want] of expected) {
    const got = rsp[field];
    if (got === undefined || want === undefined) continue;
    if (got !== want)
      throw new ResponseMismatchError(
        field,
        `${type}: ${field} is ${String(got)}, the request's is ${String(want)} (U(=), PS3.7 §9.3, §10.3)`,
      );
  }
}
