import type { AAbort } from './a-abort.js';
import type { AAssociateAc } from './a-associate-ac.js';
import type { AAssociateRj } from './a-associate-rj.js';
import type { AAssociateRq } from './a-associate-rq.js';
import type { AReleaseRp, AReleaseRq } from './a-release.js';
import type { PDataTf } from './p-data-tf.js';

/** Any of the seven PDUs of PS3.8 §9.3, told apart by `type`. */
export type Pdu =
  | AAssociateRq
  | AAssociateAc
  | AAssociateRj
  | PDataTf
  | AReleaseRq
  | AReleaseRp
  | AAbort;
