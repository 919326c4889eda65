import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '@dnet/dataset';
import {
  type AAssociateAc,
  type AAssociateRq,
  type AsyncOperationsWindow,
  type CommonExtendedNegotiation,
  DICOM_APPLICATION_CONTEXT,
  type ExtendedNegotiation,
  PduType,
  type PresentationContextAc,
  PresentationContextResult,
  RejectReason,
  RejectResult,
  RejectSource,
  type RoleSelection,
  type UserIdentityAc,
  type UserIdentityRq,
} from '@dnet/pdu';
import { AssociationError, AssociationErrorCode } from './errors.js';

// dnet's one Implementation Class UID and Version Name (PS3.7 Annex D.3.3.2) live in @dnet/dataset.

/** Most presentation contexts in one association: IDs are the odd numbers 1..255 (PS3.8 §9.3.2.2). */
export const MAX_PRESENTATION_CONTEXTS = 128;
/** Default maximum length of a P-DATA-TF PDU we receive (PS3.8 Annex D.1), see LIMITS.md. */
export const DEFAULT_MAX_PDU_LENGTH = 262_144;
/**
 * Smallest Maximum Length Received an acceptor takes from a requestor (PS3.8
 * Annex D.1): a P-DATA-TF of this length holds one PDV item of one byte of
 * fragment (4-byte item length, presentation context ID, message control
 * header, PS3.8 §9.3.5.1 and Annex E.2). Below it no message can be sent at all.
 */
export const MIN_PEER_PDU_LENGTH = 7;

/** One presentation context to propose. */
export interface ProposedContext {
  /** Abstract syntax (SOP Class UID). */
  abstractSyntax: string;
  /** Transfer syntaxes, in order of preference. */
  transferSyntaxes: readonly string[];
  /** An explicit odd ID 1..255; assigned in order when absent. */
  id?: number;
}

/** What a requestor proposes (PS3.8 §7.1.1 A-ASSOCIATE parameters). */
export interface AssociationProposal {
  /** Calling AE title (ours), 1..16 characters. */
  callingAeTitle: string;
  /** Called AE title (the peer's), 1..16 characters. */
  calledAeTitle: string;
  /** Presentation contexts, at most {@link MAX_PRESENTATION_CONTEXTS}. */
  contexts: readonly ProposedContext[];
  /** Application context name (default the DICOM one, PS3.7 Annex A.2.1). */
  applicationContextName?: string;
  /** Maximum P-DATA-TF length we receive (default {@link DEFAULT_MAX_PDU_LENGTH}; 0 = unlimited). */
  maxPduLength?: number;
  /** Implementation class UID (default dnet's). */
  implementationClassUid?: string;
  /** Implementation version name (default dnet's). */
  implementationVersionName?: string;
  /** Asynchronous operations window to propose (PS3.7 Annex D.3.3.3); absent means 1/1. */
  asyncOperationsWindow?: AsyncOperationsWindow;
  /** SCP/SCU role selection (PS3.7 Annex D.3.3.4), each for a proposed abstract syntax. */
  roleSelections?: readonly RoleSelection[];
  /** SOP class extended negotiation (PS3.7 Annex D.3.3.5). */
  extendedNegotiations?: readonly ExtendedNegotiation[];
  /** SOP class common extended negotiation (PS3.7 Annex D.3.3.6). */
  commonExtendedNegotiations?: readonly CommonExtendedNegotiation[];
  /** User identity (PS3.7 Annex D.3.3.7). */
  userIdentity?: UserIdentityRq;
}

function invalid(message: string): AssociationError {
  return new AssociationError(AssociationErrorCode.INVALID_ARGUMENT, message);
}

/**
 * Builds the A-ASSOCIATE-RQ of a proposal: odd context IDs 1, 3, 5... (PS3.8
 * §9.3.2.2), at most 128 contexts, dnet's implementation identity, and the
 * user information sub-items given.
 *
 * @example
 * ```ts
 * const rq = buildAssociateRq({ callingAeTitle: 'DNET', calledAeTitle: 'PACS',
 *   contexts: [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }] });
 * ```
 */
