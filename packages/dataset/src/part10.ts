/**
 * DICOM files (PS3.10 §7): the 128-byte preamble, the `DICM` prefix and the File
 * Meta Information (group 0002, always Explicit VR Little Endian), then the data
 * set in the transfer syntax named by (0002,0010).
 *
 * Reading parses the meta group only and hands the data set on as bytes from its
 * offset, so the cost of opening a file does not depend on its size.
 */
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { DataSet } from './data-set.js';
import { type DecodeOptions, decodeDataSet, decodeElements } from './decode.js';
import { concatChunks, encodeDataSet, encodeDataSetChunks } from './encode.js';
import { DatasetError, InvalidPart10Error } from './errors.js';
import { GatheredWriter } from './gathered-writer.js';
import { inferTransferSyntax } from './infer-transfer-syntax.js';
import { formatTag } from './tag.js';
import { hasLongHeader, isVr } from './vr.js';

/**
 * dnet's one Implementation Class UID, a UUID-derived UID (PS3.5 §B.2): sent
 * in the A-ASSOCIATE user information (PS3.7 Annex D.3.3.2; `@dnet/association`
 * imports it from here) and written as (0002,0012) in the File Meta
 * Information of the Part 10 files dnet writes (PS3.10 §7.1).
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.190436787372385640133367375617683411987';
/**
 * dnet's one Implementation Version Name (PS3.7 Annex D.3.3.2, 16 characters
 * at most): the association's and the (0002,0013) of the files it writes.
 */
export const IMPLEMENTATION_VERSION_NAME = 'DNET_0';

/** Byte offset of the `DICM` prefix (PS3.10 §7.1). */
const PREFIX_OFFSET = 128;
/** Byte offset of the first meta element. */
const META_OFFSET = 132;
/** Default for {@link ReadPart10Options.maxMetaLength}: 64 KiB. */
export const DEFAULT_MAX_META_LENGTH = 64 * 1024;

/** Tags of the File Meta Information (PS3.10 §7.1, Table 7.1-1). */
export const FileMetaTag = {
  /** (0002,0000) File Meta Information Group Length, UL. */
  GroupLength: 0x00020000,
  /** (0002,0001) File Meta Information Version, OB `00\01`. */
  Version: 0x00020001,
  /** (0002,0002) Media Storage SOP Class UID. */
  MediaStorageSopClassUid: 0x00020002,
  /** (0002,0003) Media Storage SOP Instance UID. */
  MediaStorageSopInstanceUid: 0x00020003,
  /** (0002,0010) Transfer Syntax UID of the data set. */
  TransferSyntaxUid: 0x00020010,
  /** (0002,0012) Implementation Class UID. */
  ImplementationClassUid: 0x00020012,
  /** (0002,0013) Implementation Version Name. */
  ImplementationVersionName: 0x00020013,
  /** (0002,0016) Source Application Entity Title. */
  SourceApplicationEntityTitle: 0x00020016,
} as const;

/** The File Meta Information as plain fields (PS3.10 Table 7.1-1). */
export interface FileMetaInformation {
  /** (0002,0002) the SOP Class of the data set. */
  mediaStorageSopClassUid: string;
  /** (0002,0003) the SOP Instance of the data set. */
  mediaStorageSopInstanceUid: string;
  /** (0002,0010) the transfer syntax of the data set. */
  transferSyntaxUid: string;
  /** (0002,0012) who wrote the file; defaults to dnet's. */
  implementationClassUid?: string;
  /** (0002,0013) who wrote the file; defaults to dnet's. */
  implementationVersionName?: string;
  /** (0002,0016) the AE that sent or wrote the data set. */
  sourceApplicationEntityTitle?: string;
}

/** What reading a Part 10 header gives. */
export interface Part10Header {
  /** The 128-byte preamble. */
  preamble: Uint8Array;
  /** The File Meta Information elements (group 0002). */
  meta: DataSet;
  /** The meta information as plain fields. */
  fileMetaInformation: FileMetaInformation;
  /** The transfer syntax of the data set, (0002,0010). */
  transferSyntaxUid: string;
  /** The byte offset of the data set in the file. */
  dataSetOffset: number;
  /**
   * False for a bare data set read with `allowRawDataSet` (no preamble,
   * prefix or meta group; `meta` is empty and `transferSyntaxUid` inferred).
   */
  fileMetaPresent: boolean;
  /** Deviations from PS3.10 §7.1 found when `strict` is false. */
  problems: string[];
}

