/**
 * Wire codes of the command set: Command Field, Priority and Command Data Set
 * Type (PS3.7 §E.1, Table E.1-1).
 */

/** Command Field (0000,0100) values, PS3.7 §E.1. Responses set bit 15 of their request's code. */
export const CommandField = {
  /** C-STORE-RQ, PS3.7 §9.3.1.1 */
  C_STORE_RQ: 0x0001,
  /** C-STORE-RSP, PS3.7 §9.3.1.2 */
  C_STORE_RSP: 0x8001,
  /** C-GET-RQ, PS3.7 §9.3.3.1 */
  C_GET_RQ: 0x0010,
  /** C-GET-RSP, PS3.7 §9.3.3.2 */
  C_GET_RSP: 0x8010,
  /** C-FIND-RQ, PS3.7 §9.3.2.1 */
  C_FIND_RQ: 0x0020,
  /** C-FIND-RSP, PS3.7 §9.3.2.2 */
  C_FIND_RSP: 0x8020,
  /** C-MOVE-RQ, PS3.7 §9.3.4.1 */
  C_MOVE_RQ: 0x0021,
  /** C-MOVE-RSP, PS3.7 §9.3.4.2 */
  C_MOVE_RSP: 0x8021,
  /** C-ECHO-RQ, PS3.7 §9.3.5.1 */
  C_ECHO_RQ: 0x0030,
  /** C-ECHO-RSP, PS3.7 §9.3.5.2 */
  C_ECHO_RSP: 0x8030,
  /** N-EVENT-REPORT-RQ, PS3.7 §10.3.1.1 */
  N_EVENT_REPORT_RQ: 0x0100,
  /** N-EVENT-REPORT-RSP, PS3.7 §10.3.1.2 */
  N_EVENT_REPORT_RSP: 0x8100,
  /** N-GET-RQ, PS3.7 §10.3.2.1 */
  N_GET_RQ: 0x0110,
  /** N-GET-RSP, PS3.7 §10.3.2.2 */
  N_GET_RSP: 0x8110,
  /** N-SET-RQ, PS3.7 §10.3.3.1 */
  N_SET_RQ: 0x0120,
  /** N-SET-RSP, PS3.7 §10.3.3.2 */
  N_SET_RSP: 0x8120,
  /** N-ACTION-RQ, PS3.7 §10.3.4.1 */
  N_ACTION_RQ: 0x0130,
  /** N-ACTION-RSP, PS3.7 §10.3.4.2 */
  N_ACTION_RSP: 0x8130,
  /** N-CREATE-RQ, PS3.7 §10.3.5.1 */
  N_CREATE_RQ: 0x0140,
  /** N-CREATE-RSP, PS3.7 §10.3.5.2 */
  N_CREATE_RSP: 0x8140,
  /** N-DELETE-RQ, PS3.7 §10.3.6.1 */
  N_DELETE_RQ: 0x0150,
  /** N-DELETE-RSP, PS3.7 §10.3.6.2 */
  N_DELETE_RSP: 0x8150,
  /** C-CANCEL-RQ (C-FIND, C-GET, C-MOVE), PS3.7 §9.3.2.3 */
  C_CANCEL_RQ: 0x0fff,
} as const;
/** One of the `CommandField` values. */
export type CommandField = (typeof CommandField)[keyof typeof CommandField];

/** The standard's name of each command (`C-STORE-RQ`...), by Command Field value. */
export const commandName: Readonly<Record<CommandField, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(CommandField).map(([key, value]) => [value, key.replaceAll('_', '-')]),
  ) as Record<CommandField, string>,
);

/** True when `value` is a Command Field of PS3.7 §E.1. */
export function isCommandField(value: number): value is CommandField {
  return COMMAND_FIELDS.has(value);
}

/** Every Command Field value, as numbers (a lookup by property name converts each to a string). */
const COMMAND_FIELDS: ReadonlySet<number> = new Set(Object.values(CommandField));

/** True for response Command Fields (bit 15 set, PS3.7 §E.1). C-CANCEL-RQ is a request. */
export function isResponse(commandField: number): boolean {
  return (commandField & 0x8000) !== 0;
}

/** Priority (0000,0700) values, PS3.7 §E.1 (C-STORE, C-FIND, C-GET, C-MOVE requests). */
export const Priority = {
  /** MEDIUM = 0000H */
  MEDIUM: 0x0000,
  /** HIGH = 0001H */
  HIGH: 0x0001,
  /** LOW = 0002H */
  LOW: 0x0002,
} as const;
/** One of the `Priority` values. */
export type Priority = (typeof Priority)[keyof typeof Priority];

/**
 * Command Data Set Type (0000,0800) values, PS3.7 §E.1: 0101H means no data
 * set follows; any other value means one does.
 */
export const CommandDataSetType = {
  /** Null: no data set follows the command (0101H). */
  NONE: 0x0101,
  /** The value dnet sends when a data set follows: 0001H, as DCMTK does (any value but 0101H means present). */
  PRESENT: 0x0001,
} as const;
/** One of the `CommandDataSetType` values. */
export type CommandDataSetType = (typeof CommandDataSetType)[keyof typeof CommandDataSetType];
