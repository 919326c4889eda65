/**
 * The DICOM JSON Model of PS3.18 Annex F, as far as query matching needs it:
 * an object keyed by 8-hex-digit tags (upper case), each with its VR and values.
 */
export interface DicomJsonAttribute {
  vr: string;
  /** Values: strings, numbers, PN objects (F.2.2), or nested data sets for SQ. */
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** A data set in the DICOM JSON Model (PS3.18 §F.2). */
export type DicomJson = Record<string, DicomJsonAttribute>;

/** A PN value in DICOM JSON (PS3.18 §F.2.2): up to three component groups. */
export interface PersonNameJson {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}
