/**
 * @packageDocumentation
 * `@dnet/dimse`: PS3.7 DIMSE messages (command sets, the 23 message types,
 * status codes) and P-DATA fragmentation and reassembly.
 *
 * @example
 * ```ts
 * import { CommandField } from '@dnet/dimse';
 * CommandField.C_ECHO_RQ; // 0x0030
 * ```
 */

/** Command Field (0000,0100) values, PS3.7 §E.1 (excerpt; completed by the dimse issue). */
export const CommandField = {
  /** C-ECHO-RQ */
  C_ECHO_RQ: 0x0030,
  /** C-ECHO-RSP */
  C_ECHO_RSP: 0x8030,
} as const;
