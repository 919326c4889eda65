import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSet, decodePart10, encodePart10 } from '@dnet/dataset';
import { describePeer, runTool } from '@dnet/testkit';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { tempDir } from '../scu-cli.test-support.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

async function writeImage(path: string): Promise<Uint8Array> {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7', 'UI');
  ds.setString('SOPInstanceUID', '2.25.4242', 'UI');
  ds.setNumber('SamplesPerPixel', 1);
  ds.setString('PhotometricInterpretation', 'MONOCHROME2', 'CS');
  ds.setNumber('Rows', 20);
  ds.setNumber('Columns', 30);
  ds.setNumber('BitsAllocated', 16);
  ds.setNumber('BitsStored', 12);
  ds.setNumber('HighBit', 11);
  ds.setNumber('PixelRepresentation', 0);
  const px = new Uint8Array(20 * 30 * 2);
  for (let i = 0; i < px.length; i += 2) px[i] = (i * 13) & 0xff;
  ds.setBytes('PixelData', px, 'OW');
  await writeFile(path, encodePart10(ds, { transferSyntaxUid: '1.2.840.10008.1.2.1' }));
  return px;
}

describe('dnet-scu convert', () => {
  it('transcodes by syntax name and back, pixels unchanged', async () => {
    await using dir = await tempDir();
    const px = await writeImage(join(dir.path, 'in.dcm'));
    const a = io();
    expect(
      await main(
        ['convert', join(dir.path, 'in.dcm'), join(dir.path, 'rle.dcm'), '--ts', 'rle'],
        a.io,
      ),
    ).toBe(0);
    expect(a.out[0]).toMatch(/RLE Lossless/);
    expect(decodePart10(await readFile(join(dir.path, 'rle.dcm'))).header.transferSyntaxUid).toBe(
      '1.2.840.10008.1.2.5',
    );
    const b = io();
    expect(
      await main(
        [
          'convert',
          join(dir.path, 'rle.dcm'),
          join(dir.path, 'back.dcm'),
          '--ts',
          '1.2.840.10008.1.2',
          '--json',
        ],
        b.io,
      ),
    ).toBe(0);
    expect(JSON.parse(b.out[0]!)).toMatchObject({
      type: 'file',
      operation: 'convert',
      lossy: false,
      frames: 1,
    });
    const back = decodePart10(await readFile(join(dir.path, 'back.dcm')));
    expect(back.header.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    expect(Buffer.from(back.dataSet.bytes('PixelData')!)).toEqual(Buffer.from(px));
  });

  it('says what is wrong on the command line (exit status 2)', async () => {
    await using dir = await tempDir();
    await writeImage(join(dir.path, 'in.dcm'));
    const cases = [
      ['convert', join(dir.path, 'in.dcm'), join(dir.path, 'o.dcm')],
      ['convert', join(dir.path, 'in.dcm'), join(dir.path, 'o.dcm'), '--ts', 'nope'],
      ['convert', join(dir.path, 'in.dcm'), join(dir.path, 'o.dcm'), '--ts', 'j2k', '--ratio', '5'],
      ['convert', join(dir.path, 'in.dcm'), '--ts', 'rle'],
    ];
    for (const argv of cases) {
      const x = io();
      expect(await main(argv, x.io)).toBe(2);
      expect(x.err.join('\n')).toMatch(/dnet-scu convert: .*--help/);
    }
  });
});

describePeer(['dcmdjpls'], 'dnet-scu convert with DCMTK', () => {
  it('writes JPEG-LS that dcmdjpls decodes to the original pixels', async () => {
    await using dir = await tempDir();
    const px = await writeImage(join(dir.path, 'in.dcm'));
    const x = io();
    expect(
      await main(
        [
          'convert',
          join(dir.path, 'in.dcm'),
          join(dir.path, 'jls.dcm'),
          '--ts',
          'jpeg-ls-lossless',
        ],
        x.io,
      ),
    ).toBe(0);
    const r = await runTool('dcmdjpls', [join(dir.path, 'jls.dcm'), join(dir.path, 'raw.dcm')]);
    expect(r.code).toBe(0);
    const back = decodePart10(await readFile(join(dir.path, 'raw.dcm')));
    expect(Buffer.from(back.dataSet.bytes('PixelData')!)).toEqual(Buffer.from(px));
  });
});
