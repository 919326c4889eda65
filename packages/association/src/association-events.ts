import type { CCancelRq } from '@dnet/dimse';
import type { AAssociateRq, Pdu, PresentationDataValue } from '@dnet/pdu';
import type { TransitionRecord } from './diagnostics.js';
import type { IncomingRequest, IncomingResponse } from './dimse-primitives.js';
import type { AssociationRejectedError, DnetError } from './errors.js';
import type { Negotiation } from './negotiation.js';
import type { RequestCommand } from './request-handlers.js';

/** The typed events of an {@link Association}. */
export interface AssociationEventMap {
  /** Every state transition of PS3.8 Table 9-10. */
  transition: [TransitionRecord];
  /** Every PDU sent. */
  'pdu-sent': [Pdu];
  /** Every PDU received. */
  'pdu-received': [Pdu];
  /** A-ASSOCIATE indication (acceptor, Sta3): answer with `acceptAssociation` or `rejectAssociation`. */
  requested: [AAssociateRq];
  /** The association is established (both roles). */
  accepted: [Negotiation];
  /** The association was rejected (either side). */
  rejected: [AssociationRejectedError];
  /** A-RELEASE indication; with `manualRelease` answer with `releaseResponse()`. */
  'release-requested': [{ collision: boolean }];
  /** The association was released. */
  released: [];
  /** A-ABORT or A-P-ABORT indication. */
  aborted: [DnetError];
  /** The transport connection is closed and everything is settled. */
  closed: [];
  /** P-DATA indication: the PDVs of each P-DATA-TF received. */
  'p-data': [PresentationDataValue[]];
  /**
   * A notification listener threw or rejected (requests are answered by
   * handlers, see `handler-error`).
   */
  'listener-error': [{ error: unknown; event: string }];
  /**
   * A request handler threw or rejected; a request not yet finally answered
   * was answered with a processing failure (0110H) so the peer is not left
   * waiting.
   */
  'handler-error': [{ error: unknown; command: RequestCommand }];
  /** Any DIMSE response received for one of our requests. */
  response: [IncomingResponse];
  /**
   * C-CANCEL-RQ received (PS3.7 §9.3.2.3): a notification, it has no
   * response; the named request's `signal` is aborted too.
   */
  'C-CANCEL-RQ': [IncomingRequest<CCancelRq>];
}
