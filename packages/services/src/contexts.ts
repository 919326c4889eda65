import type { AssociationProposal, ProposedContext } from '@dnet/association';
import { MAX_PRESENTATION_CONTEXTS } from '@dnet/association';
import type { CommonExtendedNegotiation, ExtendedNegotiation, RoleSelection } from '@dnet/pdu';
import { InvalidArgumentError } from './errors.js';
import {
  encodeQueryExtendedNegotiation,
  encodeRetrieveExtendedNegotiation,
  type QueryExtendedNegotiation,
  type RetrieveExtendedNegotiation,
  STORAGE_SERVICE_CLASS_UID,
} from './extended-negotiation.js';
import {
  QUERY_MODELS,
  type QueryModel,
  SopClass,
  UNCOMPRESSED_TRANSFER_SYNTAXES,
} from './sop-class.js';

/**
 * Which roles the requestor proposes for a context's SOP class (PS3.7 Annex
 * D.3.3.4): `scu` is the default (no role selection item), `scp` asks to be
 * SCP only (C-GET storage sub-operations), `both` asks for both.
 */
export type ContextRole = 'scu' | 'scp' | 'both';

/** A presentation context to propose, with the requestor's role. */
export interface ContextSpec extends ProposedContext {
  /** Role of the requestor for this SOP class (default `scu`). */
  role?: ContextRole;
  /**
   * Service-class-application-information proposed for this SOP class in a
   * SOP Class Extended Negotiation sub-item (PS3.7 Annex D.3.3.5), e.g.
   * `encodeQueryExtendedNegotiation({ relationalQueries: true })`.
   */
  extendedNegotiation?: Uint8Array;
  /**
   * SOP Class Common Extended Negotiation of this SOP class (PS3.7 Annex
   * D.3.3.6): its Service Class UID and Related General SOP Class UIDs.
   */
  commonExtendedNegotiation?: Omit<CommonExtendedNegotiation, 'sopClassUid'>;
}

/** Default transfer syntaxes proposed: Explicit then Implicit VR Little Endian (PS3.5 §10). */
export const DEFAULT_TRANSFER_SYNTAXES: readonly string[] = UNCOMPRESSED_TRANSFER_SYNTAXES.slice(
  0,
  2,
);

/**
 * The Verification SOP Class context (PS3.4 Annex A), Implicit VR Little
 * Endian, the default transfer syntax every peer supports (PS3.5 §10.1).
 *
 * @example
 * ```ts
 * await Client.connect({ ..., contexts: [verification()] });
 * ```
 */
export function verification(): ContextSpec {
  return { abstractSyntax: SopClass.VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] };
}

/**
 * One context per Storage SOP Class (PS3.4 Annex B), each proposing the
 * transfer syntaxes given. With `role: 'scp'` (C-GET sub-operations, PS3.4
 * §C.4.3.1.1) the SCP/SCU role selection asks for the SCP role.
 *
 * @example
 * ```ts
 * storage([SopClass.CT_IMAGE_STORAGE], [TransferSyntax.ExplicitVRLittleEndian]);
 * ```
 */
export function storage(
  sopClasses: string | readonly string[],
  transferSyntaxes: readonly string[] = DEFAULT_TRANSFER_SYNTAXES,
  options: {
    role?: ContextRole;
    /**
     * Related General SOP Classes of these classes (PS3.4 §B.3.1.4): proposed
     * with the Storage Service Class in a common extended negotiation
     * sub-item (PS3.7 Annex D.3.3.6), so an SCP that knows only a general
     * class may accept them as it.
     */
    relatedGeneralSopClassUids?: readonly string[];
  } = {},
): ContextSpec[] {
  const list = typeof sopClasses === 'string' ? [sopClasses] : sopClasses;
  const related = options.relatedGeneralSopClassUids;
  return list.map((abstractSyntax) => ({
    abstractSyntax,
    transferSyntaxes: [...transferSyntaxes],
    ...(options.role && { role: options.role }),
    ...(related && {
      commonExtendedNegotiation: {
        serviceClassUid: STORAGE_SERVICE_CLASS_UID,
        relatedGeneralSopClassUids: [...related],
      },
    }),
  }));
}

