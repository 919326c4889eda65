/**
 * Errors of `@dnet/dimse`. Every error extends `DnetError` of `@dnet/errors`:
 * a stable `code` (`DNET_DIMSE_...`), the protocol fields that apply, and the
 * brand {@link isDnetError} recognises across duplicated installs.
 */

import { DnetError, isDnetError } from '@dnet/errors';

export { DnetError, isDnetError };

/** Stable error codes raised by `@dnet/dimse`. */
export const DimseErrorCode = {
  /** The command set bytes are not a well-formed group 0000 in Implicit VR Little Endian (PS3.7 §6.3.1). */
  INVALID_COMMAND_SET: 'DNET_DIMSE_INVALID_COMMAND_SET',
  /** The Command Field (0000,0100) is not one of the values of PS3.7 §E.1. */
  UNKNOWN_COMMAND: 'DNET_DIMSE_UNKNOWN_COMMAND',
  /** A field required for the message type is missing (PS3.7 §9.3, §10.3). */
  MISSING_FIELD: 'DNET_DIMSE_MISSING_FIELD',
  /** A field is present that the message type does not allow (PS3.7 §9.3, §10.3). */
  FIELD_NOT_ALLOWED: 'DNET_DIMSE_FIELD_NOT_ALLOWED',
  /** A field has a value outside what its VR or the message allows. */
  INVALID_FIELD: 'DNET_DIMSE_INVALID_FIELD',
  /** A command set exceeds the configured size cap (see LIMITS.md). */
  COMMAND_TOO_LARGE: 'DNET_DIMSE_COMMAND_TOO_LARGE',
  /** A PDV names a presentation context that is not accepted on the association (PS3.8 §9.3.5.1). */
  UNKNOWN_CONTEXT: 'DNET_DIMSE_UNKNOWN_CONTEXT',
  /** PDVs arrive out of order: interleaved messages, data before command, ... (PS3.8 Annex E.2, PS3.7 §6.3). */
  BAD_SEQUENCE: 'DNET_DIMSE_BAD_SEQUENCE',
  /** Every Message ID is outstanding (PS3.7 §9.1.1.1.1). */
  MESSAGE_IDS_EXHAUSTED: 'DNET_DIMSE_MESSAGE_IDS_EXHAUSTED',
  /** A response does not answer the request it is matched with (PS3.7 §9.3, §10.3: U(=) fields). */
  RESPONSE_MISMATCH: 'DNET_DIMSE_RESPONSE_MISMATCH',
  /** A DataSetStream was used after its end, or iterated twice. */
  STREAM_CLOSED: 'DNET_DIMSE_STREAM_CLOSED',
  /** A fragmentation option is invalid (e.g. a maximum PDU length too small for one PDV). */
  INVALID_OPTION: 'DNET_DIMSE_INVALID_OPTION',
  /** A command set or data set to send has an odd length, so its last PDV fragment would too (PS3.5 §7.1.1, §A.5). */
  ODD_FRAGMENT: 'DNET_DIMSE_ODD_FRAGMENT',
} as const;
/** One of the `DimseErrorCode` values. */
export type DimseErrorCode = (typeof DimseErrorCode)[keyof typeof DimseErrorCode];

/** Options common to every dimse error. */
export interface DimseErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Base class of every `@dnet/dimse` error. */
export class DimseError extends DnetError {
  /** Stable machine-readable code. */
  declare readonly code: DimseErrorCode;

