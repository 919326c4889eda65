import { type PresentationDataValue, pdvParts } from '@dnet/pdu';
import { DEFAULT_MAX_COMMAND_LENGTH } from './command-set.js';
import { type DimseMessage, decodeMessage, messageType } from './dimse-message.js';
import { BadSequenceError, CommandTooLargeError, UnknownContextError } from './errors.js';

/**
 * A message's command set is complete. `message.hasDataSet` tells whether a
 * data set follows, before any of it arrives.
 */
export interface CommandEvent {
  type: 'command';
  /** The presentation context the message travels on. */
  contextId: number;
  /** The decoded, validated message. */
  message: DimseMessage;
}

/**
 * A fragment of the data set in progress: a view into the received bytes,
 * never gathered. A PDV whose value arrived across several received chunks
 * gives one event per chunk (see `pdvParts` of `@dnet/pdu`).
 */
export interface DataEvent {
  type: 'data';
  /** The presentation context. */
  contextId: number;
  /** The fragment's bytes (a view; copy it if it must outlive the received chunk). */
  data: Uint8Array;
}

/** The message is complete: after its command when it has no data set, else after the last data fragment. */
export interface EndEvent {
  type: 'end';
  /** The presentation context. */
  contextId: number;
  /** The message that ended. */
  message: DimseMessage;
}

/** What {@link Reassembler.push} reports, in order. */
export type ReassemblyEvent = CommandEvent | DataEvent | EndEvent;

/** Options of {@link Reassembler}. */
export interface ReassemblerOptions {
  /**
   * Whether a presentation context ID was accepted on the association
   * (PS3.8 §9.3.5.1: a PDV's context must be one of them). Default: any
   * odd ID (contexts are not checked).
   */
  isAcceptedContext?: (contextId: number) => boolean;
  /** Largest command set accepted, in bytes (default 65536; LIMITS.md). */
  maxCommandLength?: number;
}

/** Where the reassembler is within a message. */
export type ReassemblerState = 'idle' | 'command' | 'data';

/**
 * Rebuilds DIMSE messages from the PDVs of received P-DATA-TF PDUs (PS3.7
 * §6.3, PS3.8 Annex E.2) and checks their order:
 *
 * - every PDV names an accepted presentation context;
 * - a message starts with command fragments and its command ends with a
 *   fragment that has the last bit;
 * - data set fragments follow only a command that announced a data set,
 *   on the same context, until the fragment with the last bit;
 * - nothing of another message (another context, a new command) comes in
 *   between: DIMSE messages are not interleaved on an association.
 *
 * Command fragments are joined (bounded by `maxCommandLength`); data set
 * fragments are passed on as views the moment they arrive, so a data set of
 * any size goes through in bounded memory. Violations throw typed errors
 * ({@link BadSequenceError}, {@link UnknownContextError},
 * {@link CommandTooLargeError}, or the message's own field errors); the
 * association should then abort (PS3.8 §9.3.8: A-ABORT).
 *
 * @example
 * ```ts
 * const reassembler = new Reassembler({ isAcceptedContext: (id) => accepted.has(id) });
 * for (const event of reassembler.push(pdu.pdvs)) {
 *   if (event.type === 'command') startHandling(event.message);
 *   else if (event.type === 'data') sink.write(event.data);
 *   else finish(event.message);
 * }
 * ```
 */
export class Reassembler {
  readonly #isAccepted: (contextId: number) => boolean;
  readonly #maxCommandLength: number;
  #state: ReassemblerState = 'idle';
  #contextId = 0;
  #fragments: Uint8Array[] = [];
  #commandBytes = 0;
  #message: DimseMessage | undefined;

  /** @param options - accepted contexts and command size cap. */
  constructor(options: ReassemblerOptions = {}) {
    this.#isAccepted = options.isAcceptedContext ?? (() => true);
    this.#maxCommandLength = options.maxCommandLength ?? DEFAULT_MAX_COMMAND_LENGTH;
  }