export function buildAssociateRq(proposal: AssociationProposal): AAssociateRq {
  const { contexts } = proposal;
  if (contexts.length === 0) throw invalid('at least one presentation context is required');
  if (contexts.length > MAX_PRESENTATION_CONTEXTS) {
    throw invalid(`at most ${MAX_PRESENTATION_CONTEXTS} presentation contexts (PS3.8 §9.3.2.2)`);
  }
  for (const title of [proposal.callingAeTitle, proposal.calledAeTitle]) {
    if (title.trim().length === 0 || title.length > 16) {
      throw invalid(`AE title must be 1 to 16 characters (PS3.8 §9.3.2): ${JSON.stringify(title)}`);
    }
  }
  const used = new Set<number>();
  for (const c of contexts) {
    if (c.id === undefined) continue;
    if (!Number.isInteger(c.id) || c.id < 1 || c.id > 255 || c.id % 2 === 0) {
      throw invalid(`presentation context ID must be odd, 1..255 (PS3.8 §9.3.2.2): ${c.id}`);
    }
    if (used.has(c.id)) throw invalid(`duplicate presentation context ID ${c.id}`);
    used.add(c.id);
  }
  let next = 1;
  const presentationContexts = contexts.map((c) => {
    if (c.transferSyntaxes.length === 0) {
      throw invalid(`no transfer syntax proposed for ${c.abstractSyntax}`);
    }
    let id = c.id;
    if (id === undefined) {
      while (used.has(next)) next += 2;
      id = next;
      used.add(id);
    }
    return { id, abstractSyntax: c.abstractSyntax, transferSyntaxes: [...c.transferSyntaxes] };
  });
  const maxPduLength = proposal.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  return {
    type: PduType.A_ASSOCIATE_RQ,
    protocolVersion: 1,
    calledAeTitle: proposal.calledAeTitle,
    callingAeTitle: proposal.callingAeTitle,
    applicationContextName: proposal.applicationContextName ?? DICOM_APPLICATION_CONTEXT,
    presentationContexts,
    userInformation: {
      maxLength: maxPduLength,
      implementationClassUid: proposal.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      implementationVersionName: proposal.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
      ...(proposal.asyncOperationsWindow && {
        asyncOperationsWindow: { ...proposal.asyncOperationsWindow },
      }),
      roleSelections: [...(proposal.roleSelections ?? [])],
      extendedNegotiations: [...(proposal.extendedNegotiations ?? [])],
      commonExtendedNegotiations: [...(proposal.commonExtendedNegotiations ?? [])],
      ...(proposal.userIdentity && { userIdentity: proposal.userIdentity }),
      unknownItems: [],
    },
  };
}

/** A presentation context as negotiated, from the association's point of view. */
export interface NegotiatedContext {
  /** Presentation context ID. */
  id: number;
  /** Abstract syntax (SOP Class UID) proposed. */
  abstractSyntax: string;
  /** Transfer syntaxes proposed. */
  proposedTransferSyntaxes: readonly string[];
  /** Result of PS3.8 Table 9-18 (0 = acceptance). */
  result: number;
  /** Whether the context was accepted. */
  accepted: boolean;
  /** The accepted transfer syntax (`''` when rejected). */
  transferSyntax: string;
  /** The association-requestor may act as SCU on this context (PS3.7 Annex D.3.3.4). */
  requestorScu: boolean;
  /** The association-requestor may act as SCP on this context (PS3.7 Annex D.3.3.4). */
  requestorScp: boolean;
}

