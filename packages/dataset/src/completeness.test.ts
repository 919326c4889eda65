import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDataSetComplete, DataSetCompletenessCheck } from './completeness.js';
import { DataSet } from './data-set.js';
import { encodeDataSet } from './encode.js';
import { IncompleteDataSetError, MalformedDataSetError, NestingTooDeepError } from './errors.js';
import { TransferSyntax } from './uid.js';

const JPEG_LOSSLESS = '1.2.840.10008.1.2.4.70';

/** A small object with a sequence of undefined length holding items of both kinds. */
function withSequences(): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  ds.setString('SOPInstanceUID', '2.25.1');
  ds.setString('PatientName', 'DOE^JOHN');
  const a = new DataSet();
  a.setString('ReferencedSOPClassUID', '1.2.3');
  a.undefinedLength = true;
  const nested = new DataSet();
  nested.setString('CodeValue', 'X1');
  nested.undefinedLength = true;
  a.setSequence('ConceptNameCodeSequence', [nested]);
  a.set({ ...a.get('ConceptNameCodeSequence')!, undefinedLength: true });
  const b = new DataSet();
  b.setString('ReferencedSOPInstanceUID', '1.2.3.4');
  b.undefinedLength = false;
  ds.setSequence('ReferencedStudySequence', [a, b]);
  ds.set({ ...ds.get('ReferencedStudySequence')!, undefinedLength: true });
  ds.setNumber('Rows', 2);
  ds.setBytes('PixelData', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'OW');
  return ds;
}

/** Encapsulated Pixel Data: an empty Basic Offset Table and two fragments (PS3.5 §A.4). */
function encapsulated(): DataSet {
  const ds = new DataSet();
  ds.setString('SOPInstanceUID', '2.25.2');
  ds.setNumber('Rows', 2);
  ds.set({
    tag: 0x7fe00010,
    vr: 'OB',
    fragments: [new Uint8Array(0), new Uint8Array([0xff, 0xd8, 1, 2]), new Uint8Array([3, 4])],
    undefinedLength: true,
  });
  return ds;
}

/** The offsets of top-level element boundaries: where a cut leaves a complete data set. */
function boundaries(ds: DataSet, ts: string): Set<number> {
  const out = new Set<number>([0]);
  const elements = ds.elements();
  for (let k = 1; k <= elements.length; k++) {
    out.add(encodeDataSet(new DataSet(elements.slice(0, k)), ts).length);
  }
  return out;
}

async function outcome(bytes: Uint8Array, ts: string, chunk = bytes.length): Promise<string> {
  const check = new DataSetCompletenessCheck(ts);
  try {
    for (let i = 0; i < bytes.length; i += chunk) check.push(bytes.subarray(i, i + chunk));
    await check.end();
    return 'complete';
  } catch (e) {
    if (e instanceof IncompleteDataSetError) return 'incomplete';
    throw e;
  }
}

const CASES: [string, () => DataSet, string][] = [
  ['explicit VR LE, sequences', withSequences, TransferSyntax.ExplicitVRLittleEndian],
  ['implicit VR LE, sequences', withSequences, TransferSyntax.ImplicitVRLittleEndian],
  ['explicit VR BE, sequences', withSequences, TransferSyntax.ExplicitVRBigEndian],
  ['encapsulated pixel data', encapsulated, JPEG_LOSSLESS],
];

