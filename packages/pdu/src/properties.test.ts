// fast-check properties: every valid PDU round-trips through encodePdu,
// decodePdu and a PduDecoder fed random chunks; random and mutated bytes
// never raise anything but our typed PduError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AAssociateAc, PresentationContextAc } from './a-associate-ac.js';
import type { AAssociateRq, PresentationContextRq } from './a-associate-rq.js';
import { decodePdu } from './decode-pdu.js';
import { encodePDataTf, encodePdu } from './encode-pdu.js';
import { isPduError } from './errors.js';
import { ItemType } from './item-type.js';
import type { Pdu } from './pdu.js';
import { PduDecoder } from './pdu-decoder.js';
import { PduType } from './pdu-type.js';
import type {
  UnknownItem,
  UserIdentityAc,
  UserIdentityRq,
  UserInformation,
} from './user-information.js';

const known = new Set<number>(Object.values(ItemType));

const component = fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,8}$/));
/** UIDs we may send (PS3.5 §9.1). */
const uid = fc
  .array(component, { minLength: 1, maxLength: 10 })
  .map((parts) => parts.join('.'))
  .filter((s) => s.length <= 64);

const aeChar = fc.integer({ min: 0x20, max: 0x7e }).filter((c) => c !== 0x5c);
/** AE titles as decoded: 1-16 characters, no leading or trailing space (PS3.5 §6.2). */
const aeTitle = fc
  .array(aeChar, { minLength: 1, maxLength: 16 })
  .map((cs) => String.fromCharCode(...cs).trim())
  .filter((s) => s.length > 0);

const contextId = fc.integer({ min: 0, max: 127 }).map((n) => 2 * n + 1);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const unknownItems = fc.array(
  fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((t) => !known.has(t)),
    data: bytes(20),
  }) as fc.Arbitrary<UnknownItem>,
  { minLength: 1, maxLength: 2 },
);

function userInformation<I>(identity: fc.Arbitrary<I>): fc.Arbitrary<UserInformation<I>> {
  return fc.record(
    {
      maxLength: fc.nat({ max: 0xffffffff }),
      implementationClassUid: uid,
      implementationVersionName: fc
        .array(aeChar, { minLength: 1, maxLength: 16 })
        .map((cs) => String.fromCharCode(...cs)),
      asyncOperationsWindow: fc.record({
        maxInvoked: fc.nat({ max: 0xffff }),
        maxPerformed: fc.nat({ max: 0xffff }),
      }),
      roleSelections: fc.array(
        fc.record({ sopClassUid: uid, scuRole: fc.boolean(), scpRole: fc.boolean() }),
        {
          maxLength: 3,
        },
      ),
      extendedNegotiations: fc.array(
        fc.record({ sopClassUid: uid, serviceClassApplicationInformation: bytes(8) }),
        {
          maxLength: 2,
        },
      ),
      commonExtendedNegotiations: fc.array(
        fc.record({
          sopClassUid: uid,
          serviceClassUid: uid,
          relatedGeneralSopClassUids: fc.array(uid, { maxLength: 3 }),
        }),
        { maxLength: 2 },
      ),
      userIdentity: identity,
      unknownItems: fc.array(
        fc.record({
          type: fc.integer({ min: 0, max: 255 }).filter((t) => !known.has(t)),
          data: bytes(20),
        }),
        { maxLength: 2 },
      ),
    },
    {
      requiredKeys: [
        'maxLength',
        'implementationClassUid',
        'roleSelections',
        'extendedNegotiations',
        'commonExtendedNegotiations',
        'unknownItems',
      ],
    },
  ) as fc.Arbitrary<UserInformation<I>>;
}

const identityRq: fc.Arbitrary<UserIdentityRq> = fc.record({
  type: fc.integer({ min: 1, max: 5 }),
  positiveResponseRequested: fc.boolean(),
  primaryField: bytes(40),
  secondaryField: bytes(20),
});
const identityAc: fc.Arbitrary<UserIdentityAc> = fc.record({ serverResponse: bytes(40) });

const contextRq = fc.record(
  {
    id: contextId,
    abstractSyntax: uid,
    transferSyntaxes: fc.array(uid, { minLength: 1, maxLength: 3 }),
    unknownItems,
  },
  { requiredKeys: ['id', 'abstractSyntax', 'transferSyntaxes'] },
) as fc.Arbitrary<PresentationContextRq>;

const contextAc = fc
  .record(
    { id: contextId, result: fc.integer({ min: 0, max: 4 }), transferSyntax: uid, unknownItems },
    { requiredKeys: ['id', 'result', 'transferSyntax'] },
  )
  .chain((pc) =>
    pc.result === 0 ? fc.constant(pc) : fc.constantFrom(pc, { ...pc, transferSyntax: '' }),
  ) as fc.Arbitrary<PresentationContextAc>;

