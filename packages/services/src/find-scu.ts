/** C-FIND as SCU over an established association (PS3.4 §C.4.1, PS3.7 §9.1.2). */
import type { Association, IncomingResponse } from '@dnet/association';
import {
  type DataSet,
  type DicomJsonDataSet,
  type KeywordAttributes,
  toKeywords,
} from '@dnet/dataset';
import { CommandField, Priority } from '@dnet/dimse';
import type { FindOptions } from './client-types.js';
import {
  decodeIdentifier,
  encodeIdentifier,
  identifierJson,
  type Query,
  readIdentifierBytes,
} from './identifier.js';
import { finalStatusOrThrow } from './outbound.js';
import { queryContextOf, sopClassOf } from './query-target.js';

/**
 * C-FIND of `query` (see `Client.find`): yields each match as the consumer
 * takes it, one match of lookahead; leaving the loop early or aborting the
 * signal sends C-CANCEL-RQ (PS3.7 §9.3.2.3) and reads on to the final response.
 *
 * @throws OperationFailedError when the final status is a failure
 */
export async function* findOver(
  association: Association,
  query: Query,
  options: FindOptions,
): AsyncGenerator<DicomJsonDataSet | DataSet | KeywordAttributes> {
  const sopClassUid = sopClassOf(options, 'find');
  const context = queryContextOf(association, sopClassUid);
  const identifier = encodeIdentifier(query, context.transferSyntax, options.level);
  const cancel = new AbortController();
  if (options.signal?.aborted) return;
  // Each queued match carries the resolver of the promise onPending returned: it
  // resolves when the consumer takes the match (one match of lookahead when the
  // association awaits onPending), or when the match is dropped.
  const queue: { response: IncomingResponse; taken: () => void }[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  let final: IncomingResponse | undefined;
  let failure: unknown;
  const onAbort = () => {
    cancel.abort(options.signal?.reason);
    // Matches not yet taken are dropped so the association reads on to the final response.
    for (const e of queue.splice(0)) {
      e.response.dataSet?.discard();
      e.taken();
    }
    wake?.();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = association
    .cFind(
      {
        commandField: CommandField.C_FIND_RQ,
        affectedSopClassUid: sopClassUid,
        priority: options.priority ?? Priority.MEDIUM,
        hasDataSet: true,
      },
      identifier,
      {
        contextId: context.id,
        signal: cancel.signal,
        onPending: (r) => {
          if (cancel.signal.aborted) {
            r.dataSet?.discard();
            return;
          }
          const taken = new Promise<void>((resolve) => {
            queue.push({ response: r, taken: resolve });
          });
          wake?.();
          return taken;
        },
      },
    )
    .then(
      (r) => {
        final = r;
      },
      (e) => {
        failure = e;
      },
    )
    .finally(() => {
      settled = true;
      wake?.();
    });
  try {
    for (;;) {
      const entry = queue.shift();
      if (entry) {
        entry.taken();
        const r = entry.response;
        if (cancel.signal.aborted) {
          r.dataSet?.discard();
          continue;
        }
        if (!r.dataSet) continue;
        const ds = decodeIdentifier(await readIdentifierBytes(r.dataSet), context.transferSyntax);
        yield options.as === 'dataset'
          ? ds
          : options.as === 'keywords'
            ? toKeywords(ds)
            : identifierJson(ds);
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (failure) throw failure;
    if (final) finalStatusOrThrow('C-FIND', final);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (!settled) {
      cancel.abort();
      for (const e of queue.splice(0)) {
        e.response.dataSet?.discard();
        e.taken();
      }
      await done;
    }
  }
}
