import type { AAssociateRq } from '@dnet/pdu';
import type { ConnectionInfo, PeerCertificate, Transport } from '@dnet/transport';
import type {
  AcceptorDecision,
  AcceptorPolicy,
  AssociationProposal,
  NegotiatedContext,
} from './negotiation.js';
import type { State } from './state-machine.js';
import type { Timeouts } from './timer.js';

/** Options common to both roles. */
export interface AssociationOptions {
  /** Timeouts; each defaults to `defaultTimeouts` of `@dnet/association`. */
  timeouts?: Partial<Timeouts>;
  /** Largest A-ASSOCIATE PDU accepted (default 1 MiB, the pdu decoder's). */
  maxAssociationPduLength?: number;
  /** Cap on outstanding operations in each direction, whatever the window says (default 128). */
  maxOperations?: number;
  /** Unread bytes of an incoming data set above which reading pauses (default 1 MiB). */
  dataSetHighWaterMark?: number;
  /**
   * Do not answer an A-RELEASE-RQ at once (Sta8, and Sta9/Sta12 of a release
   * collision): emit `release-requested` and wait for `releaseResponse()`.
   */
  manualRelease?: boolean;
}

/** Where and how a requestor connects. */
export interface RequestAssociationOptions extends AssociationOptions {
  /** The transport to dial with (tcp(), tls(...), memory()). */
  transport: Transport;
  /** Peer host. */
  host: string;
  /** Peer port. */
  port: number;
  /** The proposal, or a complete A-ASSOCIATE-RQ for full control. */
  proposal: AssociationProposal | AAssociateRq;
  /** Cancels the attempt (connect and negotiation). */
  signal?: AbortSignal;
  /** Local address to connect from (default: the operating system's choice). */
  localAddress?: string;
  /** Local port to connect from (default: an ephemeral port). */
  localPort?: number;
}

/** How an acceptor decides. */
export interface AcceptAssociationOptions extends AssociationOptions {
  /** The acceptor policy. */
  policy: AcceptorPolicy;
  /** Reject with transient local-limit-exceeded (PS3.8 Table 9-21). */
  associationLimitReached?: boolean;
  /**
   * The acceptor's own say on the A-ASSOCIATE-RQ (PS3.8 §7.1.1.7: the
   * association may be rejected by the service-user): called with the request
   * and `decide`, which applies the policy. It may reject without calling
   * `decide` (a plaintext connection where TLS is required), reject after an
   * acceptance (a peer certificate, a per-AE limit), or return `decide`'s
   * verdict. The decision it returns is answered with an A-ASSOCIATE-AC or
   * -RJ; if it throws, the request is rejected as when the policy throws.
   */
  authorize?: (
    rq: AAssociateRq,
    decide: () => Promise<AcceptorDecision>,
  ) => Promise<AcceptorDecision>;
}

/** What an association knows about itself, readable at any time. */
export interface AssociationInfo {
  /** Which side we are. */
  role: 'requestor' | 'acceptor';
  /** Current state of PS3.8 §9.2. */
  state: State;
  /** Peer address and port, local address and port, TLS state. */
  connection: ConnectionInfo | undefined;
  /** Calling AE title (the requestor's). */
  callingAeTitle: string | undefined;
  /** Called AE title (the acceptor's). */
  calledAeTitle: string | undefined;
  /** Negotiated contexts with transfer syntaxes and roles (after establishment). */
  contexts: readonly NegotiatedContext[];
  /** Largest P-DATA-TF we receive (0 = unlimited). */
  localMaxPduLength: number | undefined;
  /** Largest P-DATA-TF the peer receives (0 = unlimited). */
  peerMaxPduLength: number | undefined;
  /** Negotiated asynchronous operations window. */
  asyncOperationsWindow: { maxInvoked: number; maxPerformed: number } | undefined;
  /** The requestor's user identity, if any. */
  userIdentity: AAssociateRq['userInformation']['userIdentity'];
  /** Whether the transport is TLS. */
  encrypted: boolean;
  /** The TLS peer's certificate. */
  peerCertificate: PeerCertificate | undefined;
}
