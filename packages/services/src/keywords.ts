/**
 * Keywords for people, DICOM JSON for machines: every query, identifier and
 * data set that the services API takes may be given in the keyword form of
 * `@dnet/dataset` (`{ PatientName: 'DOE^*', StudyInstanceUID: '' }`, typed
 * from the data dictionary), in the DICOM JSON Model (PS3.18 Annex F, keys of
 * eight hex digits) or as a `DataSet`; results are read by keyword with
 * {@link toKeywords}.
 */
import {
  DataSet,
  type DicomJsonDataSet,
  fromDicomJson,
  fromKeywords,
  type KeywordAttributes,
  type KeywordDataSet,
  keyFormOf,
  toKeywords as keywordsOf,
} from '@dnet/dataset';

export {
  type Keyword,
  type KeywordAttributes,
  type KeywordDataSet,
  MixedKeysError,
  UnknownKeywordError,
} from '@dnet/dataset';

/**
 * Reads a match, an identifier or a reply by keyword: `toKeywords` of
 * `@dnet/dataset`, taking the DICOM JSON that this package yields as well.
 *
 * @example
 * ```ts
 * for await (const m of client.find({ PatientID: 'P1', StudyInstanceUID: '' }, { level: 'STUDY' })) {
 *   toKeywords(m).StudyInstanceUID; // m itself stays DICOM JSON
 * }
 * ```
 *
 * @param dataSet - a data set or its DICOM JSON
 */
export function toKeywords(dataSet: DataSet | DicomJsonDataSet): KeywordAttributes {
  return keywordsOf(dataSet as DataSet | DicomJsonDataSet);
}

/**
 * A data set as the API takes it: the keyword form, DICOM JSON (PS3.18 Annex
 * F) or a `DataSet` (`@dnet/dataset`). A plain object whose keys are all eight hex digits
 * is DICOM JSON; otherwise its keys are keywords; a mix of both is refused.
 */
export type DataSetInput = KeywordDataSet | DicomJsonDataSet | DataSet;

/**
 * The DICOM JSON of a data set given in either plain-object form: DICOM JSON
 * as it is, the keyword form converted with the dictionary's VRs.
 *
 * @param input - DICOM JSON or the keyword form
 * @throws MixedKeysError when the keys mix tags and keywords
 * @throws UnknownKeywordError for a keyword the dictionary does not have
 * @throws InvalidValueError (from `@dnet/dataset`) when a value does not fit its keyword's VR
 */
export function asDicomJson(input: KeywordDataSet | DicomJsonDataSet): DicomJsonDataSet {
  return keyFormOf(input) === 'keywords'
    ? fromKeywords(input as KeywordDataSet)
    : (input as DicomJsonDataSet);
}

/**
 * A new data set from any of the three forms (a `DataSet` is cloned, so the
 * caller's stays untouched).
 *
 * @param input - the keyword form, DICOM JSON or a data set
 * @throws MixedKeysError, UnknownKeywordError, InvalidValueError as {@link asDicomJson};
 *   InvalidDicomJsonError for DICOM JSON that does not follow PS3.18 Annex F
 */
export function dataSetOf(input: DataSetInput): DataSet {
  if (input instanceof DataSet) return input.clone();
  return fromDicomJson(asDicomJson(input));
}
