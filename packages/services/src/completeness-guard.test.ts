import { deflateRawSync } from 'node:zlib';
import {
  DataSet,
  encodeDataSet,
  IncompleteDataSetError,
  MalformedDataSetError,
  TransferSyntax,
} from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { CompletenessGuard, dataSetProblemComment, keepsInstance } from './completeness-guard.js';

const ELE = TransferSyntax.ExplicitVRLittleEndian;
const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;

function image(): Uint8Array {
  const ds = new DataSet();
  ds.setString('SOPInstanceUID', '1.2.3.4', 'UI');
  ds.setString('PatientName', 'DOE^JOHN', 'PN');
  ds.setBytes('PixelData', new Uint8Array(256).fill(9), 'OW');
  return encodeDataSet(ds, ELE);
}

/** A source of `bytes` in chunks of `size`, recording whether it was cancelled (return()) and how far it was read. */
function source(bytes: Uint8Array, size: number) {
  const state = { cancelled: false, read: 0 };
  const iterable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      let offset = 0;
      return {
        async next() {
          if (state.cancelled || offset >= bytes.length) return { done: true, value: undefined };
          const chunk = bytes.subarray(offset, offset + size);
          offset += chunk.length;
          state.read = offset;
          return { done: false, value: chunk };
        },
        async return() {
          state.cancelled = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, state };
}

async function readAll(it: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of it) n += c.length;
  return n;
}

describe('CompletenessGuard', () => {
  it('hands on every chunk of a complete data set, whatever the chunking, and finds it complete', async () => {
    const bytes = image();
    for (const size of [1, 7, 64, bytes.length]) {
      const guard = new CompletenessGuard(source(bytes, size).iterable, ELE);
      expect(await readAll(guard.dataSet)).toBe(bytes.length);
      expect(guard.complete).toBe(true);
      expect(await guard.settle(true)).toBeUndefined();
    }
  });

  it('makes the reader’s loop throw at the end of a cut data set, before reporting its end', async () => {
    const bytes = image();
    const cut = bytes.subarray(0, bytes.length - 10);
    const guard = new CompletenessGuard(source(cut, 16).iterable, ELE);
    const error = await readAll(guard.dataSet).catch((e) => e);
    expect(error).toBeInstanceOf(IncompleteDataSetError);
    expect(guard.failure).toBe(error);
    expect(guard.complete).toBe(false);
    expect(await guard.settle(true)).toBe(error);
    expect(dataSetProblemComment(error)).toBe(
      `data set ends inside (7FE0,0010) at offset ${bytes.length - 256 - 12}`,
    );
  });

  it('reads the rest through the check when the reader answered Success without reading to the end', async () => {
    const bytes = image();
    const cut = bytes.subarray(0, bytes.length - 1);
    const { iterable, state } = source(cut, 8);
    const guard = new CompletenessGuard(iterable, ELE);
    for await (const _ of guard.dataSet) break; // one chunk, then the loop is left
    expect(state.cancelled).toBe(false);
    const problem = await guard.settle(true);
    expect(problem).toBeInstanceOf(IncompleteDataSetError);
    expect(state.read).toBe(cut.length);
    // And one that never read anything.
    const untouched = new CompletenessGuard(source(cut, 8).iterable, ELE);
    expect(await untouched.settle(true)).toBeInstanceOf(IncompleteDataSetError);
    const whole = new CompletenessGuard(source(bytes, 8).iterable, ELE);
    expect(await whole.settle(true)).toBeUndefined();
    expect(whole.complete).toBe(true);
  });

  it('drops the rest (cancels the source) when the answer is a failure', async () => {
    const { iterable, state } = source(image(), 8);
    const guard = new CompletenessGuard(iterable, ELE);
    for await (const _ of guard.dataSet) break;
    expect(await guard.settle(false)).toBeUndefined();
    expect(state.cancelled).toBe(true);
    expect(state.read).toBe(8);
  });

  it('throws as soon as the structure is impossible, and drops the rest', async () => {
    // An Item tag (FFFE,E000) at the top level (PS3.5 §7.5).
    const bad = new Uint8Array([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0, ...new Uint8Array(64)]);
    const { iterable, state } = source(bad, 8);
    const guard = new CompletenessGuard(iterable, ELE);
    const error = await readAll(guard.dataSet).catch((e) => e);
    expect(error).toBeInstanceOf(MalformedDataSetError);
    expect(state.cancelled).toBe(true);
    expect(state.read).toBe(8);
    expect(dataSetProblemComment(error)).toBe('malformed data set (FFFE,E000) at offset 0');
  });

  it('checks a deflated data set as it inflates (PS3.5 §A.5)', async () => {
    const deflated = new Uint8Array(deflateRawSync(image()));
    const whole = new CompletenessGuard(source(deflated, 5).iterable, DEFLATED);
    expect(await readAll(whole.dataSet)).toBe(deflated.length);
    expect(whole.complete).toBe(true);
    for (const cut of [1, deflated.length >> 1, deflated.length - 1]) {
      const guard = new CompletenessGuard(source(deflated.subarray(0, cut), 5).iterable, DEFLATED);
      const error = await readAll(guard.dataSet).catch((e) => e);
      expect(error).toBeInstanceOf(IncompleteDataSetError);
      expect(dataSetProblemComment(error)).toMatch(/^(deflated data set cut|data set ends) /);
    }
  });

  it('passes a transfer syntax it does not know through unchecked', async () => {
    const cut = image().subarray(0, 20);
    const guard = new CompletenessGuard(source(cut, 8).iterable, '1.2.3.4.5.6.7.8');
    expect(await readAll(guard.dataSet)).toBe(20);
    expect(await guard.settle(true)).toBeUndefined();
  });

  it('hands the data set to one reader only', () => {
    const guard = new CompletenessGuard(source(image(), 8).iterable, ELE);
    guard.dataSet[Symbol.asyncIterator]();
    expect(() => guard.dataSet[Symbol.asyncIterator]()).toThrow(/single consumer/);
  });
});

describe('dataSetProblemComment', () => {
  it('fits an Error Comment: at most 64 characters of LO, no backslash', () => {
    const comments = [
      new IncompleteDataSetError('x', { tag: 0x7fe00010, offset: 4294967295, end: 0 }),
      new IncompleteDataSetError('x', { offset: 12, end: 14 }),
      new MalformedDataSetError('x §7.5 \\ ü', { tag: 0xfffee000, offset: 99 }),
      new IncompleteDataSetError(
        'deflated data set ends at byte 4294967295 before its last block',
        {
          offset: 4294967295,
          end: 4294967295,
        },
      ),
      new Error('a message with § and \\ and more than sixty-four characters in it, surely'),
    ].map(dataSetProblemComment);
    expect(comments[0]).toBe('data set ends inside (7FE0,0010) at offset 4294967295');
    expect(comments[1]).toBe('data set ends inside an element header at offset 12');
    expect(comments[3]).toBe('deflated data set cut before its last block at offset 4294967295');
    for (const c of comments) {
      expect(c.length).toBeLessThanOrEqual(64);
      expect(c).toMatch(/^[\x20-\x5b\x5d-\x7e]*$/);
    }
  });
});

describe('keepsInstance', () => {
  it('is true for Success and Warnings only (PS3.7 Annex C, PS3.4 §B.2.3)', () => {
    expect([0x0000, 0x0001, 0xb000, 0xb006, 0xb007].every(keepsInstance)).toBe(true);
    expect([0xa700, 0xa900, 0xc000, 0x0110, 0x0122, 0xff00].some(keepsInstance)).toBe(false);
  });
});