  /** `idle` between messages, `command` while command fragments arrive, `data` while the data set does. */
  get state(): ReassemblerState {
    return this.#state;
  }

  /** The presentation context of the message in progress (undefined when idle). */
  get contextId(): number | undefined {
    return this.#state === 'idle' ? undefined : this.#contextId;
  }

  /** The message whose data set is arriving (state `data`). */
  get message(): DimseMessage | undefined {
    return this.#message;
  }

  /** Forgets any message in progress (after an abort). */
  reset(): void {
    this.#state = 'idle';
    this.#fragments = [];
    this.#commandBytes = 0;
    this.#message = undefined;
  }

  /**
   * Feeds the PDVs of one P-DATA-TF, in order. Returns the events they
   * complete. After a thrown error the reassembler is reset.
   */
  push(pdvs: readonly PresentationDataValue[]): ReassemblyEvent[] {
    const events: ReassemblyEvent[] = [];
    try {
      for (const pdv of pdvs) this.#pushOne(pdv, events);
    } catch (e) {
      this.reset();
      throw e;
    }
    return events;
  }

  #pushOne(pdv: PresentationDataValue, events: ReassemblyEvent[]): void {
    const { contextId } = pdv;
    if (!this.#isAccepted(contextId)) throw new UnknownContextError(contextId);
    if (this.#state !== 'idle' && contextId !== this.#contextId)
      throw new BadSequenceError(
        `PDV on presentation context ${contextId} while a message on context ${this.#contextId} is incomplete: messages are not interleaved (PS3.8 Annex E.2)`,
        contextId,
      );
    switch (this.#state) {
      case 'idle':
        if (!pdv.command)
          throw new BadSequenceError(
            `data set fragment on context ${contextId} with no command before it: a message starts with its command (PS3.7 §6.3)`,
            contextId,
          );
        this.#contextId = contextId;
        this.#state = 'command';
        this.#command(pdv, events);
        return;
      case 'command':
        if (!pdv.command)
          throw new BadSequenceError(
            `data set fragment on context ${contextId} before the last command fragment (PS3.8 Annex E.2)`,
            contextId,
          );
        this.#command(pdv, events);
        return;
      case 'data': {
        if (pdv.command)
          throw new BadSequenceError(
            `command fragment on context ${contextId} before the last fragment of the ${messageType(this.#message!)} data set (PS3.8 Annex E.2)`,
            contextId,
          );
        // A fragment that arrived across several received chunks is passed on
        // as one event per chunk view (pdvParts): never joined.
        for (const data of pdvParts(pdv)) {
          if (data.length > 0) events.push({ type: 'data', contextId, data });
        }
        if (pdv.last) {
          events.push({ type: 'end', contextId, message: this.#message! });
          this.reset();
        }
        return;
      }
    }
  }

  #command(pdv: PresentationDataValue, events: ReassemblyEvent[]): void {
    const parts = pdvParts(pdv);
    let length = 0;
    for (const p of parts) length += p.length;
    this.#commandBytes += length;
    if (this.#commandBytes > this.#maxCommandLength)
      throw new CommandTooLargeError(this.#commandBytes, this.#maxCommandLength);
    // A fragment that is not the last is copied: it must outlive the chunk it came in.
    // (One that spans chunks is joined here, once: a command set is small and decoded whole.)
    if (parts.length > 1) this.#fragments.push(join(parts));
    else this.#fragments.push(pdv.last ? parts[0]! : parts[0]!.slice());
    if (!pdv.last) return;
    const bytes = this.#fragments.length === 1 ? this.#fragments[0]! : join(this.#fragments);
    const message = decodeMessage(bytes, { maxCommandLength: this.#maxCommandLength });
    this.#fragments = [];
    this.#commandBytes = 0;
    events.push({ type: 'command', contextId: pdv.contextId, message });
    if (message.hasDataSet) {
      this.#state = 'data';
      this.#message = message;
    } else {
      events.push({ type: 'end', contextId: pdv.contextId, message });
      this.reset();
    }
  }
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
