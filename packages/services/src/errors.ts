/**
 * Errors of `@dnet/services`. Every error carries a stable `code`
 * (`DNET_SERVICES_...`), an optional `cause`, and the protocol fields that
 * apply (the DIMSE status of a failed operation). All extend `DnetError` of
 * `@dnet/errors`, so {@link isDnetError} recognises them, and the errors of
 * every other dnet package, across duplicated installs.
 */

import { NoPresentationContextError } from '@dnet/association';
import { DnetError, isDnetError } from '@dnet/errors';

// The association's errors a Client or Server user meets (a rejected or
// aborted association, a lost connection, a timer), so that catching them
// needs no import from @dnet/association.
export {
  AssociationAbortedError,
  AssociationErrorCode,
  AssociationRejectedError,
  AssociationReleasedError,
  ConnectionLostError,
  TimeoutError,
} from '@dnet/association';
// One error for a missing presentation context, whichever layer finds it.
export { DnetError, isDnetError, NoPresentationContextError };

/** Stable error codes raised by `@dnet/services`. */
export const ServicesErrorCode = {
  /** A DIMSE operation ended with a failure status (PS3.7 Annex C); see `status`. */
  OPERATION_FAILED: 'DNET_SERVICES_OPERATION_FAILED',
  /** A store source is not a Part 10 file, a Part 10 stream or a data set with SOP Class and Instance UIDs. */
  INVALID_SOURCE: 'DNET_SERVICES_INVALID_SOURCE',
  /**
   * A store source's data set is cut short or malformed: it ends inside an
   * element, an undefined-length sequence or item, or encapsulated Pixel Data
   * (PS3.5 §7.1, §7.5, §A.4); see `offset`.
   */
  INCOMPLETE_SOURCE: 'DNET_SERVICES_INCOMPLETE_SOURCE',
  /** An argument or option is invalid (too many contexts, unknown model...). */
  INVALID_ARGUMENT: 'DNET_SERVICES_INVALID_ARGUMENT',
  /** The client or server is closed. */
  CLOSED: 'DNET_SERVICES_CLOSED',
  /** A Server could not open, or lost, the association to a C-MOVE destination; see `cause`. */
  SUB_ASSOCIATION_FAILED: 'DNET_SERVICES_SUB_ASSOCIATION_FAILED',
  /**
   * The peer accepted contexts for a data set's SOP class, but none in a
   * transfer syntax the data set is in or can be converted to (a compressed
   * file and no transcoder, or a lossy target not allowed); see `accepted`.
   */
  TRANSFER_SYNTAX_NOT_ACCEPTED: 'DNET_SERVICES_TRANSFER_SYNTAX_NOT_ACCEPTED',
} as const;
/** One of the `ServicesErrorCode` values. */
export type ServicesErrorCode = (typeof ServicesErrorCode)[keyof typeof ServicesErrorCode];

/** Base class of every `@dnet/services` error. */
export class ServicesError extends DnetError {
  /** Stable machine-readable code. */
  declare readonly code: ServicesErrorCode;

  /** @param code - stable code; @param message - human text; @param options - `cause` */
  constructor(code: ServicesErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** A DIMSE operation ended with a failure status (PS3.7 Annex C, PS3.4 per service). */
export class OperationFailedError extends ServicesError {
  /** The DIMSE status (0000,0900). */
  readonly status: number;
  /** The operation, e.g. `C-STORE`. */
  readonly operation: string;
  /** (0000,0902) Error Comment, when the peer sent one. */
  readonly errorComment: string | undefined;

  /** For C-MOVE and C-GET: the counts and Failed SOP Instance UID List of the final response. */
  readonly result: unknown;

  /**
   * @param operation - e.g. `C-STORE`; @param status - the status;
   * @param errorComment - the peer's comment; @param result - the operation's result details
   */
  constructor(operation: string, status: number, errorComment?: string, result?: unknown) {
    super(
      ServicesErrorCode.OPERATION_FAILED,
      `${operation} failed with status ${status.toString(16).toUpperCase().padStart(4, '0')}H${errorComment ? `: ${errorComment}` : ''}`,
    );
    this.status = status;
    this.operation = operation;
    this.errorComment = errorComment;
    this.result = result;
  }
}

/** A store source cannot be used. */
export class InvalidSourceError extends ServicesError {
  /** @param message - what is wrong; @param options - `cause` */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ServicesErrorCode.INVALID_SOURCE, message, options);
  }
}

/**
 * A store source's data set is incomplete or malformed (the `@dnet/dataset`
 * completeness check refused it, its error in `cause`): nothing of it is
 * acknowledged; when bytes of it had gone out, the association was aborted.
 */
