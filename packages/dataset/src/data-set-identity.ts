/**
 * The identity of a composite instance, SOP Class UID (0008,0016) and SOP
 * Instance UID (0008,0018), read from the start of its data set: the data set
 * is authoritative; the File Meta Information's copies (0002,0002) and
 * (0002,0003) only describe it (PS3.10 §7.1) and go stale when a data set is
 * edited (anonymized) without its meta group.
 */
import { constants, inflateRawSync } from 'node:zlib';
import { decodeElements } from './decode.js';
import type { Part10Header } from './part10.js';
import { transferSyntaxInfo } from './uid.js';
import { hasLongHeader, isVr } from './vr.js';

/** Bytes of a data set's start {@link dataSetIdentity} needs at most in the usual case: 64 KiB. */
export const IDENTITY_HEAD_BYTES = 64 * 1024;
/** Deflated bytes inflated to find the identity, and the most they may inflate to. */
const DEFLATED_HEAD_BYTES = 16 * 1024;
const MAX_INFLATED_HEAD = 16 * 1024 * 1024;
/** Decoding stops before the first top-level element past (0008,0018). */
const AFTER_SOP_INSTANCE_UID = 0x00080019;
/** SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) as numbers. */
const SOP_CLASS_UID = 0x00080016;
const SOP_INSTANCE_UID = 0x00080018;

/** SOP Class and Instance UIDs found in a data set (undefined when absent or not within the bytes given). */
export interface SopUids {
  /** SOP Class UID (0008,0016). */
  sopClassUid: string | undefined;
  /** SOP Instance UID (0008,0018). */
  sopInstanceUid: string | undefined;
}

/**
 * Reads SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) from the
 * start of an encoded data set: top-level elements are decoded up to
 * (0008,0018) only (a few hundred bytes in practice), so `head` may be the
 * first {@link IDENTITY_HEAD_BYTES} of a large data set. A deflated data set's
 * start is inflated (bounded). Bytes that cannot be read give undefined UIDs,
 * never an error: completeness is checked elsewhere.
 *
 * @param head - the data set's first bytes (or all of them)
 * @param transferSyntaxUid - its transfer syntax
 */
