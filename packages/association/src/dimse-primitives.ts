import type { DataSetSource, DimseRequest, DimseResponse } from '@dnet/dimse';
import type { IncomingDataSet } from './incoming-data-set.js';
import type { NegotiatedContext } from './negotiation.js';

/** A data set to send: bytes, or chunks (sync or async) streamed with backpressure (@dnet/dimse's). */
export type { DataSetSource };

/** A DIMSE request received, with the means to answer it. */
export interface IncomingRequest<M extends DimseRequest = DimseRequest> {
  /** The decoded request. */
  message: M;
  /** Presentation context it arrived on. */
  contextId: number;
  /** The negotiated context. */
  context: NegotiatedContext;
  /** The data set, streamed; read it to the end or discard it. */
  dataSet: IncomingDataSet | undefined;
  /**
   * Aborted on a C-CANCEL-RQ naming this request (C-FIND, C-GET, C-MOVE: the
   * requests PS3.7 §9.3.2.3, §9.3.3.3 and §9.3.4.3 let the peer cancel), or
   * when the association ends. Requests that cannot be cancelled share one
   * signal per association, aborted when it ends.
   */
  signal: AbortSignal;
  /**
   * Sends a response on the same context (PS3.7 §9.1.1.1.3). Pending
   * responses (FF00H/FF01H) may be sent many times; the final one ends the
   * operation.
   */
  respond(response: DimseResponse, dataSet?: DataSetSource): Promise<void>;
}

/** A DIMSE response received for one of our requests. */
export interface IncomingResponse<M extends DimseResponse = DimseResponse> {
  /** The decoded response. */
  message: M;
  /** Presentation context it arrived on. */
  contextId: number;
  /** The data set (C-FIND identifiers, N-GET attributes...), streamed. */
  dataSet: IncomingDataSet | undefined;
}

/** Options of one outgoing DIMSE request. */
export interface RequestOptions {
  /** The data set to send with the request. */
  dataSet?: DataSetSource;
  /** Presentation context to use; by default the first accepted one for the SOP class where we may be SCU. */
  contextId?: number;
  /** Prefer a context with this transfer syntax. */
  transferSyntax?: string;
  /** Cancels: C-CANCEL for C-FIND/C-GET/C-MOVE (the final response still settles), otherwise rejects locally. */
  signal?: AbortSignal;
  /** Called with each pending response (awaited: backpressure); without it pending data sets are discarded. */
  onPending?: (response: IncomingResponse) => void | Promise<void>;
}

/** Request types with a Message ID, accepted without one (it is allocated). */
export type WithOptionalId<M> = M extends { messageId: number }
  ? Omit<M, 'messageId'> & { messageId?: number }
  : M;