/** Everything negotiated for an association (PS3.8 §7.1.1, PS3.7 Annex D.3). */
export interface Negotiation {
  /** Every proposed context with its result, in proposal order. */
  contexts: NegotiatedContext[];
  /** The largest P-DATA-TF the requestor receives (0 = unlimited). */
  requestorMaxPduLength: number;
  /** The largest P-DATA-TF the acceptor receives (0 = unlimited). */
  acceptorMaxPduLength: number;
  /** Operations the requestor may invoke / the acceptor performs asynchronously (0 = unlimited; 1/1 by default). */
  asyncOperationsWindow: AsyncOperationsWindow;
  /** SOP Class Extended Negotiation answered by the acceptor (PS3.7 Annex D.3.3.5, A-ASSOCIATE-AC). */
  extendedNegotiations: ExtendedNegotiation[];
  /**
   * SOP Class Extended Negotiation proposed by the requestor (PS3.7 Annex
   * D.3.3.5, A-ASSOCIATE-RQ): what an option agreed needs on both sides
   * (PS3.4 §C.5.1.1: the acceptor's answer alone is not the agreement).
   */
  proposedExtendedNegotiations: ExtendedNegotiation[];
  /**
   * SOP Class Common Extended Negotiation of the requestor (PS3.7 Annex
   * D.3.3.6, A-ASSOCIATE-RQ only: the acceptor sends none): each SOP class's
   * Service Class UID and Related General SOP Class UIDs.
   */
  commonExtendedNegotiations: CommonExtendedNegotiation[];
  /** The requestor's user identity, if any. */
  userIdentity?: UserIdentityRq;
  /** The acceptor's user identity response, if any. */
  userIdentityResponse?: UserIdentityAc;
  /** Both implementation identities. */
  requestorImplementation: { classUid: string; versionName?: string };
  /** The acceptor's implementation identity. */
  acceptorImplementation: { classUid: string; versionName?: string };
}

/**
 * Combines a proposed role selection with the acceptor's answer (PS3.7 Annex
 * D.3.3.4, Table D.3-12): without a proposal or an answer, the default roles
 * apply (requestor SCU, acceptor SCP); otherwise a role holds when proposed and accepted.
 */
function roles(
  proposed: RoleSelection | undefined,
  answered: RoleSelection | undefined,
): { requestorScu: boolean; requestorScp: boolean } {
  if (!proposed || !answered) return { requestorScu: true, requestorScp: false };
  return {
    requestorScu: proposed.scuRole && answered.scuRole,
    requestorScp: proposed.scpRole && answered.scpRole,
  };
}

/**
 * Reads an A-ASSOCIATE-AC against the A-ASSOCIATE-RQ it answers (PS3.8
 * §9.3.3): per proposed context the result and accepted transfer syntax, the
 * roles, both maximum PDU lengths and the asynchronous operations window. A
 * context the AC does not mention counts as rejected (no-reason).
 */
export function readNegotiation(rq: AAssociateRq, ac: AAssociateAc): Negotiation {
  const answers = new Map<number, PresentationContextAc>();
  for (const pc of ac.presentationContexts) answers.set(pc.id, pc);
  const proposedRoles = new Map(rq.userInformation.roleSelections.map((r) => [r.sopClassUid, r]));
  const answeredRoles = new Map(ac.userInformation.roleSelections.map((r) => [r.sopClassUid, r]));
  const contexts = rq.presentationContexts.map((pc): NegotiatedContext => {
    const answer = answers.get(pc.id);
    const result = answer?.result ?? PresentationContextResult.NO_REASON;
    // PS3.8 §9.3.3.2: an accepted context names one of the proposed transfer syntaxes.
    const accepted =
      result === PresentationContextResult.ACCEPTANCE &&
      !!answer?.transferSyntax &&
      pc.transferSyntaxes.includes(answer.transferSyntax);
    return {
      id: pc.id,
      abstractSyntax: pc.abstractSyntax,
      proposedTransferSyntaxes: pc.transferSyntaxes,
      result: accepted ? result : result || PresentationContextResult.NO_REASON,
      accepted,
      transferSyntax: accepted ? answer!.transferSyntax : '',
      ...roles(proposedRoles.get(pc.abstractSyntax), answeredRoles.get(pc.abstractSyntax)),
    };
  });
  // PS3.7 Annex D.3.3.3: without an answer the window is 1/1.
  const window = ac.userInformation.asyncOperationsWindow ?? { maxInvoked: 1, maxPerformed: 1 };
  return {
    contexts,
    requestorMaxPduLength: rq.userInformation.maxLength,
    acceptorMaxPduLength: ac.userInformation.maxLength,
    asyncOperationsWindow: { ...window },
    extendedNegotiations: ac.userInformation.extendedNegotiations,
    proposedExtendedNegotiations: rq.userInformation.extendedNegotiations,
    commonExtendedNegotiations: rq.userInformation.commonExtendedNegotiations,
    ...(rq.userInformation.userIdentity && { userIdentity: rq.userInformation.userIdentity }),
    ...(ac.userInformation.userIdentity && {
      userIdentityResponse: ac.userInformation.userIdentity,
    }),
    requestorImplementation: implementation(rq.userInformation),
    acceptorImplementation: implementation(ac.userInformation),
  };
}

