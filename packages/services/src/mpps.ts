import type { Association } from '@dnet/association';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { Status } from '@dnet/dimse';
import type { Query } from './identifier.js';
import {
  type NRequest,
  type NRequestOptions,
  type NResponse,
  type NResult,
  type NService,
  nCreateOver,
  nSetOver,
} from './n-services.js';
import type { RequestContext } from './request-context.js';
import { newUid } from './storage-commitment.js';

/** Modality Performed Procedure Step SOP Class (PS3.4 §F.7.1). */
export const MPPS_SOP_CLASS = '1.2.840.10008.3.1.2.3.3';

/** Performed Procedure Step Status (0040,0252) values (PS3.3 §C.4.14). */
export const MppsStatus = {
  /** Started, not complete (the only value allowed at N-CREATE, PS3.4 §F.7.2.1.2). */
  IN_PROGRESS: 'IN PROGRESS',
  /** Completed: final, no further N-SET (PS3.4 §F.7.2.2.2). */
  COMPLETED: 'COMPLETED',
  /** Discontinued: final, no further N-SET (PS3.4 §F.7.2.2.2). */
  DISCONTINUED: 'DISCONTINUED',
} as const;
/** One of the `MppsStatus` values. */
export type MppsStatus = (typeof MppsStatus)[keyof typeof MppsStatus];

/** Tag of Performed Procedure Step Status (0040,0252). */
const PPS_STATUS = '00400252';
const STATUSES = new Set<string>(Object.values(MppsStatus));

function statusOf(ds: DicomJsonDataSet | undefined): string | undefined {
  const v = ds?.[PPS_STATUS]?.Value?.[0];
  return typeof v === 'string' ? v.trim() : undefined;
}

/** A change to a performed procedure step, as reported to {@link MppsScpOptions.onChange}. */
export interface MppsChange {
  /** `create` (N-CREATE) or `set` (N-SET). */
  operation: 'create' | 'set';
  /** The SOP Instance UID of the step. */
  sopInstanceUid: string;
  /** Its attributes after the change. */
  attributes: DicomJsonDataSet;
  /** Who sent it. */
  context: RequestContext;
}

/** Options of {@link MppsScp}. */
export interface MppsScpOptions {
  /** Called after each accepted N-CREATE and N-SET (after the state rules passed). */
  onChange?: (change: MppsChange) => void | Promise<void>;
  /** Most steps kept in memory (default 10 000); the oldest final ones are dropped first. */
  maxInstances?: number;
}

/**
 * Modality Performed Procedure Step SCP (PS3.4 Annex F.7) keeping the steps
 * in memory, with the state rules: N-CREATE only IN PROGRESS (0106H
 * otherwise), a duplicate instance 0111H, N-SET on an unknown instance 0112H,
 * a status outside IN PROGRESS / COMPLETED / DISCONTINUED 0106H, no N-SET
 * once COMPLETED or DISCONTINUED (0110H, PS3.4 §F.7.2.2.2).
 *
 * @example
 * ```ts
 * const mpps = new MppsScp({ onChange: (c) => console.log(c.sopInstanceUid, c.attributes) });
 * await Server.listen({ ..., handlers: { nServices: [mpps.service] } });
 * ```
 */
export class MppsScp {
  readonly #options: MppsScpOptions;
  readonly #steps = new Map<string, DicomJsonDataSet>();
  /** The N-service to add to a Server's `handlers.nServices`. */
  readonly service: NService;

  /** @param options - change callback and limits */
  constructor(options: MppsScpOptions = {}) {
    this.#options = options;
    this.service = {
      sopClasses: [MPPS_SOP_CLASS],
      nCreate: (rq, ctx) => this.#create(rq, ctx),
      nSet: (rq, ctx) => this.#set(rq, ctx),
    };
  }

  /** The attributes of a step, or undefined. */
  get(sopInstanceUid: string): DicomJsonDataSet | undefined {
    return this.#steps.get(sopInstanceUid);
  }

  /** Steps held. */
  get size(): number {
    return this.#steps.size;
  }

