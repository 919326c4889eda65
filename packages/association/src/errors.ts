/**
 * Errors of @dnet/association. Every error extends `DnetError` of
 * `@dnet/errors`: a stable `code` (`DNET_ASSOCIATION_...`), an optional
 * `cause`, the protocol fields that apply, and the brand {@link isDnetError}
 * checks across duplicated installs.
 */

import { DnetError, isDnetError } from '@dnet/errors';

export { DnetError, isDnetError };

/** Stable error codes of this package. */
export const AssociationErrorCode = {
  /** The peer rejected the association (A-ASSOCIATE-RJ, PS3.8 §9.3.4). */
  REJECTED: 'DNET_ASSOCIATION_REJECTED',
  /** The peer aborted (A-ABORT, PS3.8 §9.3.8) or the provider aborted (A-P-ABORT). */
  ABORTED: 'DNET_ASSOCIATION_ABORTED',
  /** The association was released while the operation was pending. */
  RELEASED: 'DNET_ASSOCIATION_RELEASED',
  /** The transport connection closed or failed (A-P-ABORT, PS3.8 §9.2.3 Evt17). */
  CONNECTION_LOST: 'DNET_ASSOCIATION_CONNECTION_LOST',
  /** A timer expired (ARTIM, connect, ACSE, DIMSE, idle, or the send deadline). */
  TIMEOUT: 'DNET_ASSOCIATION_TIMEOUT',
  /** A local primitive was issued in a state where Table 9-10 does not allow it. */
  INVALID_STATE: 'DNET_ASSOCIATION_INVALID_STATE',
  /** No accepted presentation context fits the request (PS3.8 §7.1.1.13); see {@link NoPresentationContextError}. */
  NO_PRESENTATION_CONTEXT: 'DNET_ASSOCIATION_NO_PRESENTATION_CONTEXT',
  /** The operation was cancelled through its AbortSignal. */
  CANCELLED: 'DNET_ASSOCIATION_CANCELLED',
  /** A limit of LIMITS.md was exceeded. */
  LIMIT_EXCEEDED: 'DNET_ASSOCIATION_LIMIT_EXCEEDED',
  /** The peer broke the protocol (unexpected message, unknown message ID). */
  PROTOCOL: 'DNET_ASSOCIATION_PROTOCOL_ERROR',
  /** An argument is invalid (too many contexts, even context ID...). */
  INVALID_ARGUMENT: 'DNET_ASSOCIATION_INVALID_ARGUMENT',
} as const;
/** One of the codes of `AssociationErrorCode`. */
export type AssociationErrorCode = (typeof AssociationErrorCode)[keyof typeof AssociationErrorCode];

/** The peer rejected the association: result, source and reason of PS3.8 Table 9-21. */
export class AssociationRejectedError extends DnetError {
  /** 1 rejected-permanent, 2 rejected-transient. */
  readonly result: number;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  readonly source: number;
  /** Reason/diagnostic, meaning depends on source. */
  readonly reason: number;
  /** @param fields - the A-ASSOCIATE-RJ fields */
  constructor(fields: { result: number; source: number; reason: number }, message?: string) {
    super(
      AssociationErrorCode.REJECTED,
      message ??
        `association rejected (result ${fields.result}, source ${fields.source}, reason ${fields.reason})`,
    );
    this.result = fields.result;
    this.source = fields.source;
    this.reason = fields.reason;
  }
}

/** The association was aborted: A-ABORT from the peer or locally, or A-P-ABORT. */
export class AssociationAbortedError extends DnetError {
  /** Abort source of PS3.8 Table 9-26: 0 service-user, 2 service-provider. */
  readonly source: number;
  /** Reason/diagnostic (meaningful for source 2). */
  readonly reason: number;
  /** Whether the local side aborted (A-ABORT request) rather than the peer. */
  readonly local: boolean;
  /** @param fields - abort source, reason and who aborted */
  constructor(
    fields: { source: number; reason: number; local?: boolean },
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(
      AssociationErrorCode.ABORTED,
      message ??
        `association aborted ${fields.local ? 'locally' : 'by the peer'} (source ${fields.source}, reason ${fields.reason})`,
      options,
    );
    this.source = fields.source;
    this.reason = fields.reason;
    this.local = fields.local ?? false;
  }
}

/** The association ended by release while an operation was pending. */
export class AssociationReleasedError extends DnetError {
  /** @param message - what was pending */
  constructor(message = 'association released') {
    super(AssociationErrorCode.RELEASED, message);
  }
}

/** The transport connection was lost (A-P-ABORT). */
export class ConnectionLostError extends DnetError {
  /** @param message - text; @param options - the transport's error as `cause` */
  constructor(message = 'transport connection lost', options?: { cause?: unknown }) {
    super(AssociationErrorCode.CONNECTION_LOST, message, options);
  }
}

/** A timer expired. */
export class TimeoutError extends DnetError {
  /** Which timer: 'artim', 'connect', 'acse', 'dimse', 'idle' or 'send' (the send deadline). */
  readonly timer: string;
  /** The configured duration in milliseconds. */
  readonly timeoutMs: number;
  /** @param timer - which timer; @param timeoutMs - its duration */
  constructor(timer: string, timeoutMs: number) {
    super(AssociationErrorCode.TIMEOUT, `${timer} timeout after ${timeoutMs} ms`);
    this.timer = timer;
    this.timeoutMs = timeoutMs;
  }
}

/** A local primitive is not allowed in the current state (blank cell of PS3.8 Table 9-10). */
export class InvalidStateError extends DnetError {
  /** The state at the time. */
  readonly state: string;
  /** The refused event. */
  readonly event: string;
  /** @param state - current state; @param event - refused event; @param what - the primitive */
  constructor(state: string, event: string, what: string) {
    super(AssociationErrorCode.INVALID_STATE, `${what} is not allowed in ${state} (${event})`);
    this.state = state;
    this.event = event;
  }
}

/** Any other association error with a code of `AssociationErrorCode`. */
export class AssociationError extends DnetError {
  /** @param code - one of AssociationErrorCode; @param message - text; @param options - cause */
  constructor(code: AssociationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * No accepted presentation context fits the request (PS3.8 §7.1.1.13): the
 * SOP class was not negotiated, the role was not, or no accepted transfer
 * syntax can carry the data set. `@dnet/services` throws this one too.
 */
export class NoPresentationContextError extends DnetError {
  declare readonly code: typeof AssociationErrorCode.NO_PRESENTATION_CONTEXT;
  /** The SOP class asked for, when the request names one. */
  readonly sopClassUid: string | undefined;
  /** The transfer syntax the data set is in, when it matters. */
  readonly transferSyntaxUid: string | undefined;

  /**
   * @param sopClassUid - the SOP class, when known
   * @param transferSyntaxUid - the data set's transfer syntax, when it matters
   * @param message - replaces the default text
   */
  constructor(sopClassUid: string | undefined, transferSyntaxUid?: string, message?: string) {
    super(
      AssociationErrorCode.NO_PRESENTATION_CONTEXT,
      message ??
        `no accepted presentation context for ${sopClassUid ?? 'this request'}${transferSyntaxUid ? ` that can carry ${transferSyntaxUid}` : ''}`,
    );
    this.sopClassUid = sopClassUid;
    this.transferSyntaxUid = transferSyntaxUid;
  }
}
