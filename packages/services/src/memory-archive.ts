import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';
import {
  concatChunks,
  type DataSet,
  decodeDataSet,
  encodeDataSet,
  PIXEL_DATA_TAG,
} from '@dnet/dataset';
import { identifierJson, levelOf, QUERY_RETRIEVE_LEVEL } from './identifier.js';
import { type MatchOptions, matches, responseIdentifier } from './query/matching.js';
import type { ReceivedInstance } from './received-instance.js';
import type { FindRequest, RetrieveRequest, ServerHandlers } from './server-types.js';
import { resolveSource, type StoreInstance, type StoreSource } from './store-source.js';

/** One instance held by a {@link MemoryArchive}. */
export interface ArchivedInstance extends StoreInstance {
  /** The data set bytes as received (bit-preserving). */
  dataSet: Uint8Array;
  /** Its attributes as DICOM JSON, Pixel Data left out: what queries match on. */
  json: DicomJsonDataSet;
}

/** Unique keys of each Query/Retrieve level (PS3.4 §C.6.1.1, §C.6.2.1). */
const LEVEL_KEYS: Record<string, readonly string[]> = {
  PATIENT: ['00100020'],
  STUDY: ['00100020', '0020000D'],
  SERIES: ['00100020', '0020000D', '0020000E'],
  IMAGE: ['00100020', '0020000D', '0020000E', '00080018'],
};

/** Attributes computed per entity (PS3.4 §C.3.4, Table C.3-5... "additional" keys). */
const Computed = {
  /** (0020,1200) Number of Patient Related Studies */
  PATIENT_STUDIES: '00201200',
  /** (0020,1202) Number of Patient Related Series */
  PATIENT_SERIES: '00201202',
  /** (0020,1204) Number of Patient Related Instances */
  PATIENT_INSTANCES: '00201204',
  /** (0020,1206) Number of Study Related Series */
  STUDY_SERIES: '00201206',
  /** (0020,1208) Number of Study Related Instances */
  STUDY_INSTANCES: '00201208',
  /** (0020,1209) Number of Series Related Instances */
  SERIES_INSTANCES: '00201209',
  /** (0008,0061) Modalities in Study */
  MODALITIES_IN_STUDY: '00080061',
} as const;

function first(json: DicomJsonDataSet, tag: string): string {
  const v = json[tag]?.Value?.[0];
  return typeof v === 'string' ? v : '';
}

/**
 * A small Query/Retrieve archive held in memory, for tests and examples:
 * stores what it receives (bytes unchanged), answers C-FIND at the PATIENT,
 * STUDY, SERIES and IMAGE levels with PS3.4 §C.2.2.2 matching, and returns
 * the matching instances for C-MOVE and C-GET. Not for production data.
 *
 * @example
 * ```ts
 * const archive = new MemoryArchive();
 * const server = await Server.listen({ transport, port: 0, aeTitle: 'ARCHIVE',
 *   handlers: archive.handlers(), aeTable: { DEST: { host: '127.0.0.1', port: 11113 } } });
 * ```
 */
export class MemoryArchive {
  /** Instances by SOP Instance UID. */
  readonly instances = new Map<string, ArchivedInstance>();
  readonly #match: MatchOptions;

  /** @param options - matching options */
  constructor(options: MatchOptions = {}) {
    this.#match = options;
  }

  /** Adds an instance from any store source (file path, stream, DataSet, StoreInstance). */
  async add(source: StoreSource): Promise<ArchivedInstance> {
    const r = await resolveSource(source);
    const chunks: Uint8Array[] = [];
    if (r.dataSet) {
      const ts = '1.2.840.10008.1.2.1';
      return this.#put(r.sopClassUid, r.sopInstanceUid, ts, encodeDataSet(r.dataSet, ts));
    }
    for await (const c of r.open() as AsyncIterable<Uint8Array>) chunks.push(c);
    return this.#put(r.sopClassUid, r.sopInstanceUid, r.transferSyntaxUid!, concatChunks(chunks));
  }

