import { channel } from 'node:diagnostics_channel';
import type { Action, Event, State } from './state-machine.js';

/**
 * Diagnostics channels published by every association
 * (`node:diagnostics_channel`): tracing without listeners on the hot path,
 * each published only when it has subscribers.
 */
export const channels = {
  /** `{ association, from, event, action, to }` for every state transition. */
  transition: channel('dnet:association:transition'),
  /** `{ association, pdu }` for every PDU sent. */
  pduSent: channel('dnet:association:pdu-sent'),
  /** `{ association, pdu }` for every PDU received. */
  pduReceived: channel('dnet:association:pdu-received'),
  /** `{ association, rq }` when an A-ASSOCIATE-RQ is sent or received. */
  requested: channel('dnet:association:requested'),
  /** `{ association, negotiation }` when the association is established. */
  accepted: channel('dnet:association:accepted'),
  /** `{ association, error }` when the association is rejected. */
  rejected: channel('dnet:association:rejected'),
  /** `{ association }` when the association is released. */
  released: channel('dnet:association:released'),
  /** `{ association, error }` when the association is aborted (A-ABORT or A-P-ABORT). */
  aborted: channel('dnet:association:aborted'),
} as const;

/** One state transition, as observed. */
export interface TransitionRecord {
  /** State before. */
  from: State;
  /** The event. */
  event: Event;
  /** The action of Table 9-10. */
  action: Action;
  /** State after. */
  to: State;
}
