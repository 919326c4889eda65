/**
 * The bytes of a DICOM health check for a TCP load balancer (HAProxy
 * `tcp-check`): open an association proposing Verification, send one C-ECHO,
 * release. A node passes only when it answers A-ASSOCIATE-AC (PS3.8 §9.3.3),
 * a C-ECHO-RSP with Status 0000H (PS3.7 §9.3.5.2) and A-RELEASE-RP
 * (PS3.8 §9.3.7): a process that accepts TCP but cannot serve DICOM (hung,
 * out of associations, index unreachable at start) is taken out of rotation,
 * which a bare TCP connect check cannot see.
 */
import { CommandField, encodeMessage } from '@dnet/dimse';
import {
  DICOM_APPLICATION_CONTEXT,
  encodePDataTf,
  encodePdu,
  PduType,
  UserIdentityType,
} from '@dnet/pdu';

/** Verification SOP Class (PS3.4 Annex A). */
export const VERIFICATION = '1.2.840.10008.1.1';
/** Implicit VR Little Endian, the default transfer syntax every SCP accepts (PS3.5 §10.1). */
export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
/**
 * Implementation Class UID of the health check (PS3.7 Annex D.3.3.2): a
 * UUID-derived UID (PS3.5 Annex B.2), fixed so that the bytes are stable.
 */
export const HEALTH_CHECK_IMPLEMENTATION_UID = '2.25.205151046402458316498113785094452376155';

/** Who the health check says it is and whom it calls. */
export interface HealthCheckOptions {
  /** Calling AE Title (default `HAPROXY`); allow it on the nodes when they restrict callers. */
  callingAeTitle?: string;
  /** Called AE Title: the nodes' AE title (dnet-scp's default is `DNETSCP`). */
  calledAeTitle?: string;
  /**
   * A username and passcode (User Identity type 2, PS3.7 Annex D.3.3.7.1),
   * for nodes that require a user identity (dnet-scp `--users`). No positive
   * response is requested, so the A-ASSOCIATE-AC is unchanged. The passcode
   * ends up in the HAProxy configuration as hex: give the check an account
   * of its own.
   */
  user?: { username: string; passcode: string };
}

/** The three requests of the check, in the order they are sent. */
export interface HealthCheckRequests {
  /** A-ASSOCIATE-RQ with one presentation context: Verification / Implicit VR LE (PS3.8 §9.3.2). */
  associateRq: Uint8Array;
  /** P-DATA-TF with a C-ECHO-RQ on context 1, Message ID 1 (PS3.7 §9.3.5.1). */
  echoRq: Uint8Array;
  /** A-RELEASE-RQ (PS3.8 §9.3.6). */
  releaseRq: Uint8Array;
}

/**
 * What the answers must look like, as HAProxy `rbinary` patterns (a regular
 * expression over the response buffer written as hex digits, two per byte).
 */
export const HEALTH_CHECK_EXPECT = {
  /** PDU type 02H, reserved 00H: A-ASSOCIATE-AC (PS3.8 Table 9-17); RJ is 03H, A-ABORT 07H. */
  associateAc: '^0200',
  /**
   * PDU type 04H: P-DATA-TF, holding, on a byte boundary (`(..)*`), the Status
   * element (0000,0900) with length 2 and value 0000H: Success (PS3.7 §9.1.1.1.8,
   * Implicit VR Little Endian: tag 0000 0009, length 02000000, value 0000).
   */
  echoSuccess: '^0400(..)*00000009020000000000',
  /** PDU type 06H, reserved 00H: A-RELEASE-RP (PS3.8 Table 9-25). */
  releaseRp: '^0600',
} as const;

/** Builds the health check's requests. */
export function healthCheckRequests(options: HealthCheckOptions = {}): HealthCheckRequests {
  const associateRq = encodePdu({
    type: PduType.A_ASSOCIATE_RQ,
    protocolVersion: 1,
    calledAeTitle: options.calledAeTitle ?? 'DNETSCP',
    callingAeTitle: options.callingAeTitle ?? 'HAPROXY',
    applicationContextName: DICOM_APPLICATION_CONTEXT,
    presentationContexts: [
      { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_VR_LE] },
    ],
    userInformation: {
      maxLength: 16384,
      implementationClassUid: HEALTH_CHECK_IMPLEMENTATION_UID,
      implementationVersionName: 'DNET_HEALTH',
      roleSelections: [],
      extendedNegotiations: [],
      commonExtendedNegotiations: [],
      unknownItems: [],
      ...(options.user && {
        userIdentity: {
          type: UserIdentityType.USERNAME_AND_PASSCODE,
          positiveResponseRequested: false,
          primaryField: new TextEncoder().encode(options.user.username),
          secondaryField: new TextEncoder().encode(options.user.passcode),
        },
      }),
    },
  });
  const command = encodeMessage({
    commandField: CommandField.C_ECHO_RQ,
    messageId: 1,
    affectedSopClassUid: VERIFICATION,
    hasDataSet: false,
  });
  const echoRq = concat(
    encodePDataTf([{ contextId: 1, command: true, last: true, data: command }]),
  );
  const releaseRq = encodePdu({ type: PduType.A_RELEASE_RQ });
  return { associateRq, echoRq, releaseRq };
}

/** Lower-case hex, as `tcp-check send-binary` takes it. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * The `option tcp-check` lines of an HAProxy backend that runs the check
 * (HAProxy 2.x). `min-recv` makes each rule wait for a whole answer header.
 */
export function haproxyTcpCheck(options: HealthCheckOptions = {}): string[] {
  const r = healthCheckRequests(options);
  return [
    'option tcp-check',
    `tcp-check send-binary ${toHex(r.associateRq)} comment A-ASSOCIATE-RQ`,
    `tcp-check expect min-recv 6 rbinary ${HEALTH_CHECK_EXPECT.associateAc} comment A-ASSOCIATE-AC`,
    `tcp-check send-binary ${toHex(r.echoRq)} comment C-ECHO-RQ`,
    `tcp-check expect min-recv 12 rbinary ${HEALTH_CHECK_EXPECT.echoSuccess} comment C-ECHO-RSP\\ Success`,
    `tcp-check send-binary ${toHex(r.releaseRq)} comment A-RELEASE-RQ`,
    `tcp-check expect min-recv 6 rbinary ${HEALTH_CHECK_EXPECT.releaseRp} comment A-RELEASE-RP`,
  ];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}