export class IncompleteSourceError extends ServicesError {
  /** What names the source: its file path, or a description. */
  readonly source: string;
  /** Byte offset in the data set of the element (or sequence) left open, when known. */
  readonly offset: number | undefined;
  /** The same offset in the file (data set offset plus the meta header), when known. */
  readonly fileOffset: number | undefined;

  /**
   * @param source - the file path or a description
   * @param offset - offset in the data set, if known
   * @param dataSetOffset - where the data set starts in its file, if a file
   * @param options - `cause`: the completeness check's error
   */
  constructor(
    source: string,
    offset: number | undefined,
    dataSetOffset: number | undefined,
    options: { cause?: unknown } = {},
  ) {
    const fileOffset =
      offset !== undefined && dataSetOffset !== undefined ? dataSetOffset + offset : undefined;
    const why = options.cause instanceof Error ? options.cause.message : 'incomplete data set';
    const where = fileOffset !== undefined && dataSetOffset ? ` (file offset ${fileOffset})` : '';
    super(ServicesErrorCode.INCOMPLETE_SOURCE, `${source}: ${why}${where}`, options);
    this.source = source;
    this.offset = offset;
    this.fileOffset = fileOffset;
  }
}

/** An argument or option is invalid. */
export class InvalidArgumentError extends ServicesError {
  /** @param message - what is wrong */
  constructor(message: string) {
    super(ServicesErrorCode.INVALID_ARGUMENT, message);
  }
}

/** The client or server is closed. */
export class ClosedError extends ServicesError {
  /** @param message - what is closed */
  constructor(message: string) {
    super(ServicesErrorCode.CLOSED, message);
  }
}

/**
 * A Server could not open the association to a C-MOVE destination (PS3.4
 * §C.4.2.3.1), or that association ended while sub-operations remained. The
 * sub-operations that did not run are counted failed (A702H when none
 * completed); this error, with the destination and the connect error as
 * `cause`, is emitted on the Server's `error` event so it can be logged.
 */
export class SubAssociationError extends ServicesError {
  /** The Move Destination AE title. */
  readonly destination: string;
  /** Its host, from the AE table. */
  readonly host: string;
  /** Its port, from the AE table. */
  readonly port: number;
  /** `connect`: the association could not be opened; `lost`: it ended during the sub-operations. */
  readonly phase: 'connect' | 'lost';

  /**
   * @param destination - the AE title; @param host - its host; @param port - its port;
   * @param phase - when it failed; @param cause - the connect or association error
   */
  constructor(
    destination: string,
    host: string,
    port: number,
    phase: 'connect' | 'lost',
    cause: unknown,
  ) {
    super(
      ServicesErrorCode.SUB_ASSOCIATION_FAILED,
      `C-MOVE destination ${destination} (${host}:${port}): ${
        phase === 'connect' ? 'cannot open the association' : 'the association ended'
      }: ${String((cause as Error | undefined)?.message ?? cause)}`,
      { cause },
    );
    this.destination = destination;
    this.host = host;
    this.port = port;
    this.phase = phase;
  }
}

/**
 * The peer accepted presentation contexts for a data set's SOP class, but
 * none in a transfer syntax it can be sent in (PS3.8 §9.3.2.2: one syntax
 * accepted per context): a compressed data set and no transcoder given
 * (`transcoder` from `@dnet/codecs`), a syntax the transcoder cannot reach,
 * or only lossy targets and lossy transcoding not allowed.
 */
export class TransferSyntaxNotAcceptedError extends ServicesError {
  /** What names the data set: its file path, or a description. */
  readonly source: string;
  /** Its SOP Class UID. */
  readonly sopClassUid: string;
  /** The transfer syntax it is in. */
  readonly transferSyntaxUid: string;
  /** The transfer syntaxes the peer accepted for its SOP class. */
  readonly accepted: readonly string[];

  /**
   * @param source - file path or description; @param sopClassUid - its SOP class;
   * @param transferSyntaxUid - its syntax; @param accepted - the syntaxes accepted for the class;
   * @param transcoder - whether a transcoder was given
   */
  constructor(
    source: string,
    sopClassUid: string,
    transferSyntaxUid: string,
    accepted: readonly string[],
    transcoder: boolean,
  ) {
    super(
      ServicesErrorCode.TRANSFER_SYNTAX_NOT_ACCEPTED,
      `${source} (${sopClassUid}) is in ${transferSyntaxUid}; the peer accepted only ${accepted.join(', ')} for its SOP class, ${
        transcoder
          ? 'none of which the transcoder can reach losslessly (allow lossy transcoding, or propose another syntax)'
          : 'and no transcoder was given to convert it (pass the `transcoder()` of the dnet codecs package)'
      }`,
    );
    this.source = source;
    this.sopClassUid = sopClassUid;
    this.transferSyntaxUid = transferSyntaxUid;
    this.accepted = accepted;
  }
}