  async #create(rq: NRequest, context: RequestContext): Promise<NResponse> {
    const uid = rq.sopInstanceUid ?? newUid();
    // PS3.7 §C.4.16: 0111H duplicate SOP instance.
    if (this.#steps.has(uid)) {
      return { status: Status.DUPLICATE_SOP_INSTANCE, errorComment: `${uid} exists` };
    }
    const attributes = rq.dataSet ?? {};
    const status = statusOf(attributes);
    if (status === undefined) {
      // PS3.4 Table F.7.2-1: Performed Procedure Step Status is 1/1 at N-CREATE.
      return {
        status: Status.MISSING_ATTRIBUTE,
        offendingElement: [0x00400252],
        errorComment: 'Performed Procedure Step Status missing',
      };
    }
    if (status !== MppsStatus.IN_PROGRESS) {
      // PS3.4 §F.7.2.1.2: created IN PROGRESS only.
      return {
        status: Status.INVALID_ATTRIBUTE_VALUE,
        offendingElement: [0x00400252],
        errorComment: `N-CREATE with status ${status}; must be IN PROGRESS`,
      };
    }
    this.#evict();
    this.#steps.set(uid, attributes);
    await this.#options.onChange?.({
      operation: 'create',
      sopInstanceUid: uid,
      attributes,
      context,
    });
    return { status: 0, sopInstanceUid: uid };
  }

  async #set(rq: NRequest, context: RequestContext): Promise<NResponse> {
    const uid = rq.sopInstanceUid ?? '';
    const current = this.#steps.get(uid);
    // PS3.7 §C.4.17: 0112H no such object instance.
    if (!current) return { status: Status.NO_SUCH_SOP_INSTANCE, errorComment: `no step ${uid}` };
    const was = statusOf(current);
    if (was === MppsStatus.COMPLETED || was === MppsStatus.DISCONTINUED) {
      // PS3.4 §F.7.2.2.2: 0110H, Performed Procedure Step Object may no longer be updated.
      return {
        status: Status.PROCESSING_FAILURE,
        errorComment: `step is ${was}; may no longer be updated`,
      };
    }
    const changes = rq.dataSet ?? {};
    const next = statusOf(changes);
    if (changes[PPS_STATUS] && (next === undefined || !STATUSES.has(next))) {
      // PS3.7 §C.4.13: 0106H invalid attribute value.
      return {
        status: Status.INVALID_ATTRIBUTE_VALUE,
        offendingElement: [0x00400252],
        errorComment: `invalid Performed Procedure Step Status ${next ?? ''}`,
      };
    }
    const attributes = { ...current, ...changes };
    this.#steps.set(uid, attributes);
    await this.#options.onChange?.({ operation: 'set', sopInstanceUid: uid, attributes, context });
    return 0;
  }

  #evict(): void {
    const max = this.#options.maxInstances ?? 10_000;
    if (this.#steps.size < max) return;
    for (const [uid, ds] of this.#steps) {
      if (statusOf(ds) !== MppsStatus.IN_PROGRESS) {
        this.#steps.delete(uid);
        return;
      }
    }
    const first = this.#steps.keys().next().value;
    if (first !== undefined) this.#steps.delete(first);
  }
}

/**
 * MPPS SCU N-CREATE (PS3.4 §F.7.2.1): creates a step IN PROGRESS; without
 * `sopInstanceUid` the SCP chooses it (returned in `sopInstanceUid`).
 *
 * @example
 * ```ts
 * const { sopInstanceUid } = await createMpps(client.association, {
 *   PerformedProcedureStepStatus: 'IN PROGRESS', PatientName: 'DOE^JOHN', Modality: 'CT',
 *   ScheduledStepAttributesSequence: { StudyInstanceUID: '1.2.3' } });
 * await updateMpps(client.association, sopInstanceUid!, { PerformedProcedureStepStatus: 'COMPLETED' });
 * ```
 *
 * @throws OperationFailedError (0106H, 0111H, 0120H...)
 */
export function createMpps(
  association: Association,
  attributes: Query,
  options: NRequestOptions & { sopInstanceUid?: string } = {},
): Promise<NResult> {
  return nCreateOver(association, MPPS_SOP_CLASS, attributes, options);
}

/**
 * MPPS SCU N-SET (PS3.4 §F.7.2.2): updates a step, or ends it with status
 * COMPLETED or DISCONTINUED.
 *
 * @throws OperationFailedError (0110H after completion, 0112H unknown step, 0106H...)
 */
export function updateMpps(
  association: Association,
  sopInstanceUid: string,
  modifications: Query,
  options: NRequestOptions = {},
): Promise<NResult> {
  return nSetOver(association, MPPS_SOP_CLASS, sopInstanceUid, modifications, options);
}
