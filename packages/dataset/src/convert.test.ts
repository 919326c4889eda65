import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, hex } from './canonical.test-support.js';
import {
  convertTransferSyntax,
  convertTransferSyntaxStream,
  TransferSyntaxConverter,
} from './convert.js';
import { DataSet } from './data-set.js';
import { decodeDataSet } from './decode.js';
import { encodeDataSet } from './encode.js';
import {
  InflatedTooLargeError,
  LengthExceedsDataError,
  MalformedDataSetError,
  UnsupportedTransferSyntaxError,
} from './errors.js';
import { formatTag } from './tag.js';
import { TransferSyntax } from './uid.js';

const SYNTAXES = Object.values(TransferSyntax);

function sample(pixels: number, groupLengths = false): DataSet {
  const ds = new DataSet();
  if (groupLengths) {
    // Values are recomputed by the encoder (PS3.5 §7.2); 0 is a placeholder.
    for (const group of [0x0008, 0x0010, 0x0028, 0x0041, 0x7fe0]) {
      ds.setNumber((group << 16) >>> 0, 0, 'UL');
    }
  }
  ds.setString('SpecificCharacterSet', 'ISO_IR 192');
  ds.setString('PatientName', 'Zoë^Ω');
  ds.setNumber('Rows', 16);
  ds.setNumber('PixelRepresentation', 1);
  ds.setNumber('SmallestImagePixelValue', -5, 'SS');
  ds.setString(0x00410010, 'ACME', 'LO');
  ds.setBytes(0x00411001, new Uint8Array(2000).fill(3), 'UN');
  const item = ds.addItem('ReferencedImageSequence');
  item.setString('ReferencedSOPInstanceUID', '1.2.3');
  item.addItem('ProcedureCodeSequence').setString('CodeValue', 'X');
  ds.setNumber('EventTimeOffset', [1.5, -2.25, 3]);
  ds.setNumber(
    'PixelData',
    Array.from({ length: pixels }, (_, i) => i & 0xffff),
    'OW',
  );
  return ds;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

function* chunks(bytes: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = sizes[k++ % sizes.length]!;
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

describe('streaming transfer syntax conversion', () => {
  it('gives the same bytes as the whole conversion, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SYNTAXES),
        fc.constantFrom(...SYNTAXES),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.boolean(),
        async (from, to, sizes, pixels, groupLengths) => {
          const ds = sample(pixels, groupLengths);
          const input = encodeDataSet(ds, from);
          const out = await collect(convertTransferSyntaxStream(chunks(input, sizes), from, to));
          if (to === TransferSyntax.DeflatedExplicitVRLittleEndian) {
            expect(out.length % 2).toBe(0);
            // Group lengths as the whole encoder writes them for that syntax.
            expect(canonical(decodeDataSet(out, to))).toEqual(
              canonical(decodeDataSet(encodeDataSet(ds, to), to)),
            );
          } else {
            expect(hex(out)).toBe(hex(convertTransferSyntax(input, from, to)));
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('passes large values through without holding them: output follows input', () => {
    const ds = sample(500_000); // 1 MB of pixel data
    const input = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
    const conv = new TransferSyntaxConverter(
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
    );
    let held = 0;
    let produced = 0;
    const out: Uint8Array[] = [];
    for (const c of chunks(input, [4096])) {
      const o = conv.push(c);
      for (const x of o) produced += x.length;
      out.push(...o);
      held = Math.max(held, input.length - produced);
    }
    out.push(...conv.end());
    expect(hex(Buffer.concat(out))).toBe(
      hex(encodeDataSet(ds, TransferSyntax.ExplicitVRBigEndian)),
    );
    // At most one chunk plus one buffered small element is behind.
    expect(input.length - produced).toBeLessThanOrEqual(8);
    expect(held).toBeLessThan(input.length);
  });

  it('recomputes group lengths when the VR encoding changes, keeps them otherwise', async () => {
    const ds = new DataSet();
    ds.setNumber(0x00100000, 0, 'UL');
    ds.setString('PatientName', 'DOE^JOHN');
    ds.setString(0x00100021, 'ISSUER', 'LO');
    // (0010,2002), not in the dictionary: UN once implicit; OB has the long header.
    ds.setBytes(0x00102002, new Uint8Array(6), 'OB');
    ds.setString('StudyDescription', 'next group');
    const from = TransferSyntax.ExplicitVRLittleEndian;
    const input = encodeDataSet(ds, from);
    const explicitLength = decodeDataSet(input, from).number(0x00100000);
    expect(explicitLength).toBe(8 + 8 + (8 + 6) + (12 + 6));
    for (const sizes of [[input.length], [1], [5, 3]]) {
      const implicit = await collect(
        convertTransferSyntaxStream(
          chunks(input, sizes),
          from,
          TransferSyntax.ImplicitVRLittleEndian,
        ),
      );
      const back = decodeDataSet(implicit, TransferSyntax.ImplicitVRLittleEndian);
      // Every implicit header is 8 bytes: 4 fewer for the OB element.
      expect(back.number(0x00100000)).toBe(explicitLength! - 4);
      expect(back.string('StudyDescription')).toBe('next group');
      expect(hex(implicit)).toBe(
        hex(convertTransferSyntax(input, from, TransferSyntax.ImplicitVRLittleEndian)),
      );
    }
    const big = await collect(
      convertTransferSyntaxStream([input], from, TransferSyntax.ExplicitVRBigEndian),
    );
    expect(decodeDataSet(big, TransferSyntax.ExplicitVRBigEndian).number(0x00100000)).toBe(
      explicitLength,
    );
  });

  it('drops a group length whose group is larger than it may hold, and streams the group', () => {
    const ds = sample(50_000, true); // (7FE0,0000) before 100 kB of pixel data
    const input = encodeDataSet(ds, TransferSyntax.ImplicitVRLittleEndian);
    const conv = new TransferSyntaxConverter(
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      { maxBufferedElement: 8192 },
    );
    let fed = 0;
    let produced = 0;
    let held = 0;
    const out: Uint8Array[] = [];
    for (const c of chunks(input, [1024])) {
      fed += c.length;
      for (const x of conv.push(c)) {
        produced += x.length;
        out.push(x);
      }
      held = Math.max(held, fed - produced);
    }
    out.push(...conv.end());
    // Never more behind than one held small group and a chunk.
    expect(held).toBeLessThan(8192);
    const back = decodeDataSet(Buffer.concat(out), TransferSyntax.ExplicitVRLittleEndian);
    expect(back.has(0x7fe00000)).toBe(false);
    expect(back.bytes('PixelData')?.length).toBe(100_000);
    // The small groups are still recomputed.
    const whole = decodeDataSet(
      convertTransferSyntax(
        input,
        TransferSyntax.ImplicitVRLittleEndian,
        TransferSyntax.ExplicitVRLittleEndian,
      ),
      TransferSyntax.ExplicitVRLittleEndian,
    );
    for (const g of [0x00080000, 0x00100000, 0x00280000]) {
      expect(back.number(g), formatTag(g)).toBe(whole.number(g));
    }
    // A group whose stated length is small but which grows past the bound.
    const liar = new DataSet();
    liar.setNumber(0x00090000, 4, 'UL');
    liar.setString(0x00090010, 'ACME', 'LO');
    liar.setBytes(0x00091001, new Uint8Array(20_000), 'OB');
    const liarBytes = encodeDataSet(liar, TransferSyntax.ImplicitVRLittleEndian);
    // Encoding recomputed it; put the small lie back (value at offset 8).
    Buffer.from(liarBytes.buffer, liarBytes.byteOffset).writeUInt32LE(4, 8);
    const c2 = new TransferSyntaxConverter(
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      { maxBufferedElement: 8192 },
    );
    const out2 = [...c2.push(liarBytes), ...c2.end()];
    const back2 = decodeDataSet(Buffer.concat(out2), TransferSyntax.ExplicitVRLittleEndian);
    expect(back2.has(0x00090000)).toBe(false);
    expect(back2.bytes(0x00091001)?.length).toBe(20_000);
  });

  it('bounds buffered sequences and refuses truncated input', () => {
    const ds = sample(10);
    const input = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
    const small = new TransferSyntaxConverter(
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ImplicitVRLittleEndian,
      { maxBufferedElement: 40 },
    );
    expect(() => {
      for (const c of chunks(input, [7])) small.push(c);
      small.end();
    }).toThrow(LengthExceedsDataError);
    const cut = new TransferSyntaxConverter(
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ImplicitVRLittleEndian,
    );
    cut.push(input.subarray(0, input.length - 3));
    expect(() => cut.end()).toThrow(MalformedDataSetError);
  });

  it('refuses conversions that need a pixel data codec (PS3.5 A.4)', () => {
    const jpeg = '1.2.840.10008.1.2.4.50';
    const bytes = encodeDataSet(sample(1), TransferSyntax.ExplicitVRLittleEndian);
    expect(() => convertTransferSyntax(bytes, jpeg, TransferSyntax.ExplicitVRLittleEndian)).toThrow(
      UnsupportedTransferSyntaxError,
    );
    expect(() => new TransferSyntaxConverter(TransferSyntax.ExplicitVRLittleEndian, jpeg)).toThrow(
      UnsupportedTransferSyntaxError,
    );
    expect(convertTransferSyntax(bytes, jpeg, jpeg)).toBe(bytes);
  });

  it('pads a deflated stream to even length (PS3.5 A.5), whatever the data set', async () => {
    for (let n = 1; n <= 24; n++) {
      const ds = new DataSet();
      ds.setString('PatientID', 'P'.repeat(n));
      ds.setBytes(
        'PixelData',
        new Uint8Array(n * 6).map((_, i) => (i * n) & 0xff),
        'OB',
      );
      const plain = encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian);
      const out: Uint8Array[] = [];
      for await (const c of convertTransferSyntaxStream(
        [plain],
        TransferSyntax.ExplicitVRLittleEndian,
        TransferSyntax.DeflatedExplicitVRLittleEndian,
      ))
        out.push(c);
      const deflated = new Uint8Array(Buffer.concat(out));
      expect(deflated.length % 2, `n=${n}`).toBe(0);
      expect(
        hex(
          encodeDataSet(
            decodeDataSet(deflated, TransferSyntax.DeflatedExplicitVRLittleEndian),
            TransferSyntax.ExplicitVRLittleEndian,
          ),
        ),
      ).toBe(hex(plain));
    }
  });

  it('caps the inflated size of a deflated source', async () => {
    const ds = new DataSet();
    ds.setBytes('PixelData', new Uint8Array(1 << 20), 'OB');
    const deflated = encodeDataSet(ds, TransferSyntax.DeflatedExplicitVRLittleEndian);
    await expect(
      collect(
        convertTransferSyntaxStream(
          [deflated],
          TransferSyntax.DeflatedExplicitVRLittleEndian,
          TransferSyntax.ExplicitVRLittleEndian,
          { maxInflatedSize: 1000 },
        ),
      ),
    ).rejects.toThrow(InflatedTooLargeError);
  });
});
