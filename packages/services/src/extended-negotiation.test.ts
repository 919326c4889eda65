import { buildAssociateRq, decideAssociation } from '@dnet/association';
import { DataSet } from '@dnet/dataset';
import {
  type AAssociateAc,
  type AAssociateRq,
  encodePdu,
  type Pdu,
  PduDecoder,
  PduType,
  PresentationContextResult,
} from '@dnet/pdu';
import { type Connection, memory } from '@dnet/transport';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, storage } from './contexts.js';
import { NoPresentationContextError } from './errors.js';
import {
  answerExtendedNegotiation,
  decodeQueryExtendedNegotiation,
  decodeRetrieveExtendedNegotiation,
  encodeQueryExtendedNegotiation,
  encodeRetrieveExtendedNegotiation,
  type QueryExtendedNegotiation,
  type RetrieveExtendedNegotiation,
  STORAGE_SERVICE_CLASS_UID,
} from './extended-negotiation.js';
import { type FindRequest, type RetrieveRequest, Server } from './server.js';
import { SopClass } from './sop-class.js';

const FIND = SopClass.STUDY_ROOT_FIND;
const MOVE = SopClass.STUDY_ROOT_MOVE;
const GET = SopClass.STUDY_ROOT_GET;
const CT = SopClass.CT_IMAGE_STORAGE;
/** A Storage SOP class no dnet table knows, standing for one newer than dnet's dictionary. */
const SPECIALIZED = '1.2.826.0.1.3680043.9.7433.1.1';
const UNRELATED = '1.2.826.0.1.3680043.9.7433.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const ascii = (s: string) => [...new TextEncoder().encode(s)];

/** The bytes of a 56H sub-item (PS3.7 Annex D.3.3.5, Tables D.3-10 and D.3-11). */
function subItem56(sopClassUid: string, info: number[]): number[] {
  const uid = ascii(sopClassUid);
  const length = 2 + uid.length + info.length;
  return [0x56, 0, length >> 8, length & 0xff, uid.length >> 8, uid.length & 0xff, ...uid, ...info];
}

function includes(haystack: Uint8Array, needle: readonly number[]): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

/** Reads one PDU off a raw connection: the PDU and its bytes. */
async function readPdu(
  iterator: AsyncIterator<Uint8Array>,
): Promise<{ pdu: Pdu; bytes: Uint8Array }> {
  const decoder = new PduDecoder();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    const next = await iterator.next();
    if (next.done) break;
    parts.push(next.value.slice());
    const [pdu] = decoder.push(next.value);
    if (pdu) return { pdu, bytes: new Uint8Array(Buffer.concat(parts)) };
  }
  throw new Error('no PDU');
}

const all = (o: object) => Object.values(o).every(Boolean);
const none = (o: object) => !Object.values(o).some(Boolean);

