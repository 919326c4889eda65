import { TransferSyntax, uidEntries } from '@dnet/dataset';

/** SOP Class UIDs of the services in this package (PS3.4, PS3.6 Annex A). */
export const SopClass = {
  /** Verification SOP Class (PS3.4 Annex A.4). */
  VERIFICATION: '1.2.840.10008.1.1',
  /** Patient Root Query/Retrieve Information Model - FIND (PS3.4 §C.6.1.3.1). */
  PATIENT_ROOT_FIND: '1.2.840.10008.5.1.4.1.2.1.1',
  /** Patient Root Query/Retrieve Information Model - MOVE (PS3.4 §C.6.1.3.2). */
  PATIENT_ROOT_MOVE: '1.2.840.10008.5.1.4.1.2.1.2',
  /** Patient Root Query/Retrieve Information Model - GET (PS3.4 §C.6.1.3.3). */
  PATIENT_ROOT_GET: '1.2.840.10008.5.1.4.1.2.1.3',
  /** Study Root Query/Retrieve Information Model - FIND (PS3.4 §C.6.2.3.1). */
  STUDY_ROOT_FIND: '1.2.840.10008.5.1.4.1.2.2.1',
  /** Study Root Query/Retrieve Information Model - MOVE (PS3.4 §C.6.2.3.2). */
  STUDY_ROOT_MOVE: '1.2.840.10008.5.1.4.1.2.2.2',
  /** Study Root Query/Retrieve Information Model - GET (PS3.4 §C.6.2.3.3). */
  STUDY_ROOT_GET: '1.2.840.10008.5.1.4.1.2.2.3',
  /** Patient/Study Only Query/Retrieve Information Model - FIND (retired, PS3.4 2004 §C.6.3). */
  PATIENT_STUDY_ONLY_FIND: '1.2.840.10008.5.1.4.1.2.3.1',
  /** Patient/Study Only Query/Retrieve Information Model - MOVE (retired). */
  PATIENT_STUDY_ONLY_MOVE: '1.2.840.10008.5.1.4.1.2.3.2',
  /** Patient/Study Only Query/Retrieve Information Model - GET (retired). */
  PATIENT_STUDY_ONLY_GET: '1.2.840.10008.5.1.4.1.2.3.3',
  /** Modality Worklist Information Model - FIND (PS3.4 §K.6.1.2). */
  MODALITY_WORKLIST_FIND: '1.2.840.10008.5.1.4.31',
  /** Storage Commitment Push Model SOP Class (PS3.4 §J.3.1). */
  STORAGE_COMMITMENT_PUSH_MODEL: '1.2.840.10008.1.20.1',
  /** Modality Performed Procedure Step SOP Class (PS3.4 §F.7.1). */
  MODALITY_PERFORMED_PROCEDURE_STEP: '1.2.840.10008.3.1.2.3.3',
  /** Instance Availability Notification SOP Class (PS3.4 §R.4.1). */
  INSTANCE_AVAILABILITY_NOTIFICATION: '1.2.840.10008.5.1.4.33',
  /** CT Image Storage (PS3.4 Annex B.5). */
  CT_IMAGE_STORAGE: '1.2.840.10008.5.1.4.1.1.2',
  /** MR Image Storage (PS3.4 Annex B.5). */
  MR_IMAGE_STORAGE: '1.2.840.10008.5.1.4.1.1.4',
  /** Secondary Capture Image Storage (PS3.4 Annex B.5). */
  SECONDARY_CAPTURE_IMAGE_STORAGE: '1.2.840.10008.5.1.4.1.1.7',
} as const;

/** The Query/Retrieve information models of PS3.4 Annex C.6. */
export type QueryModel = 'patient' | 'study' | 'patient-study-only';

/** FIND, MOVE and GET SOP classes of each information model (PS3.4 §C.6). */
export const QUERY_MODELS: Readonly<
  Record<QueryModel, { find: string; move: string; get: string }>
> = {
  patient: {
    find: SopClass.PATIENT_ROOT_FIND,
    move: SopClass.PATIENT_ROOT_MOVE,
    get: SopClass.PATIENT_ROOT_GET,
  },
  study: {
    find: SopClass.STUDY_ROOT_FIND,
    move: SopClass.STUDY_ROOT_MOVE,
    get: SopClass.STUDY_ROOT_GET,
  },
  'patient-study-only': {
    find: SopClass.PATIENT_STUDY_ONLY_FIND,
    move: SopClass.PATIENT_STUDY_ONLY_MOVE,
    get: SopClass.PATIENT_STUDY_ONLY_GET,
  },
};

/** The uncompressed transfer syntaxes, most interoperable first (PS3.5 §10). */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: readonly string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
];

let storageClasses: string[] | undefined;

/** A Storage SOP Class keyword of PS3.6 Table A-1 (see {@link storageSopClasses}). */
const STORAGE_KEYWORD = /Storage(?:For(?:Presentation|Processing))?(?:Trial|Retired)?$/;

/**
 * Every Storage SOP Class of the UID registry (PS3.6 Table A-1, PS3.4 Annex
 * B.5): SOP classes under 1.2.840.10008.5.1.4 whose PS3.6 keyword holds
 * `Storage`, which also takes `...StorageForPresentation`, `...ForProcessing`,
 * `...StorageTrial` and `...StorageRetired` (Storage Commitment lies elsewhere
 * and is left out by name as well). Retired classes are included (still met
 * in archives).
 */
export function storageSopClasses(): readonly string[] {
  storageClasses ??= uidEntries()
    .filter(
      (e) =>
        e.type === 'SOP Class' &&
        e.uid.startsWith('1.2.840.10008.5.1.4.') &&
        STORAGE_KEYWORD.test(e.keyword) &&
        !/Commitment/.test(e.keyword),
    )
    .map((e) => e.uid);
  return storageClasses;
}

/** Whether a UID is a Storage SOP Class (see {@link storageSopClasses}). */
export function isStorageSopClass(uid: string): boolean {
  return storageSopClasses().includes(uid);
}

/** Every transfer syntax of the UID registry (PS3.6 Table A-1). */
export function knownTransferSyntaxes(): readonly string[] {
  return uidEntries()
    .filter((e) => e.type === 'Transfer Syntax')
    .map((e) => e.uid);
}
