/**
 * The Query/Retrieve information models of PS3.4 §C.6: levels, their unique
 * keys, and which attributes the archive keeps at each level.
 */

/** Values of Query/Retrieve Level (0008,0052) (PS3.4 §C.6.1.1, §C.6.2.1). */
export const QueryLevel = {
  /** Patient level; Patient Root only. */
  PATIENT: 'PATIENT',
  /** Study level. */
  STUDY: 'STUDY',
  /** Series level. */
  SERIES: 'SERIES',
  /** Composite object instance level. */
  IMAGE: 'IMAGE',
} as const;

/** One of the `QueryLevel` values. */
export type QueryLevel = (typeof QueryLevel)[keyof typeof QueryLevel];

/** The two hierarchical information models (PS3.4 §C.6.1 and §C.6.2). */
export const QueryModel = {
  /** Patient Root: PATIENT / STUDY / SERIES / IMAGE (PS3.4 §C.6.1). */
  PATIENT_ROOT: 'PATIENT_ROOT',
  /** Study Root: STUDY (with the patient's attributes) / SERIES / IMAGE (PS3.4 §C.6.2). */
  STUDY_ROOT: 'STUDY_ROOT',
} as const;

/** One of the `QueryModel` values. */
export type QueryModel = (typeof QueryModel)[keyof typeof QueryModel];

/** Tags this layer reads or computes, as DICOM JSON keys. */
export const Tag = {
  /** Specific Character Set (0008,0005). */
  SpecificCharacterSet: '00080005',
  /** SOP Class UID (0008,0016). */
  SOPClassUID: '00080016',
  /** SOP Instance UID (0008,0018). */
  SOPInstanceUID: '00080018',
  /** Study Date (0008,0020). */
  StudyDate: '00080020',
  /** Study Time (0008,0030). */
  StudyTime: '00080030',
  /** Accession Number (0008,0050). */
  AccessionNumber: '00080050',
  /** Query/Retrieve Level (0008,0052). */
  QueryRetrieveLevel: '00080052',
  /** Retrieve AE Title (0008,0054). */
  RetrieveAETitle: '00080054',
  /** Modality (0008,0060). */
  Modality: '00080060',
  /** Modalities in Study (0008,0061), computed. */
  ModalitiesInStudy: '00080061',
  /** SOP Classes in Study (0008,0062), computed. */
  SOPClassesInStudy: '00080062',
  /** Referring Physician's Name (0008,0090). */
  ReferringPhysicianName: '00080090',
  /** Study Description (0008,1030). */
  StudyDescription: '00081030',
  /** Series Description (0008,103E). */
  SeriesDescription: '0008103E',
  /** Available Transfer Syntax UID (0008,3002), from the stored object. */
  AvailableTransferSyntaxUID: '00083002',
  /** Patient's Name (0010,0010). */
  PatientName: '00100010',
  /** Patient ID (0010,0020). */
  PatientID: '00100020',
  /** Issuer of Patient ID (0010,0021). */
  IssuerOfPatientID: '00100021',
  /** Patient's Birth Date (0010,0030). */
  PatientBirthDate: '00100030',
  /** Patient's Sex (0010,0040). */
  PatientSex: '00100040',
  /** Study Instance UID (0020,000D). */
  StudyInstanceUID: '0020000D',
  /** Series Instance UID (0020,000E). */
  SeriesInstanceUID: '0020000E',
  /** Study ID (0020,0010). */
  StudyID: '00200010',
  /** Series Number (0020,0011). */
  SeriesNumber: '00200011',
  /** Instance Number (0020,0013). */
  InstanceNumber: '00200013',
  /** Number of Patient Related Studies (0020,1200), computed. */
  NumberOfPatientRelatedStudies: '00201200',
  /** Number of Patient Related Series (0020,1202), computed. */
  NumberOfPatientRelatedSeries: '00201202',
  /** Number of Patient Related Instances (0020,1204), computed. */
  NumberOfPatientRelatedInstances: '00201204',
  /** Number of Study Related Series (0020,1206), computed. */
  NumberOfStudyRelatedSeries: '00201206',
  /** Number of Study Related Instances (0020,1208), computed. */
  NumberOfStudyRelatedInstances: '00201208',
  /** Number of Series Related Instances (0020,1209), computed. */
  NumberOfSeriesRelatedInstances: '00201209',
} as const;