export function readSopUids(head: Uint8Array, transferSyntaxUid: string): SopUids {
  const none: SopUids = { sopClassUid: undefined, sopInstanceUid: undefined };
  let ts: ReturnType<typeof transferSyntaxInfo>;
  try {
    ts = transferSyntaxInfo(transferSyntaxUid);
  } catch {
    return none;
  }
  let bytes = head;
  if (ts.deflated) {
    try {
      // PS3.5 §A.5: raw deflate; a sync flush yields what the given start inflates to.
      const out = inflateRawSync(head.subarray(0, DEFLATED_HEAD_BYTES), {
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_INFLATED_HEAD,
      });
      bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch {
      return none;
    }
  }
  const scanned = scanSopUids(bytes, ts.explicitVr, ts.littleEndian);
  if (scanned) return scanned;
  try {
    const { dataSet } = decodeElements(
      bytes,
      { explicit: ts.explicitVr, littleEndian: ts.littleEndian },
      { stopAtTag: AFTER_SOP_INSTANCE_UID },
    );
    return {
      sopClassUid: dataSet.uid('SOPClassUID') || undefined,
      sopInstanceUid: dataSet.uid('SOPInstanceUID') || undefined,
    };
  } catch {
    return none;
  }
}

/** The identity a data set is sent under, and what disagreed on the way. */
export interface DataSetIdentity {
  /** SOP Class UID: the data set's, else the meta header's; empty when neither has one. */
  sopClassUid: string;
  /** SOP Instance UID: the data set's, else the meta header's; empty when neither has one. */
  sopInstanceUid: string;
  /** Each disagreement or fallback, in words (a warning for the user, not a refusal). */
  warnings: string[];
}

/**
 * The SOP Class and Instance UIDs to send a file's data set under: the data
 * set's own (0008,0016)/(0008,0018), which a receiver stores and answers for;
 * a File Meta Information that disagrees (PS3.10 §7.1 makes (0002,0002) and
 * (0002,0003) copies of them) gives a warning, as does a data set without
 * them whose meta header has them (those are used then).
 *
 * @param header - the file's Part 10 header (`fileMetaPresent` false for a bare data set)
 * @param head - the data set's first bytes (see {@link readSopUids})
 */
export function dataSetIdentity(header: Part10Header, head: Uint8Array): DataSetIdentity {
  const found = readSopUids(head, header.transferSyntaxUid);
  const meta = header.fileMetaInformation;
  const warnings: string[] = [];
  const pick = (
    fromDataSet: string | undefined,
    fromMeta: string,
    dataSetTag: string,
    metaTag: string,
  ): string => {
    if (fromDataSet !== undefined) {
      if (header.fileMetaPresent && fromMeta !== '' && fromMeta !== fromDataSet) {
        warnings.push(
          `${metaTag} in the meta header is ${fromMeta} but the data set's ${dataSetTag} is ${fromDataSet}; the data set's is used (PS3.10 7.1)`,
        );
      }
      return fromDataSet;
    }
    if (fromMeta !== '') {
      warnings.push(
        `the start of the data set has no ${dataSetTag}; the meta header's ${metaTag} ${fromMeta} is used`,
      );
    }
    return fromMeta;
  };
  const sopClassUid = pick(
    found.sopClassUid,
    meta.mediaStorageSopClassUid,
    '(0008,0016) SOP Class UID',
    '(0002,0002) Media Storage SOP Class UID',
  );
  const sopInstanceUid = pick(
    found.sopInstanceUid,
    meta.mediaStorageSopInstanceUid,
    '(0008,0018) SOP Instance UID',
    '(0002,0003) Media Storage SOP Instance UID',
  );
  return { sopClassUid, sopInstanceUid, warnings };
}

/**
 * The two UIDs read straight from the element headers, without building a
 * data set: a sender reads them for every file it sends. Top-level elements
 * before (0008,0019) are walked (PS3.5 §7.1.2 explicit, §7.1.3 implicit VR);
 * undefined when the walk meets what only the full decoder handles (an
 * undefined length, an unknown VR, a value cut short), so that the caller
 * falls back to it.
 */
function scanSopUids(
  bytes: Uint8Array,
  explicit: boolean,
  littleEndian: boolean,
): SopUids | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let sopClassUid: string | undefined;
  let sopInstanceUid: string | undefined;
  let off = 0;
  while (off + 8 <= bytes.length) {
    const tag = dv.getUint16(off, littleEndian) * 0x10000 + dv.getUint16(off + 2, littleEndian);
    if (tag >= AFTER_SOP_INSTANCE_UID) break;
    let length: number;
    let header = 8;
    if (explicit) {
      const vr = String.fromCharCode(bytes[off + 4]!, bytes[off + 5]!);
      if (!isVr(vr)) return undefined;
      if (hasLongHeader(vr)) {
        if (off + 12 > bytes.length) return undefined;
        length = dv.getUint32(off + 8, littleEndian);
        header = 12;
      } else {
        length = dv.getUint16(off + 6, littleEndian);
      }
    } else {
      length = dv.getUint32(off + 4, littleEndian);
    }
    if (length === 0xffffffff || off + header + length > bytes.length) return undefined;
    if (tag === SOP_CLASS_UID || tag === SOP_INSTANCE_UID) {
      const uid = uidText(bytes.subarray(off + header, off + header + length));
      if (tag === SOP_CLASS_UID) sopClassUid = uid;
      else sopInstanceUid = uid;
    }
    off += header + length;
  }
  return { sopClassUid, sopInstanceUid };
}

/** A UI value as text: its NUL or space padding removed (PS3.5 §9.1); undefined when empty. */
function uidText(value: Uint8Array): string | undefined {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0 || value[end - 1] === 0x20)) end--;
  let text = '';
  for (let i = 0; i < end; i++) text += String.fromCharCode(value[i]!);
  return text || undefined;
}
