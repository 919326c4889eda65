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

/** Bytes of a data set's start {@link dataSetIdentity} needs at most in the usual case: 64 KiB. */
export const IDENTITY_HEAD_BYTES = 64 * 1024;
/** Deflated bytes inflated to find the identity, and the most they may inflate to. */
const DEFLATED_HEAD_BYTES = 16 * 1024;
const MAX_INFLATED_HEAD = 16 * 1024 * 1024;
/** Decoding stops before the first top-level element past (0008,0018). */
const AFTER_SOP_INSTANCE_UID = 0x00080019;

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
