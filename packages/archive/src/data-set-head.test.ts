import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { DataSet, encodeDataSet } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import {
  decodeHead,
  decodeIndexable,
  indexAttributes,
  MAX_INFLATED_HEAD,
  PLACEMENT_STOP_TAG,
} from './data-set-head.js';
import { UnreadableDataSetError } from './errors.js';

const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const BIG = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';

function sample(): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.2', 'UI');
  ds.setString('SOPInstanceUID', '1.2.3.4.5', 'UI');
  ds.setString('PatientName', 'DOE^JANE', 'PN');
  ds.setString('PatientID', 'P1', 'LO');
  ds.setString('StudyInstanceUID', '1.2.3', 'UI');
  ds.setString('SeriesInstanceUID', '1.2.3.4', 'UI');
  ds.setString('InstanceNumber', '7', 'IS');
  ds.setBytes('00091010', new Uint8Array(100), 'OB');
  ds.setNumber('Rows', 16, 'US');
  ds.setBytes('PixelData', new Uint8Array(512), 'OW');
  return ds;
}

describe('decodeHead', () => {
  it.each([EXPLICIT, IMPLICIT, BIG])(
    'places an object from any prefix that holds its UIDs (%s)',
    (ts) => {
      const bytes = encodeDataSet(sample(), ts);
      let first = -1;
      for (let n = 0; n <= bytes.length; n++) {
        const ds = decodeHead(bytes.subarray(0, n), ts, PLACEMENT_STOP_TAG, n === bytes.length);
        if (ds && first < 0) first = n;
        if (first >= 0) expect(ds?.uid('SeriesInstanceUID')).toBe('1.2.3.4');
      }
      // Placed once an element past (0020,000E) starts (its 8-byte header is needed), never before.
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(bytes.length - 512);
    },
  );

  it('inflates a deflate bomb only up to MAX_INFLATED_HEAD and still places the object', () => {
    const ds = sample();
    ds.setBytes('PixelData', new Uint8Array(64 * 1024 * 1024), 'OW');
    const deflated = deflateRawSync(encodeDataSet(ds, EXPLICIT), { level: 9 });
    const head = deflated.subarray(0, Math.min(deflated.length, 1024 * 1024));
    const before = process.memoryUsage().arrayBuffers;
    const placed = decodeHead(head, DEFLATED, PLACEMENT_STOP_TAG, false);
    expect(placed?.uid('StudyInstanceUID')).toBe('1.2.3');
    // Far below the 64 MiB the compressed bytes would inflate to.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(MAX_INFLATED_HEAD * 2);
  });

  it('reads a prefix of a deflated data set (PS3.5 §A.5)', () => {
    const ds = sample();
    ds.setBytes('PixelData', new Uint8Array(randomBytes(4096)), 'OW');
    const deflated = deflateRawSync(encodeDataSet(ds, EXPLICIT));
    expect(decodeHead(deflated, DEFLATED, PLACEMENT_STOP_TAG, true)?.uid('StudyInstanceUID')).toBe(
      '1.2.3',
    );
    expect(
      decodeHead(
        deflated.subarray(0, deflated.length - 1000),
        DEFLATED,
        PLACEMENT_STOP_TAG,
        false,
      )?.uid('StudyInstanceUID'),
    ).toBe('1.2.3');
  });

  it('throws UnreadableDataSetError on a complete data set that does not decode', () => {
    const junk = new Uint8Array([8, 0, 0x16, 0, 0x55, 0x49, 200, 0, 1, 2]);
    expect(() => decodeHead(junk, EXPLICIT, PLACEMENT_STOP_TAG, true)).toThrow(
      UnreadableDataSetError,
    );
    expect(() => decodeHead(junk, '1.2.3.999', PLACEMENT_STOP_TAG, true)).toThrow(
      /unknown transfer syntax/,
    );
  });
});

describe('decodeIndexable / indexAttributes', () => {
  it('keeps every complete element before a cut, without bulk data', () => {
    const bytes = encodeDataSet(sample(), EXPLICIT);
    const cut = bytes.subarray(0, bytes.length - 300); // inside Pixel Data
    const attrs = indexAttributes(decodeIndexable(cut, EXPLICIT, false));
    expect(attrs['00280010']).toEqual({ vr: 'US', Value: [16] });
    expect(attrs['00200013']).toEqual({ vr: 'IS', Value: [7] });
    expect(attrs['00091010']).toBeUndefined();
    expect(attrs['7FE00010']).toBeUndefined();
    const early = bytes.subarray(0, bytes.length - 520); // inside Rows' neighbourhood
    const partial = indexAttributes(decodeIndexable(early, EXPLICIT, false));
    expect(partial['0020000E']).toEqual({ vr: 'UI', Value: ['1.2.3.4'] });
  });

  it('drops bulk data inside sequences too', () => {
    const ds = sample();
    const item = ds.addItem('ReferencedImageSequence');
    item.setString('ReferencedSOPInstanceUID', '1.2.9', 'UI');
    item.setBytes('00091010', new Uint8Array(4), 'OB');
    const attrs = indexAttributes(decodeIndexable(encodeDataSet(ds, EXPLICIT), EXPLICIT, true));
    expect(attrs['00081140']).toEqual({
      vr: 'SQ',
      Value: [{ '00081155': { vr: 'UI', Value: ['1.2.9'] } }],
    });
  });
});
