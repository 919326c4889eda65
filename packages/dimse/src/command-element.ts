/**
 * The command elements of group 0000 and their VRs (PS3.7 Annex E, Table
 * E.1-1). This is the whole fixed set DIMSE uses; retired elements (Table
 * E.2-1) are not interpreted and pass through as raw bytes.
 */

/** Value Representations used by command elements (PS3.5 §6.2). */
export const CommandVr = {
  /** Unique Identifier: `0-9` and `.`, at most 64 characters, padded with 00H to even length. */
  UI: 'UI',
  /** Unsigned Short: 2 bytes. */
  US: 'US',
  /** Unsigned Long: 4 bytes. */
  UL: 'UL',
  /** Application Entity: at most 16 characters, padded with a space. */
  AE: 'AE',
  /** Long String: at most 64 characters, padded with a space. */
  LO: 'LO',
  /** Attribute Tag: 4 bytes per value (group, element), value multiplicity 1-n. */
  AT: 'AT',
} as const;
/** One of the `CommandVr` values. */
export type CommandVr = (typeof CommandVr)[keyof typeof CommandVr];

/** Tags of the command elements, PS3.7 Annex E Table E.1-1 (group 0000). */
export const CommandTag = {
  /** (0000,0000) Command Group Length, UL */
  CommandGroupLength: 0x00000000,
  /** (0000,0002) Affected SOP Class UID, UI */
  AffectedSopClassUid: 0x00000002,
  /** (0000,0003) Requested SOP Class UID, UI */
  RequestedSopClassUid: 0x00000003,
  /** (0000,0100) Command Field, US */
  CommandField: 0x00000100,
  /** (0000,0110) Message ID, US */
  MessageId: 0x00000110,
  /** (0000,0120) Message ID Being Responded To, US */
  MessageIdBeingRespondedTo: 0x00000120,
  /** (0000,0600) Move Destination, AE */
  MoveDestination: 0x00000600,
  /** (0000,0700) Priority, US */
  Priority: 0x00000700,
  /** (0000,0800) Command Data Set Type, US */
  CommandDataSetType: 0x00000800,
  /** (0000,0900) Status, US */
  Status: 0x00000900,
  /** (0000,0901) Offending Element, AT 1-n */
  OffendingElement: 0x00000901,
  /** (0000,0902) Error Comment, LO */
  ErrorComment: 0x00000902,
  /** (0000,0903) Error ID, US */
  ErrorId: 0x00000903,
  /** (0000,1000) Affected SOP Instance UID, UI */
  AffectedSopInstanceUid: 0x00001000,
  /** (0000,1001) Requested SOP Instance UID, UI */
  RequestedSopInstanceUid: 0x00001001,
  /** (0000,1002) Event Type ID, US */
  EventTypeId: 0x00001002,
  /** (0000,1005) Attribute Identifier List, AT 1-n */
  AttributeIdentifierList: 0x00001005,
  /** (0000,1008) Action Type ID, US */
  ActionTypeId: 0x00001008,
  /** (0000,1020) Number of Remaining Sub-operations, US */
  NumberOfRemainingSuboperations: 0x00001020,
  /** (0000,1021) Number of Completed Sub-operations, US */
  NumberOfCompletedSuboperations: 0x00001021,
  /** (0000,1022) Number of Failed Sub-operations, US */
  NumberOfFailedSuboperations: 0x00001022,
  /** (0000,1023) Number of Warning Sub-operations, US */
  NumberOfWarningSuboperations: 0x00001023,
  /** (0000,1030) Move Originator Application Entity Title, AE */
  MoveOriginatorAeTitle: 0x00001030,
  /** (0000,1031) Move Originator Message ID, US */
  MoveOriginatorMessageId: 0x00001031,
} as const;
/** One of the `CommandTag` values. */
export type CommandTag = (typeof CommandTag)[keyof typeof CommandTag];

/**
 * The property of a command set object holding each element (the element's
 * keyword in lower camel case), PS3.7 Table E.1-1.
 */
export type CommandFieldName =
  | 'affectedSopClassUid'
  | 'requestedSopClassUid'
  | 'commandField'
  | 'messageId'
  | 'messageIdBeingRespondedTo'
  | 'moveDestination'
  | 'priority'
  | 'commandDataSetType'
  | 'status'
  | 'offendingElement'
  | 'errorComment'
  | 'errorId'
  | 'affectedSopInstanceUid'
  | 'requestedSopInstanceUid'
  | 'eventTypeId'
  | 'attributeIdentifierList'
  | 'actionTypeId'
  | 'numberOfRemainingSuboperations'
  | 'numberOfCompletedSuboperations'
  | 'numberOfFailedSuboperations'
  | 'numberOfWarningSuboperations'
  | 'moveOriginatorAeTitle'
  | 'moveOriginatorMessageId';