describe('DataSetCompletenessCheck', () => {
  for (const [name, make, ts] of CASES) {
    it(`${name}: a cut is complete exactly at a top-level element boundary`, async () => {
      const ds = make();
      const bytes = encodeDataSet(ds, ts);
      const ok = boundaries(ds, ts);
      expect(ok.has(bytes.length)).toBe(true);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const expected = ok.has(cut) ? 'complete' : 'incomplete';
        expect(await outcome(bytes.subarray(0, cut), ts), `cut at ${cut}`).toBe(expected);
        // Byte by byte, so every header straddles a chunk boundary.
        expect(await outcome(bytes.subarray(0, cut), ts, 1), `cut at ${cut}, 1-byte chunks`).toBe(
          expected,
        );
      }
    });
  }

  it('random cuts in random chunkings agree with the boundaries (property)', async () => {
    const prepared = CASES.map(([, make, ts]) => {
      const ds = make();
      return { ts, bytes: encodeDataSet(ds, ts), ok: boundaries(ds, ts) };
    });
    await fc.assert(
      fc.asyncProperty(
        fc.nat(prepared.length - 1),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 40 }),
        async (which, where, chunk) => {
          const { ts, bytes, ok } = prepared[which]!;
          const cut = Math.floor(where * bytes.length);
          const expected = ok.has(cut) ? 'complete' : 'incomplete';
          expect(await outcome(bytes.subarray(0, cut), ts, chunk)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the element left open, where it started and where the bytes stop', async () => {
    const ds = withSequences();
    const ts = TransferSyntax.ExplicitVRLittleEndian;
    const bytes = encodeDataSet(ds, ts);
    const cut = bytes.length - 3; // inside Pixel Data's value
    const e = await checkDataSetComplete(bytes.subarray(0, cut), ts).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(IncompleteDataSetError);
    const err = e as IncompleteDataSetError;
    expect(err.code).toBe('DNET_DATASET_INCOMPLETE');
    expect(err.tag).toBe(0x7fe00010);
    expect(err.offset).toBe(bytes.length - 8 - 12);
    expect(err.end).toBe(cut);
    expect(err.message).toContain('(7FE0,0010) PixelData');
    expect(err.message).toContain('needs 8 bytes, 5 present');
  });

  it('names an undelimited sequence and undelimited pixel data', async () => {
    const seq = encodeDataSet(withSequences(), TransferSyntax.ExplicitVRLittleEndian);
    // Cut just before the sequence's Sequence Delimitation Item: all items closed.
    const ds = withSequences();
    const upToSeq = encodeDataSet(
      new DataSet(ds.elements().slice(0, 3)),
      TransferSyntax.ExplicitVRLittleEndian,
    );
    const e = await checkDataSetComplete(
      seq.subarray(0, upToSeq.length - 8),
      TransferSyntax.ExplicitVRLittleEndian,
    ).then(
      () => new Error('complete'),
      (x: unknown) => x as Error,
    );
    expect(e.message).toMatch(/ReferencedStudySequence.*no Sequence Delimitation Item/);

    const px = encodeDataSet(encapsulated(), JPEG_LOSSLESS);
    const f = await checkDataSetComplete(px.subarray(0, px.length - 8), JPEG_LOSSLESS).then(
      () => new Error('complete'),
      (x: unknown) => x as Error,
    );
    expect(f.message).toMatch(/PixelData.*encapsulated Pixel Data has no Sequence Delimitation/);
  });

  it('with expectedLength, fails at the header of a value that runs past the end', () => {
    const ts = TransferSyntax.ExplicitVRLittleEndian;
    const bytes = encodeDataSet(withSequences(), ts);
    const check = new DataSetCompletenessCheck(ts, { expectedLength: bytes.length - 1 });
    // Everything but the last value byte: the Pixel Data header is enough to know.
    expect(() => check.push(bytes.subarray(0, bytes.length - 8))).toThrow(IncompleteDataSetError);
  });

  it('refuses structures that cannot be completed', () => {
    const ts = TransferSyntax.ExplicitVRLittleEndian;
    // A sequence delimitation item at the top level (PS3.5 §7.5).
    const stray = new Uint8Array([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    expect(() => new DataSetCompletenessCheck(ts).push(stray)).toThrow(MalformedDataSetError);
    // A sequence whose item header is not an item.
    const ds = withSequences();
    const bytes = encodeDataSet(ds, ts);
    const bad = bytes.slice();
    const seqStart = encodeDataSet(new DataSet(ds.elements().slice(0, 2)), ts).length;
    bad[seqStart + 12] = 0x08; // the first item's tag becomes (0008,E000)
    bad[seqStart + 13] = 0x00;
    expect(() => new DataSetCompletenessCheck(ts).push(bad)).toThrow(MalformedDataSetError);
  });

  it('bounds the nesting of undefined-length sequences', () => {
    const ts = TransferSyntax.ExplicitVRLittleEndian;
    let inner = new DataSet();
    inner.setString('CodeValue', 'X');
    for (let i = 0; i < 5; i++) {
      const outer = new DataSet();
      outer.setSequence('ConceptNameCodeSequence', [inner]);
      outer.set({ ...outer.get('ConceptNameCodeSequence')!, undefinedLength: true });
      inner = outer;
    }
    const bytes = encodeDataSet(inner, ts);
    expect(() => new DataSetCompletenessCheck(ts, { maxDepth: 3 }).push(bytes)).toThrow(
      NestingTooDeepError,
    );
  });

  describe('deflated (PS3.5 §A.5)', () => {
    const ts = TransferSyntax.DeflatedExplicitVRLittleEndian;
    const inflated = encodeDataSet(withSequences(), TransferSyntax.ExplicitVRLittleEndian);
    const deflated = new Uint8Array(deflateRawSync(inflated));

    it('is complete whole, with or without a trailing pad byte, in any chunking', async () => {
      expect(await outcome(deflated, ts)).toBe('complete');
      expect(await outcome(deflated, ts, 3)).toBe('complete');
      const padded = new Uint8Array(deflated.length + 1);
      padded.set(deflated);
      expect(await outcome(padded, ts, 5)).toBe('complete');
    });

    it('is incomplete at every cut of the deflated stream', async () => {
      for (let cut = 0; cut < deflated.length; cut++) {
        expect(await outcome(deflated.subarray(0, cut), ts), `cut at ${cut}`).toBe('incomplete');
      }
    });

    it('is incomplete when a whole deflate stream holds a cut data set', async () => {
      const cut = new Uint8Array(deflateRawSync(inflated.subarray(0, inflated.length - 3)));
      const e = await checkDataSetComplete(cut, ts).then(
        () => new Error('complete'),
        (x: unknown) => x as Error,
      );
      expect(e).toBeInstanceOf(IncompleteDataSetError);
      expect(e.message).toContain('PixelData');
    });

    it('refuses bytes that are not deflate', async () => {
      const junk = new Uint8Array(64).fill(0xff);
      await expect(checkDataSetComplete(junk, ts)).rejects.toBeInstanceOf(MalformedDataSetError);
    });
  });
});
