import { channel } from 'node:diagnostics_channel';
import type { Connection } from './connection.js';

/**
 * `node:diagnostics_channel` channels every dnet transport publishes on
 * (docs/architecture.md, "Errors, events, cancellation, limits"): tracing without listeners on
 * the hot path; a message is built only when someone subscribes.
 */
export const TransportChannel = {
  /** A connection was established: `{ transport, side, connection }` ({@link ConnectionMessage}). */
  CONNECTION: 'dnet:transport:connection',
  /** A connect or an accepted connection failed before it was handed out: {@link FailureMessage}. */
  FAILURE: 'dnet:transport:failure',
} as const;

/** Message of {@link TransportChannel}.CONNECTION. */
export interface ConnectionMessage {
  /** The transport's name (`tcp`, `tls`, `memory`). */
  transport: string;
  /** `dialled`: made by `connect`; `accepted`: handed to a listener. */
  side: 'dialled' | 'accepted';
  /** The connection (its `info` says who the peer is). */
  connection: Connection;
}

/** Message of {@link TransportChannel}.FAILURE. */
export interface FailureMessage {
  /** The transport's name. */
  transport: string;
  /** `connect`: a dial failed; `accept`: an incoming connection was refused (a TLS handshake, say). */
  side: 'connect' | 'accept';
  /** What went wrong. */
  error: unknown;
}

const connectionChannel = channel(TransportChannel.CONNECTION);
const failureChannel = channel(TransportChannel.FAILURE);

/** Publishes a new connection on {@link TransportChannel}.CONNECTION (for transport authors). */
export function publishConnection(
  transport: string,
  side: ConnectionMessage['side'],
  connection: Connection,
): void {
  if (connectionChannel.hasSubscribers) {
    connectionChannel.publish({ transport, side, connection } satisfies ConnectionMessage);
  }
}

/** Publishes a failure on {@link TransportChannel}.FAILURE (for transport authors). */
export function publishFailure(
  transport: string,
  side: FailureMessage['side'],
  error: unknown,
): void {
  if (failureChannel.hasSubscribers) {
    failureChannel.publish({ transport, side, error } satisfies FailureMessage);
  }
}