/** The levels of each model, top down (PS3.4 §C.6.1.1, §C.6.2.1). */
export const MODEL_LEVELS: Record<QueryModel, readonly QueryLevel[]> = {
  PATIENT_ROOT: ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'],
  STUDY_ROOT: ['STUDY', 'SERIES', 'IMAGE'],
};

/**
 * The unique key of each level (PS3.4 §C.6.1.1.2-5, §C.6.2.1.2-4): Patient ID,
 * Study / Series / SOP Instance UID.
 */
export const UNIQUE_KEY: Record<QueryLevel, string> = {
  PATIENT: Tag.PatientID,
  STUDY: Tag.StudyInstanceUID,
  SERIES: Tag.SeriesInstanceUID,
  IMAGE: Tag.SOPInstanceUID,
};

/**
 * Attributes the archive keeps at the patient, study and series levels (the
 * keys of PS3.4 Tables C.6-1 to C.6-3 and C.6-5, and a few common optional
 * ones). Each row of a level keeps the latest values of these; the instance
 * level keeps the whole record. Specific Character Set goes with every level,
 * so that its values can be decoded on their own.
 */
export const LEVEL_TAGS: Record<Exclude<QueryLevel, 'IMAGE'>, ReadonlySet<string>> = {
  PATIENT: new Set([
    Tag.SpecificCharacterSet,
    Tag.PatientName,
    Tag.PatientID,
    Tag.IssuerOfPatientID,
    '00100024', // Issuer of Patient ID Qualifiers Sequence
    Tag.PatientBirthDate,
    '00100032', // Patient's Birth Time
    Tag.PatientSex,
    '00101000', // Other Patient IDs (retired)
    '00101001', // Other Patient Names
    '00101002', // Other Patient IDs Sequence
    '00102160', // Ethnic Group
    '00104000', // Patient Comments
  ]),
  STUDY: new Set([
    Tag.SpecificCharacterSet,
    Tag.StudyInstanceUID,
    Tag.StudyDate,
    Tag.StudyTime,
    Tag.AccessionNumber,
    '00080051', // Issuer of Accession Number Sequence
    Tag.StudyID,
    Tag.ReferringPhysicianName,
    Tag.StudyDescription,
    '00081032', // Procedure Code Sequence
    '00081060', // Name of Physician(s) Reading Study
    '00081080', // Admitting Diagnoses Description
    '00101010', // Patient's Age
    '00101020', // Patient's Size
    '00101030', // Patient's Weight
    '00102180', // Occupation
    '001021B0', // Additional Patient History
    '00321032', // Requesting Physician
    '00321060', // Requested Procedure Description
  ]),
  SERIES: new Set([
    Tag.SpecificCharacterSet,
    Tag.SeriesInstanceUID,
    Tag.Modality,
    Tag.SeriesNumber,
    Tag.SeriesDescription,
    '00080021', // Series Date
    '00080031', // Series Time
    '00081050', // Performing Physician's Name
    '00081070', // Operators' Name
    '00180015', // Body Part Examined
    '00185100', // Patient Position
    '00200060', // Laterality
    '00400244', // Performed Procedure Step Start Date
    '00400245', // Performed Procedure Step Start Time
    '00400253', // Performed Procedure Step ID
    '00400275', // Request Attributes Sequence
  ]),
};

/** Attributes computed at query time for each level (PS3.4 §C.6.1.1.2-4, §C.6.2.1.2-3). */
export const COMPUTED_TAGS: Record<QueryLevel, ReadonlySet<string>> = {
  PATIENT: new Set([
    Tag.NumberOfPatientRelatedStudies,
    Tag.NumberOfPatientRelatedSeries,
    Tag.NumberOfPatientRelatedInstances,
  ]),
  STUDY: new Set([
    Tag.ModalitiesInStudy,
    Tag.SOPClassesInStudy,
    Tag.NumberOfStudyRelatedSeries,
    Tag.NumberOfStudyRelatedInstances,
  ]),
  SERIES: new Set([Tag.NumberOfSeriesRelatedInstances]),
  IMAGE: new Set([Tag.AvailableTransferSyntaxUID]),
};

/** True when `value` names a level (`PATIENT`, `STUDY`, `SERIES`, `IMAGE`). */
export function isQueryLevel(value: unknown): value is QueryLevel {
  return typeof value === 'string' && Object.hasOwn(QueryLevel, value);
}