function implementation(ui: {
  implementationClassUid: string;
  implementationVersionName?: string;
}) {
  return {
    classUid: ui.implementationClassUid,
    ...(ui.implementationVersionName !== undefined && {
      versionName: ui.implementationVersionName,
    }),
  };
}

/** One abstract syntax an acceptor supports, with its transfer syntaxes in order of preference. */
export interface SupportedContext {
  /** Abstract syntax (SOP Class UID), or `'*'` for any. */
  abstractSyntax: string;
  /** Transfer syntaxes in order of preference; `['*']` accepts the requestor's first proposal. */
  transferSyntaxes: readonly string[];
  /** Whether the requestor may be SCU of this class (default true), PS3.7 Annex D.3.3.4. */
  scuRole?: boolean;
  /** Whether the requestor may be SCP of this class (default false), PS3.7 Annex D.3.3.4. */
  scpRole?: boolean;
}

/** What a user identity verifier returns. */
export interface UserIdentityVerdict {
  /**
   * Accept the identity; a refusal rejects the association (rejected-permanent,
   * service-provider ACSE, no-reason-given, PS3.7 Annex D.3.3.7).
   */
  accepted: boolean;
  /** Why it was refused, for logs (never sent to the peer). */
  cause?: string;
  /**
   * Server response sent in the 59H sub-item when the requestor asked for a
   * positive response (PS3.7 Annex D.3.3.7.2): a Kerberos ticket, SAML
   * response or JWT; empty for username types.
   */
  serverResponse?: Uint8Array;
}

/** The rules an acceptor applies to an A-ASSOCIATE-RQ (PS3.8 §7.1.1, PS3.7 Annex D.3). */
export interface AcceptorPolicy {
  /** Supported abstract syntaxes and their transfer syntax preference (first match wins). */
  contexts: readonly SupportedContext[];
  /** Called AE titles we answer to; any when absent. */
  calledAeTitles?: readonly string[];
  /** Calling AE titles allowed; any when absent. */
  callingAeTitles?: readonly string[];
  /** Application context names accepted (default only the DICOM one). */
  applicationContextNames?: readonly string[];
  /** Our maximum P-DATA-TF length received (default {@link DEFAULT_MAX_PDU_LENGTH}). */
  maxPduLength?: number;
  /** Most operations we let the requestor invoke / we perform at once (default 1/1; 0 = unlimited). */
  asyncOperationsWindow?: AsyncOperationsWindow;
  /** Implementation class UID (default dnet's). */
  implementationClassUid?: string;
  /** Implementation version name (default dnet's). */
  implementationVersionName?: string;
  /**
   * Answers a proposed SOP class extended negotiation item; return the
   * service-class-application-information to send back, or undefined to not
   * answer (PS3.7 Annex D.3.3.5).
   */
  extendedNegotiation?: (item: ExtendedNegotiation) => Uint8Array | undefined;
  /**
   * Accept a proposed SOP class we do not support when the requestor's SOP
   * Class Common Extended Negotiation (PS3.7 Annex D.3.3.6) names one of its
   * Related General SOP Classes that we do (PS3.4 §B.3.1.4): the context is
   * accepted with that general class's transfer syntaxes and roles. Default
   * false.
   */
  relatedGeneralSopClasses?: boolean;
  /** Verifies the requestor's user identity (PS3.7 Annex D.3.3.7). */
  verifyUserIdentity?: (
    identity: UserIdentityRq,
    rq: AAssociateRq,
  ) => UserIdentityVerdict | boolean | Promise<UserIdentityVerdict | boolean>;
  /** Reject requests without a user identity (service-provider ACSE, no-reason-given). */
  requireUserIdentity?: boolean;
  /**
   * Smallest Maximum Length Received (PS3.8 Annex D.1) accepted from the
   * requestor (0, no limit, is always accepted); default and floor
   * {@link MIN_PEER_PDU_LENGTH}. A smaller one is rejected-permanent,
   * service-provider (ACSE), no-reason-given.
   */
  minPeerPduLength?: number;
}