/**
 * The Storage Commitment Push Model context (PS3.4 Annex J). The SCU proposes
 * role `both` when the SCP may send its report on a new association too; the
 * default `scu` takes the report on this association.
 *
 * @example
 * ```ts
 * await Client.connect({ ..., contexts: [storageCommitment()] });
 * ```
 */
export function storageCommitment(options: { role?: ContextRole } = {}): ContextSpec {
  return {
    abstractSyntax: '1.2.840.10008.1.20.1',
    transferSyntaxes: [...DEFAULT_TRANSFER_SYNTAXES],
    ...(options.role && { role: options.role }),
  };
}

/** The Modality Performed Procedure Step context (PS3.4 Annex F.7). */
export function mpps(): ContextSpec {
  return {
    abstractSyntax: '1.2.840.10008.3.1.2.3.3',
    transferSyntaxes: [...DEFAULT_TRANSFER_SYNTAXES],
  };
}

/** The Instance Availability Notification context (PS3.4 Annex R). */
export function instanceAvailability(): ContextSpec {
  return {
    abstractSyntax: '1.2.840.10008.5.1.4.33',
    transferSyntaxes: [...DEFAULT_TRANSFER_SYNTAXES],
  };
}

/**
 * The FIND, MOVE and GET contexts of a Query/Retrieve information model
 * (PS3.4 Annex C.6), or of the operations asked for. `relational` proposes
 * relational-queries on the FIND class and relational-retrieval on the MOVE
 * and GET classes (SOP Class Extended Negotiation, PS3.4 §C.5.1.1, §C.5.2.1,
 * §C.5.3.1); `query` and `retrieve` propose any of their options.
 *
 * @example
 * ```ts
 * queryRetrieve('study', { operations: ['find', 'move'], relational: true });
 * ```
 */
export function queryRetrieve(
  model: QueryModel = 'study',
  options: {
    operations?: readonly ('find' | 'move' | 'get')[];
    transferSyntaxes?: readonly string[];
    relational?: boolean;
    query?: Partial<QueryExtendedNegotiation>;
    retrieve?: Partial<RetrieveExtendedNegotiation>;
  } = {},
): ContextSpec[] {
  const classes = QUERY_MODELS[model];
  if (!classes) throw new InvalidArgumentError(`unknown query/retrieve model ${model}`);
  const ops = options.operations ?? ['find', 'move', 'get'];
  const query = { ...(options.relational && { relationalQueries: true }), ...options.query };
  const retrieve = {
    ...(options.relational && { relationalRetrieval: true }),
    ...options.retrieve,
  };
  const proposes = (o: object) => Object.values(o).some(Boolean);
  return ops.map((op) => {
    const extended =
      op === 'find'
        ? proposes(query) && encodeQueryExtendedNegotiation(query)
        : proposes(retrieve) && encodeRetrieveExtendedNegotiation(retrieve);
    return {
      abstractSyntax: classes[op],
      transferSyntaxes: [...(options.transferSyntaxes ?? DEFAULT_TRANSFER_SYNTAXES)],
      ...(extended && { extendedNegotiation: extended }),
    };
  });
}

/**
 * The contexts a C-GET needs (PS3.4 §C.4.3): the GET SOP class of the model
 * and one context per Storage SOP class wanted with the SCP role proposed,
 * checked against the 128-context limit (PS3.8 §9.3.2.2) together with
 * `others` already proposed.
 */
export function retrieveContexts(
  model: QueryModel,
  storageClasses: readonly string[],
  transferSyntaxes: readonly string[] = DEFAULT_TRANSFER_SYNTAXES,
  others = 0,
): ContextSpec[] {
  const total = 1 + storageClasses.length + others;
  if (total > MAX_PRESENTATION_CONTEXTS) {
    throw new InvalidArgumentError(
      `a C-GET of ${storageClasses.length} storage classes needs ${total} presentation contexts; at most ${MAX_PRESENTATION_CONTEXTS} (PS3.8 §9.3.2.2)`,
    );
  }
  return [
    ...queryRetrieve(model, { operations: ['get'] }),
    ...storage(storageClasses, transferSyntaxes, { role: 'scp' }),
  ];
}

