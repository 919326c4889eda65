import type { Listener, Transport } from '@dnet/transport';
import { Association } from './association.js';
import type { AcceptAssociationOptions } from './association-options.js';

/** Default cap on simultaneous associations of one listener, see LIMITS.md. */
export const DEFAULT_MAX_ASSOCIATIONS = 64;

/** Options of {@link listenForAssociations}. */
export interface ListenForAssociationsOptions
  extends Omit<AcceptAssociationOptions, 'associationLimitReached'> {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port; 0 picks a free one. */
  port: number;
  /**
   * Most associations at once (default {@link DEFAULT_MAX_ASSOCIATIONS}); one
   * more is rejected transient, local-limit-exceeded (PS3.8 Table 9-21).
   */
  maxAssociations?: number;
  /** Aborting closes the listener. */
  signal?: AbortSignal;
}

/** A running acceptor. */
export interface AssociationListener {
  /** Bound address. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** The associations alive now. */
  readonly associations: ReadonlySet<Association>;
  /** Stops listening; with `abort`, aborts the live associations too, otherwise waits for them to end. */
  close(options?: { abort?: boolean }): Promise<void>;
}

/**
 * Listens on a transport and runs the acceptor side of every incoming
 * connection by the policy; each established association goes to
 * `onAssociation`. Failed attempts (rejected, aborted, timed out) go to
 * `onError` when given.
 *
 * @example
 * ```ts
 * const scp = await listenForAssociations(tcp(), { port: 11112, policy }, (association) => {
 *   association.handle('C-STORE', handleStore);
 * });
 * ```
 */
export async function listenForAssociations(
  transport: Transport,
  options: ListenForAssociationsOptions,
  onAssociation: (association: Association) => void,
  onError?: (error: unknown) => void,
): Promise<AssociationListener> {
  const live = new Set<Association>();
  const max = options.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS;
  let pending = 0;
  const listener: Listener = await transport.listen(
    {
      host: options.host ?? '127.0.0.1',
      port: options.port,
      ...(options.signal && { signal: options.signal }),
    },
    (connection) => {
      const limitReached = live.size + pending >= max;
      pending++;
      Association.accept(connection, { ...options, associationLimitReached: limitReached }).then(
        (association) => {
          pending--;
          live.add(association);
          void association.closed.then(() => live.delete(association));
          onAssociation(association);
        },
        (error: unknown) => {
          pending--;
          onError?.(error);
        },
      );
    },
  );
  return {
    host: listener.host,
    port: listener.port,
    associations: live,
    async close({ abort = false } = {}) {
      await listener.close();
      if (abort) for (const a of live) a.abort();
      await Promise.all([...live].map((a) => a.closed));
    },
  };
}