/** Definition of one command element. */
export interface CommandElementDef {
  /** The tag, group 0000. */
  tag: number;
  /** The property name in {@link CommandSet}. */
  name: CommandFieldName;
  /** The VR, always implicit on the wire (PS3.7 §6.3.1). */
  vr: CommandVr;
  /** Maximum number of characters for string VRs (PS3.5 Table 6.2-1). */
  maxChars?: number;
}

/** Every command element except the group length, in ascending tag order (PS3.7 Table E.1-1). */
export const COMMAND_ELEMENTS: readonly CommandElementDef[] = Object.freeze([
  { tag: CommandTag.AffectedSopClassUid, name: 'affectedSopClassUid', vr: 'UI', maxChars: 64 },
  { tag: CommandTag.RequestedSopClassUid, name: 'requestedSopClassUid', vr: 'UI', maxChars: 64 },
  { tag: CommandTag.CommandField, name: 'commandField', vr: 'US' },
  { tag: CommandTag.MessageId, name: 'messageId', vr: 'US' },
  { tag: CommandTag.MessageIdBeingRespondedTo, name: 'messageIdBeingRespondedTo', vr: 'US' },
  { tag: CommandTag.MoveDestination, name: 'moveDestination', vr: 'AE', maxChars: 16 },
  { tag: CommandTag.Priority, name: 'priority', vr: 'US' },
  { tag: CommandTag.CommandDataSetType, name: 'commandDataSetType', vr: 'US' },
  { tag: CommandTag.Status, name: 'status', vr: 'US' },
  { tag: CommandTag.OffendingElement, name: 'offendingElement', vr: 'AT' },
  { tag: CommandTag.ErrorComment, name: 'errorComment', vr: 'LO', maxChars: 64 },
  { tag: CommandTag.ErrorId, name: 'errorId', vr: 'US' },
  {
    tag: CommandTag.AffectedSopInstanceUid,
    name: 'affectedSopInstanceUid',
    vr: 'UI',
    maxChars: 64,
  },
  {
    tag: CommandTag.RequestedSopInstanceUid,
    name: 'requestedSopInstanceUid',
    vr: 'UI',
    maxChars: 64,
  },
  { tag: CommandTag.EventTypeId, name: 'eventTypeId', vr: 'US' },
  { tag: CommandTag.AttributeIdentifierList, name: 'attributeIdentifierList', vr: 'AT' },
  { tag: CommandTag.ActionTypeId, name: 'actionTypeId', vr: 'US' },
  {
    tag: CommandTag.NumberOfRemainingSuboperations,
    name: 'numberOfRemainingSuboperations',
    vr: 'US',
  },
  {
    tag: CommandTag.NumberOfCompletedSuboperations,
    name: 'numberOfCompletedSuboperations',
    vr: 'US',
  },
  { tag: CommandTag.NumberOfFailedSuboperations, name: 'numberOfFailedSuboperations', vr: 'US' },
  {
    tag: CommandTag.NumberOfWarningSuboperations,
    name: 'numberOfWarningSuboperations',
    vr: 'US',
  },
  { tag: CommandTag.MoveOriginatorAeTitle, name: 'moveOriginatorAeTitle', vr: 'AE', maxChars: 16 },
  { tag: CommandTag.MoveOriginatorMessageId, name: 'moveOriginatorMessageId', vr: 'US' },
] satisfies CommandElementDef[]);

/** Element definitions by tag. */
export const COMMAND_ELEMENT_BY_TAG: ReadonlyMap<number, CommandElementDef> = new Map(
  COMMAND_ELEMENTS.map((d) => [d.tag, d]),
);

/** Position of each element in {@link COMMAND_ELEMENTS} (ascending tag order), by property name. */
const INDEX_BY_NAME: ReadonlyMap<string, number> = new Map(
  COMMAND_ELEMENTS.map((d, i) => [d.name, i]),
);

/**
 * The positions in {@link COMMAND_ELEMENTS} of the fields a message or
 * command set holds (defined, not undefined), ascending, so in tag order
 * (PS3.5 §7.1). Walks the object's own few keys rather than probing all
 * 27 names: a message carries 4-10 of them.
 * @internal
 */
export function presentElements(record: Readonly<Record<string, unknown>>): number[] {
  const present: number[] = [];
  for (const key in record) {
    const i = INDEX_BY_NAME.get(key);
    if (i !== undefined && record[key] !== undefined) present.push(i);
  }
  // Insertion sort: a handful of entries, usually already in order.
  for (let i = 1; i < present.length; i++) {
    const v = present[i]!;
    let j = i - 1;
    while (j >= 0 && present[j]! > v) {
      present[j + 1] = present[j]!;
      j--;
    }
    present[j + 1] = v;
  }
  return present;
}

/** Element definitions by property name. */
export const COMMAND_ELEMENT_BY_NAME: ReadonlyMap<CommandFieldName, CommandElementDef> = new Map(
  COMMAND_ELEMENTS.map((d) => [d.name, d]),
);
