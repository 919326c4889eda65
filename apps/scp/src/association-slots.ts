import { DEFAULT_MAX_ASSOCIATIONS, localLimitRejection } from '@dnet/services';

/** The A-ASSOCIATE-RJ fields of a refused slot (PS3.8 Table 9-21), as they cross IPC. */
export interface SlotRejection {
  result: number;
  source: number;
  reason: number;
  cause?: string;
}

/**
 * The association limits of `--max-associations` and
 * `--max-associations-per-ae` kept for all the workers of `--workers`
 * together, by the primary process: each worker takes a slot for every
 * association it is about to accept and gives it back when the association
 * ends (or its process dies: {@link AssociationSlots.releaseAll}). Over a
 * limit the answer is what one server sends: rejected-transient,
 * service-provider (presentation), local-limit-exceeded (PS3.8 §9.3.4,
 * Table 9-21).
 */
export class AssociationSlots {
  readonly #max: number;
  readonly #perAe: number | undefined;
  /** Slots held, by worker, then by the worker's request id: the calling AE title. */
  readonly #held = new Map<number, Map<number, string>>();
  readonly #byAe = new Map<string, number>();
  #open = 0;

  /**
   * @param max - associations in all (default `DEFAULT_MAX_ASSOCIATIONS`, one server's)
   * @param perAe - associations per calling AE title (default no limit)
   */
  constructor(max: number | undefined, perAe: number | undefined) {
    this.#max = max ?? DEFAULT_MAX_ASSOCIATIONS;
    this.#perAe = perAe;
  }

  /** Slots held now, all workers together. */
  get open(): number {
    return this.#open;
  }

  /**
   * Takes a slot for worker `owner`'s request `id` from `callingAeTitle`;
   * resolves nothing when taken, else the rejection to send.
   */
  take(owner: number, id: number, callingAeTitle: string): SlotRejection | undefined {
    if (this.#open >= this.#max) {
      return localLimitRejection(
        `${this.#open} associations open on all workers, at most ${this.#max}`,
      );
    }
    const n = this.#byAe.get(callingAeTitle) ?? 0;
    if (this.#perAe !== undefined && n >= this.#perAe) {
      return localLimitRejection(
        `${n} associations of ${callingAeTitle} already open on all workers, at most ${this.#perAe}`,
      );
    }
    const mine = this.#held.get(owner) ?? new Map<number, string>();
    this.#held.set(owner, mine);
    mine.set(id, callingAeTitle);
    this.#byAe.set(callingAeTitle, n + 1);
    this.#open++;
    return undefined;
  }

  /** Gives back worker `owner`'s slot `id` (nothing when it holds none by that id). */
  release(owner: number, id: number): void {
    const mine = this.#held.get(owner);
    const ae = mine?.get(id);
    if (ae === undefined) return;
    mine?.delete(id);
    this.#open--;
    const n = (this.#byAe.get(ae) ?? 1) - 1;
    if (n > 0) this.#byAe.set(ae, n);
    else this.#byAe.delete(ae);
  }

  /** Gives back every slot of worker `owner` (its process ended). */
  releaseAll(owner: number): void {
    for (const id of [...(this.#held.get(owner)?.keys() ?? [])]) this.release(owner, id);
    this.#held.delete(owner);
  }
}
