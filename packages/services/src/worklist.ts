import type { DataSet, DicomJsonDataSet, KeywordDataSet } from '@dnet/dataset';
import type { ContextSpec } from './contexts.js';
import { asDicomJson } from './keywords.js';
import { matches, responseIdentifier } from './query/matching.js';
import type { RequestContext } from './request-context.js';
import type { FindRequest, ServerHandlers } from './server-types.js';
import { SopClass } from './sop-class.js';

/**
 * The Modality Worklist Information Model - FIND context (PS3.4 §K.6.1.2),
 * Explicit then Implicit VR Little Endian.
 */
export function worklist(): ContextSpec {
  return {
    abstractSyntax: SopClass.MODALITY_WORKLIST_FIND,
    transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
  };
}

/** A worklist item: by keyword (`{ PatientName: 'DOE^JOHN', ScheduledProcedureStepSequence: {...} }`) or DICOM JSON. */
export type WorklistItem = DicomJsonDataSet | KeywordDataSet;

/** Worklist items, or a function returning them for each query. */
export type WorklistSource =
  | Iterable<WorklistItem>
  | ((
      request: FindRequest,
      context: RequestContext,
    ) => Iterable<WorklistItem> | AsyncIterable<WorklistItem> | Promise<Iterable<WorklistItem>>);

/**
 * A `find` handler for a Basic Worklist Management SCP (PS3.4 Annex K): for
 * the Modality Worklist model it yields each item matching the query
 * (PS3.4 §C.2.2.2, sequence matching on the Scheduled Procedure Step
 * Sequence items, §K.6.1.2.2), reduced to the query's keys; other models go
 * to `otherwise`, or match nothing.
 *
 * @example
 * ```ts
 * const items = [{ PatientName: 'DOE^JOHN', PatientID: 'P1',
 *   ScheduledProcedureStepSequence: { Modality: 'CT', ScheduledStationAETitle: 'CT1' } }];
 * await Server.listen({ ..., handlers: { find: worklistFind(items) } });
 * ```
 */
export function worklistFind(
  source: WorklistSource,
  otherwise?: ServerHandlers['find'],
): NonNullable<ServerHandlers['find']> {
  return (request, context, signal) => {
    if (request.sopClassUid !== SopClass.MODALITY_WORKLIST_FIND) {
      return otherwise ? otherwise(request, context, signal) : [];
    }
    return (async function* () {
      const items = typeof source === 'function' ? await source(request, context) : source;
      const query = request.identifier;
      for await (const given of items as AsyncIterable<WorklistItem>) {
        if (signal.aborted) return;
        const item = asDicomJson(given as KeywordDataSet) as DicomJsonDataSet;
        if (matches(query, item))
          yield responseIdentifier(query, item) as DicomJsonDataSet | DataSet;
      }
    })();
  };
}
