/**
 * @packageDocumentation
 * `@dnet/dataset`: DICOM data sets (PS3.5): tags, VRs, the data dictionary and
 * UID registry (PS3.6, generated at build time), the element codec for every
 * uncompressed transfer syntax (Implicit VR LE, Explicit VR LE and BE, Deflated
 * Explicit VR LE; encapsulated pixel data passed through), Part 10 files
 * (PS3.10) and the DICOM JSON Model (PS3.18 Annex F). It can be used alone.
 *
 * - {@link DataSet}: elements by tag, typed access by keyword (`strings`,
 *   `numbers`, `personName`, `date`, `sequence`...) and setters that pad
 *   correctly. Values keep their original bytes until changed.
 * - {@link decodeDataSet} / {@link encodeDataSet} / {@link encodeDataSetChunks}:
 *   the codec; {@link convertTransferSyntax} and
 *   {@link createTransferSyntaxConverter} (a streaming transform) change syntax.
 * - {@link openPart10File} / {@link readPart10Stream} / {@link readPart10Header}:
 *   read the meta group only and stream the data set's bytes from its offset;
 *   {@link writePart10File} / {@link encodePart10} write files.
 * - {@link toDicomJson} / {@link fromDicomJson}: the JSON model;
 *   {@link fromKeywords} / {@link toKeywords}: the keyword form
 *   (`{ PatientName: 'DOE^*' }`), typed from the dictionary ({@link KeywordDataSet}).
 * - {@link lookupTag}, {@link lookupKeyword}, {@link lookupUid}: the registries.
 * - {@link dumpDataSet}: a dcmdump-like listing for logs and debugging.
 *
 * @example
 * ```ts
 * import { DataSet, TransferSyntax, decodeDataSet, encodeDataSet, openPart10File } from '@dnet/dataset';
 *
 * const ds = new DataSet();
 * ds.setString('SpecificCharacterSet', 'ISO_IR 192');
 * ds.setPersonName('PatientName', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' });
 * ds.setNumber('Rows', 512);
 * const bytes = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
 * decodeDataSet(bytes, TransferSyntax.ExplicitVRLittleEndian).personName('PatientName');
 * // { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }
 *
 * const file = await openPart10File('image.dcm'); // reads the meta group only
 * file.transferSyntaxUid;     // e.g. '1.2.840.10008.1.2.1'
 * file.dataSetStream();       // the data set's bytes, unparsed
 * ```
 *
 * @example
 * ```ts
 * import { fromDicomJson, fromKeywords, toKeywords } from '@dnet/dataset';
 *
 * // People write keywords (completed by TypeScript); machines exchange DICOM JSON.
 * const json = fromKeywords({ PatientName: 'DOE^*', StudyInstanceUID: '', ModalitiesInStudy: ['CT', 'MR'] });
 * // { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] }, '0020000D': { vr: 'UI' }, ... }
 * toKeywords(fromDicomJson(json)).PatientName; // 'DOE^*'
 * ```
 */

export {
  type CharacterSetDecoder,
  characterSetDecoder,
  decodeAscii,
  encodeAscii,
  encodeText,
} from './character-set.js';
export {
  type CompletenessCheckOptions,
  checkDataSetComplete,
  DataSetCompletenessCheck,
} from './completeness.js';
export {
  convertTransferSyntax,
  convertTransferSyntaxStream,
  createTransferSyntaxConverter,
  DEFAULT_MAX_BUFFERED_ELEMENT,
  TransferSyntaxConverter,
  type TransferSyntaxConverterOptions,
} from './convert.js';
export { type DataElement, DataSet, type ElementKey, resolveTag } from './data-set.js';
export {
  type DataSetIdentity,
  dataSetIdentity,
  IDENTITY_HEAD_BYTES,
  readSopUids,
  type SopUids,
} from './data-set-identity.js';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_INFLATED_SIZE,
  type DecodeOptions,
  decodeDataSet,
  decodeElements,
  type Encoding,
  implicitVr,
  inflateDataSet,
} from './decode.js';
export {
  type DicomJsonAttribute,
  type DicomJsonDataSet,
  type FromDicomJsonOptions,
  fromDicomJson,
  type ToDicomJsonOptions,
  toDicomJson,
} from './dicom-json.js';
export {
  type DictionaryEntry,
  dictionarySize,
  keywordOf,
  lookupKeyword,
  lookupPrivateTag,
  lookupTag,
} from './dictionary.js';
export { type DumpOptions, dumpDataSet } from './dump-data-set.js';
export {
  concatChunks,
  deflateDataSet,
  encodeDataSet,
  encodeDataSetChunks,
  encodedLength,
  encodeElements,
  encodeHeader,
  swapBytes,
} from './encode.js';
export {
  DatasetError,
  DatasetErrorCode,
  type DatasetErrorOptions,
  DnetError,
  IncompleteDataSetError,
  InflatedTooLargeError,
  InvalidDicomJsonError,
  InvalidPart10Error,
  InvalidValueError,
  isDnetError,
  LengthExceedsDataError,
  MalformedDataSetError,
  MixedKeysError,
  NestingTooDeepError,
  UnknownKeywordError,
  UnsupportedTransferSyntaxError,
} from './errors.js';
export {
  INFER_HEADER_BYTES,
  type InferredTransferSyntax,
  inferTransferSyntax,
} from './infer-transfer-syntax.js';
export {
  type BigNumberKeyword,
  type BinaryKeyword,
  type DecimalKeyword,
  type EmptyValue,
  fromKeywords,
  type Keyword,
  type KeywordAttributes,
  type KeywordDataSet,
  keyFormOf,
  type MixedKeyword,
  type NumberKeyword,
  type PersonNameKeyword,
  type Read as KeywordRead,
  type SequenceKeyword,
  type TextKeyword,
  toKeywords,
  type Values as KeywordValues,
} from './keywords.js';
export {
  createFileMetaInformation,
  DEFAULT_MAX_META_LENGTH,
  decodePart10,
  encodePart10,
  encodePart10Chunks,
  encodePart10Header,
  type FileMetaInformation,
  FileMetaTag,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
  openPart10File,
  type Part10File,
  type Part10Header,
  type ReadPart10Options,
  readPart10Header,
  readPart10Stream,
  writePart10File,
} from './part10.js';
export {
  formatTag,
  ItemTag,
  isGroupLengthTag,
  isPrivateCreatorTag,
  isPrivateTag,
  makeTag,
  PIXEL_DATA_TAG,
  parseTag,
  privateCreatorTagOf,
  SPECIFIC_CHARACTER_SET_TAG,
  type Tag,
  tagElement,
  tagGroup,
  tagToHex,
} from './tag.js';
export {
  lookupUid,
  lookupUidKeyword,
  TransferSyntax,
  type TransferSyntaxInfo,
  transferSyntaxInfo,
  type UidEntry,
  uidEntries,
} from './uid.js';
export {
  type DicomDate,
  type DicomDateTime,
  type DicomTime,
  formatDate,
  formatPersonName,
  formatTime,
  type PersonName,
  type PersonNameComponents,
  parseDate,
  parseDateTime,
  parsePersonName,
  parseTime,
  personNameComponents,
} from './values.js';
export {
  byteSwapUnit,
  hasLongHeader,
  isSingleValueText,
  isStringVr,
  isVr,
  padByte,
  unknownVrHasLongHeader,
  usesCharacterSet,
  VR,
  type Vr,
} from './vr.js';
