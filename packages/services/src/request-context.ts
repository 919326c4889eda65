import type { Association } from '@dnet/association';
import type { UserIdentityRq } from '@dnet/pdu';
import type { PeerCertificate } from '@dnet/transport';

/** Who is asking: what a handler knows of the association a request came on. */
export interface RequestContext {
  /** The requestor's AE title. */
  callingAeTitle: string;
  /** The AE title the requestor called (ours). */
  calledAeTitle: string;
  /** The peer's address. */
  remoteAddress: string;
  /** The peer's port. */
  remotePort: number;
  /** Whether the transport is TLS. */
  encrypted: boolean;
  /** The TLS peer's certificate. */
  peerCertificate: PeerCertificate | undefined;
  /** The requestor's user identity (PS3.7 Annex D.3.3.7), if any. */
  userIdentity: UserIdentityRq | undefined;
  /** The association (low level). */
  association: Association;
}
