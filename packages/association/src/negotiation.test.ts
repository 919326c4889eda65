import { IMPLEMENTATION_CLASS_UID } from '@dnet/dataset';
import {
  type AAssociateAc,
  type AAssociateRq,
  PresentationContextResult,
  RejectReason,
  RejectResult,
  RejectSource,
  type UserIdentityRq,
} from '@dnet/pdu';
import { describe, expect, it } from 'vitest';
import {
  type AcceptorPolicy,
  buildAssociateRq,
  DEFAULT_MAX_PDU_LENGTH,
  decideAssociation,
  MIN_PEER_PDU_LENGTH,
  readNegotiation,
} from './negotiation.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';
const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const JPEG = '1.2.840.10008.1.2.4.50';

function request(overrides: Partial<Parameters<typeof buildAssociateRq>[0]> = {}): AAssociateRq {
  return buildAssociateRq({
    callingAeTitle: 'SCU',
    calledAeTitle: 'SCP',
    contexts: [
      { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
      { abstractSyntax: CT, transferSyntaxes: [IMPLICIT, EXPLICIT] },
      { abstractSyntax: MR, transferSyntaxes: [JPEG] },
    ],
    ...overrides,
  });
}

const policy: AcceptorPolicy = {
  contexts: [
    { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT] },
    { abstractSyntax: CT, transferSyntaxes: [EXPLICIT, IMPLICIT], scpRole: true },
    { abstractSyntax: MR, transferSyntaxes: [EXPLICIT] },
  ],
};

describe('buildAssociateRq', () => {
  it('numbers contexts 1, 3, 5 and fills the user information', () => {
    const rq = request({ asyncOperationsWindow: { maxInvoked: 4, maxPerformed: 2 } });
    expect(rq.presentationContexts.map((c) => c.id)).toEqual([1, 3, 5]);
    expect(rq.userInformation.maxLength).toBe(DEFAULT_MAX_PDU_LENGTH);
    expect(rq.userInformation.implementationClassUid).toBe(IMPLEMENTATION_CLASS_UID);
    expect(rq.userInformation.asyncOperationsWindow).toEqual({ maxInvoked: 4, maxPerformed: 2 });
    expect(rq.applicationContextName).toBe('1.2.840.10008.3.1.1.1');
    expect(rq.protocolVersion).toBe(1);
  });

  it('keeps explicit IDs and fills the gaps with free odd IDs', () => {
    const rq = request({
      contexts: [
        { abstractSyntax: CT, transferSyntaxes: [IMPLICIT] },
        { abstractSyntax: MR, transferSyntaxes: [IMPLICIT], id: 1 },
      ],
    });
    expect(rq.presentationContexts.map((c) => c.id)).toEqual([3, 1]);
  });

  it('accepts 128 contexts (IDs up to 255) and refuses 129', () => {
    const many = (n: number) =>
      Array.from({ length: n }, () => ({ abstractSyntax: CT, transferSyntaxes: [IMPLICIT] }));
    expect(request({ contexts: many(128) }).presentationContexts.at(-1)?.id).toBe(255);
    expect(() => request({ contexts: many(129) })).toThrow(/at most 128/);
  });

  it('refuses even IDs, duplicates, empty syntaxes and bad AE titles', () => {
    expect(() =>
      request({ contexts: [{ abstractSyntax: CT, transferSyntaxes: [IMPLICIT], id: 2 }] }),
    ).toThrow(/odd/);
    expect(() =>
      request({
        contexts: [
          { abstractSyntax: CT, transferSyntaxes: [IMPLICIT], id: 1 },
          { abstractSyntax: CT, transferSyntaxes: [IMPLICIT], id: 1 },
        ],
      }),
    ).toThrow(/duplicate/);
    expect(() => request({ contexts: [{ abstractSyntax: CT, transferSyntaxes: [] }] })).toThrow();
    expect(() => request({ contexts: [] })).toThrow();
    expect(() => request({ calledAeTitle: 'X'.repeat(17) })).toThrow(/AE title/);
  });
});

