import type { Association } from '@dnet/association';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { Status } from '@dnet/dimse';
import type { Query } from './identifier.js';
import {
  type NRequest,
  type NRequestOptions,
  type NResult,
  type NService,
  nCreateOver,
} from './n-services.js';
import type { RequestContext } from './request-context.js';

/** Instance Availability Notification SOP Class (PS3.4 §R.4.1). */
export const INSTANCE_AVAILABILITY_NOTIFICATION = '1.2.840.10008.5.1.4.33';

/** A notification as the SCP receives it (PS3.4 §R.4.2.1). */
export interface InstanceAvailability {
  /** The SOP Instance UID of the notification. */
  sopInstanceUid: string | undefined;
  /** Study Instance UID (0020,000D). */
  studyInstanceUid: string | undefined;
  /** The whole attribute list (Referenced Series Sequence, ...). */
  attributes: DicomJsonDataSet;
}

/**
 * Instance Availability Notification SCP (PS3.4 Annex R) as an
 * {@link NService}: each N-CREATE goes to the handler; without a Study
 * Instance UID it is refused with 0120H missing attribute (PS3.4 Table R.4-1).
 */
export function instanceAvailabilityService(
  handler: (
    notification: InstanceAvailability,
    context: RequestContext,
  ) => number | undefined | Promise<number | undefined>,
): NService {
  return {
    sopClasses: [INSTANCE_AVAILABILITY_NOTIFICATION],
    nCreate: async (rq: NRequest, context: RequestContext) => {
      const attributes = rq.dataSet ?? {};
      const study = attributes['0020000D']?.Value?.[0];
      if (typeof study !== 'string' || study.trim() === '') {
        return {
          status: Status.MISSING_ATTRIBUTE,
          offendingElement: [0x0020000d],
          errorComment: 'Study Instance UID missing',
        };
      }
      const status = await handler(
        { sopInstanceUid: rq.sopInstanceUid, studyInstanceUid: study.trim(), attributes },
        context,
      );
      return typeof status === 'number' ? status : 0;
    },
  };
}

/**
 * Instance Availability Notification SCU (PS3.4 §R.4.2.1): N-CREATE of a
 * notification.
 *
 * @throws OperationFailedError
 */
export function notifyInstanceAvailability(
  association: Association,
  attributes: Query,
  options: NRequestOptions & { sopInstanceUid?: string } = {},
): Promise<NResult> {
  return nCreateOver(association, INSTANCE_AVAILABILITY_NOTIFICATION, attributes, options);
}
