import type { PresentationDataValue } from './p-data-tf.js';

/**
 * A PDV whose value arrived across several received chunks, as a
 * {@link PduDecoder} hands it out: its value is kept as views of those
 * chunks (see {@link pdvParts}), and `data` joins them (a copy) only when
 * first read. `data` is an own, enumerable property like that of any other
 * PDV (an accessor defined once per object with one shared descriptor, so
 * that objects share their shape); the views are a private field. @internal
 */
export class SpanningPdv implements PresentationDataValue {
  contextId: number;
  command: boolean;
  last: boolean;
  declare data: Uint8Array;
  #parts: readonly Uint8Array[] | undefined;
  #joined: Uint8Array | undefined;
  readonly #join: (parts: readonly Uint8Array[]) => Uint8Array;

  /**
   * @param join - joins the views when `data` is first read (counts the copy)
   */
  constructor(
    contextId: number,
    command: boolean,
    last: boolean,
    parts: readonly Uint8Array[],
    join: (parts: readonly Uint8Array[]) => Uint8Array,
  ) {
    this.contextId = contextId;
    this.command = command;
    this.last = last;
    this.#parts = parts;
    this.#join = join;
    Object.defineProperty(this, 'data', DATA);
  }

  /** The views, or undefined once `data` was replaced. */
  static parts(pdv: SpanningPdv): readonly Uint8Array[] | undefined {
    return pdv.#parts;
  }

  static getData(pdv: SpanningPdv): Uint8Array {
    pdv.#joined ??= pdv.#join(pdv.#parts!);
    return pdv.#joined;
  }

  static setData(pdv: SpanningPdv, value: Uint8Array): void {
    // Replaced by its user: the views no longer describe it.
    pdv.#joined = value;
    pdv.#parts = undefined;
  }
}

const DATA: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: SpanningPdv) {
    return SpanningPdv.getData(this);
  },
  set(this: SpanningPdv, value: Uint8Array) {
    SpanningPdv.setData(this, value);
  },
};

/**
 * The value of a PDV as a list of views, in order, without copying: for a PDV
 * that a {@link PduDecoder} decoded from several received chunks, one view of
 * each chunk it spans; for any other PDV, `[pdv.data]`. Concatenated, the
 * views are `pdv.data` (which, for a PDV spanning chunks, is joined — copied —
 * only when first read).
 *
 * A data set consumer that writes or parses fragments in order (a file write,
 * a streaming parser) takes these views and never pays for the join.
 *
 * @example
 * ```ts
 * for (const pdu of decoder.push(chunk)) {
 *   if (pdu.type !== PduType.P_DATA_TF) continue;
 *   for (const pdv of pdu.pdvs) for (const view of pdvParts(pdv)) sink.write(view);
 * }
 * ```
 */
export function pdvParts(pdv: PresentationDataValue): readonly Uint8Array[] {
  return (pdv instanceof SpanningPdv && SpanningPdv.parts(pdv)) || [pdv.data];
}
