import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveErrorCode } from './errors.js';
import { DEFAULT_WORKLIST_READERS, FolderWorklist } from './worklist.js';

const value = (
  vr: string,
  ...values: NonNullable<DicomJsonAttribute['Value']>
): DicomJsonAttribute => ({ vr, Value: values });
const pn = (name: string) => ({ vr: 'PN', Value: [{ Alphabetic: name }] });

interface Step {
  ae: string;
  date: string;
  modality: string;
  id: string;
}

function item(name: string, id: string, steps: Step[]): DicomJsonDataSet {
  return {
    '00080050': value('SH', `ACC-${id}`),
    '00100010': pn(name),
    '00100020': value('LO', id),
    '0020000D': value('UI', `1.2.9.${id.replace(/\D/g, '')}`),
    '00401001': value('SH', `RP-${id}`),
    '00400100': {
      vr: 'SQ',
      Value: steps.map((s) => ({
        '00400001': value('AE', s.ae),
        '00400002': value('DA', s.date),
        '00400003': value('TM', '090000'),
        '00080060': value('CS', s.modality),
        '00400009': value('SH', s.id),
        '00400007': value('LO', `${s.modality} exam`),
      })),
    },
  };
}

const ITEM1 = item('DOE^JANE', 'W1', [{ ae: 'MR1', date: '20240110', modality: 'MR', id: 'S1' }]);
const ITEM2 = item('SMITH^BOB', 'W2', [{ ae: 'CT1', date: '20240115', modality: 'CT', id: 'S2' }]);
const ITEM3A = item('ROE^ANN', 'W3', [{ ae: 'MR1', date: '20240201', modality: 'MR', id: 'S3' }]);
const ITEM3B = item('POE^EDGAR', 'W4', [
  { ae: 'CT1', date: '20240120', modality: 'CT', id: 'S4' },
  { ae: 'MR2', date: '20240125', modality: 'MR', id: 'S5' },
]);

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'dnet-scp-worklist-'));
  await writeFile(join(folder, 'a.json'), JSON.stringify(ITEM1));
  await writeFile(join(folder, 'b.JSON'), JSON.stringify(ITEM2));
  await writeFile(join(folder, 'c.json'), JSON.stringify([ITEM3A, ITEM3B]));
  await writeFile(join(folder, 'notes.txt'), 'not an item');
  await writeFile(join(folder, 'd.wl'), new Uint8Array([0, 1, 2])); // no reader yet: ignored
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<DicomJsonDataSet>): Promise<DicomJsonDataSet[]> {
  const out: DicomJsonDataSet[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const ids = (responses: DicomJsonDataSet[]) => responses.map((r) => r['00100020']?.Value?.[0]);

function sps(keys: DicomJsonDataSet) {
  return { '00400100': { vr: 'SQ', Value: [keys] }, '00100020': { vr: 'LO' } };
}

describe('FolderWorklist', () => {
  it('loads *.json items (objects and arrays), ignoring other files', async () => {
    const worklist = new FolderWorklist(folder);
    expect(await worklist.load()).toEqual({ items: 4, invalid: [] });
    expect(ids(await collect(worklist.find({ '00100020': { vr: 'LO' } })))).toEqual([
      'W1',
      'W2',
      'W3',
      'W4',
    ]);
  });

  it('sequence matching on the Scheduled Procedure Step: modality', async () => {
    const worklist = new FolderWorklist(folder);
    const found = await collect(worklist.find(sps({ '00080060': value('CS', 'MR') })));
    expect(ids(found)).toEqual(['W1', 'W3', 'W4']);
  });

  it('keys of one sequence item must match the same item', async () => {
    const worklist = new FolderWorklist(folder);
    const january = { '00400002': value('DA', '20240101-20240131') };
    expect(
      ids(await collect(worklist.find(sps({ ...january, '00080060': value('CS', 'MR') })))),
    ).toEqual(['W1', 'W4']);
    // W4 has CT on the 20th and MR on the 25th: CT on the 25th is no match.
    expect(
      ids(
        await collect(
          worklist.find(
            sps({ '00400002': value('DA', '20240125'), '00080060': value('CS', 'CT') }),
          ),
        ),
      ),
    ).toEqual([]);
  });

  it('station AE title, patient name wild card, accession', async () => {
    const worklist = new FolderWorklist(folder);
    expect(ids(await collect(worklist.find(sps({ '00400001': value('AE', 'CT1') }))))).toEqual([
      'W2',
      'W4',
    ]);
    expect(
      ids(await collect(worklist.find({ '00100010': pn('*oe^*'), '00100020': { vr: 'LO' } }))),
    ).toEqual(['W1', 'W3', 'W4']);
    expect(
      ids(
        await collect(
          worklist.find({ '00080050': value('SH', 'ACC-W2'), '00100020': { vr: 'LO' } }),
        ),
      ),
    ).toEqual(['W2']);
  });

  it('responses carry the query keys, the sequence reduced to the query item', async () => {
    const worklist = new FolderWorklist(folder);
    const [response] = await collect(
      worklist.find({
        '00080005': value('CS', 'ISO_IR 100'),
        '00100010': { vr: 'PN' },
        '00401001': { vr: 'SH' },
        '00400100': {
          vr: 'SQ',
          Value: [
            { '00400001': value('AE', 'MR1'), '00400002': { vr: 'DA' }, '00400009': { vr: 'SH' } },
          ],
        },
        '00380010': { vr: 'LO' }, // Admission ID: not in the item, returned empty
      }),
    );
    expect(response).toEqual({
      '00080005': value('CS', 'ISO_IR 100'),
      '00100010': pn('DOE^JANE'),
      '00401001': value('SH', 'RP-W1'),
      '00400100': {
        vr: 'SQ',
        Value: [
          {
            '00400001': value('AE', 'MR1'),
            '00400002': value('DA', '20240110'),
            '00400009': value('SH', 'S1'),
          },
        ],
      },
      '00380010': { vr: 'LO' },
    });
  });

  it("adds the item's Specific Character Set to its responses", async () => {
    await writeFile(
      join(folder, 'a.json'),
      JSON.stringify({ ...ITEM1, '00080005': value('CS', 'ISO_IR 192') }),
    );
    const worklist = new FolderWorklist(folder);
    const found = await collect(worklist.find({ '00100020': value('LO', 'W1') }));
    expect(found).toEqual([
      { '00100020': value('LO', 'W1'), '00080005': value('CS', 'ISO_IR 192') },
    ]);
  });

  it('sees added, changed and removed files on the next query', async () => {
    const worklist = new FolderWorklist(folder);
    expect(await collect(worklist.find({}))).toHaveLength(4);
    await writeFile(join(folder, 'e.json'), JSON.stringify(item('NEW^ONE', 'W9', [])));
    await unlink(join(folder, 'c.json'));
    await writeFile(join(folder, 'a.json'), JSON.stringify(item('DOE^JANE', 'W1X', [])));
    expect(ids(await collect(worklist.find({ '00100020': { vr: 'LO' } })))).toEqual([
      'W1X',
      'W2',
      'W9',
    ]);
  });

  it('reports and skips invalid files, keeping the good ones', async () => {
    await writeFile(join(folder, 'broken.json'), '{"00100010": ');
    await writeFile(join(folder, 'shape.json'), JSON.stringify({ patientName: 'x' }));
    await writeFile(join(folder, 'big.json'), JSON.stringify([ITEM1, ITEM1, ITEM1]));
    await writeFile(join(folder, 'latin1.json'), new Uint8Array([0x7b, 0xe9, 0x7d]));
    await mkdir(join(folder, 'folder.json'));
    const worklist = new FolderWorklist(folder, { maxFileBytes: 1000 });
    const result = await worklist.load();
    expect(result.items).toBe(2); // a.json and b.JSON; c.json (two items) is too big as well
    const files = result.invalid.map((e) => e.file).sort();
    expect(files).toEqual(['big.json', 'broken.json', 'c.json', 'latin1.json', 'shape.json']);
    for (const e of result.invalid) {
      expect(e.code).toBe(ArchiveErrorCode.INVALID_WORKLIST_ITEM);
    }
  });

  it('reads at most maxFiles files', async () => {
    const worklist = new FolderWorklist(folder, { maxFiles: 2 });
    const result = await worklist.load();
    expect(result.items).toBe(2);
    expect(result.invalid.map((e) => e.file)).toEqual(['c.json']);
  });

  it('takes extra readers (the hook for Part 10 *.wl files)', async () => {
    const worklist = new FolderWorklist(folder, {
      readers: {
        ...DEFAULT_WORKLIST_READERS,
        '.wl': (bytes) => [item('PART^TEN', `WL${bytes.length}`, [])],
      },
    });
    expect(
      ids(await collect(worklist.find({ '00100010': pn('PART*'), '00100020': { vr: 'LO' } }))),
    ).toEqual(['WL3']);
  });

  it('a missing folder is an empty worklist', async () => {
    const worklist = new FolderWorklist(join(folder, 'none'));
    expect(await collect(worklist.find({}))).toEqual([]);
  });

  it('limit, AbortSignal and malformed queries', async () => {
    const worklist = new FolderWorklist(folder);
    expect(await collect(worklist.find({}, { limit: 3 }))).toHaveLength(3);
    const controller = new AbortController();
    controller.abort();
    await expect(collect(worklist.find({}, { signal: controller.signal }))).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(
      collect(worklist.find({ patientName: { vr: 'PN' } } as DicomJsonDataSet)),
    ).rejects.toMatchObject({ code: ArchiveErrorCode.INVALID_QUERY });
  });

  it('concurrent queries share one scan', async () => {
    const worklist = new FolderWorklist(folder);
    const [a, b] = await Promise.all([worklist.load(), worklist.load()]);
    expect(a).toBe(b);
  });
});
