/**
 * Encodes one frame with the lossless process of ITU-T T.81 Annex H (Process 14,
 * SOF3): predictor `Ss` 1 to 7, point transform 0, Huffman coding with one table
 * per frame made optimal for the frame's differences (Annex K.2).
 */

import { UnsupportedJpegError } from './errors.js';
import { buildEncodeTable, optimalHuffmanSpec } from './huffman.js';
import { Marker } from './jpeg-reader.js';
import { category, dhtBody, JpegWriter, sofBody, sosBody } from './jpeg-writer.js';
import { predict } from './prediction.js';

/** What {@link encodeLossless} encodes: planes of unsigned `precision`-bit samples. */
export interface LosslessInput {
  /** One plane per component, `rows * columns` samples each, every sample below 2^precision. */
  readonly planes: readonly Uint16Array[];
  readonly rows: number;
  readonly columns: number;
  /** P: 2 to 16 bits (H.1.1). */
  readonly precision: number;
  /** The selection value Ss: predictor 1 to 7 (T.81 Table H.1). */
  readonly predictor: number;
  /**
   * Lines per restart interval (T.81 B.2.4.4, H.1.2.1: the interval is whole lines here);
   * 0 or absent: no restart markers.
   */
  readonly restartLines?: number;
}

/**
 * Encodes the planes as one interleaved lossless scan.
 *
 * @throws UnsupportedJpegError for a precision or predictor outside T.81's range
 */
export function encodeLossless(input: LosslessInput): Uint8Array {
  const { planes, rows, columns, precision, predictor } = input;
  const restartLines = input.restartLines ?? 0;
  if (precision < 2 || precision > 16) {
    throw new UnsupportedJpegError(`lossless JPEG precision ${precision} (H.1.1: 2 to 16)`);
  }
  if (predictor < 1 || predictor > 7) {
    throw new UnsupportedJpegError(`lossless predictor ${predictor} (T.81 Table H.1: 1 to 7)`);
  }
  const n = planes.length;
  const total = rows * columns * n;
  // Pass 1: each difference (H.1.2: modulo 2^16, -32767 to 32768) and the statistics of SSSS.
  const diffs = new Int32Array(total);
  const freq = new Uint32Array(256);
  const initial = 1 << (precision - 1);
  let k = 0;
  for (let y = 0; y < rows; y++) {
    const row = y * columns;
    // H.1.2.1: the first line of the scan and of each restart interval is coded as a first line.
    const first = restartLines > 0 ? y % restartLines === 0 : y === 0;
    for (let x = 0; x < columns; x++) {
      const i = row + x;
      for (let c = 0; c < n; c++) {
        const plane = planes[c]!;
        let px: number;
        // H.1.2.1: the first line predicts from the left (the first sample from 2^(P-1)),
        // the first column from above, the rest with the selected predictor.
        if (first) px = x === 0 ? initial : plane[i - 1]!;
        else if (x === 0) px = plane[i - columns]!;
        else {
          // H.1.2.1, Table H.1.
          px = predict(predictor, plane[i - 1]!, plane[i - columns]!, plane[i - columns - 1]!);
        }
        let d = (plane[i]! - px) & 0xffff;
        if (d > 32768) d -= 65536;
        diffs[k++] = d;
        freq[d === 32768 ? 16 : category(d)]!++;
      }
    }
  }
  const spec = optimalHuffmanSpec(freq);
  const table = buildEncodeTable(spec);
  const w = new JpegWriter((total * precision) / 16 + 1024);
  w.marker(Marker.SOI);
  const comps = planes.map(() => [1, 1, 0] as const);
  w.segment(Marker.SOF3, sofBody(precision, rows, columns, comps));
  w.segment(Marker.DHT, dhtBody(0, 0, spec));
  // B.2.4.4: Ri counts MCUs; a lossless MCU of this scan is one sample of each component.
  if (restartLines > 0)
    w.segment(Marker.DRI, [(restartLines * columns) >> 8, (restartLines * columns) & 0xff]);
  w.segment(
    Marker.SOS,
    sosBody(
      planes.map((_, i) => [i, 0, 0] as const),
      predictor,
      0,
      0,
    ),
  );
  // Pass 2: the entropy-coded data (H.1.2.2: SSSS, then SSSS bits, none for 16).
  const perInterval = restartLines * columns * n;
  let rst = 0;
  for (let j = 0; j < total; j++) {
    if (perInterval > 0 && j > 0 && j % perInterval === 0) {
      // E.1.4: pad the interval's last byte, then RSTm counting modulo 8.
      w.flushBits();
      w.marker(Marker.RST0 + (rst++ & 7));
    }
    const d = diffs[j]!;
    if (d === 32768) {
      w.code(table, 16);
      continue;
    }
    const s = category(d);
    w.code(table, s);
    if (s > 0) w.bits(d < 0 ? d + (1 << s) - 1 : d, s);
  }
  w.flushBits();
  w.marker(Marker.EOI);
  return w.finish();
}
