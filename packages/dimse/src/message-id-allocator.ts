import { InvalidOptionError, MessageIdsExhaustedError } from './errors.js';

/** Options of {@link MessageIdAllocator}. */
export interface MessageIdAllocatorOptions {
  /** The first ID handed out (default 1). */
  first?: number;
  /**
   * At most this many IDs outstanding at once (default 65535, every value
   * but 0). The association layer usually caps far lower through the
   * negotiated asynchronous operations window (PS3.7 §D.3.3.3).
   */
  maxOutstanding?: number;
}

/**
 * Hands out Message IDs (0000,0110) for requests. IDs are 16-bit (US); 0 is
 * never used. The next ID follows the last one and wraps after FFFFH, and an
 * ID still outstanding is skipped: "no two identical values for the Message
 * ID shall be used for outstanding operations" (PS3.7 §9.1.1.1.1).
 */
export class MessageIdAllocator {
  readonly #outstanding = new Set<number>();
  readonly #max: number;
  #next: number;

  /** @param options - first ID and outstanding cap. */
  constructor(options: MessageIdAllocatorOptions = {}) {
    const first = options.first ?? 1;
    if (!Number.isInteger(first) || first < 1 || first > 0xffff)
      throw new InvalidOptionError('first', `must be an integer 1..65535, not ${first}`);
    const max = options.maxOutstanding ?? 0xffff;
    if (!Number.isInteger(max) || max < 1 || max > 0xffff)
      throw new InvalidOptionError('maxOutstanding', `must be an integer 1..65535, not ${max}`);
    this.#next = first;
    this.#max = max;
  }

  /** How many IDs are outstanding. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /** True when `id` is outstanding. */
  has(id: number): boolean {
    return this.#outstanding.has(id);
  }

  /**
   * Returns a free ID and marks it outstanding. Throws
   * {@link MessageIdsExhaustedError} when `maxOutstanding` are outstanding.
   */
  allocate(): number {
    if (this.#outstanding.size >= this.#max)
      throw new MessageIdsExhaustedError(this.#outstanding.size);
    // At most #outstanding.size IDs are skipped, so the loop is bounded.
    let id = this.#next;
    while (this.#outstanding.has(id)) id = id === 0xffff ? 1 : id + 1;
    this.#outstanding.add(id);
    this.#next = id === 0xffff ? 1 : id + 1;
    return id;
  }

  /** Marks `id` free again (its final response arrived). Returns false if it was not outstanding. */
  release(id: number): boolean {
    return this.#outstanding.delete(id);
  }
}
