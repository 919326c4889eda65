import { channel } from 'node:diagnostics_channel';

/** What is published on {@link channels}.operation when a DIMSE operation ends. */
export interface OperationRecord {
  /** `scu`: we invoked it (Client, or a Server's sub-operation); `scp`: we performed it. */
  role: 'scu' | 'scp';
  /** `C-ECHO`, `C-STORE`, `C-FIND`, `C-MOVE` or `C-GET`. */
  operation: string;
  /** The final status (PS3.7 Annex C); undefined when the operation ended without one. */
  status: number | undefined;
  /** The SOP class. */
  sopClassUid: string | undefined;
  /** The SOP instance (C-STORE). */
  sopInstanceUid?: string;
  /** The peer's AE title. */
  peerAeTitle: string | undefined;
  /** Time from the request to the final response, in ms. */
  durationMs: number;
  /** C-MOVE/C-GET: Number of Completed Sub-operations of the final response (PS3.7 §9.3.3.2). */
  completed?: number;
  /** C-MOVE/C-GET: Number of Failed Sub-operations. */
  failed?: number;
  /** C-MOVE/C-GET: Number of Warning Sub-operations. */
  warning?: number;
}

/**
 * Diagnostics channels of `@dnet/services` (node:diagnostics_channel):
 * subscribe for logs and metrics; nothing is published without subscribers.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe('dnet:services:operation', (record) => console.log(record));
 * ```
 */
export const channels = {
  /** One {@link OperationRecord} per DIMSE operation ended, both roles. */
  operation: channel('dnet:services:operation'),
} as const;

/** Publishes an operation record when someone listens. */
export function publishOperation(record: OperationRecord): void {
  if (channels.operation.hasSubscribers) channels.operation.publish(record);
}
