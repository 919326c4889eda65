/**
 * Random and mutated input: every failure is a typed dataset error (the idea of
 * undici's test/fuzzing), never a TypeError or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransferSyntaxConverter } from './convert.js';
import { DataSet } from './data-set.js';
import { decodeDataSet } from './decode.js';
import { fromDicomJson } from './dicom-json.js';
import { encodeDataSet } from './encode.js';
import { encodePart10, readPart10Header } from './part10.js';
import { TransferSyntax } from './uid.js';

const SYNTAXES = Object.values(TransferSyntax).filter(
  (t) => t !== TransferSyntax.DeflatedExplicitVRLittleEndian,
);

function expectTyped(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect((e as { code?: string }).code, String(e)).toMatch(/^DNET_DATASET_/);
  }
}

function sample(): DataSet {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  ds.setString('SOPInstanceUID', '1.2.3');
  ds.setString('PatientName', 'A^B');
  const item = ds.addItem('ReferencedImageSequence');
  item.setString('ReferencedSOPInstanceUID', '1.2.3.4');
  item.addItem('ProcedureCodeSequence').setString('CodeValue', 'X');
  ds.setNumber('Rows', 4);
  ds.setBytes('PixelData', new Uint8Array(40), 'OW');
  return ds;
}

describe('fuzzing', () => {
  it('mutated data sets decode or fail with a typed error', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SYNTAXES),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (ts, flips) => {
          const bytes = encodeDataSet(sample(), ts).slice();
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          expectTyped(() => decodeDataSet(bytes, ts));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('mutated Part 10 headers are read or refused with a typed error', () => {
    const file = encodePart10(sample(), {
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 128, max: 320 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (flips) => {
          const bytes = file.slice();
          for (const [at, v] of flips) bytes[at] = v;
          expectTyped(() => readPart10Header(bytes, { strict: false }));
          expectTyped(() => readPart10Header(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the streaming converter fails only with typed errors on mutated input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SYNTAXES),
        fc.constantFrom(...SYNTAXES),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 64 }),
        (from, to, flips, size) => {
          const bytes = encodeDataSet(sample(), from).slice();
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          expectTyped(() => {
            const c = new TransferSyntaxConverter(from, to, { maxBufferedElement: 1 << 20 });
            for (let i = 0; i < bytes.length; i += size) c.push(bytes.subarray(i, i + size));
            c.end();
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('random JSON is built or refused with a typed error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        expectTyped(() => fromDicomJson(json));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('00100010', '00280010', '00081140', '00209165', '7FE00010', '00100020'),
          fc.record({
            vr: fc.constantFrom('PN', 'US', 'SQ', 'AT', 'OB', 'LO', 'DS', 'XX'),
            Value: fc.option(fc.array(fc.jsonValue(), { maxLength: 3 }), { nil: undefined }),
          }),
        ),
        (json) => {
          expectTyped(() => fromDicomJson(json));
        },
      ),
      { numRuns: 500 },
    );
  });
});
