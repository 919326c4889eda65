/**
 * Interop with DCMTK: files made by dump2dcm, img2dcm, dcmconv (+ti, +te, +tb,
 * +td, +e) and dcmcrle are read and compared with what dcmdump lists; files we
 * write are read back by dcmdump without warnings.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convertTransferSyntax, convertTransferSyntaxStream } from './convert.js';
import type { DataSet } from './data-set.js';
import { decodeDataSet, inflateDataSet } from './decode.js';
import { encodeDataSet } from './encode.js';
import { decodePart10, openPart10File, writePart10File } from './part10.js';
import { formatTag } from './tag.js';
import { TransferSyntax } from './uid.js';

/** One line of a dump: depth, tag, VR and the value as text. */
type Row = { depth: number; tag: string; vr: string; value: string };

const DUMP = `(0008,0005) CS [ISO_IR 100]
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,0018) UI [1.2.3.4.5.6]
(0008,0020) DA [20240131]
(0008,0030) TM [101112.123]
(0008,1140) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,1150) UI [1.2.840.10008.5.1.4.1.1.2]
(0008,1155) UI [1.2.3.9]
(0008,1160) IS [1\\2\\3]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e000) na (Item with undefined length)
(0008,1150) UI [1.2.840.10008.5.1.4.1.1.4]
(0040,a730) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0040,a160) UT [nested text]
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0010,0010) PN [Müller^Jürgen=^=]
(0010,0020) LO [ID 42]
(0010,1010) AS [042Y]
(0010,1030) DS [72.5]
(0010,9431) FL 2.5
(0018,1310) US 0\\256\\256\\0
(0018,6020) SL -12
(0018,9087) FD 1000.25
(0018,9089) FD 0.5\\-0.25\\1
(0020,9165) AT (0010,0010)\\(0020,000d)
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 2
(0028,0011) US 2
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
(0029,0010) LO [DNET TEST]
(0029,1001) UN 01\\02\\03\\04
(0029,1002) LO [private text]
(0040,0280) ST [comment with spaces  ]
(7fe0,0010) OW 0001\\0002\\0003\\0004
`;

/** Parses `dcmdump +L -Un` output into rows (items and delimiters as markers). */
function parseDcmdump(out: string): Row[] {
  const rows: Row[] = [];
  const body = out.slice(out.indexOf('# Dicom-Data-Set'));
  for (const line of body.split('\n')) {
    const m = /^( *)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\S\S) (.*?) +# +[\w/]+, \d+ /.exec(line);
    if (!m) continue;
    const tag = `(${m[2]},${m[3]})`.toUpperCase();
    // +U8 rewrites Specific Character Set to ISO_IR 192: it is compared apart.
    if (tag === '(FFFE,E00D)' || tag === '(FFFE,E0DD)' || tag === '(0008,0005)') continue;
    const depth = m[1]!.length / 2;
    let value = m[5]!;
    if (tag === '(FFFE,E000)') value = 'item';
    else if (value.startsWith('(Sequence') || value.startsWith('(PixelSequence')) value = 'seq';
    else if (value === '(no value available)') value = '';
    else if (value.startsWith('[')) value = value.slice(1, -1);
    // dcmdump shows the VR of unknown implicit VR elements as ??.
    rows.push({ depth, tag, vr: m[4] === '??' ? 'UN' : m[4]!, value: normalise(value) });
  }
  return rows;
}

function normalise(value: string): string {
  return value
    .split('\\')
    .map((v) => {
      const t = v.replace(/[\0 ]+$/, '').replace(/^ +/, '');
      const n = Number(t);
      return t !== '' && Number.isFinite(n) && /^[-+0-9.e]+$/i.test(t)
        ? String(Number(n.toPrecision(6)))
        : t;
    })
    .join('\\');
}

const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');