/** An A-ASSOCIATE-RJ's fields (PS3.8 §9.3.4 Table 9-21). */
export interface Rejection {
  /** Result, one of `RejectResult` of `@dnet/pdu` (PS3.8 Table 9-21). */
  result: number;
  /** Source, one of `RejectSource` of `@dnet/pdu` (PS3.8 Table 9-21). */
  source: number;
  /** Reason for the source, one of `RejectReason` of `@dnet/pdu` (PS3.8 Table 9-21). */
  reason: number;
  /** Why, in words, for logs (not sent: the A-ASSOCIATE-RJ has no room for it). */
  cause?: string;
}

/** The acceptor's answer to an A-ASSOCIATE-RQ. */
export type AcceptorDecision =
  | { accepted: true; ac: AAssociateAc; negotiation: Negotiation }
  | { accepted: false; rejection: Rejection };

/** Circumstances of the acceptor when the request arrives. */
export interface AcceptorState {
  /** The association limit is reached: reject transient, local-limit-exceeded (PS3.8 Table 9-21). */
  associationLimitReached?: boolean;
}

const rejectPermanentUser = (reason: number, cause: string): Rejection => ({
  result: RejectResult.REJECTED_PERMANENT,
  source: RejectSource.SERVICE_USER,
  reason,
  cause,
});

/**
 * The rejection of an authentication or authorization failure (a user
 * identity refused or missing, a peer certificate not authorized): PS3.7
 * Annex D.3.3.7, "rejected-permanent" with the source "DICOM UL
 * service-provider (ACSE related function)", reason no-reason-given (PS3.8
 * Table 9-21).
 */
export function authorizationRejection(cause: string): Rejection {
  return {
    result: RejectResult.REJECTED_PERMANENT,
    source: RejectSource.SERVICE_PROVIDER_ACSE,
    reason: RejectReason.SERVICE_PROVIDER_ACSE.NO_REASON_GIVEN,
    cause,
  };
}

