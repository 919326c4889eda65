import type { Rejection } from '@dnet/association';
import { RejectReason, RejectResult, RejectSource } from '@dnet/pdu';

/** What {@link ServerOptions.admitAssociation} is asked about: one A-ASSOCIATE-RQ already accepted by the policy. */
export interface AdmissionRequest {
  /** The requestor's AE title, trimmed. */
  callingAeTitle: string;
  /** The AE title the requestor called, trimmed. */
  calledAeTitle: string;
  /** The peer's address. */
  remoteAddress: string;
  /** The peer's port. */
  remotePort: number;
}

/**
 * The answer of {@link ServerOptions.admitAssociation}: admitted, with the
 * `release` the server calls exactly once when the association ends (or
 * could not be established after all); or refused with the A-ASSOCIATE-RJ to
 * send.
 */
export type Admission =
  | { admitted: true; release: () => void }
  | { admitted: false; rejection: Rejection };

/**
 * Decides whether one more association may start, outside the server: for
 * limits shared by several servers (the processes of one archive). Asked
 * after the acceptance policy, the access checks and the server's own limits
 * have passed; a rejection it returns is sent as is, and a callback that
 * throws is a rejection too (the association is never left waiting).
 */
export type AssociationAdmitter = (request: AdmissionRequest) => Admission | Promise<Admission>;

/**
 * The A-ASSOCIATE-RJ of a local limit (too many associations in all, or from
 * one calling AE title): rejected-transient, service-provider (presentation
 * related function), local-limit-exceeded (PS3.8 §9.3.4, Table 9-21), what
 * `maxAssociations` and `maxAssociationsPerAe` send.
 *
 * @param cause - why, for logs (not sent)
 */
export function localLimitRejection(cause: string): Rejection {
  return {
    result: RejectResult.REJECTED_TRANSIENT,
    source: RejectSource.SERVICE_PROVIDER_PRESENTATION,
    reason: RejectReason.SERVICE_PROVIDER_PRESENTATION.LOCAL_LIMIT_EXCEEDED,
    cause,
  };
}
