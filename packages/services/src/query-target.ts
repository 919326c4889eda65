/** The SOP class and presentation context a query or retrieve goes to (PS3.4 Annex C.6). */
import type { Association, NegotiatedContext } from '@dnet/association';
import type { QueryTarget } from './client-types.js';
import { InvalidArgumentError, NoPresentationContextError } from './errors.js';
import { QUERY_MODELS } from './sop-class.js';

/** The accepted context of `sopClassUid` on which we are SCU; throws NoPresentationContextError. */
export function queryContextOf(association: Association, sopClassUid: string): NegotiatedContext {
  const c = association.info.contexts.find(
    (x) => x.accepted && x.abstractSyntax === sopClassUid && x.requestorScu,
  );
  if (!c) throw new NoPresentationContextError(sopClassUid);
  return c;
}

/** The SOP class of a query target: its own `sopClassUid`, else its model's for `op`. */
export function sopClassOf(target: QueryTarget, op: 'find' | 'move' | 'get'): string {
  if (target.sopClassUid) return target.sopClassUid;
  const model = QUERY_MODELS[target.model ?? 'study'];
  if (!model) throw new InvalidArgumentError(`unknown model ${target.model}`);
  return model[op];
}
