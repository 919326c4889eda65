import type { PduType } from './pdu-type.js';

/** One PDV item of a P-DATA-TF (PS3.8 §9.3.5.1, message control header of PS3.8 Annex E.2). */
export interface PresentationDataValue {
  /** Presentation-context-ID: an odd integer 1..255. */
  contextId: number;
  /** Message control header bit 0: a command fragment (else a data set fragment). */
  command: boolean;
  /** Message control header bit 1: the last fragment of its command or data set. */
  last: boolean;
  /** The fragment; a view into the received chunk when decoded. */
  data: Uint8Array;
}

/** P-DATA-TF PDU, PS3.8 §9.3.5 (Table 9-22): one or more PDV items. */
export interface PDataTf {
  /** PDU type P-DATA-TF (PS3.8 §9.3.1). */
  type: typeof PduType.P_DATA_TF;
  /** The presentation data values, at least one. */
  pdvs: PresentationDataValue[];
}