/** The same rows from our decoding, values formatted as dcmdump does. */
function ourRows(ds: DataSet, depth = 0, rows: Row[] = []): Row[] {
  for (const e of ds.elements()) {
    const tag = formatTag(e.tag);
    if (tag === '(0008,0005)') continue;
    if (e.items || e.fragments) {
      rows.push({ depth, tag, vr: e.vr, value: 'seq' });
      for (const item of e.items ?? []) {
        rows.push({ depth: depth + 1, tag: '(FFFE,E000)', vr: 'na', value: 'item' });
        ourRows(item, depth + 2, rows);
      }
      for (const _ of e.fragments ?? []) {
        rows.push({ depth: depth + 1, tag: '(FFFE,E000)', vr: 'pi', value: 'item' });
      }
      continue;
    }
    let value: string;
    switch (e.vr) {
      case 'OB':
      case 'UN':
        value = [...(e.value ?? [])].map((b) => hex(b, 2)).join('\\');
        break;
      case 'OW':
        value = ds
          .numbers(e.tag)
          .map((n) => hex(n, 4))
          .join('\\');
        break;
      case 'AT':
        value = ds
          .numbers(e.tag)
          .map((t) => formatTag(t).toLowerCase())
          .join('\\');
        break;
      case 'US':
      case 'SS':
      case 'UL':
      case 'SL':
      case 'FL':
      case 'FD':
        value = ds.numbers(e.tag).join('\\');
        break;
      default:
        value = ds.strings(e.tag).join('\\');
    }
    rows.push({ depth, tag, vr: e.vr, value: normalise(value) });
  }
  return rows;
}

async function dcmdump(
  file: string,
): Promise<{ rows: Row[]; stderr: string; code: number | null }> {
  const r = await runTool('dcmdump', ['+L', '-Un', '+U8', file], { timeoutMs: 30_000 });
  return { rows: parseDcmdump(r.stdout), stderr: r.stderr, code: r.code };
}

async function tool(command: string, args: string[]): Promise<void> {
  const r = await runTool(command, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
}

/** A 24-bit BMP of w×h pixels, for img2dcm. */
function bmp(w: number, h: number): Uint8Array {
  const row = Math.ceil((w * 3) / 4) * 4;
  const size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 54 + y * row + x * 3;
      b[o] = (x * 7) & 0xff;
      b[o + 1] = (y * 5) & 0xff;
      b[o + 2] = (x + y) & 0xff;
    }
  }
  return b;
}

