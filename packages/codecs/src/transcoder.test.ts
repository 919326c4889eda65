import { readPart10Header } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { syntheticImage } from './images.test-support.js';
import { transcoder } from './transcoder.js';

const EXPLICIT = '1.2.840.10008.1.2.1';
const JLS = '1.2.840.10008.1.2.4.80';
const J2K = '1.2.840.10008.1.2.4.91';
const MPEG2 = '1.2.840.10008.1.2.4.100';

async function all(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

describe('transcoder()', () => {
  const t = transcoder();

  it('says what it can reach and which targets lose information', () => {
    expect(t.canTranscode(JLS, EXPLICIT)).toBe(true);
    expect(t.canTranscode(MPEG2, EXPLICIT)).toBe(false);
    expect(t.isLossy(JLS)).toBe(false);
    expect(t.isLossy(J2K)).toBe(true);
    expect(t.isLossy(EXPLICIT)).toBe(false);
  });

  it('transcodes a data set there and back, lossless, telling the header first', async () => {
    const file = syntheticImage({ bitsAllocated: 16, bitsStored: 12 });
    const dataSet = file.subarray(readPart10Header(file).dataSetOffset);
    let lossy: boolean | undefined;
    const jls = await all(
      t.transcodeDataSet([dataSet], EXPLICIT, {
        transferSyntaxUid: JLS,
        onHeader: (h) => {
          lossy = h.lossy;
        },
      }),
    );
    expect(lossy).toBe(false);
    const back = await all(t.transcodeDataSet([jls], JLS, { transferSyntaxUid: EXPLICIT }));
    expect(back.equals(Buffer.from(dataSet))).toBe(true);
  });

  it('lossy only when asked: a new SOP Instance UID then', async () => {
    const file = syntheticImage({ bitsAllocated: 8 });
    const dataSet = file.subarray(readPart10Header(file).dataSetOffset);
    let header: { sopInstanceUid: string | undefined; lossy: boolean } | undefined;
    await all(
      t.transcodeDataSet([dataSet], EXPLICIT, {
        transferSyntaxUid: J2K,
        lossy: true,
        onHeader: (h) => {
          header = h;
        },
      }),
    );
    expect(header?.lossy).toBe(true);
    expect(header?.sopInstanceUid).toMatch(/^2\.25\./);
  });
});
