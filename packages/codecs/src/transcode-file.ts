/**
 * Transcoding a Part 10 file on disk to another, streamed: the output is
 * written beside its final path and renamed once complete, so a reader never
 * sees half a file.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type OffsetTable,
  type TranscodeInfo,
  type TranscodeOptions,
  transcode,
} from './transcode.js';

/**
 * Transcodes the Part 10 file `inputPath` to `outputPath` in
 * `options.transferSyntaxUid`, one frame at a time.
 *
 * @param inputPath - the file to read
 * @param outputPath - the file to write (replaced when it exists)
 * @param options - the target syntax, lossy permission, codecs
 * @returns what was done (new SOP Instance UID when lossy, frames)
 * @example
 * ```ts
 * await transcodeFile('ct.dcm', 'ct-jls.dcm', { transferSyntaxUid: '1.2.840.10008.1.2.4.80' });
 * ```
 */
export async function transcodeFile(
  inputPath: string,
  outputPath: string,
  options: TranscodeOptions,
): Promise<TranscodeInfo> {
  let info: TranscodeInfo | undefined;
  let table: OffsetTable | undefined;
  const tmp = `${outputPath}.${process.pid}.${Date.now().toString(36)}.tmp`;
  const chunks = transcode(createReadStream(inputPath, { highWaterMark: 1024 * 1024 }), {
    ...options,
    onHeader: (i) => {
      info = i;
      options.onHeader?.(i);
    },
    // A file can be written back: multi-frame output gets its Basic Offset Table.
    onOffsetTable: (t) => {
      table = t;
      options.onOffsetTable?.(t);
    },
  });
  try {
    await pipeline(Readable.from(chunks, { objectMode: false }), createWriteStream(tmp));
    if (table) {
      const value = new Uint8Array(4 * table.offsets.length);
      const dv = new DataView(value.buffer);
      for (const [i, o] of table.offsets.entries()) dv.setUint32(4 * i, o, true);
      const fh = await open(tmp, 'r+');
      try {
        await fh.write(value, 0, value.length, table.position);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await rename(tmp, outputPath);
  return info!;
}