describePeer(['dump2dcm', 'dcmconv', 'dcmdump', 'img2dcm', 'dcmcrle'], 'DCMTK interop', () => {
  let dir = '';
  const files: Record<string, string> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-dataset-'));
    const dumpFile = join(dir, 'in.dump');
    await writeFile(dumpFile, Buffer.from(DUMP, 'latin1'));
    files.explicitDefined = join(dir, 'te.dcm');
    await tool('dump2dcm', ['+te', dumpFile, files.explicitDefined]);
    const variants: [string, string[]][] = [
      ['implicit', ['+ti']],
      ['explicitUndefined', ['+te', '+e']],
      ['bigEndian', ['+tb']],
      ['deflated', ['+td']],
      ['implicitUndefined', ['+ti', '+e']],
      ['implicitGroupLengths', ['+ti', '+g']],
      ['explicitGroupLengths', ['+te', '+g']],
      ['bigEndianGroupLengths', ['+tb', '+g']],
    ];
    for (const [name, flags] of variants) {
      files[name] = join(dir, `${name}.dcm`);
      await tool('dcmconv', [...flags, files.explicitDefined, files[name]]);
    }
    // dcmconv's own conversions of our sources, to compare with ours byte for byte.
    const chained: [string, string, string[]][] = [
      ['implicitToExplicit', 'implicitGroupLengths', ['+te', '+g']],
      ['implicitToBig', 'implicitGroupLengths', ['+tb', '+g']],
      ['bigToImplicit', 'bigEndianGroupLengths', ['+ti', '+g']],
      ['explicitToImplicitUndefined', 'explicitUndefined', ['+ti', '+e']],
      ['bareImplicit', 'explicitUndefined', ['+ti', '-F']],
      ['bareBigEndian', 'explicitUndefined', ['+tb', '-F']],
    ];
    for (const [name, source, flags] of chained) {
      files[name] = join(dir, `${name}.dcm`);
      await tool('dcmconv', [...flags, files[source]!, files[name]]);
    }
    await writeFile(join(dir, 'in.bmp'), bmp(33, 17));
    files.image = join(dir, 'img.dcm');
    await tool('img2dcm', ['-i', 'BMP', join(dir, 'in.bmp'), files.image]);
    files.rle = join(dir, 'rle.dcm');
    await tool('dcmcrle', [files.image, files.rle]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const names = [
    'explicitDefined',
    'explicitUndefined',
    'implicit',
    'implicitUndefined',
    'implicitGroupLengths',
    'explicitGroupLengths',
    'bigEndianGroupLengths',
    'bigEndian',
    'deflated',
    'image',
    'rle',
  ];

  it.each(names)('reads %s as dcmdump lists it (tags, VRs, values)', async (name) => {
    const file = files[name]!;
    const { dataSet } = decodePart10(new Uint8Array(await readFile(file)));
    const theirs = await dcmdump(file);
    expect(theirs.code).toBe(0);
    expect(theirs.rows.length).toBeGreaterThan(5);
    expect(ourRows(dataSet)).toEqual(theirs.rows);
  });

  it.each(names)('writes the data set of %s back bit for bit', async (name) => {
    const bytes = new Uint8Array(await readFile(files[name]!));
    const { header, dataSet } = decodePart10(bytes);
    let original: Uint8Array = bytes.subarray(header.dataSetOffset);
    let ts = header.transferSyntaxUid;
    if (ts === TransferSyntax.DeflatedExplicitVRLittleEndian) {
      original = inflateDataSet(original);
      ts = TransferSyntax.ExplicitVRLittleEndian;
    }
    expect(Buffer.compare(encodeDataSet(dataSet, ts), original)).toBe(0);
  });

  it.each([
    ['implicitGroupLengths', 'implicitToExplicit', TransferSyntax.ExplicitVRLittleEndian],
    ['explicitGroupLengths', 'implicitGroupLengths', TransferSyntax.ImplicitVRLittleEndian],
    ['implicitGroupLengths', 'implicitToBig', TransferSyntax.ExplicitVRBigEndian],
    ['bigEndianGroupLengths', 'bigToImplicit', TransferSyntax.ImplicitVRLittleEndian],
    ['explicitUndefined', 'explicitToImplicitUndefined', TransferSyntax.ImplicitVRLittleEndian],
  ])('converts %s byte for byte as dcmconv does (%s)', async (from, to, ts) => {
    const source = decodePart10(new Uint8Array(await readFile(files[from]!)));
    const target = decodePart10(new Uint8Array(await readFile(files[to]!)));
    const bytes = new Uint8Array(await readFile(files[to]!));
    const converted = convertTransferSyntax(
      new Uint8Array(await readFile(files[from]!)).subarray(source.header.dataSetOffset),
      source.header.transferSyntaxUid,
      ts,
    );
    expect(target.header.transferSyntaxUid).toBe(ts);
    expect(Buffer.compare(converted, bytes.subarray(target.header.dataSetOffset))).toBe(0);
  });

  it.each([
    ['implicitGroupLengths', 'implicitToExplicit', TransferSyntax.ExplicitVRLittleEndian],
    ['explicitGroupLengths', 'implicitGroupLengths', TransferSyntax.ImplicitVRLittleEndian],
    ['bigEndianGroupLengths', 'bigToImplicit', TransferSyntax.ImplicitVRLittleEndian],
  ])(
    'converts %s as a stream with group lengths recomputed as dcmconv does (%s)',
    async (from, to, ts) => {
      const file = await openPart10File(files[from]!);
      const out = join(dir, `stream-${from}-${to}.dcm`);
      await writePart10File(
        out,
        { ...file.fileMetaInformation, transferSyntaxUid: ts },
        convertTransferSyntaxStream(
          file.dataSetStream({ highWaterMark: 16 }),
          file.transferSyntaxUid,
          ts,
        ),
      );
      // dcmconv +g recomputes (gggg,0000) for the new syntax (PS3.5 §7.2): same values.
      const ours = await dcmdump(out);
      const theirs = await dcmdump(files[to]!);
      expect(ours.stderr).toBe('');
      const groupLengths = theirs.rows.filter((r) => r.tag.endsWith(',0000)') && r.depth === 0);
      expect(groupLengths.length).toBeGreaterThan(3);
      expect(ours.rows).toEqual(theirs.rows);
      // And byte for byte, data set against data set.
      const dataSetOf = async (path: string) => {
        const b = new Uint8Array(await readFile(path));
        return b.subarray(decodePart10(b).header.dataSetOffset);
      };
      expect(Buffer.compare(await dataSetOf(out), await dataSetOf(files[to]!))).toBe(0);
    },
  );

  it('reads only the meta header of a file and streams the data set from its offset', async () => {
    const file = await openPart10File(files.explicitUndefined!);
    expect(file.transferSyntaxUid).toBe(TransferSyntax.ExplicitVRLittleEndian);
    expect(file.fileMetaInformation.mediaStorageSopInstanceUid).toBe('1.2.3.4.5.6');
    const chunks: Uint8Array[] = [];
    for await (const c of file.dataSetStream({ highWaterMark: 64 })) chunks.push(c);
    const streamed = Buffer.concat(chunks);
    expect(streamed.length).toBe(file.dataSetLength);
    const whole = await readFile(files.explicitUndefined!);
    expect(Buffer.compare(streamed, whole.subarray(file.dataSetOffset))).toBe(0);
    expect(decodeDataSet(streamed, file.transferSyntaxUid).string('PatientID')).toBe('ID 42');
  });

  it.each(Object.entries(TransferSyntax))(
    'writes files in %s that dcmdump reads without warnings and with the same content',
    async (_name, ts) => {
      const { dataSet } = decodePart10(new Uint8Array(await readFile(files.explicitUndefined!)));
      const out = join(dir, `ours-${ts}.dcm`);
      await writePart10File(
        out,
        {
          transferSyntaxUid: ts,
          mediaStorageSopClassUid: dataSet.uid('SOPClassUID')!,
          mediaStorageSopInstanceUid: dataSet.uid('SOPInstanceUID')!,
        },
        dataSet,
      );
      const ours = await dcmdump(out);
      expect(ours.code).toBe(0);
      expect(ours.stderr).toBe('');
      const reference = await dcmdump(files.explicitUndefined!);
      // dcmdump shows private LO as UN in implicit VR, as we do.
      const strip = (rows: Row[]) =>
        rows.map((r) => ({
          ...r,
          vr: r.tag.startsWith('(0029') ? '' : r.vr,
          value: r.tag.startsWith('(0029') ? '' : r.value,
        }));
      expect(strip(ours.rows)).toEqual(strip(reference.rows));
      const { header } = decodePart10(new Uint8Array(await readFile(out)));
      expect(header.transferSyntaxUid).toBe(ts);
      expect(header.problems).toEqual([]);
    },
  );

  it.each(['bareImplicit', 'bareBigEndian'])(
    'reads %s (a data set without meta, dcmconv -F) when allowed',
    async (name) => {
      const bytes = new Uint8Array(await readFile(files[name]!));
      const { header, dataSet } = decodePart10(bytes, { allowRawDataSet: true });
      expect(header.dataSetOffset).toBe(0);
      expect(ourRows(dataSet)).toEqual((await dcmdump(files[name]!)).rows);
    },
  );

  it('writes encapsulated pixel data back that dcmdump reads without warnings', async () => {
    const { header, dataSet } = decodePart10(new Uint8Array(await readFile(files.rle!)));
    const out = join(dir, 'ours-rle.dcm');
    await writePart10File(out, header.meta, dataSet);
    const ours = await dcmdump(out);
    expect(ours.code).toBe(0);
    expect(ours.stderr).toBe('');
    expect(ours.rows).toEqual((await dcmdump(files.rle!)).rows);
    const original = await readFile(files.rle!);
    const written = await readFile(out);
    expect(
      Buffer.compare(
        written.subarray(header.dataSetOffset),
        original.subarray(header.dataSetOffset),
      ),
    ).toBe(0);
  });

  it('reads an explicit VR file with invalid VR codes as DCMTK does (UN, length form by code)', async () => {
    // Real bytes: dump2dcm writes the file, then four VR fields are overwritten.
    const dump = `(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,0018) UI [1.2.3.4]
(0010,0010) PN [DOE^JOHN]
(0010,0020) LO [ID42]
(0010,1010) AS [042Y]
(0029,0010) LO [ACME]
(0029,1001) OB 01\\02\\03\\04
(0040,0280) ST [comment]
`;
    const dumpFile = join(dir, 'bad-vr.dump');
    await writeFile(dumpFile, dump, 'latin1');
    const good = join(dir, 'good-vr.dcm');
    await tool('dump2dcm', ['+te', dumpFile, good]);
    const bytes = Buffer.from(await readFile(good));
    const offset = decodePart10(new Uint8Array(bytes)).header.dataSetOffset;
    const patch = (group: number, element: number, vr: string) => {
      const tag = Buffer.alloc(4);
      tag.writeUInt16LE(group, 0);
      tag.writeUInt16LE(element, 2);
      const at = bytes.indexOf(tag, offset);
      expect(at).toBeGreaterThan(0);
      bytes.write(vr, at + 4, 'latin1');
    };
    patch(0x0010, 0x0010, '??'); // 16-bit length form
    patch(0x0010, 0x0020, 'lo'); // not upper case: 16-bit length form
    patch(0x0010, 0x1010, 'Q1'); // a digit: 16-bit length form
    patch(0x0029, 0x1001, 'XY'); // upper case, a "future" VR: 32-bit length form
    const bad = join(dir, 'bad-vr.dcm');
    await writeFile(bad, bytes);

    const theirs = await dcmdump(bad);
    expect(theirs.code).toBe(0);
    expect(theirs.stderr.match(/Non-standard VR/g)?.length).toBe(4);
    const { header, dataSet } = decodePart10(new Uint8Array(bytes));
    expect(ourRows(dataSet)).toEqual(theirs.rows);
    expect(dataSet.get(0x00291001)).toMatchObject({ vr: 'UN' });
    expect(dataSet.string('CommentsOnThePerformedProcedureStep')).toBe('comment');

    // Written back, as dcmconv writes it: UN in the 32-bit length form.
    const converted = join(dir, 'bad-vr-dcmconv.dcm');
    await tool('dcmconv', ['+te', bad, converted]);
    const reference = new Uint8Array(await readFile(converted));
    expect(
      Buffer.compare(
        encodeDataSet(dataSet, header.transferSyntaxUid),
        reference.subarray(decodePart10(reference).header.dataSetOffset),
      ),
    ).toBe(0);
    // The streaming converter reads it the same way: implicit VR as dcmconv +ti writes it.
    const implicit = join(dir, 'bad-vr-implicit.dcm');
    await tool('dcmconv', ['+ti', bad, implicit]);
    const implicitBytes = new Uint8Array(await readFile(implicit));
    const chunks: Uint8Array[] = [];
    for await (const c of convertTransferSyntaxStream(
      [bytes.subarray(header.dataSetOffset)],
      header.transferSyntaxUid,
      TransferSyntax.ImplicitVRLittleEndian,
    )) {
      chunks.push(c);
    }
    expect(
      Buffer.compare(
        Buffer.concat(chunks),
        implicitBytes.subarray(decodePart10(implicitBytes).header.dataSetOffset),
      ),
    ).toBe(0);
  });

  it('decodes ISO_IR 100 and ISO_IR 192 text as dcmdump +U8 does', async () => {
    const dump = `(0008,0005) CS [ISO_IR 192]\n(0010,0010) PN [Ωmega^Zoë=山田^太郎]\n(0008,1030) LO [Étude — 検査]\n`;
    const dumpFile = join(dir, 'utf8.dump');
    await writeFile(dumpFile, dump, 'utf8');
    const file = join(dir, 'utf8.dcm');
    await tool('dump2dcm', [dumpFile, file]);
    const { dataSet } = decodePart10(new Uint8Array(await readFile(file)));
    expect(dataSet.personName('PatientName')).toEqual({
      Alphabetic: 'Ωmega^Zoë',
      Ideographic: '山田^太郎',
    });
    expect(ourRows(dataSet)).toEqual((await dcmdump(file)).rows);
    const latin = decodePart10(new Uint8Array(await readFile(files.explicitDefined!))).dataSet;
    expect(latin.string('PatientName')).toBe('Müller^Jürgen=^=');
  });
});