/** Options of the Part 10 readers. */
export interface ReadPart10Options {
  /** Throw on any deviation of the meta group from PS3.10 §7.1 (default true). */
  strict?: boolean;
  /** The largest File Meta Information accepted, in bytes. Default 64 KiB. */
  maxMetaLength?: number;
  /**
   * Accept a bare data set without preamble and meta group (as DCMTK reads
   * one): its transfer syntax is inferred from the first element
   * ({@link inferTransferSyntax}), the header has an empty meta group,
   * `fileMetaPresent` false, offset 0 and a problem noted. Default false.
   */
  allowRawDataSet?: boolean;
}

function hasPrefix(bytes: Uint8Array): boolean {
  return (
    bytes[PREFIX_OFFSET] === 0x44 &&
    bytes[PREFIX_OFFSET + 1] === 0x49 &&
    bytes[PREFIX_OFFSET + 2] === 0x43 &&
    bytes[PREFIX_OFFSET + 3] === 0x4d
  );
}

/**
 * The header of a bare data set (no preamble, prefix or meta group): its
 * transfer syntax inferred from its first element ({@link inferTransferSyntax}).
 */
function rawHeader(bytes: Uint8Array): Part10Header {
  const ts = inferTransferSyntax(bytes).transferSyntaxUid;
  return {
    preamble: new Uint8Array(PREFIX_OFFSET),
    meta: new DataSet(),
    fileMetaInformation: {
      mediaStorageSopClassUid: '',
      mediaStorageSopInstanceUid: '',
      transferSyntaxUid: ts,
    },
    transferSyntaxUid: ts,
    dataSetOffset: 0,
    fileMetaPresent: false,
    problems: [`no Part 10 header (PS3.10 7.1): a bare data set, read as ${ts}`],
  };
}

type Attempt = { header: Part10Header } | { need: number };

/**
 * Finds the end of the meta group in `bytes` (explicit VR LE elements of group
 * 0002 after the prefix); asks for more bytes when they are cut short.
 */