describe('decideAssociation', () => {
  it('accepts by our transfer syntax preference and rejects per context with the reason', async () => {
    const decision = await decideAssociation(request(), policy);
    expect(decision.accepted).toBe(true);
    if (!decision.accepted) return;
    expect(decision.ac.presentationContexts).toEqual([
      { id: 1, result: PresentationContextResult.ACCEPTANCE, transferSyntax: IMPLICIT },
      { id: 3, result: PresentationContextResult.ACCEPTANCE, transferSyntax: EXPLICIT },
      {
        id: 5,
        result: PresentationContextResult.TRANSFER_SYNTAXES_NOT_SUPPORTED,
        transferSyntax: '',
      },
    ]);
    const unknown = await decideAssociation(
      request({ contexts: [{ abstractSyntax: '1.2.3', transferSyntaxes: [IMPLICIT] }] }),
      policy,
    );
    expect(unknown.accepted && unknown.ac.presentationContexts[0]?.result).toBe(
      PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED,
    );
  });

  it('accepts any abstract syntax with "*" and the requestor first proposal with ["*"]', async () => {
    const d = await decideAssociation(request(), {
      contexts: [{ abstractSyntax: '*', transferSyntaxes: ['*'] }],
    });
    expect(d.accepted && d.ac.presentationContexts.map((c) => c.transferSyntax)).toEqual([
      IMPLICIT,
      IMPLICIT,
      JPEG,
    ]);
  });

  it('rejects the called AE title with service-user / called-AE-title-not-recognized', async () => {
    const d = await decideAssociation(request(), { ...policy, calledAeTitles: ['OTHER'] });
    expect(d).toMatchObject({
      accepted: false,
      rejection: {
        result: RejectResult.REJECTED_PERMANENT,
        source: RejectSource.SERVICE_USER,
        reason: RejectReason.SERVICE_USER.CALLED_AE_TITLE_NOT_RECOGNIZED,
      },
    });
  });

  it('rejects a Maximum Length Received too small for one PDV (PS3.8 Annex D.1): permanent, provider ACSE, no-reason-given', async () => {
    const at = (maxLength: number) => {
      const rq = request();
      return { ...rq, userInformation: { ...rq.userInformation, maxLength } };
    };
    for (const tiny of [1, 6]) {
      const d = await decideAssociation(at(tiny), policy);
      expect(!d.accepted && d.rejection).toMatchObject({ result: 1, source: 2, reason: 1 });
      expect(!d.accepted && d.rejection.cause).toMatch(/maximum length received/);
    }
    // 0 is "no limit"; 7 carries a one-byte fragment.
    for (const ok of [0, MIN_PEER_PDU_LENGTH]) {
      expect((await decideAssociation(at(ok), policy)).accepted).toBe(true);
    }
    const d = await decideAssociation(at(2048), { ...policy, minPeerPduLength: 4096 });
    expect(!d.accepted && d.rejection).toMatchObject({ result: 1, source: 2, reason: 1 });
  });

  it('rejects a called AE title of spaces as not recognized, even with no called-title list', async () => {
    const d = await decideAssociation({ ...request(), calledAeTitle: '' }, policy);
    expect(!d.accepted && d.rejection).toMatchObject({ result: 1, source: 1, reason: 7 });
  });

  it('rejects the calling AE title and a foreign application context', async () => {
    const calling = await decideAssociation(request(), { ...policy, callingAeTitles: ['X'] });
    expect(!calling.accepted && calling.rejection.reason).toBe(3);
    // PS3.5 §6.2: an AE title of spaces only identifies nobody, even without an allow-list.
    const blank = await decideAssociation(
      { ...request(), callingAeTitle: '                ' },
      policy,
    );
    expect(!blank.accepted && blank.rejection).toMatchObject({ result: 1, source: 1, reason: 3 });
    const rq = { ...request(), applicationContextName: '1.2.3.4' };
    const ctx = await decideAssociation(rq, policy);
    expect(!ctx.accepted && ctx.rejection).toMatchObject({ result: 1, source: 1, reason: 2 });
  });

  it('rejects transient / local-limit-exceeded when the association limit is reached', async () => {
    const d = await decideAssociation(request(), policy, { associationLimitReached: true });
    expect(!d.accepted && d.rejection).toMatchObject({ result: 2, source: 3, reason: 2 });
  });

  it('rejects a protocol version without bit 0', async () => {
    const d = await decideAssociation({ ...request(), protocolVersion: 2 }, policy);
    expect(!d.accepted && d.rejection).toMatchObject({ result: 1, source: 2, reason: 2 });
  });

  it('answers role selection only for proposed, accepted classes, within what we allow', async () => {
    const rq = request({
      roleSelections: [
        { sopClassUid: CT, scuRole: true, scpRole: true },
        { sopClassUid: VERIFICATION, scuRole: false, scpRole: true },
        { sopClassUid: MR, scuRole: true, scpRole: true }, // context rejected: no answer
      ],
    });
    const d = await decideAssociation(rq, policy);
    if (!d.accepted) throw new Error('rejected');
    expect(d.ac.userInformation.roleSelections).toEqual([
      { sopClassUid: CT, scuRole: true, scpRole: true },
      { sopClassUid: VERIFICATION, scuRole: false, scpRole: false },
    ]);
    const ct = d.negotiation.contexts.find((c) => c.abstractSyntax === CT);
    expect([ct?.requestorScu, ct?.requestorScp]).toEqual([true, true]);
    const echo = d.negotiation.contexts.find((c) => c.abstractSyntax === VERIFICATION);
    expect([echo?.requestorScu, echo?.requestorScp]).toEqual([false, false]);
  });

  it('answers extended negotiation only for proposed items', async () => {
    const rq = request({
      extendedNegotiations: [
        { sopClassUid: CT, serviceClassApplicationInformation: new Uint8Array([1]) },
        { sopClassUid: MR, serviceClassApplicationInformation: new Uint8Array([1]) },
      ],
    });
    const d = await decideAssociation(rq, {
      ...policy,
      extendedNegotiation: (item) => (item.sopClassUid === CT ? new Uint8Array([0]) : undefined),
    });
    if (!d.accepted) throw new Error('rejected');
    expect(d.ac.userInformation.extendedNegotiations).toEqual([
      { sopClassUid: CT, serviceClassApplicationInformation: new Uint8Array([0]) },
    ]);
    const none = await decideAssociation(request(), {
      ...policy,
      extendedNegotiation: () => new Uint8Array([0]),
    });
    expect(none.accepted && none.ac.userInformation.extendedNegotiations).toEqual([]);
  });

  it('keeps both sides of extended negotiation and the common extended negotiation', async () => {
    const rq = request({
      extendedNegotiations: [
        { sopClassUid: CT, serviceClassApplicationInformation: new Uint8Array([1, 0, 1]) },
      ],
      commonExtendedNegotiations: [
        { sopClassUid: CT, serviceClassUid: '1.2.840.10008.4.2', relatedGeneralSopClassUids: [] },
      ],
    });
    const d = await decideAssociation(rq, {
      ...policy,
      extendedNegotiation: () => new Uint8Array([1, 0, 0]),
    });
    if (!d.accepted) throw new Error('rejected');
    expect(d.negotiation.proposedExtendedNegotiations).toEqual([
      { sopClassUid: CT, serviceClassApplicationInformation: new Uint8Array([1, 0, 1]) },
    ]);
    expect(d.negotiation.extendedNegotiations).toEqual([
      { sopClassUid: CT, serviceClassApplicationInformation: new Uint8Array([1, 0, 0]) },
    ]);
    expect(d.negotiation.commonExtendedNegotiations).toEqual([
      { sopClassUid: CT, serviceClassUid: '1.2.840.10008.4.2', relatedGeneralSopClassUids: [] },
    ]);
    // PS3.7 Annex D.3.3.6: the A-ASSOCIATE-AC carries no 57H sub-item.
    expect(d.ac.userInformation.commonExtendedNegotiations).toEqual([]);
  });

  it('accepts an unknown SOP class through a supported related general SOP class (PS3.4 §B.3.1.4)', async () => {
    const SPECIALIZED = '1.2.826.0.1.3680043.9.7433.1';
    const UNRELATED = '1.2.826.0.1.3680043.9.7433.2';
    const rq = request({
      contexts: [
        { abstractSyntax: SPECIALIZED, transferSyntaxes: [JPEG, EXPLICIT] },
        { abstractSyntax: UNRELATED, transferSyntaxes: [EXPLICIT] },
      ],
      roleSelections: [{ sopClassUid: SPECIALIZED, scuRole: true, scpRole: true }],
      commonExtendedNegotiations: [
        {
          sopClassUid: SPECIALIZED,
          serviceClassUid: '1.2.840.10008.4.2',
          relatedGeneralSopClassUids: ['1.2.3.4', CT],
        },
        {
          sopClassUid: UNRELATED,
          serviceClassUid: '1.2.840.10008.4.2',
          relatedGeneralSopClassUids: [],
        },
      ],
    });
    const on = await decideAssociation(rq, { ...policy, relatedGeneralSopClasses: true });
    if (!on.accepted) throw new Error('rejected');
    // CT's transfer syntax preference and roles apply to the specialized class.
    expect(on.ac.presentationContexts).toEqual([
      { id: 1, result: PresentationContextResult.ACCEPTANCE, transferSyntax: EXPLICIT },
      {
        id: 3,
        result: PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED,
        transferSyntax: '',
      },
    ]);
    expect(on.ac.userInformation.roleSelections).toEqual([
      { sopClassUid: SPECIALIZED, scuRole: true, scpRole: true },
    ]);
    const off = await decideAssociation(rq, policy);
    if (!off.accepted) throw new Error('rejected');
    expect(off.ac.presentationContexts.map((c) => c.result)).toEqual([
      PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED,
      PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED,
    ]);
  });

  it('verifies the user identity, answers 59H only when asked, and rejects a refusal', async () => {
    const identity = {
      type: 2,
      positiveResponseRequested: true,
      primaryField: new TextEncoder().encode('alice'),
      secondaryField: new TextEncoder().encode('secret'),
    };
    const seen: string[] = [];
    const verifyUserIdentity = async (id: UserIdentityRq) => {
      seen.push(new TextDecoder().decode(id.primaryField));
      return new TextDecoder().decode(id.secondaryField) === 'secret';
    };
    const ok = await decideAssociation(request({ userIdentity: identity }), {
      ...policy,
      verifyUserIdentity,
    });
    expect(seen).toEqual(['alice']);
    expect(ok.accepted && ok.ac.userInformation.userIdentity).toEqual({
      serverResponse: new Uint8Array(0),
    });
    const quiet = await decideAssociation(
      request({ userIdentity: { ...identity, positiveResponseRequested: false } }),
      { ...policy, verifyUserIdentity },
    );
    expect(quiet.accepted && quiet.ac.userInformation.userIdentity).toBeUndefined();
    const bad = await decideAssociation(
      request({ userIdentity: { ...identity, secondaryField: new Uint8Array([0x78]) } }),
      { ...policy, verifyUserIdentity },
    );
    // PS3.7 Annex D.3.3.7: rejected-permanent, service-provider (ACSE related), no-reason-given.
    expect(!bad.accepted && bad.rejection).toMatchObject({ result: 1, source: 2, reason: 1 });
    const missing = await decideAssociation(request(), { ...policy, requireUserIdentity: true });
    expect(missing.accepted).toBe(false);
  });

  it('answers the async operations window with the smaller values, 0 meaning unlimited', async () => {
    const d = await decideAssociation(
      request({ asyncOperationsWindow: { maxInvoked: 0, maxPerformed: 8 } }),
      { ...policy, asyncOperationsWindow: { maxInvoked: 16, maxPerformed: 0 } },
    );
    expect(d.accepted && d.ac.userInformation.asyncOperationsWindow).toEqual({
      maxInvoked: 16,
      maxPerformed: 8,
    });
    const none = await decideAssociation(request(), policy);
    expect(none.accepted && none.ac.userInformation.asyncOperationsWindow).toBeUndefined();
    expect(none.accepted && none.negotiation.asyncOperationsWindow).toEqual({
      maxInvoked: 1,
      maxPerformed: 1,
    });
  });
});