/** Smaller of two window values where 0 means unlimited (PS3.7 Annex D.3.3.3). */
function minWindow(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/**
 * Decides an A-ASSOCIATE-RQ by a policy: the protocol version (PS3.8
 * §9.3.2), the association limit, the application context name, the called
 * and calling AE titles, the user identity, then each presentation context
 * (PS3.8 §9.3.3.2: abstract syntax, then transfer syntax by our preference),
 * role selection and extended negotiation, answered only for what was
 * proposed. With `relatedGeneralSopClasses`, a SOP class we do not support is
 * accepted through a Related General SOP Class of its common extended
 * negotiation that we do (PS3.7 Annex D.3.3.6, PS3.4 §B.3.1.4).
 */
export async function decideAssociation(
  rq: AAssociateRq,
  policy: AcceptorPolicy,
  state: AcceptorState = {},
): Promise<AcceptorDecision> {
  const reject = (rejection: Rejection): AcceptorDecision => ({ accepted: false, rejection });
  // PS3.8 §9.3.2: protocol version bit 0 must be set.
  if ((rq.protocolVersion & 1) === 0) {
    return reject({
      result: RejectResult.REJECTED_PERMANENT,
      source: RejectSource.SERVICE_PROVIDER_ACSE,
      reason: RejectReason.SERVICE_PROVIDER_ACSE.PROTOCOL_VERSION_NOT_SUPPORTED,
      cause: `protocol version ${rq.protocolVersion} not supported`,
    });
  }
  if (state.associationLimitReached) {
    return reject({
      result: RejectResult.REJECTED_TRANSIENT,
      source: RejectSource.SERVICE_PROVIDER_PRESENTATION,
      reason: RejectReason.SERVICE_PROVIDER_PRESENTATION.LOCAL_LIMIT_EXCEEDED,
      cause: 'too many associations',
    });
  }
  if (rq.presentationContexts.length > MAX_PRESENTATION_CONTEXTS) {
    return reject({
      result: RejectResult.REJECTED_PERMANENT,
      source: RejectSource.SERVICE_PROVIDER_PRESENTATION,
      reason: RejectReason.SERVICE_PROVIDER_PRESENTATION.LOCAL_LIMIT_EXCEEDED,
      cause: `${rq.presentationContexts.length} presentation contexts, more than ${MAX_PRESENTATION_CONTEXTS} (PS3.8 §9.3.2.2)`,
    });
  }
  // PS3.8 Annex D.1: 0 means no limit; a smaller length than one PDV of one byte cannot
  // carry any message fragment (PS3.8 §9.3.5.1), so the association could never work.
  const peerMax = rq.userInformation.maxLength;
  const minPeer = Math.max(MIN_PEER_PDU_LENGTH, policy.minPeerPduLength ?? 0);
  if (peerMax !== 0 && peerMax < minPeer) {
    return reject({
      result: RejectResult.REJECTED_PERMANENT,
      source: RejectSource.SERVICE_PROVIDER_ACSE,
      reason: RejectReason.SERVICE_PROVIDER_ACSE.NO_REASON_GIVEN,
      cause: `maximum length received ${peerMax} is below ${minPeer} (PS3.8 Annex D.1)`,
    });
  }
  const contextNames = policy.applicationContextNames ?? [DICOM_APPLICATION_CONTEXT];
  if (!contextNames.includes(rq.applicationContextName)) {
    return reject(
      rejectPermanentUser(
        RejectReason.SERVICE_USER.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED,
        `application context ${rq.applicationContextName} not supported`,
      ),
    );
  }
  if (
    rq.calledAeTitle.trim() === '' ||
    (policy.calledAeTitles && !policy.calledAeTitles.includes(rq.calledAeTitle.trim()))
  ) {
    return reject(
      rejectPermanentUser(
        RejectReason.SERVICE_USER.CALLED_AE_TITLE_NOT_RECOGNIZED,
        `called AE title ${JSON.stringify(rq.calledAeTitle.trim())} is not ours`,
      ),
    );
  }
  // PS3.5 §6.2 (AE): "a value consisting solely of spaces shall not be used": such a
  // peer cannot be identified, so it is refused as not recognized (PS3.8 Table 9-21).
  if (rq.callingAeTitle.trim() === '') {
    return reject(
      rejectPermanentUser(
        RejectReason.SERVICE_USER.CALLING_AE_TITLE_NOT_RECOGNIZED,
        'calling AE title of spaces only (PS3.5 §6.2)',
      ),
    );
  }
  if (policy.callingAeTitles && !policy.callingAeTitles.includes(rq.callingAeTitle.trim())) {
    return reject(
      rejectPermanentUser(
        RejectReason.SERVICE_USER.CALLING_AE_TITLE_NOT_RECOGNIZED,
        `calling AE title ${JSON.stringify(rq.callingAeTitle.trim())} is not allowed`,
      ),
    );
  }
  const identity = rq.userInformation.userIdentity;
  let identityResponse: UserIdentityAc | undefined;
  // PS3.7 Annex D.3.3.7: an authorization failure is rejected-permanent, ACSE-related source.
  if (!identity && policy.requireUserIdentity) {
    return reject(authorizationRejection('no user identity given, one is required'));
  }
  if (identity && policy.verifyUserIdentity) {
    const raw = await policy.verifyUserIdentity(identity, rq);
    const verdict: UserIdentityVerdict = typeof raw === 'boolean' ? { accepted: raw } : raw;
    if (!verdict.accepted) {
      return reject(
        authorizationRejection(
          `user identity (type ${identity.type}) refused${verdict.cause ? `: ${verdict.cause}` : ''}`,
        ),
      );
    }
    // PS3.7 Annex D.3.3.7.2: answer only when a positive response was requested.
    if (identity.positiveResponseRequested) {
      identityResponse = { serverResponse: verdict.serverResponse ?? new Uint8Array(0) };
    }
  }

  // PS3.4 §B.3.1.4, PS3.7 Annex D.3.3.6: a SOP class we do not know may be accepted as one
  // of the Related General SOP Classes the requestor names for it, when we support that one.
  const related = new Map(
    rq.userInformation.commonExtendedNegotiations.map((c) => [
      c.sopClassUid,
      c.relatedGeneralSopClassUids,
    ]),
  );
  const exact = (uid: string) => policy.contexts.find((s) => s.abstractSyntax === uid);
  const support = (abstractSyntax: string): SupportedContext | undefined => {
    const own = exact(abstractSyntax);
    if (own) return own;
    if (policy.relatedGeneralSopClasses) {
      for (const general of related.get(abstractSyntax) ?? []) {
        const s = exact(general);
        if (s) return s;
      }
    }
    return policy.contexts.find((s) => s.abstractSyntax === '*');
  };

  const seen = new Set<number>();
  const acContexts: PresentationContextAc[] = rq.presentationContexts.map((pc) => {
    const no = (result: number): PresentationContextAc => ({
      id: pc.id,
      result,
      transferSyntax: '',
    });
    // PS3.8 §9.3.2.2: IDs are odd and unique.
    if (pc.id % 2 === 0 || seen.has(pc.id)) return no(PresentationContextResult.NO_REASON);
    seen.add(pc.id);
    const supported = support(pc.abstractSyntax);
    if (!supported) return no(PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED);
    const ts = supported.transferSyntaxes.includes('*')
      ? pc.transferSyntaxes[0]
      : supported.transferSyntaxes.find((t) => pc.transferSyntaxes.includes(t));
    if (!ts) return no(PresentationContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED);
    return { id: pc.id, result: PresentationContextResult.ACCEPTANCE, transferSyntax: ts };
  });

  // PS3.7 Annex D.3.3.4: answer role selection only for proposed classes that we support.
  const roleSelections: RoleSelection[] = [];
  for (const proposed of rq.userInformation.roleSelections) {
    const acceptedContext = rq.presentationContexts.some(
      (pc, i) =>
        pc.abstractSyntax === proposed.sopClassUid &&
        acContexts[i]?.result === PresentationContextResult.ACCEPTANCE,
    );
    if (!acceptedContext) continue;
    const supported = support(proposed.sopClassUid);
    roleSelections.push({
      sopClassUid: proposed.sopClassUid,
      scuRole: proposed.scuRole && (supported?.scuRole ?? true),
      scpRole: proposed.scpRole && (supported?.scpRole ?? false),
    });
  }

  // PS3.7 Annex D.3.3.5: answer extended negotiation only for proposed items.
  const extendedNegotiations: ExtendedNegotiation[] = [];
  if (policy.extendedNegotiation) {
    for (const item of rq.userInformation.extendedNegotiations) {
      const info = policy.extendedNegotiation(item);
      if (info) {
        extendedNegotiations.push({
          sopClassUid: item.sopClassUid,
          serviceClassApplicationInformation: info,
        });
      }
    }
  }

  // PS3.7 Annex D.3.3.3: answer the window only when proposed.
  const proposedWindow = rq.userInformation.asyncOperationsWindow;
  const ours = policy.asyncOperationsWindow ?? { maxInvoked: 1, maxPerformed: 1 };
  const window = proposedWindow && {
    maxInvoked: minWindow(proposedWindow.maxInvoked, ours.maxInvoked),
    maxPerformed: minWindow(proposedWindow.maxPerformed, ours.maxPerformed),
  };

  const ac: AAssociateAc = {
    type: PduType.A_ASSOCIATE_AC,
    protocolVersion: 1,
    calledAeTitle: rq.calledAeTitle,
    callingAeTitle: rq.callingAeTitle,
    applicationContextName: rq.applicationContextName,
    presentationContexts: acContexts,
    userInformation: {
      maxLength: policy.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
      implementationClassUid: policy.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      implementationVersionName: policy.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
      ...(window && { asyncOperationsWindow: window }),
      roleSelections,
      extendedNegotiations,
      commonExtendedNegotiations: [],
      ...(identityResponse && { userIdentity: identityResponse }),
      unknownItems: [],
    },
  };
  return { accepted: true, ac, negotiation: readNegotiation(rq, ac) };
}
