/**
 * Errors of `@dnet/services`. Every error carries a stable `code`
 * (`DNET_SERVICES_...`), an optional `cause`, and the protocol fields that
 * apply (the DIMSE status of a failed operation). All are branded with
 * `Symbol.for('dnet.error')` so {@link isDnetError} recognises them, and the
 * errors of every other dnet package, across duplicated installs.
 */

const DNET_ERROR = Symbol.for('dnet.error');

/** Stable error codes raised by `@dnet/services`. */
export const ServicesErrorCode = {
  /** A DIMSE operation ended with a failure status (PS3.7 Annex C); see `status`. */
  OPERATION_FAILED: 'DNET_SERVICES_OPERATION_FAILED',
  /** No accepted presentation context fits the SOP class and transfer syntax (PS3.8 §7.1.1.13). */
  NO_PRESENTATION_CONTEXT: 'DNET_SERVICES_NO_PRESENTATION_CONTEXT',
  /** A store source is not a Part 10 file, a Part 10 stream or a data set with SOP Class and Instance UIDs. */
  INVALID_SOURCE: 'DNET_SERVICES_INVALID_SOURCE',
  /** An argument or option is invalid (too many contexts, unknown model...). */
  INVALID_ARGUMENT: 'DNET_SERVICES_INVALID_ARGUMENT',
  /** The client or server is closed. */
  CLOSED: 'DNET_SERVICES_CLOSED',
  /** A Server could not open, or lost, the association to a C-MOVE destination; see `cause`. */
  SUB_ASSOCIATION_FAILED: 'DNET_SERVICES_SUB_ASSOCIATION_FAILED',
} as const;
/** One of the {@link ServicesErrorCode} values. */
export type ServicesErrorCode = (typeof ServicesErrorCode)[keyof typeof ServicesErrorCode];

/**
 * True for any dnet error (of this or any other dnet package, from any
 * installed copy): checks the `Symbol.for('dnet.error')` brand, not the class.
 */
export function isDnetError(e: unknown): e is Error & { code: string } {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[DNET_ERROR] === true;
}

/** Base class of every `@dnet/services` error. */
export class ServicesError extends Error {
  /** Stable machine-readable code. */
  readonly code: ServicesErrorCode;

  /** @param code - stable code; @param message - human text; @param options - `cause` */
  constructor(code: ServicesErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** Brand checked by {@link isDnetError}. */
  get [DNET_ERROR](): true {
    return true;
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

/** No accepted presentation context fits (PS3.8 §7.1.1.13). */
export class NoPresentationContextError extends ServicesError {
  /** The SOP class asked for. */
  readonly sopClassUid: string;
  /** The transfer syntax the data set is in, when it matters. */
  readonly transferSyntaxUid: string | undefined;

  /** @param sopClassUid - SOP class; @param transferSyntaxUid - the data set's transfer syntax */
  constructor(sopClassUid: string, transferSyntaxUid?: string) {
    super(
      ServicesErrorCode.NO_PRESENTATION_CONTEXT,
      `no accepted presentation context for ${sopClassUid}${transferSyntaxUid ? ` that can carry ${transferSyntaxUid}` : ''}`,
    );
    this.sopClassUid = sopClassUid;
    this.transferSyntaxUid = transferSyntaxUid;
  }
}

/** A store source cannot be used. */
export class InvalidSourceError extends ServicesError {
  /** @param message - what is wrong; @param options - `cause` */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ServicesErrorCode.INVALID_SOURCE, message, options);
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
