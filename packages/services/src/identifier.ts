import {
  type DataSet,
  type DicomJsonDataSet,
  decodeDataSet,
  encodeDataSet,
  type KeywordDataSet,
  toDicomJson,
} from '@dnet/dataset';
import { InvalidArgumentError } from './errors.js';
import { type DataSetInput, dataSetOf } from './keywords.js';

/** Query/Retrieve Level (0008,0052) values (PS3.4 §C.6). */
export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

/** Tag of Query/Retrieve Level (0008,0052) in DICOM JSON. */
export const QUERY_RETRIEVE_LEVEL = '00080052';

/**
 * A query, identifier or data set given by the user: the keyword form
 * (`{ PatientName: 'DOE^*', StudyInstanceUID: '' }`, typed from the
 * dictionary), DICOM JSON (PS3.18 Annex F) or a data set.
 */
export type Query = KeywordDataSet | DicomJsonDataSet | DataSet;

/**
 * Encodes a C-FIND/C-MOVE/C-GET Identifier (PS3.4 §C.4.1.1.3) in the
 * context's transfer syntax; `level` sets Query/Retrieve Level (0008,0052).
 */
export function encodeIdentifier(
  query: Query,
  transferSyntaxUid: string,
  level?: QueryLevel,
): Uint8Array {
  const ds = dataSetOf(query as DataSetInput);
  if (level) ds.setString('QueryRetrieveLevel', level, 'CS');
  return encodeDataSet(ds, transferSyntaxUid);
}

/** Decodes an Identifier received on a context. */
export function decodeIdentifier(bytes: Uint8Array, transferSyntaxUid: string): DataSet {
  return decodeDataSet(bytes, transferSyntaxUid);
}

/** An Identifier as DICOM JSON. */
export function identifierJson(dataSet: DataSet): DicomJsonDataSet {
  return toDicomJson(dataSet) as DicomJsonDataSet;
}

/** The Query/Retrieve Level of a JSON identifier, upper case, or undefined. */
export function levelOf(json: DicomJsonDataSet): string | undefined {
  const v = json[QUERY_RETRIEVE_LEVEL]?.Value?.[0];
  return typeof v === 'string' ? v.trim().toUpperCase() : undefined;
}

/** Largest Identifier read into memory (C-FIND/C-MOVE/C-GET requests and responses): 1 MiB. See LIMITS.md. */
export const DEFAULT_MAX_IDENTIFIER_LENGTH = 1024 * 1024;

/**
 * Reads a small data set (an Identifier) into one buffer, refusing more than
 * `max` bytes: the rest is dropped (the stream is left early, so the
 * association discards it) and an {@link InvalidArgumentError} is thrown.
 */
export async function readIdentifierBytes(
  dataSet: AsyncIterable<Uint8Array>,
  max = DEFAULT_MAX_IDENTIFIER_LENGTH,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of dataSet) {
    length += chunk.length;
    if (length > max) throw new InvalidArgumentError(`identifier longer than ${max} bytes`);
    parts.push(chunk);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