/**
 * Turns context specs into the proposal's contexts, SCP/SCU role selection
 * items (PS3.7 Annex D.3.3.4): one item per SOP class whose role is not the
 * default, roles of several contexts of one class merged, and the SOP class
 * extended and common extended negotiation sub-items (PS3.7 Annex D.3.3.5,
 * D.3.3.6): at most one of each per SOP class.
 *
 * @throws InvalidArgumentError when contexts of one SOP class disagree on a sub-item
 */
export function buildContexts(specs: readonly (ContextSpec | readonly ContextSpec[])[]): {
  contexts: ProposedContext[];
  roleSelections: RoleSelection[];
  extendedNegotiations: ExtendedNegotiation[];
  commonExtendedNegotiations: CommonExtendedNegotiation[];
} {
  const flat = specs.flat() as ContextSpec[];
  if (flat.length === 0) throw new InvalidArgumentError('at least one presentation context');
  if (flat.length > MAX_PRESENTATION_CONTEXTS) {
    throw new InvalidArgumentError(
      `${flat.length} presentation contexts proposed; at most ${MAX_PRESENTATION_CONTEXTS} (PS3.8 §9.3.2.2)`,
    );
  }
  const roles = new Map<string, { scu: boolean; scp: boolean }>();
  for (const c of flat) {
    const role = c.role ?? 'scu';
    const r = roles.get(c.abstractSyntax) ?? { scu: false, scp: false };
    if (role === 'scu' || role === 'both') r.scu = true;
    if (role === 'scp' || role === 'both') r.scp = true;
    roles.set(c.abstractSyntax, r);
  }
  const roleSelections: RoleSelection[] = [];
  for (const [sopClassUid, r] of roles) {
    if (r.scp) roleSelections.push({ sopClassUid, scuRole: r.scu, scpRole: r.scp });
  }
  // PS3.7 Annex D.3.3.5, D.3.3.6: only one sub-item per SOP Class UID.
  const extended = new Map<string, ExtendedNegotiation>();
  const common = new Map<string, CommonExtendedNegotiation>();
  const once = <T>(map: Map<string, T>, uid: string, item: T, what: string) => {
    const seen = map.get(uid);
    if (seen && JSON.stringify(seen) !== JSON.stringify(item)) {
      throw new InvalidArgumentError(`two different ${what} sub-items for ${uid}`);
    }
    map.set(uid, item);
  };
  for (const c of flat) {
    if (c.extendedNegotiation) {
      once(
        extended,
        c.abstractSyntax,
        {
          sopClassUid: c.abstractSyntax,
          serviceClassApplicationInformation: c.extendedNegotiation,
        },
        'SOP class extended negotiation',
      );
    }
    if (c.commonExtendedNegotiation) {
      once(
        common,
        c.abstractSyntax,
        {
          sopClassUid: c.abstractSyntax,
          serviceClassUid: c.commonExtendedNegotiation.serviceClassUid,
          relatedGeneralSopClassUids: [...c.commonExtendedNegotiation.relatedGeneralSopClassUids],
        },
        'SOP class common extended negotiation',
      );
    }
  }
  const contexts = flat.map(
    ({ role: _role, extendedNegotiation: _e, commonExtendedNegotiation: _c, ...c }) => c,
  );
  return {
    contexts,
    roleSelections,
    extendedNegotiations: [...extended.values()],
    commonExtendedNegotiations: [...common.values()],
  };
}

/** The association proposal fields built from context specs. */
export type ContextProposal = Pick<
  AssociationProposal,
  'contexts' | 'roleSelections' | 'extendedNegotiations' | 'commonExtendedNegotiations'
>;
