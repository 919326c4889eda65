import { constants, inflateRawSync } from 'node:zlib';
import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';
import {
  concatChunks,
  type DataSet,
  decodeElements,
  PIXEL_DATA_TAG,
  toDicomJson,
  transferSyntaxInfo,
} from '@dnet/dataset';
import { UnreadableDataSetError } from './errors.js';

/**
 * Where decoding of the head stops to place an object: just after Series
 * Instance UID (0020,000E), the last of the three UIDs of PS3.3 §C.7.2-3,
 * §C.12.1 in tag order.
 */
export const PLACEMENT_STOP_TAG = 0x0020000f;

/** Bytes of a data set's beginning kept for indexing (default 1 MiB); see LIMITS.md. */
export const DEFAULT_MAX_HEAD_BYTES = 1024 * 1024;

/** Value representations left out of index records: bulk data (PS3.5 §6.2). */
const BULK_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

/** The most a deflated head may inflate to: the elements that place and index an object fit well within. */
export const MAX_INFLATED_HEAD = 4 * 1024 * 1024;

/**
 * Inflates the start of a deflated data set (PS3.5 §A.5) without ever producing
 * more than {@link MAX_INFLATED_HEAD} bytes, whatever the ratio (a deflate bomb):
 * longer and longer prefixes of the compressed bytes are inflated, and the last
 * one that stays under the cap is kept. Deflate expands at most about 1032:1, so
 * the first 2 KiB prefix always fits.
 */
function inflateHead(head: Uint8Array): Uint8Array {
  let kept: Uint8Array = new Uint8Array(0);
  for (let n = Math.min(head.length, 2048); ; n = Math.min(head.length, n * 4)) {
    try {
      // A prefix of a deflate stream inflates as far as it goes with a sync flush.
      const out = inflateRawSync(head.subarray(0, n), {
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_INFLATED_HEAD,
      });
      kept = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (cause) {
      if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return kept;
      throw new UnreadableDataSetError('the deflated data set does not inflate (PS3.5 §A.5)', {
        cause,
      });
    }
    if (n >= head.length) return kept;
  }
}

/**
 * Decodes the top-level elements of a data set's first bytes that are
 * complete, up to (not including) `stopAtTag`. Returns `undefined` while more
 * bytes are needed: an element is cut, or (unless `complete`) no element at or
 * after `stopAtTag` was reached. A deflated syntax (PS3.5 §A.5) is inflated
 * as far as the bytes go.
 *
 * @param head - the data set's first bytes
 * @param transferSyntaxUid - its transfer syntax
 * @param stopAtTag - the first tag not wanted
 * @param complete - whether `head` is the whole data set
 * @throws UnreadableDataSetError when the bytes are not a data set in that syntax
 */
export function decodeHead(
  head: Uint8Array,
  transferSyntaxUid: string,
  stopAtTag: number,
  complete: boolean,
): DataSet | undefined {
  let ts: ReturnType<typeof transferSyntaxInfo>;
  try {
    ts = transferSyntaxInfo(transferSyntaxUid);
  } catch (cause) {
    throw new UnreadableDataSetError(`unknown transfer syntax ${transferSyntaxUid}`, { cause });
  }
  let bytes = head;
  if (ts.deflated) {
    bytes = inflateHead(head);
  }
  const encoding = { explicit: ts.explicitVr, littleEndian: ts.littleEndian };
  try {
    const { dataSet, offset } = decodeElements(bytes, encoding, { stopAtTag });
    if (!complete && offset >= bytes.length) return undefined;
    return dataSet;
  } catch (cause) {
    if (complete) {
      throw new UnreadableDataSetError(
        `the data set cannot be decoded: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return undefined;
  }
}

/**
 * Decodes as much of a data set's beginning as is complete, Pixel Data
 * (7FE0,0010) and what follows left out. When `head` is a cut prefix the
 * last complete top-level element is found by bisecting the stop tag (the
 * top-level tags ascend, PS3.5 §7.1).
 *
 * @param head - the data set's first bytes
 * @param transferSyntaxUid - its transfer syntax
 * @param complete - whether `head` is the whole data set
 */
export function decodeIndexable(
  head: Uint8Array,
  transferSyntaxUid: string,
  complete: boolean,
): DataSet {
  const whole = decodeHead(head, transferSyntaxUid, PIXEL_DATA_TAG, complete);
  if (whole) return whole;
  let good = PLACEMENT_STOP_TAG;
  let best = decodeHead(head, transferSyntaxUid, good, true);
  let bad = PIXEL_DATA_TAG;
  while (bad - good > 1) {
    const mid = good + Math.floor((bad - good) / 2);
    let ds: DataSet | undefined;
    try {
      ds = decodeHead(head, transferSyntaxUid, mid, true);
    } catch {
      ds = undefined;
    }
    if (ds) {
      good = mid;
      best = ds;
    } else bad = mid;
  }
  if (!best) throw new UnreadableDataSetError('the data set head cannot be decoded');
  return best;
}

function stripBulk(json: DicomJsonDataSet): DicomJsonDataSet {
  const out: DicomJsonDataSet = {};
  for (const [tag, attribute] of Object.entries(json)) {
    if (BULK_VRS.has(attribute.vr)) continue;
    if (attribute.vr === 'SQ' && Array.isArray(attribute.Value)) {
      out[tag] = {
        vr: 'SQ',
        Value: (attribute.Value as DicomJsonDataSet[]).map(stripBulk),
      } as DicomJsonAttribute;
    } else out[tag] = attribute;
  }
  return out;
}

/**
 * The attributes an index record keeps (DICOM JSON, PS3.18 Annex F): every
 * decoded element but bulk data (OB, OW, UN... values and Pixel Data).
 *
 * @param dataSet - the decoded head of the data set
 */
export function indexAttributes(dataSet: DataSet): DicomJsonDataSet {
  return stripBulk(toDicomJson(dataSet) as DicomJsonDataSet);
}

/** Joins the chunks kept so far (a view when there is one). */
export function joinHead(chunks: readonly Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : concatChunks([...chunks]);
}
