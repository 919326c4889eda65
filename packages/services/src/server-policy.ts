/** The acceptance policy a server's handlers imply (PS3.8 §9.3.3.2). */
import type { AcceptorPolicy, SupportedContext } from '@dnet/association';
import { answerExtendedNegotiation } from './extended-negotiation.js';
import { nServiceContexts } from './n-services.js';
import type { ServerOptions } from './server-types.js';
import { QUERY_MODELS, SopClass, storageSopClasses } from './sop-class.js';
import { nServicesOfServer } from './storage-commitment.js';

const ANY_TS = ['*'];
const QUERY_TS = ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'];

/**
 * The acceptance policy derived from the handlers (PS3.8 §9.3.3.2), merged
 * with `options.policy`: Verification always, the storage classes for
 * `store` (SCU role) and `get` (SCP role, PS3.4 §C.4.3), the query models'
 * FIND/MOVE/GET classes, the N-services' classes.
 */
export function serverPolicy(
  options: Pick<
    ServerOptions,
    'handlers' | 'policy' | 'aeTitle' | 'storageTransferSyntaxes' | 'extendedNegotiation'
  >,
): AcceptorPolicy {
  const h = options.handlers;
  const contexts: SupportedContext[] = [
    { abstractSyntax: SopClass.VERIFICATION, transferSyntaxes: ANY_TS },
  ];
  if (h.store || h.get) {
    const ts = options.storageTransferSyntaxes ?? ANY_TS;
    for (const uid of storageSopClasses()) {
      contexts.push({
        abstractSyntax: uid,
        transferSyntaxes: ts,
        scuRole: !!h.store,
        scpRole: !!h.get,
      });
    }
  }
  for (const model of Object.values(QUERY_MODELS)) {
    if (h.find) contexts.push({ abstractSyntax: model.find, transferSyntaxes: QUERY_TS });
    if (h.move) contexts.push({ abstractSyntax: model.move, transferSyntaxes: QUERY_TS });
    if (h.get) contexts.push({ abstractSyntax: model.get, transferSyntaxes: QUERY_TS });
  }
  if (h.find) {
    contexts.push({
      abstractSyntax: SopClass.MODALITY_WORKLIST_FIND,
      transferSyntaxes: QUERY_TS,
    });
  }
  contexts.push(
    ...nServiceContexts(
      nServicesOfServer({ handlers: h, transport: undefined as never, aeTitle: options.aeTitle }),
    ),
  );
  return {
    contexts,
    calledAeTitles: [options.aeTitle],
    asyncOperationsWindow: { maxInvoked: 16, maxPerformed: 1 },
    // PS3.4 §B.3.1.4: a newer Storage SOP class is accepted as its related general class.
    relatedGeneralSopClasses: true,
    ...(options.extendedNegotiation && {
      extendedNegotiation: answerExtendedNegotiation(options.extendedNegotiation),
    }),
    ...options.policy,
  };
}