  /** @param code - stable code; @param message - human-readable text. */
  constructor(code: DimseErrorCode, message: string, options: DimseErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The command set bytes are malformed (PS3.7 §6.3.1): truncated element, wrong group, bad length. */
export class InvalidCommandSetError extends DimseError {
  /** Byte offset in the command set where the problem was found. */
  readonly offset: number;
  /** @param offset - byte offset of the problem. */
  constructor(message: string, offset: number, options?: DimseErrorOptions) {
    super(DimseErrorCode.INVALID_COMMAND_SET, `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}

/** The Command Field is not a DIMSE command of PS3.7 §E.1. */
export class UnknownCommandError extends DimseError {
  /** The Command Field value received. */
  readonly commandField: number;
  /** @param commandField - the value of (0000,0100). */
  constructor(commandField: number) {
    super(
      DimseErrorCode.UNKNOWN_COMMAND,
      `unknown Command Field 0x${commandField.toString(16).padStart(4, '0')} (PS3.7 §E.1)`,
    );
    this.commandField = commandField;
  }
}

/** Fields shared by the field errors. */
export interface FieldErrorDetails {
  /** The message type, e.g. `C-STORE-RQ`. */
  messageType: string;
  /** The field's property name, e.g. `affectedSopInstanceUid`. */
  field: string;
  /** The field's tag, e.g. `0x00001000` for (0000,1000). */
  tag: number;
}

function tagText(tag: number): string {
  return `(0000,${(tag & 0xffff).toString(16).toUpperCase().padStart(4, '0')})`;
}

/** A required or conditionally required field is missing (PS3.7 §9.3, §10.3). */
export class MissingFieldError extends DimseError implements FieldErrorDetails {
  /** The message type. */
  readonly messageType: string;
  /** The missing field's property name. */
  readonly field: string;
  /** The missing field's tag. */
  readonly tag: number;
  /** @param details - message type, field, tag; @param rule - the rule and section violated. */
  constructor(details: FieldErrorDetails, rule: string) {
    super(
      DimseErrorCode.MISSING_FIELD,
      `${details.messageType}: ${details.field} ${tagText(details.tag)} is required: ${rule}`,
    );
    this.messageType = details.messageType;
    this.field = details.field;
    this.tag = details.tag;
  }
}

/** A field is present that the message type does not allow (PS3.7 §9.3, §10.3). */
export class FieldNotAllowedError extends DimseError implements FieldErrorDetails {
  /** The message type. */
  readonly messageType: string;
  /** The unexpected field's property name. */
  readonly field: string;
  /** The unexpected field's tag. */
  readonly tag: number;
  /** @param details - message type, field, tag; @param rule - the rule and section violated. */
  constructor(details: FieldErrorDetails, rule: string) {
    super(
      DimseErrorCode.FIELD_NOT_ALLOWED,
      `${details.messageType}: ${details.field} ${tagText(details.tag)} is not allowed: ${rule}`,
    );
    this.messageType = details.messageType;
    this.field = details.field;
    this.tag = details.tag;
  }
}

/** A field's value is invalid for its VR or its message. */
export class InvalidFieldError extends DimseError implements FieldErrorDetails {
  /** The message type (or `command set` when not known yet). */
  readonly messageType: string;
  /** The field's property name. */
  readonly field: string;
  /** The field's tag. */
  readonly tag: number;
  /** @param details - message type, field, tag; @param reason - what is wrong. */
  constructor(details: FieldErrorDetails, reason: string) {
    super(
      DimseErrorCode.INVALID_FIELD,
      `${details.messageType}: ${details.field} ${tagText(details.tag)} ${reason}`,
    );
    this.messageType = details.messageType;
    this.field = details.field;
    this.tag = details.tag;
  }
}

/** A command set is larger than the configured cap (LIMITS.md: maxCommandLength). */
export class CommandTooLargeError extends DimseError {
  /** The size reached, in bytes. */
  readonly length: number;
  /** The cap, in bytes. */
  readonly limit: number;
  /** @param length - size reached; @param limit - the cap. */
  constructor(length: number, limit: number) {
    super(
      DimseErrorCode.COMMAND_TOO_LARGE,
      `command set of at least ${length} bytes exceeds maxCommandLength ${limit}`,
    );
    this.length = length;
    this.limit = limit;
  }
}

/** A PDV uses a presentation context ID that is not accepted (PS3.8 §9.3.5.1). */
export class UnknownContextError extends DimseError {
  /** The presentation context ID of the PDV. */
  readonly contextId: number;
  /** @param contextId - the offending ID. */
  constructor(contextId: number) {
    super(
      DimseErrorCode.UNKNOWN_CONTEXT,
      `PDV on presentation context ${contextId}, which is not accepted on this association (PS3.8 §9.3.5.1)`,
    );
    this.contextId = contextId;
  }
}

/** PDVs arrived in an order PS3.8 Annex E.2 / PS3.7 §6.3 forbid. */
export class BadSequenceError extends DimseError {
  /** Presentation context ID of the offending PDV. */
  readonly contextId: number;
  /** @param message - what happened; @param contextId - the PDV's context. */
  constructor(message: string, contextId: number) {
    super(DimseErrorCode.BAD_SEQUENCE, message);
    this.contextId = contextId;
  }
}

/** No Message ID is free: all are outstanding (PS3.7 §9.1.1.1.1). */
export class MessageIdsExhaustedError extends DimseError {
  /** How many IDs are outstanding. */
  readonly outstanding: number;
  /** @param outstanding - the number of outstanding IDs. */
  constructor(outstanding: number) {
    super(
      DimseErrorCode.MESSAGE_IDS_EXHAUSTED,
      `no free Message ID: ${outstanding} are outstanding (PS3.7 §9.1.1.1.1)`,
    );
    this.outstanding = outstanding;
  }
}

/** An option is out of range. */
export class InvalidOptionError extends DimseError {
  /** The option's name. */
  readonly option: string;
  /** @param option - option name; @param message - what is wrong. */
  constructor(option: string, message: string) {
    super(DimseErrorCode.INVALID_OPTION, `${option}: ${message}`);
    this.option = option;
  }
}

/**
 * A PDV fragment we were about to send has an odd length: the command set or
 * data set it ends has an odd length. Every element value has an even length
 * (PS3.5 §7.1.1) and a deflated data set is padded to an even length (PS3.5
 * §A.5), so an odd one is malformed (a deflated stream not padded, a cut
 * file); DCMTK's storescp aborts the association on it ("Odd Fragment
 * Length"). Thrown before that fragment is handed out: the PDUs before it may
 * have been, so the association must then be aborted.
 */
export class OddFragmentError extends DimseError {
  /** The fragment's length in bytes. */
  readonly length: number;
  /** Whether it belonged to the command set (else the data set). */
  readonly command: boolean;
  /** @param length - fragment length; @param command - command set or data set; @param total - bytes of it so far. */
  constructor(length: number, command: boolean, total: number) {
    super(
      DimseErrorCode.ODD_FRAGMENT,
      `the ${command ? 'command set' : 'data set'} has an odd length (${total} bytes): its last PDV fragment of ${length} bytes would be odd (PS3.5 §7.1.1 values, §A.5 deflated data sets, are even)`,
    );
    this.length = length;
    this.command = command;
  }
}

/** A {@link DimseError} for a `DataSetStream` misuse: a push after `end()`/`fail()`, or a second consumer. */
export class StreamClosedError extends DimseError {
  /** @param message - what was attempted. */
  constructor(message: string) {
    super(DimseErrorCode.STREAM_CLOSED, message);
  }
}

/** A response does not answer its request: wrong type, Message ID, or a U(=) field that differs (PS3.7 §9.3, §10.3). */
export class ResponseMismatchError extends DimseError {
  /** The field that differs, e.g. `affectedSopClassUid`. */
  readonly field: string;
  /** @param field - the field that differs; @param message - what differs. */
  constructor(field: string, message: string) {
    super(DimseErrorCode.RESPONSE_MISMATCH, message);
    this.field = field;
  }
}
