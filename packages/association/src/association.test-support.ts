import { type Connection, memory } from '@dnet/transport';
import { expect } from 'vitest';
import { Association } from './association.js';
import type { AcceptAssociationOptions, RequestAssociationOptions } from './association-options.js';
import type { AcceptorPolicy, AssociationProposal } from './negotiation.js';

// Test support of the association tests (CONTRIBUTING.md, "Test support"): a
// requestor and an acceptor over the memory transport.

export const VERIFICATION = '1.2.840.10008.1.1';
export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const IMPLICIT = '1.2.840.10008.1.2';
export const EXPLICIT = '1.2.840.10008.1.2.1';

/** The acceptor's policy of {@link pair}: Verification, CT and Study Root C-FIND. */
export const policy: AcceptorPolicy = {
  contexts: [
    { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
    { abstractSyntax: CT, transferSyntaxes: [EXPLICIT, IMPLICIT] },
    { abstractSyntax: FIND, transferSyntaxes: [IMPLICIT] },
  ],
  calledAeTitles: ['SCP'],
  asyncOperationsWindow: { maxInvoked: 0, maxPerformed: 0 },
};

/** What a test leaves open; each test file runs {@link runCleanup} after each test. */
export const cleanup: (() => Promise<void>)[] = [];

/** Closes what the last test left open, in order. */
export async function runCleanup(): Promise<void> {
  for (const c of cleanup.splice(0)) await c();
}

/**
 * A requestor associated with an acceptor over the memory transport (or
 * `options.transport`). By default the requestor proposes Verification, CT
 * and C-FIND with a window of 8; `contexts`, `maxPduLength` and `window`
 * change the proposal, `accept` and `request` add options to each side.
 */
export async function pair(
  options: {
    policy?: AcceptorPolicy;
    transport?: ReturnType<typeof memory>;
    maxPduLength?: number;
    contexts?: AssociationProposal['contexts'];
    /** The asynchronous operations window proposed; `null`: none. */
    window?: AssociationProposal['asyncOperationsWindow'] | null;
    accept?: Omit<AcceptAssociationOptions, 'policy'>;
    request?: Omit<RequestAssociationOptions, 'transport' | 'host' | 'port' | 'proposal'>;
  } = {},
) {
  const transport = options.transport ?? memory();
  const accepted: Promise<Association>[] = [];
  const listener = await transport.listen({ port: 0 }, (connection: Connection) => {
    const p = Association.accept(connection, {
      ...options.accept,
      policy: options.policy ?? policy,
    });
    p.catch(() => {});
    accepted.push(p);
  });
  cleanup.push(() => listener.close());
  const window = options.window === undefined ? { maxInvoked: 8, maxPerformed: 8 } : options.window;
  const requestor = await Association.request({
    ...options.request,
    transport,
    host: listener.host,
    port: listener.port,
    proposal: {
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: options.contexts ?? [
        { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
        { abstractSyntax: CT, transferSyntaxes: [IMPLICIT, EXPLICIT] },
        { abstractSyntax: FIND, transferSyntaxes: [IMPLICIT] },
      ],
      ...(window !== null && { asyncOperationsWindow: window }),
      ...(options.maxPduLength !== undefined && { maxPduLength: options.maxPduLength }),
    },
  });
  const acceptor = await accepted[0]!;
  return { requestor, acceptor, transport, listener };
}

/** Waits (bounded: 500 rounds of 2 ms) until `check()` holds, then asserts it. */
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}
