/**
 * The facts of `dnet-scp conformance` as data: what conformance.ts reads from
 * dnet-scp's configuration and conformance-markdown.ts writes out (PS3.2
 * Annex A), so that neither of the two imports the other.
 */
import type { AcceptorPolicy, Timeouts } from '@dnet/association';
import { lookupUid } from '@dnet/dataset';
import type { ServerOptions } from '@dnet/services';
import type { TlsProfileDefinition } from '@dnet/tls';
import type { ScpConfig } from './config.js';

/** A transfer syntax list meaning "whatever the requestor proposes first" (`SupportedContext`). */
export const ANY_TRANSFER_SYNTAX = '*';

/** The real-world activities of the acceptance policy (PS3.2 §A.4.2.1.4), one per service. */
export type AcceptanceActivity =
  | 'verification'
  | 'storage'
  | 'query'
  | 'retrieve'
  | 'commitment'
  | 'other';

/** One accepted abstract syntax, as the acceptance policy answers it. */
export interface AcceptedContext {
  /** The activity it serves. */
  activity: AcceptanceActivity;
  /** SOP Class UID. */
  uid: string;
  /** Its PS3.6 name (the UID when the registry lacks it). */
  name: string;
  /** Transfer syntaxes in dnet-scp's order of preference; `['*']`: any, the requestor's first. */
  transferSyntaxes: readonly string[];
  /** dnet-scp acts as SCP: the requestor may be SCU (the default role, PS3.7 Annex D.3.3.4). */
  scp: boolean;
  /** dnet-scp acts as SCU when the requestor proposes the SCP role (PS3.7 Annex D.3.3.4). */
  scu: boolean;
  /**
   * The SOP Class Extended Negotiation options answered 1 when all are
   * proposed (PS3.7 Annex D.3.3.5, PS3.4 §C.5); `undefined` when no sub-item is answered.
   */
  extendedNegotiation: string[] | undefined;
}

/** One context dnet-scp proposes when it requests an association itself. */
export interface ProposedContext {
  /** SOP Class UID, or `undefined` for "the class of each object sent". */
  uid: string | undefined;
  /** Its name. */
  name: string;
  /** Transfer syntaxes proposed, in order. */
  transferSyntaxes: readonly string[];
  /** Our role on it. */
  role: 'SCU' | 'SCP';
  /** SCP/SCU Role Selection proposed (PS3.7 Annex D.3.3.4), if any. */
  roleSelection: { scuRole: boolean; scpRole: boolean } | undefined;
}

/** Everything the statement says, read from the server's own configuration objects. */
export interface ConformanceModel {
  /** The configuration, for the addresses, the peers and the duplicate policy. */
  config: ScpConfig;
  /** The `Server.listen` options dnet-scp uses. */
  server: ServerOptions;
  /** The acceptance policy the server applies (`Server.policyFor(server)`). */
  policy: AcceptorPolicy;
  /** Every accepted abstract syntax, in the policy's order. */
  accepted: AcceptedContext[];
  /** Largest P-DATA-TF we receive (PS3.8 Annex D.1). */
  maxPduLength: number;
  /** Largest P-DATA-TF we receive on associations we request. */
  initiatorMaxPduLength: number;
  /** Most associations at once. */
  maxAssociations: number;
  /** Most associations per calling AE title (`undefined`: no limit but the total). */
  maxAssociationsPerAe: number | undefined;
  /** The asynchronous operations window granted when one is proposed (PS3.7 Annex D.3.3.3). */
  window: { maxInvoked: number; maxPerformed: number };
  /** C-STORE sub-operations of one C-MOVE outstanding at once (1: no window proposed). */
  subOperationWindow: number;
  /** Implementation Class UID and Version Name sent in the A-ASSOCIATE-AC and -RQ. */
  implementation: { classUid: string; versionName: string };
  /** The contexts of a C-MOVE sub-association: one per SOP class sent. */
  moveContexts: ProposedContext[];
  /** For each stored transfer syntax, what a C-MOVE sub-association proposes ({@link transferSyntaxesFor}). */
  moveTransferSyntaxes: { stored: string[]; proposed: readonly string[] }[];
  /** The context of a Storage Commitment report sent on a new association. */
  commitmentReportContext: ProposedContext;
  /** The association timeouts in force. */
  timeouts: Timeouts;
  /** TLS: the PS3.15 Annex B profile and the client certificate policy, or plain TCP. */
  tls:
    | {
        profile: TlsProfileDefinition | undefined;
        clientCertificate: 'require' | 'request' | 'none';
        allowedSubjects: number;
        allowedFingerprints: number;
      }
    | undefined;
  /** User identity types accepted (PS3.7 Annex D.3.3.7), when one is required. */
  userIdentity: string[] | undefined;
  /** Every transfer syntax of the UID registry (PS3.6 Table A-1). */
  knownTransferSyntaxes: string[];
}

/** The name of a UID in the registry (PS3.6 Annex A), or the UID. */
export function uidName(uid: string): string {
  const entry = lookupUid(uid);
  if (!entry) return uid;
  return entry.retired ? `${entry.name} (Retired)` : entry.name;
}