  /** A store handler: reads the stream to its end, then keeps the instance. */
  async store(instance: ReceivedInstance): Promise<number> {
    const chunks: Uint8Array[] = [];
    for await (const c of instance.dataSet) chunks.push(c.slice());
    this.#put(
      instance.sopClassUid,
      instance.sopInstanceUid,
      instance.transferSyntaxUid,
      concatChunks(chunks),
    );
    return 0;
  }

  #put(sopClassUid: string, sopInstanceUid: string, ts: string, bytes: Uint8Array) {
    let json: DicomJsonDataSet = {};
    try {
      const ds: DataSet = decodeDataSet(bytes, ts);
      ds.delete(PIXEL_DATA_TAG);
      json = identifierJson(ds);
    } catch {
      // an undecodable (e.g. compressed syntax we cannot parse) instance is kept, unmatched
    }
    const instance: ArchivedInstance = {
      sopClassUid,
      sopInstanceUid,
      transferSyntaxUid: ts,
      dataSet: bytes,
      json,
    };
    this.instances.set(sopInstanceUid, instance);
    return instance;
  }

  /**
   * The entities matching a C-FIND Identifier at its level (PS3.4 §C.4.1.3):
   * one response Identifier per patient, study, series or instance.
   */
  *find(identifier: DicomJsonDataSet): Generator<DicomJsonDataSet> {
    const level = levelOf(identifier) ?? 'STUDY';
    const keys = LEVEL_KEYS[level] ?? LEVEL_KEYS.STUDY!;
    const groups = new Map<string, ArchivedInstance[]>();
    for (const i of this.instances.values()) {
      const k = keys.map((t) => first(i.json, t)).join('\\');
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    }
    for (const members of groups.values()) {
      const entity = this.#entity(members, level);
      // Lower-level keys in the identifier are matched against any member (PS3.4 §C.4.1.3.1).
      if (!members.some((m) => matches(identifier, { ...m.json, ...entity }, this.#match))) {
        continue;
      }
      const response = responseIdentifier(identifier, entity);
      response[QUERY_RETRIEVE_LEVEL] = { vr: 'CS', Value: [level] };
      yield response;
    }
  }

  /** The instances matching a C-MOVE or C-GET Identifier (PS3.4 §C.4.2.2). */
  retrieve(identifier: DicomJsonDataSet): ArchivedInstance[] {
    const query: DicomJsonDataSet = {};
    for (const [tag, v] of Object.entries(identifier))
      if (tag !== QUERY_RETRIEVE_LEVEL) query[tag] = v;
    return [...this.instances.values()].filter((i) => matches(query, i.json, this.#match));
  }

  #entity(members: ArchivedInstance[], level: string): DicomJsonDataSet {
    const entity: DicomJsonDataSet = { ...members[0]!.json };
    const count = (tag: string) => new Set(members.map((m) => first(m.json, tag))).size;
    const us = (n: number): DicomJsonAttribute => ({ vr: 'IS', Value: [n] });
    if (level === 'PATIENT') {
      entity[Computed.PATIENT_STUDIES] = us(count('0020000D'));
      entity[Computed.PATIENT_SERIES] = us(count('0020000E'));
      entity[Computed.PATIENT_INSTANCES] = us(members.length);
    }
    if (level === 'STUDY') {
      entity[Computed.STUDY_SERIES] = us(count('0020000E'));
      entity[Computed.STUDY_INSTANCES] = us(members.length);
      const modalities = [
        ...new Set(members.map((m) => first(m.json, '00080060')).filter(Boolean)),
      ];
      entity[Computed.MODALITIES_IN_STUDY] = { vr: 'CS', Value: modalities };
    }
    if (level === 'SERIES') entity[Computed.SERIES_INSTANCES] = us(members.length);
    return entity;
  }

  /** Handlers for {@link Server.listen}: store, find, move and get over this archive. */
  handlers(): Required<Pick<ServerHandlers, 'store' | 'find' | 'move' | 'get'>> {
    return {
      store: (instance) => this.store(instance),
      find: (request: FindRequest) => this.find(request.identifier),
      move: (request: RetrieveRequest) => this.retrieve(request.identifier),
      get: (request: RetrieveRequest) => this.retrieve(request.identifier),
    };
  }
}