const common = {
  protocolVersion: fc.nat({ max: 0xffff }),
  calledAeTitle: aeTitle,
  callingAeTitle: aeTitle,
  applicationContextName: uid,
  unknownItems,
};
const optional = {
  requiredKeys: [
    'type',
    'protocolVersion',
    'calledAeTitle',
    'callingAeTitle',
    'applicationContextName',
    'presentationContexts',
    'userInformation',
  ] as const,
};

const associateRq = fc.record(
  {
    type: fc.constant(PduType.A_ASSOCIATE_RQ),
    ...common,
    presentationContexts: fc.array(contextRq, { minLength: 1, maxLength: 4 }),
    userInformation: userInformation(identityRq),
  },
  { requiredKeys: [...optional.requiredKeys] },
) as fc.Arbitrary<AAssociateRq>;

const associateAc = fc.record(
  {
    type: fc.constant(PduType.A_ASSOCIATE_AC),
    ...common,
    presentationContexts: fc.array(contextAc, { minLength: 1, maxLength: 4 }),
    userInformation: userInformation(identityAc),
  },
  { requiredKeys: [...optional.requiredKeys] },
) as fc.Arbitrary<AAssociateAc>;

const byte = fc.integer({ min: 0, max: 255 });
const anyPdu: fc.Arbitrary<Pdu> = fc.oneof(
  associateRq,
  associateAc,
  fc.record({
    type: fc.constant(PduType.A_ASSOCIATE_RJ),
    result: byte,
    source: byte,
    reason: byte,
  }),
  fc.record({
    type: fc.constant(PduType.P_DATA_TF),
    pdvs: fc.array(
      fc.record({ contextId, command: fc.boolean(), last: fc.boolean(), data: bytes(64) }),
      { minLength: 1, maxLength: 4 },
    ),
  }),
  fc.constant({ type: PduType.A_RELEASE_RQ }),
  fc.constant({ type: PduType.A_RELEASE_RP }),
  fc.record({ type: fc.constant(PduType.A_ABORT), source: byte, reason: byte }),
);

/** Feeds `stream` to a decoder cut at `cuts`, returns every PDU. */
function feed(decoder: PduDecoder, stream: Uint8Array, cuts: number[]): Pdu[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Pdu[] = [];
  let start = 0;
  for (const p of [...points, stream.length]) {
    out.push(...decoder.push(stream.subarray(start, p)));
    start = p;
  }
  return out;
}

/** Runs `fn`; any error must be a PduError naming its field and byte offset. */
function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isPduError(e)) throw e;
    if (!e.field || typeof e.offset !== 'number' || e.offset < 0) {
      throw new Error(`${e.code} without field or offset: ${e.message}`);
    }
  }
}

describe('properties', () => {
  it('any valid PDU round-trips through encodePdu and decodePdu', () => {
    fc.assert(
      fc.property(anyPdu, (pdu) => {
        expect(decodePdu(encodePdu(pdu))).toEqual(pdu);
      }),
      { numRuns: 400 },
    );
  });

  it('a P-DATA-TF gathered by encodePDataTf is the bytes of encodePdu', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ contextId, command: fc.boolean(), last: fc.boolean(), data: bytes(64) }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        (pdvs) => {
          const parts = encodePDataTf(pdvs);
          expect(Buffer.concat(parts)).toEqual(
            Buffer.from(encodePdu({ type: PduType.P_DATA_TF, pdvs })),
          );
        },
      ),
    );
  });

  it('a stream of valid PDUs cut anywhere decodes to the same PDUs', () => {
    fc.assert(
      fc.property(
        fc.array(anyPdu, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pdus, cuts) => {
          const stream = Buffer.concat(pdus.map(encodePdu));
          const decoder = new PduDecoder();
          expect(feed(decoder, stream, cuts)).toEqual(pdus);
          expect(decoder.pending).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('random bytes raise nothing but PduError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (data, cuts) => {
          onlyTypedErrors(() => decodePdu(data));
          onlyTypedErrors(() =>
            feed(new PduDecoder({ maxPduLength: 4096, maxAssociationPduLength: 4096 }), data, cuts),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('valid PDUs with bytes changed raise nothing but PduError', () => {
    fc.assert(
      fc.property(
        anyPdu,
        fc.array(fc.tuple(fc.nat(), byte), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (pdu, changes, cuts) => {
          const data = encodePdu(pdu);
          for (const [at, value] of changes) data[at % data.length] = value;
          onlyTypedErrors(() => decodePdu(data));
          onlyTypedErrors(() => feed(new PduDecoder(), data, cuts));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
