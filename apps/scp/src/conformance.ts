/**
 * What `dnet-scp conformance` describes: the facts of a DICOM conformance
 * statement (PS3.2 Annex A), read from the objects dnet-scp serves with for a
 * configuration: the `Server.listen` options of `serverOptionsFor` (scp.ts),
 * the acceptance policy `Server.policyFor` derives from them (the one the
 * server applies), the archive's contexts and extended negotiation, the TLS
 * transport's profile. Nothing here lists SOP classes or transfer syntaxes of
 * its own, so the statement follows the server when either changes. It lives
 * in dnet-scp, not in @dnet/archive or @dnet/services, because that is where
 * a configuration becomes server options: the archive and the server only
 * see the objects built here.
 */

import { LocalStorage, SqliteIndex, StorageCommitment } from '@dnet/archive';
import {
  type AcceptorPolicy,
  DEFAULT_MAX_PDU_LENGTH,
  defaultTimeouts,
  MAX_PRESENTATION_CONTEXTS,
  type SupportedContext,
} from '@dnet/association';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, uidEntries } from '@dnet/dataset';
import {
  buildContexts,
  DEFAULT_MAX_ASSOCIATIONS,
  decodeQueryExtendedNegotiation,
  decodeRetrieveExtendedNegotiation,
  isStorageSopClass,
  QUERY_MODELS,
  Server,
  type ServerOptions,
  SopClass,
} from '@dnet/services';
import { transferSyntaxesFor } from '@dnet/services/internal';
import type { TlsTransport } from '@dnet/tls';
import type { Transport } from '@dnet/transport';
import { pino } from 'pino';
import type { ScpConfig } from './config.js';
import { renderConformance } from './conformance-markdown.js';
import {
  type AcceptanceActivity,
  type AcceptedContext,
  ANY_TRANSFER_SYNTAX,
  type ConformanceModel,
  uidName,
} from './conformance-model.js';
import { archiveFor, identityVerifierFor, serverOptionsFor, transportFor } from './scp.js';

const FIND_CLASSES = new Set([
  ...Object.values(QUERY_MODELS).map((m) => m.find),
  SopClass.MODALITY_WORKLIST_FIND,
]);
const RETRIEVE_CLASSES = new Set(Object.values(QUERY_MODELS).flatMap((m) => [m.move, m.get]));

function activityOf(uid: string): AcceptanceActivity {
  if (uid === SopClass.VERIFICATION) return 'verification';
  if (isStorageSopClass(uid)) return 'storage';
  if (FIND_CLASSES.has(uid)) return 'query';
  if (RETRIEVE_CLASSES.has(uid)) return 'retrieve';
  if (uid === SopClass.STORAGE_COMMITMENT_PUSH_MODEL) return 'commitment';
  return 'other';
}

/** The names of the options set in a decoded extended negotiation answer. */
function optionsSet(decoded: object): string[] {
  return Object.entries(decoded)
    .filter(([, on]) => on)
    .map(([name]) => name);
}

/**
 * What the policy answers for a SOP class when every option is proposed
 * (PS3.7 Annex D.3.3.5): the policy's own answering function is asked.
 */
function extendedAnswer(policy: AcceptorPolicy, uid: string): string[] | undefined {
  const answer = policy.extendedNegotiation?.({
    sopClassUid: uid,
    serviceClassApplicationInformation: new Uint8Array(16).fill(1),
  });
  if (!answer) return undefined;
  return optionsSet(
    FIND_CLASSES.has(uid)
      ? decodeQueryExtendedNegotiation(answer)
      : decodeRetrieveExtendedNegotiation(answer),
  );
}

function acceptedContext(policy: AcceptorPolicy, c: SupportedContext): AcceptedContext {
  return {
    activity: activityOf(c.abstractSyntax),
    uid: c.abstractSyntax,
    name: uidName(c.abstractSyntax),
    transferSyntaxes: c.transferSyntaxes.includes(ANY_TRANSFER_SYNTAX)
      ? [ANY_TRANSFER_SYNTAX]
      : c.transferSyntaxes,
    // PS3.7 Annex D.3.3.4: the requestor's SCU role is the default, its SCP role is not.
    scp: c.scuRole ?? true,
    scu: c.scpRole ?? false,
    extendedNegotiation: extendedAnswer(policy, c.abstractSyntax),
  };
}