describe('readNegotiation', () => {
  it('reads the AC into accepted and rejected contexts with both PDU lengths', () => {
    const rq = request({ maxPduLength: 32768 });
    const ac: AAssociateAc = {
      type: 2,
      protocolVersion: 1,
      calledAeTitle: 'SCP',
      callingAeTitle: 'SCU',
      applicationContextName: rq.applicationContextName,
      presentationContexts: [
        { id: 1, result: 0, transferSyntax: IMPLICIT },
        { id: 3, result: 1, transferSyntax: '' },
        { id: 5, result: 0, transferSyntax: '1.2.840.10008.1.2.4.70' }, // not proposed
      ],
      userInformation: {
        maxLength: 16384,
        implementationClassUid: '1.2.3',
        implementationVersionName: 'PEER',
        roleSelections: [],
        extendedNegotiations: [],
        commonExtendedNegotiations: [],
        unknownItems: [],
      },
    };
    const n = readNegotiation(rq, ac);
    expect(n.contexts.map((c) => [c.id, c.accepted, c.result, c.transferSyntax])).toEqual([
      [1, true, 0, IMPLICIT],
      [3, false, 1, ''],
      [5, false, 2, ''], // accepted with a transfer syntax never proposed: not usable
    ]);
    expect([n.requestorMaxPduLength, n.acceptorMaxPduLength]).toEqual([32768, 16384]);
    expect(n.acceptorImplementation).toEqual({ classUid: '1.2.3', versionName: 'PEER' });
    expect(n.contexts[0]).toMatchObject({ requestorScu: true, requestorScp: false });
  });
});
