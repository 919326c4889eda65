import type { Readable } from 'node:stream';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { readPart10Stream } from '@dnet/dataset';
import {
  type FindMatches,
  type FindRequest,
  type RequestContext,
  type RetrieveRequest,
  type RetrieveSources,
  SopClass,
  type StoreInstance,
  type SupportedExtendedNegotiation,
} from '@dnet/services';
import type { ArchiveIndex, RetrieveInstance } from './archive-index.js';
import { InvalidQueryError } from './errors.js';
import { failureFields } from './failure-fields.js';
import type { ArchiveLogger } from './logger.js';
import { isQueryLevel, QueryModel, Tag } from './query-model.js';
import type { ObjectStorage } from './storage.js';
import type { WorklistSource } from './worklist.js';

/** The information model of each Query/Retrieve SOP class this SCP serves (PS3.4 §C.6). */
const MODEL_OF: Readonly<Record<string, QueryModel>> = {
  [SopClass.PATIENT_ROOT_FIND]: QueryModel.PATIENT_ROOT,
  [SopClass.PATIENT_ROOT_MOVE]: QueryModel.PATIENT_ROOT,
  [SopClass.PATIENT_ROOT_GET]: QueryModel.PATIENT_ROOT,
  [SopClass.STUDY_ROOT_FIND]: QueryModel.STUDY_ROOT,
  [SopClass.STUDY_ROOT_MOVE]: QueryModel.STUDY_ROOT,
  [SopClass.STUDY_ROOT_GET]: QueryModel.STUDY_ROOT,
};

/**
 * The Query/Retrieve extended behaviours these handlers implement, for
 * `Server.listen({ extendedNegotiation })`: relational-queries and
 * relational-retrieval (PS3.4 §C.5.1.1, §C.5.2.1, §C.5.3.1). Date-time,
 * fuzzy person name, timezone, empty and multiple value matching and
 * Enhanced Multi-Frame Image Conversion are not, and are turned down.
 */
export const SUPPORTED_EXTENDED_NEGOTIATION: SupportedExtendedNegotiation = {
  query: { relationalQueries: true },
  retrieve: { relationalRetrieval: true },
};

/** Options of {@link createQueryHandlers}. */
export interface QueryHandlerOptions {
  /** The catalogue queried. */
  index: ArchiveIndex;
  /** Where the retrieved objects are read from. */
  storage: ObjectStorage;
  /** Modality Worklist items, if the worklist is served. */
  worklist?: WorklistSource;
  /** Our AE title: Retrieve AE Title (0008,0054) of every C-FIND response. */
  aeTitle: string;
  /** One JSON line per operation. */
  logger: ArchiveLogger;
}

function where(context: RequestContext) {
  return {
    peer: context.callingAeTitle,
    address: `${context.remoteAddress}:${context.remotePort}`,
  };
}

/** The model of a Query/Retrieve SOP class, and the request's level, checked (PS3.4 §C.4.1.2). */
function target(request: FindRequest | RetrieveRequest) {
  const model = MODEL_OF[request.sopClassUid];
  if (!model) {
    throw new InvalidQueryError(`SOP class ${request.sopClassUid} is not served here`);
  }
  const level = request.level;
  if (!isQueryLevel(level)) {
    throw new InvalidQueryError(
      `Query/Retrieve Level '${level ?? ''}' is not valid`,
      Tag.QueryRetrieveLevel,
    );
  }
  return { model, level };
}

async function* logged(
  source: AsyncIterable<DicomJsonDataSet>,
  logger: ArchiveLogger,
  fields: Record<string, unknown>,
  signal: AbortSignal,
): AsyncGenerator<DicomJsonDataSet> {
  const started = performance.now();
  let matches = 0;
  let status = 'success';
  try {
    for await (const m of source) {
      matches++;
      yield m;
    }
    if (signal.aborted) status = 'cancelled';
  } catch (error) {
    status = 'failed';
    Object.assign(fields, failureFields(error));
    throw error;
  } finally {
    logger.info(
      { ...fields, matches, durationMs: Math.round(performance.now() - started), status },
      fields.op as string,
    );
  }
}

/**
 * Streams a stored object's data set, past its Part 10 header, opening the
 * object only when the sub-operation starts (so a large retrieve holds one
 * open file at a time). A file that cannot be opened or read fails that
 * sub-operation alone (the peer counts it failed and gets its UID in the
 * Failed SOP Instance UID List, PS3.4 §C.4.2.1.3.1, §C.4.3.1.3.1) and
 * `onError` logs why: errno and path.
 */