function tryParseHeader(bytes: Uint8Array, options: ReadPart10Options, eof: boolean): Attempt {
  const max = options.maxMetaLength ?? DEFAULT_MAX_META_LENGTH;
  if (bytes.length < META_OFFSET + 8) {
    if (eof) {
      if (options.allowRawDataSet && bytes.length >= 8) return { header: rawHeader(bytes) };
      throw new InvalidPart10Error(`file of ${bytes.length} bytes is too short (PS3.10 7.1)`);
    }
    return { need: META_OFFSET + 12 };
  }
  if (!hasPrefix(bytes)) {
    if (options.allowRawDataSet) return { header: rawHeader(bytes) };
    throw new InvalidPart10Error('no "DICM" prefix at byte 128 (PS3.10 7.1)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = META_OFFSET;
  for (;;) {
    if (off - META_OFFSET > max) {
      throw new InvalidPart10Error(`File Meta Information longer than ${max} bytes`);
    }
    if (bytes.length - off < 8) {
      if (eof) break;
      return { need: off + 12 };
    }
    const group = dv.getUint16(off, true);
    if (group !== 0x0002) break;
    const vr = String.fromCharCode(bytes[off + 4]!, bytes[off + 5]!);
    if (!isVr(vr)) {
      throw new InvalidPart10Error(
        `meta element at ${off} has no explicit VR (PS3.10 7.1: Explicit VR Little Endian)`,
        { offset: off },
      );
    }
    let len: number;
    let h: number;
    if (hasLongHeader(vr)) {
      if (bytes.length - off < 12) {
        if (eof) throw new InvalidPart10Error('truncated File Meta Information', { offset: off });
        return { need: off + 12 };
      }
      len = dv.getUint32(off + 8, true);
      h = 12;
    } else {
      len = dv.getUint16(off + 6, true);
      h = 8;
    }
    if (len === 0xffffffff || len > max) {
      throw new InvalidPart10Error(`meta element length ${len} is not acceptable`, { offset: off });
    }
    if (bytes.length - off < h + len) {
      if (eof) throw new InvalidPart10Error('truncated File Meta Information', { offset: off });
      return { need: off + h + len + 12 };
    }
    off += h + len;
  }
  const metaEnd = off;
  let meta: DataSet;
  try {
    meta = decodeElements(
      bytes.subarray(META_OFFSET, metaEnd),
      {
        explicit: true,
        littleEndian: true,
      },
      { copyValues: true },
    ).dataSet;
  } catch (e) {
    throw new InvalidPart10Error('File Meta Information cannot be decoded', {
      cause: e,
      tag: e instanceof DatasetError ? e.tag : undefined,
    });
  }
  return { header: validate(bytes.slice(0, PREFIX_OFFSET), meta, metaEnd, options) };
}

function validate(
  preamble: Uint8Array,
  meta: DataSet,
  metaEnd: number,
  options: ReadPart10Options,
): Part10Header {
  const problems: string[] = [];
  const groupLength = meta.number(FileMetaTag.GroupLength);
  if (groupLength === undefined) {
    problems.push('(0002,0000) File Meta Information Group Length is missing (PS3.10 7.1)');
  } else if (groupLength !== metaEnd - META_OFFSET - 12) {
    problems.push(
      `(0002,0000) group length ${groupLength} differs from the ${metaEnd - META_OFFSET - 12} bytes that follow it (PS3.10 7.1)`,
    );
  }
  // Each UID decoded once (a store sender reads this header for every file).
  const sopClassUid = meta.uid(FileMetaTag.MediaStorageSopClassUid) ?? '';
  const sopInstanceUid = meta.uid(FileMetaTag.MediaStorageSopInstanceUid) ?? '';
  const transferSyntaxUid = meta.uid(FileMetaTag.TransferSyntaxUid) ?? '';
  const icu = meta.uid(FileMetaTag.ImplementationClassUid) ?? '';
  const required: [number, string][] = [
    [FileMetaTag.MediaStorageSopClassUid, sopClassUid],
    [FileMetaTag.MediaStorageSopInstanceUid, sopInstanceUid],
    [FileMetaTag.TransferSyntaxUid, transferSyntaxUid],
    [FileMetaTag.ImplementationClassUid, icu],
  ];
  for (const [tag, value] of required) {
    if (!value) problems.push(`${formatTag(tag)} is missing or empty (PS3.10 7.1, Type 1)`);
  }
  if (transferSyntaxUid !== '' && !/^[0-9]+(\.[0-9]+)*$/.test(transferSyntaxUid)) {
    problems.push(`(0002,0010) "${transferSyntaxUid}" is not a UID (PS3.5 9.1)`);
  }
  if (transferSyntaxUid === '' || (problems.length > 0 && options.strict !== false)) {
    throw new InvalidPart10Error(`invalid File Meta Information: ${problems.join('; ')}`);
  }
  const fmi: FileMetaInformation = {
    mediaStorageSopClassUid: sopClassUid,
    mediaStorageSopInstanceUid: sopInstanceUid,
    transferSyntaxUid,
  };
  if (icu) fmi.implementationClassUid = icu;
  const ivn = meta.string(FileMetaTag.ImplementationVersionName);
  if (ivn) fmi.implementationVersionName = ivn;
  const ae = meta.string(FileMetaTag.SourceApplicationEntityTitle);
  if (ae) fmi.sourceApplicationEntityTitle = ae;
  return {
    preamble,
    meta,
    fileMetaInformation: fmi,
    transferSyntaxUid,
    dataSetOffset: metaEnd,
    fileMetaPresent: true,
    problems,
  };
}

/**
 * Reads the Part 10 header from the bytes of a whole file (or its start).
 *
 * @param bytes - the file's bytes
 * @param options - strictness and limits
 * @throws InvalidPart10Error
 */
export function readPart10Header(bytes: Uint8Array, options: ReadPart10Options = {}): Part10Header {
  const r = tryParseHeader(bytes, options, true);
  if ('header' in r) return r.header;
  throw new InvalidPart10Error('truncated File Meta Information');
}

/**
 * Reads a whole Part 10 file held in memory: header and decoded data set.
 *
 * @param bytes - the file's bytes
 * @param options - Part 10 and decoding options
 */
export function decodePart10(
  bytes: Uint8Array,
  options: ReadPart10Options & DecodeOptions = {},
): { header: Part10Header; dataSet: DataSet } {
  const header = readPart10Header(bytes, options);
  const dataSet = decodeDataSet(
    bytes.subarray(header.dataSetOffset),
    header.transferSyntaxUid,
    options,
  );
  return { header, dataSet };
}

/** A Part 10 file opened by {@link openPart10File}: header read, data set not parsed. */
export interface Part10File extends Part10Header {
  /** The file path. */
  readonly path: string;
  /** The file size in bytes. */
  readonly size: number;
  /** The data set's length in bytes (`size - dataSetOffset`). */
  readonly dataSetLength: number;
  /**
   * Streams the data set's bytes from {@link Part10Header.dataSetOffset}
   * without parsing them (a Node readable of `Uint8Array` chunks).
   *
   * @param options - the chunk size (`highWaterMark`) in bytes
   */
  dataSetStream(options?: { highWaterMark?: number }): Readable;
  /** Reads and decodes the data set. @param options - decoding options */
  readDataSet(options?: DecodeOptions): Promise<DataSet>;
}

/**
 * Opens a Part 10 file: reads the preamble and the meta group only (a few KiB,
 * whatever the file's size) and returns the header with ways to stream or
 * decode the data set.
 *
 * @param path - the file path
 * @param options - strictness and limits
 * @throws InvalidPart10Error
 */
export async function openPart10File(
  path: string,
  options: ReadPart10Options = {},
): Promise<Part10File> {
  const fh = await open(path, 'r');
  let header: Part10Header;
  let size: number;
  try {
    size = (await fh.stat()).size;
    let want = 4096;
    for (;;) {
      const n = Math.min(want, size);
      const buf = new Uint8Array(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      const r = tryParseHeader(buf.subarray(0, bytesRead), options, bytesRead >= size);
      if ('header' in r) {
        header = r.header;
        break;
      }
      want = Math.max(r.need, want * 2);
    }
  } finally {
    await fh.close();
  }
  const { dataSetOffset } = header;
  return {
    ...header,
    path,
    size,
    dataSetLength: size - dataSetOffset,
    dataSetStream: (o = {}) =>
      createReadStream(path, { start: dataSetOffset, highWaterMark: o.highWaterMark ?? 64 * 1024 }),
    readDataSet: async (o = {}) => {
      // One allocation of the known size, filled in place.
      const bytes = new Uint8Array(size - dataSetOffset);
      const f = await open(path, 'r');
      try {
        let at = 0;
        while (at < bytes.length) {
          const { bytesRead } = await f.read(bytes, at, bytes.length - at, dataSetOffset + at);
          if (bytesRead === 0) break;
          at += bytesRead;
        }
        return decodeDataSet(bytes.subarray(0, at), header.transferSyntaxUid, o);
      } finally {
        await f.close();
      }
    },
  };
}

/**
 * Reads the Part 10 header from a stream and hands on the rest of the stream,
 * the data set's bytes, without parsing them.
 *
 * @param source - the file's bytes as chunks
 * @param options - strictness and limits
 * @throws InvalidPart10Error
 */
export async function readPart10Stream(
  source: AsyncIterable<Uint8Array>,
  options: ReadPart10Options = {},
): Promise<{ header: Part10Header; dataSet: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let have = 0;
  let eof = false;
  let need = META_OFFSET + 12;
  for (;;) {
    while (have < need && !eof) {
      const r = await it.next();
      if (r.done) eof = true;
      else {
        chunks.push(r.value);
        have += r.value.length;
      }
    }
    const bytes = concatChunks(chunks);
    chunks.length = 0;
    chunks.push(bytes);
    const r = tryParseHeader(bytes, options, eof);
    if ('header' in r) {
      const leftover = bytes.subarray(r.header.dataSetOffset);
      async function* rest(): AsyncGenerator<Uint8Array> {
        if (leftover.length > 0) yield leftover;
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield n.value;
        }
      }
      return { header: r.header, dataSet: rest() };
    }
    need = Math.max(r.need, have + 1);
  }
}

/**
 * Builds the File Meta Information data set (PS3.10 §7.1).
 *
 * @param info - the fields; implementation UID and version default to dnet's
 */
export function createFileMetaInformation(info: FileMetaInformation): DataSet {
  const meta = new DataSet();
  meta.setBytes(FileMetaTag.Version, new Uint8Array([0x00, 0x01]), 'OB');
  meta.setString(FileMetaTag.MediaStorageSopClassUid, info.mediaStorageSopClassUid, 'UI');
  meta.setString(FileMetaTag.MediaStorageSopInstanceUid, info.mediaStorageSopInstanceUid, 'UI');
  meta.setString(FileMetaTag.TransferSyntaxUid, info.transferSyntaxUid, 'UI');
  meta.setString(
    FileMetaTag.ImplementationClassUid,
    info.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
    'UI',
  );
  meta.setString(
    FileMetaTag.ImplementationVersionName,
    info.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
    'SH',
  );
  if (info.sourceApplicationEntityTitle) {
    meta.setString(
      FileMetaTag.SourceApplicationEntityTitle,
      info.sourceApplicationEntityTitle,
      'AE',
    );
  }
  return meta;
}

/**
 * Encodes the preamble, prefix and File Meta Information, with the group length
 * (0002,0000) computed (PS3.10 §7.1).
 *
 * @param meta - the meta data set or fields
 * @param preamble - 128 bytes; zeros by default
 */
export function encodePart10Header(
  meta: DataSet | FileMetaInformation,
  preamble?: Uint8Array,
): Uint8Array {
  const ds = meta instanceof DataSet ? meta.clone() : createFileMetaInformation(meta);
  ds.delete(FileMetaTag.GroupLength);
  for (const tag of ds.tags()) {
    if (tag >>> 16 !== 0x0002) ds.delete(tag);
  }
  const body = encodeDataSet(ds, '1.2.840.10008.1.2.1');
  const out = new Uint8Array(META_OFFSET + 12 + body.length);
  if (preamble) out.set(preamble.subarray(0, PREFIX_OFFSET));
  out.set([0x44, 0x49, 0x43, 0x4d], PREFIX_OFFSET);
  const dv = new DataView(out.buffer);
  // (0002,0000) UL, explicit VR LE: tag, "UL", 16-bit length 4, value.
  dv.setUint16(META_OFFSET, 0x0002, true);
  dv.setUint16(META_OFFSET + 2, 0x0000, true);
  out[META_OFFSET + 4] = 0x55;
  out[META_OFFSET + 5] = 0x4c;
  dv.setUint16(META_OFFSET + 6, 4, true);
  dv.setUint32(META_OFFSET + 8, body.length, true);
  out.set(body, META_OFFSET + 12);
  return out;
}

/** The meta fields for a data set: SOP Class and Instance taken from the data set itself. */
function metaFor(
  dataSet: DataSet,
  meta: Partial<FileMetaInformation> & { transferSyntaxUid: string },
): FileMetaInformation {
  return {
    ...meta,
    mediaStorageSopClassUid: meta.mediaStorageSopClassUid ?? dataSet.uid('SOPClassUID') ?? '',
    mediaStorageSopInstanceUid:
      meta.mediaStorageSopInstanceUid ?? dataSet.uid('SOPInstanceUID') ?? '',
  };
}

/**
 * Encodes a whole Part 10 file as chunks (header, then the data set's chunks).
 *
 * @param dataSet - the data set
 * @param meta - at least the transfer syntax; SOP Class and Instance default to the data set's
 */
export function encodePart10Chunks(
  dataSet: DataSet,
  meta: Partial<FileMetaInformation> & { transferSyntaxUid: string },
): Uint8Array[] {
  const fmi = metaFor(dataSet, meta);
  return [encodePart10Header(fmi), ...encodeDataSetChunks(dataSet, fmi.transferSyntaxUid)];
}

/**
 * Encodes a whole Part 10 file.
 *
 * @param dataSet - the data set
 * @param meta - at least the transfer syntax; SOP Class and Instance default to the data set's
 */
export function encodePart10(
  dataSet: DataSet,
  meta: Partial<FileMetaInformation> & { transferSyntaxUid: string },
): Uint8Array {
  return concatChunks(encodePart10Chunks(dataSet, meta));
}

/**
 * Writes a Part 10 file from meta information and a data set, given either as a
 * `DataSet` or as its encoded bytes (one array or a stream of chunks, which must
 * already be in the meta's transfer syntax). The file is written beside its
 * final path, flushed to disk, then renamed (and the folder flushed), so a
 * reader never sees half a file. Chunks are written gathered (`writev`, a few
 * MiB a call), so a data set of many small chunks costs few system calls; a
 * chunk of a stream must not be changed by its producer once handed over.
 *
 * @param path - the file to write
 * @param meta - the File Meta Information (data set or fields)
 * @param dataSet - the data set, or its bytes
 */
export async function writePart10File(
  path: string,
  meta: DataSet | FileMetaInformation,
  dataSet: DataSet | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  const transferSyntaxUid =
    meta instanceof DataSet
      ? (meta.uid(FileMetaTag.TransferSyntaxUid) ?? '')
      : meta.transferSyntaxUid;
  const head =
    meta instanceof DataSet || !(dataSet instanceof DataSet)
      ? encodePart10Header(meta)
      : encodePart10Header(metaFor(dataSet, meta));
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    // Gathered writes: one writev per batch of chunks, not one write per chunk.
    const out = new GatheredWriter(fh);
    await out.add(head);
    if (dataSet instanceof DataSet) {
      for (const c of encodeDataSetChunks(dataSet, transferSyntaxUid)) await out.add(c);
    } else if (dataSet instanceof Uint8Array) {
      await out.add(dataSet);
    } else {
      for await (const c of dataSet as AsyncIterable<Uint8Array>) await out.add(c);
    }
    await out.flush();
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  // Make the rename itself durable; some platforms cannot fsync a folder.
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // best effort
  }
}