describe('Service-class-application-information of Query/Retrieve (PS3.4 §C.5)', () => {
  it('encodes a proposal with as many bytes as its last option needs', () => {
    expect([...encodeQueryExtendedNegotiation({ relationalQueries: true })]).toEqual([1]);
    expect([...encodeQueryExtendedNegotiation({})]).toEqual([0]);
    expect([
      ...encodeQueryExtendedNegotiation({
        relationalQueries: true,
        fuzzySemanticMatchingOfPersonNames: true,
      }),
    ]).toEqual([1, 0, 1]);
    expect([...encodeQueryExtendedNegotiation({ multipleValueMatching: true })]).toEqual([
      0, 0, 0, 0, 0, 0, 1,
    ]);
    expect([
      ...encodeRetrieveExtendedNegotiation({ enhancedMultiFrameImageConversion: true }),
    ]).toEqual([0, 1]);
  });

  it('decodes each byte in the standard order; missing bytes are 0, only 1 means yes', () => {
    expect(decodeQueryExtendedNegotiation(Uint8Array.of(1, 1, 1, 1, 1, 1, 1))).toSatisfy(all);
    expect(decodeQueryExtendedNegotiation(Uint8Array.of(0, 1, 0, 1, 0, 1, 0))).toEqual({
      relationalQueries: false,
      dateTimeMatching: true,
      fuzzySemanticMatchingOfPersonNames: false,
      timezoneQueryAdjustment: true,
      enhancedMultiFrameImageConversion: false,
      emptyValueMatching: true,
      multipleValueMatching: false,
    } satisfies QueryExtendedNegotiation);
    expect(decodeQueryExtendedNegotiation(Uint8Array.of(2))).toSatisfy(none);
    expect(decodeQueryExtendedNegotiation(undefined)).toSatisfy(none);
    expect(decodeRetrieveExtendedNegotiation(Uint8Array.of(1))).toEqual({
      relationalRetrieval: true,
      enhancedMultiFrameImageConversion: false,
    } satisfies RetrieveExtendedNegotiation);
  });

  it('the acceptor answers as many bytes as offered, 1 only where proposed and supported', () => {
    const answer = answerExtendedNegotiation({
      query: { relationalQueries: true, dateTimeMatching: false },
      retrieve: { relationalRetrieval: true },
    });
    const item = (sopClassUid: string, ...bytes: number[]) => ({
      sopClassUid,
      serviceClassApplicationInformation: Uint8Array.from(bytes),
    });
    expect([...answer(item(FIND, 1))!]).toEqual([1]);
    expect([...answer(item(FIND, 1, 1, 1, 0, 1, 1, 1))!]).toEqual([1, 0, 0, 0, 0, 0, 0]);
    expect([...answer(item(FIND, 0))!]).toEqual([0]);
    expect([...answer(item(SopClass.PATIENT_ROOT_FIND, 1, 1))!]).toEqual([1, 0]);
    // Bytes past the ones the standard defines are turned down.
    expect([...answer(item(FIND, 1, 0, 0, 0, 0, 0, 0, 1))!]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect([...answer(item(MOVE, 1, 1))!]).toEqual([1, 0]);
    expect([...answer(item(GET, 1))!]).toEqual([1]);
    // Other SOP classes (their own layouts, PS3.4 §B.3.1, §K.5) and empty items: no answer.
    expect(answer(item(SopClass.MODALITY_WORKLIST_FIND, 1))).toBeUndefined();
    expect(answer(item(CT, 2))).toBeUndefined();
    expect(answer(item(FIND))).toBeUndefined();
    expect(answerExtendedNegotiation({ query: {} })(item(MOVE, 1))).toBeUndefined();
  });
});

describe('SOP Class (Common) Extended Negotiation on the wire (PS3.7 Annex D.3.3.5, D.3.3.6)', () => {
  it('Client proposes 56H and 57H sub-items and reads the acceptor answer (requestor)', async () => {
    const transport = memory();
    let rq: AAssociateRq | undefined;
    let rqBytes: Uint8Array = new Uint8Array(0);
    let peer: Connection | undefined;
    const listener = await transport.listen({ port: 0 }, async (connection) => {
      peer = connection;
      const iterator = connection[Symbol.asyncIterator]();
      const { pdu, bytes } = await readPdu(iterator);
      rq = pdu as AAssociateRq;
      rqBytes = bytes;
      // An acceptor that turns relational-retrieval down, accepts relational-queries.
      const decision = await decideAssociation(rq, {
        contexts: [{ abstractSyntax: '*', transferSyntaxes: ['*'] }],
        extendedNegotiation: (item) => Uint8Array.of(item.sopClassUid === FIND ? 1 : 0),
      });
      if (decision.accepted) connection.write(encodePdu(decision.ac));
      // Read on until the client aborts (the read then ends or fails).
      for (let i = 0; i < 100; i++)
        if ((await iterator.next().catch(() => ({ done: true }))).done) break;
    });
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: listener.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [
        queryRetrieve('study', { operations: ['find', 'move', 'get'], relational: true }),
        storage(SPECIALIZED, [EXPLICIT], { relatedGeneralSopClassUids: [CT] }),
        storage(CT, [EXPLICIT]),
      ],
    });
    try {
      expect(rq?.userInformation.extendedNegotiations).toEqual([
        { sopClassUid: FIND, serviceClassApplicationInformation: Uint8Array.of(1) },
        { sopClassUid: MOVE, serviceClassApplicationInformation: Uint8Array.of(1) },
        { sopClassUid: GET, serviceClassApplicationInformation: Uint8Array.of(1) },
      ]);
      expect(rq?.userInformation.commonExtendedNegotiations).toEqual([
        {
          sopClassUid: SPECIALIZED,
          serviceClassUid: STORAGE_SERVICE_CLASS_UID,
          relatedGeneralSopClassUids: [CT],
        },
      ]);
      expect(includes(rqBytes, subItem56(FIND, [1]))).toBe(true);
      // PS3.7 Table D.3-12: 57H, lengths, SOP class, service class, related general classes.
      const sop = ascii(SPECIALIZED);
      const service = ascii(STORAGE_SERVICE_CLASS_UID);
      const general = ascii(CT);
      const related = [0, general.length, ...general];
      const body = [0, sop.length, ...sop, 0, service.length, ...service, 0, related.length];
      const length = body.length + related.length;
      expect(includes(rqBytes, [0x57, 0, 0, length, ...body, ...related])).toBe(true);

      expect(client.queryExtendedNegotiation()).toMatchObject({ relationalQueries: true });
      expect(client.queryExtendedNegotiation()).toSatisfy(
        (o: QueryExtendedNegotiation) => Object.values(o).filter(Boolean).length === 1,
      );
      expect(client.retrieveExtendedNegotiation('move')).toSatisfy(none);
      expect(client.retrieveExtendedNegotiation('get')).toSatisfy(none);
      expect(client.queryExtendedNegotiation({ model: 'patient' })).toSatisfy(none);
    } finally {
      client.abort();
      peer?.closed.catch(() => {});
      peer?.abort();
      await listener.close();
    }
  });

  it('Server answers 56H only for what it supports, sends no 57H, accepts via the related general class (acceptor)', async () => {
    const transport = memory();
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: { find: () => [], move: () => [], store: () => 0 },
      extendedNegotiation: { query: { relationalQueries: true } },
    });
    const connection = await transport.connect({ host: '127.0.0.1', port: server.port });
    try {
      const rq = buildAssociateRq({
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [
          { abstractSyntax: FIND, transferSyntaxes: [EXPLICIT] },
          { abstractSyntax: MOVE, transferSyntaxes: [EXPLICIT] },
          { abstractSyntax: SPECIALIZED, transferSyntaxes: [EXPLICIT] },
          { abstractSyntax: UNRELATED, transferSyntaxes: [EXPLICIT] },
        ],
        extendedNegotiations: [
          { sopClassUid: FIND, serviceClassApplicationInformation: Uint8Array.of(1, 1, 1) },
          { sopClassUid: MOVE, serviceClassApplicationInformation: Uint8Array.of(1) },
        ],
        commonExtendedNegotiations: [
          {
            sopClassUid: SPECIALIZED,
            serviceClassUid: STORAGE_SERVICE_CLASS_UID,
            relatedGeneralSopClassUids: [CT],
          },
          {
            sopClassUid: UNRELATED,
            serviceClassUid: STORAGE_SERVICE_CLASS_UID,
            relatedGeneralSopClassUids: [],
          },
        ],
      });
      connection.write(encodePdu(rq));
      const { pdu, bytes } = await readPdu(connection[Symbol.asyncIterator]());
      expect(pdu.type).toBe(PduType.A_ASSOCIATE_AC);
      const ac = pdu as AAssociateAc;
      // Relational-queries accepted, date-time and fuzzy matching turned down; no
      // answer for the MOVE class, whose options this server did not declare.
      expect(ac.userInformation.extendedNegotiations).toEqual([
        { sopClassUid: FIND, serviceClassApplicationInformation: Uint8Array.of(1, 0, 0) },
      ]);
      expect(includes(bytes, subItem56(FIND, [1, 0, 0]))).toBe(true);
      expect(ac.userInformation.commonExtendedNegotiations).toEqual([]);
      expect(ac.presentationContexts.map((c) => c.result)).toEqual([
        PresentationContextResult.ACCEPTANCE,
        PresentationContextResult.ACCEPTANCE,
        PresentationContextResult.ACCEPTANCE,
        PresentationContextResult.ABSTRACT_SYNTAX_NOT_SUPPORTED,
      ]);
    } finally {
      connection.closed.catch(() => {});
      connection.abort();
      await server.close();
    }
  });
});