async function* dataSetOf(
  storage: ObjectStorage,
  path: string,
  onError: (error: unknown) => void,
): AsyncGenerator<Uint8Array> {
  let stream: Readable | undefined;
  try {
    stream = await storage.open(path);
    const { dataSet } = await readPart10Stream(stream as AsyncIterable<Uint8Array>, {
      strict: false,
    });
    yield* dataSet;
  } catch (error) {
    onError(error);
    throw error;
  } finally {
    stream?.destroy();
  }
}

/**
 * The C-FIND, C-MOVE and C-GET handlers of the archive (PS3.4 Annex C, K):
 * Patient Root and Study Root queries over the index at every level
 * (relational when the SCU negotiated it, see {@link SUPPORTED_EXTENDED_NEGOTIATION}),
 * Modality Worklist queries over the worklist source, and retrieves of the
 * instances the index selects, each read from storage when its C-STORE
 * sub-operation starts.
 *
 * @example
 * ```ts
 * const { find, move, get } = createQueryHandlers({ index, storage, aeTitle: 'DNETSCP', logger });
 * ```
 */
export function createQueryHandlers(options: QueryHandlerOptions) {
  const { index, storage, worklist, aeTitle, logger } = options;

  const retrieve = async (
    op: 'C-MOVE' | 'C-GET',
    request: RetrieveRequest,
    context: RequestContext,
    signal: AbortSignal,
  ): Promise<RetrieveSources> => {
    const fields = {
      op,
      ...where(context),
      // `queryLevel`: pino's own `level` key is the log level.
      queryLevel: request.level,
      ...(request.destination && { destination: request.destination }),
    };
    let instances: RetrieveInstance[];
    try {
      const { model, level } = target(request);
      // Relational-retrieval only when negotiated (PS3.4 §C.4.2.2.2, §C.4.3.2.2).
      const relational = request.extendedNegotiation.relationalRetrieval;
      instances = await index.instances(level, request.identifier, { model, relational, signal });
    } catch (error) {
      logger.info({ ...fields, status: 'failed', ...failureFields(error) }, op);
      throw error;
    }
    logger.info({ ...fields, instances: instances.length, status: 'started' }, op);
    return instances.map(
      (i): StoreInstance => ({
        sopClassUid: i.sopClassUid,
        sopInstanceUid: i.sopInstanceUid,
        transferSyntaxUid: i.transferSyntaxUid,
        dataSet: () =>
          dataSetOf(storage, i.path, (error) =>
            logger.warn(
              {
                ...fields,
                sopInstanceUid: i.sopInstanceUid,
                // The stored path, unless the system error names the file itself.
                path: i.path,
                ...failureFields(error),
              },
              'sub-operation failed',
            ),
          ),
      }),
    );
  };

  return {
    /** C-FIND (PS3.4 §C.4.1, §K.4.1). */
    find(request: FindRequest, context: RequestContext, signal: AbortSignal): FindMatches {
      if (request.sopClassUid === SopClass.MODALITY_WORKLIST_FIND) {
        if (!worklist) throw new InvalidQueryError('no worklist is configured');
        return logged(
          worklist.find(request.identifier, { signal }),
          logger,
          { op: 'C-FIND', model: 'WORKLIST', ...where(context) },
          signal,
        );
      }
      const { model, level } = target(request);
      // Relational-queries only when negotiated (PS3.4 §C.4.1.2.2, §C.4.1.3.2).
      const relational = request.extendedNegotiation.relationalQueries;
      return logged(
        index.find(level, request.identifier, {
          model,
          relational,
          signal,
          retrieveAeTitle: aeTitle,
        }),
        logger,
        {
          op: 'C-FIND',
          model,
          queryLevel: level,
          ...(relational && { relational }),
          ...where(context),
        },
        signal,
      );
    },
    /** C-MOVE (PS3.4 §C.4.2): the server opens the association to the destination. */
    move: (request: RetrieveRequest, context: RequestContext, signal: AbortSignal) =>
      retrieve('C-MOVE', request, context, signal),
    /** C-GET (PS3.4 §C.4.3): sub-operations on the requestor's association. */
    get: (request: RetrieveRequest, context: RequestContext, signal: AbortSignal) =>
      retrieve('C-GET', request, context, signal),
  };
}