/** Groups the known transfer syntaxes by what a C-MOVE sub-association proposes for them. */
function moveTransferSyntaxes(known: readonly string[], transcoder: ServerOptions['transcoder']) {
  const groups = new Map<string, { stored: string[]; proposed: readonly string[] }>();
  for (const ts of known) {
    const proposed = transferSyntaxesFor(ts, transcoder);
    // Those proposed alone (compressed, encapsulated) make one group: "its own only".
    const key = proposed.length === 1 && proposed[0] === ts ? 'own' : proposed.join(',');
    const group = groups.get(key) ?? { stored: [], proposed: key === 'own' ? [] : proposed };
    group.stored.push(ts);
    groups.set(key, group);
  }
  // The objects sent only as stored come last.
  const own = groups.get('own');
  groups.delete('own');
  return [...groups.values(), ...(own ? [own] : [])];
}

/** The user identity types a verifier of this configuration accepts (PS3.7 Table D.3-14). */
function identityTypes(config: ScpConfig, server: ServerOptions): string[] | undefined {
  if (!server.policy?.requireUserIdentity || !config.userIdentity) return undefined;
  const types: string[] = [];
  if (config.userIdentity.users) types.push('2 (Username and Passcode)');
  if (config.userIdentity.jwtKey) types.push('5 (JSON Web Token)');
  return types;
}

/**
 * The facts of the statement from the server's options: the policy
 * `Server.policyFor` derives (the one `Server.listen` applies), the limits
 * and defaults in force, the TLS transport's profile.
 */
export function conformanceModel(
  config: ScpConfig,
  server: ServerOptions,
  transport: Transport,
): ConformanceModel {
  const policy = Server.policyFor(server);
  const known = uidEntries()
    .filter((e) => e.type === 'Transfer Syntax')
    .map((e) => e.uid);
  // The report's new association proposes the commitment context with the SCP role (PS3.4 §J.3.3).
  const report = buildContexts([{ ...StorageCommitment.context, role: 'scp' }]);
  const reportRole = report.roleSelections[0];
  const profile = (transport as Partial<TlsTransport>).profile;
  return {
    config,
    server,
    policy,
    accepted: policy.contexts.map((c) => acceptedContext(policy, c)),
    maxPduLength: policy.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
    initiatorMaxPduLength: DEFAULT_MAX_PDU_LENGTH,
    maxAssociations: server.maxAssociations ?? DEFAULT_MAX_ASSOCIATIONS,
    maxAssociationsPerAe: server.maxAssociationsPerAe,
    window: policy.asyncOperationsWindow ?? { maxInvoked: 1, maxPerformed: 1 },
    subOperationWindow: Math.max(1, Math.min(server.subOperationWindow ?? 1, 128)),
    implementation: {
      classUid: policy.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      versionName: policy.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
    },
    moveContexts: [
      {
        uid: undefined,
        name: `The SOP Class of each object sent (at most ${MAX_PRESENTATION_CONTEXTS} classes per C-MOVE)`,
        transferSyntaxes: [],
        role: 'SCU',
        roleSelection: undefined,
      },
    ],
    moveTransferSyntaxes: moveTransferSyntaxes(known, server.transcoder),
    commitmentReportContext: {
      uid: StorageCommitment.context.abstractSyntax,
      name: uidName(StorageCommitment.context.abstractSyntax),
      transferSyntaxes: report.contexts[0]!.transferSyntaxes,
      role: reportRole?.scpRole && !reportRole.scuRole ? 'SCP' : 'SCU',
      roleSelection: reportRole && { scuRole: reportRole.scuRole, scpRole: reportRole.scpRole },
    },
    timeouts: { ...defaultTimeouts, ...server.timeouts },
    tls: config.tls && {
      profile,
      clientCertificate: config.tls.requireClientCert
        ? 'require'
        : config.tls.ca
          ? 'request'
          : 'none',
      allowedSubjects: config.tls.allowCertSubjects.length,
      allowedFingerprints: config.tls.allowCertFingerprints.length,
    },
    userIdentity: identityTypes(config, server),
    knownTransferSyntaxes: known,
  };
}

/**
 * The conformance statement (PS3.2 Annex A) of dnet-scp run with `config`,
 * as Markdown: built from the same archive and `Server.listen` options
 * `startScp` uses (scp.ts), without opening the storage folder or the index
 * (an in-memory index stands in). With `--tls` the certificate files are
 * read, as the server reads them.
 *
 * @example
 * ```ts
 * const markdown = await conformanceStatement(resolveConfig({}));
 * ```
 */
export async function conformanceStatement(config: ScpConfig): Promise<string> {
  const logger = pino({ enabled: false });
  const transport = transportFor(config, logger);
  const verifyUserIdentity = identityVerifierFor(config);
  const archive = archiveFor(config, {
    storage: new LocalStorage(config.storage),
    index: new SqliteIndex(':memory:'),
    transport,
    logger,
  });
  try {
    const server = serverOptionsFor(config, archive, {
      transport,
      logger,
      ...(verifyUserIdentity && { verifyUserIdentity }),
    });
    return renderConformance(conformanceModel(config, server, transport));
  } finally {
    await archive.close();
  }
}