describe('Extended negotiation end to end (Client and Server)', () => {
  async function serve(supported?: Parameters<typeof Server.listen>[0]['extendedNegotiation']) {
    const transport = memory();
    const seen: { find: FindRequest[]; move: RetrieveRequest[]; stored: string[] } = {
      find: [],
      move: [],
      stored: [],
    };
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: {
        find: (request) => {
          seen.find.push(request);
          return [];
        },
        get: (request) => {
          seen.move.push(request);
          return [];
        },
        store: async (instance) => {
          for await (const _ of instance.dataSet);
          seen.stored.push(instance.sopClassUid);
          return 0;
        },
      },
      ...(supported && { extendedNegotiation: supported }),
    });
    const connect = (contexts: Parameters<typeof Client.connect>[0]['contexts']) =>
      Client.connect({
        transport,
        host: '127.0.0.1',
        port: server.port,
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts,
      });
    return { server, seen, connect };
  }

  it('handlers see what was agreed for their SOP class', async () => {
    const { server, seen, connect } = await serve({
      query: { relationalQueries: true },
      retrieve: { relationalRetrieval: true },
    });
    const relational = await connect([
      queryRetrieve('study', { operations: ['find', 'get'], relational: true }),
    ]);
    const baseline = await connect([queryRetrieve('study', { operations: ['find', 'get'] })]);
    try {
      for await (const _ of relational.find({}, { level: 'STUDY' }));
      await relational.get({}, { level: 'STUDY', sink: () => 0 });
      for await (const _ of baseline.find({}, { level: 'STUDY' }));
      await baseline.get({}, { level: 'STUDY', sink: () => 0 });
      expect(seen.find.map((r) => r.extendedNegotiation.relationalQueries)).toEqual([true, false]);
      expect(seen.move.map((r) => r.extendedNegotiation.relationalRetrieval)).toEqual([
        true,
        false,
      ]);
      expect(relational.retrieveExtendedNegotiation('get').relationalRetrieval).toBe(true);
    } finally {
      await relational.release();
      await baseline.release();
      await server.close();
    }
  });

  it('a server that declares nothing answers no 56H: nothing is agreed', async () => {
    const { server, seen, connect } = await serve();
    const client = await connect([
      queryRetrieve('study', { operations: ['find'], relational: true }),
    ]);
    try {
      for await (const _ of client.find({}, { level: 'STUDY' }));
      expect(client.association.negotiation?.extendedNegotiations).toEqual([]);
      expect(client.queryExtendedNegotiation()).toSatisfy(none);
      expect(seen.find[0]?.extendedNegotiation).toSatisfy(none);
    } finally {
      await client.release();
      await server.close();
    }
  });

  it('a newer Storage SOP class is stored through its related general class (PS3.4 §B.3.1.4)', async () => {
    const { server, seen, connect } = await serve();
    const instance = new DataSet();
    instance.setString('SOPClassUID', SPECIALIZED, 'UI');
    instance.setString('SOPInstanceUID', '1.2.826.0.1.3680043.9.7433.2.1', 'UI');
    const related = await connect([
      storage(SPECIALIZED, [EXPLICIT], { relatedGeneralSopClassUids: [CT] }),
    ]);
    const plain = await connect([storage([SPECIALIZED, CT], [EXPLICIT])]);
    try {
      expect(await related.store(instance)).toMatchObject({ status: 0, sopClassUid: SPECIALIZED });
      expect(seen.stored).toEqual([SPECIALIZED]);
      // Without the 57H sub-item the SCP does not know the class.
      await expect(plain.store(instance)).rejects.toBeInstanceOf(NoPresentationContextError);
    } finally {
      await related.release();
      await plain.release();
      await server.close();
    }
  });
});
