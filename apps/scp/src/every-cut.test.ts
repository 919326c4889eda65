import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPart10Header } from '@dnet/dataset';
import {
  concatBytes as concat,
  elementBoundaries,
  LittleEndianElements as Le,
} from '@dnet/testkit/cut-data-sets';
import { rawStoreAssociation } from '@dnet/testkit/raw-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessScp, startOnLoopback } from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE } from './synthetic-images.js';

const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
interface TestObject {
  name: string;
  transferSyntaxUid: string;
  sop: string;
  /** Top-level elements, in tag order. */
  elements: Uint8Array[];
}

/** The patient, study and series elements every object carries (PS3.3 §C.7.2-3, §C.12.1). */
function identity(
  e: Le,
  n: number,
  middle: Uint8Array[] = [],
): { sop: string; head: Uint8Array[]; tail: Uint8Array[] } {
  const study = `1.2.826.0.1.40.${n}`;
  const sop = `${study}.1.1`;
  return {
    sop,
    head: [
      e.element(0x00080016, 'UI', CT_IMAGE_STORAGE),
      e.element(0x00080018, 'UI', sop),
      ...middle,
    ],
    tail: [
      e.element(0x00100010, 'PN', 'CUT^EVERY'),
      e.element(0x00100020, 'LO', `CUT${n}`),
      e.element(0x0020000d, 'UI', study),
      e.element(0x0020000e, 'UI', `${study}.1`),
      e.element(0x00280010, 'US', new Uint8Array([4, 0])),
    ],
  };
}

function objects(): TestObject[] {
  const ex = new Le(true);
  const im = new Le(false);
  const pixels = new Uint8Array(32).map((_, i) => i);
  const explicit = identity(ex, 1);
  const referenced = (e: Le) =>
    e.sequence(0x00081140, [
      [
        e.element(0x00081150, 'UI', CT_IMAGE_STORAGE),
        e.element(0x00081155, 'UI', '1.2.826.0.1.40.9.1'),
      ],
      [
        e.element(0x00081150, 'UI', CT_IMAGE_STORAGE),
        e.element(0x00081155, 'UI', '1.2.826.0.1.40.9.2'),
        // A nested sequence of undefined length, items of undefined length.
        e.sequence(0x00089215, [[e.element(0x00080100, 'SH', '113100')]]),
      ],
    ]);
  const implicit = identity(im, 2, [referenced(im)]);
  const encapsulated = identity(ex, 3, [referenced(ex)]);
  return [
    {
      name: 'explicit VR LE, defined lengths',
      transferSyntaxUid: EXPLICIT_VR_LE,
      sop: explicit.sop,
      elements: [...explicit.head, ...explicit.tail, ex.element(0x7fe00010, 'OW', pixels)],
    },
    {
      name: 'implicit VR LE, sequences and items of undefined length',
      transferSyntaxUid: IMPLICIT_VR_LE,
      sop: implicit.sop,
      elements: [...implicit.head, ...implicit.tail, im.element(0x7fe00010, 'OW', pixels)],
    },
    {
      name: 'encapsulated Pixel Data (JPEG Baseline), explicit VR sequences of undefined length',
      transferSyntaxUid: JPEG_BASELINE,
      sop: encapsulated.sop,
      elements: [
        ...encapsulated.head,
        ...encapsulated.tail,
        ex.encapsulated([pixels.subarray(0, 20), pixels.subarray(20, 30)]),
      ],
    },
  ];
}

describe('dnet-scp never answers Success for a data set cut inside an element (every cut, over TCP)', () => {
  let dir: string;
  let scp: InProcessScp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-cut-'));
    scp = await startOnLoopback([join(dir, 'storage')]);
  });

  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a cut object not archived yet leaves no file, no temporary file and no row', async () => {
    const object = objects()[0]!;
    const whole = concat(object.elements);
    // Raw bytes: dnet's own sender refuses cut and odd-length data sets.
    const client = await rawStoreAssociation({
      port: scp.port,
      called: 'DNETSCP',
      sopClassUid: CT_IMAGE_STORAGE,
      transferSyntaxUid: object.transferSyntaxUid,
    });
    try {
      const sop = `${object.sop}.9`;
      const r = await client.store(sop, whole.subarray(0, whole.length - 5));
      expect(r.status).toBe(0xc000);
      expect(r.errorComment).toBe(
        `data set ends inside (7FE0,0010) at offset ${whole.length - object.elements.at(-1)!.length}`,
      );
      expect(await scp.scp.index.get(sop)).toBeUndefined();
      const incoming = join(dir, 'storage', '.incoming');
      for (const name of await readdir(incoming)) {
        expect((await stat(join(incoming, name))).size, name).toBe(0);
      }
      const files = await readdir(join(dir, 'storage'), { recursive: true });
      expect(files.filter((f) => f.endsWith(`${sop}.dcm`))).toEqual([]);
      // The log has the whole reason; the peer's Error Comment its 64-character form.
      expect(scp.logs.find((l) => l.sopInstanceUid === sop)).toMatchObject({
        status: '0xc000',
        error: expect.stringMatching(/^data set ends at byte \d+ inside \(7FE0,0010\) PixelData/),
      });
    } finally {
      await client.release().catch(() => client.abort());
    }
  });

  for (const object of objects()) {
    it(object.name, async () => {
      const whole = concat(object.elements);
      const boundaries = elementBoundaries(object.elements, { empty: true });
      // Raw bytes: dnet's own sender refuses cut and odd-length data sets.
      const client = await rawStoreAssociation({
        port: scp.port,
        called: 'DNETSCP',
        sopClassUid: CT_IMAGE_STORAGE,
        transferSyntaxUid: object.transferSyntaxUid,
      });
      try {
        expect(await client.store(object.sop, whole)).toMatchObject({
          status: 0,
        });
        const record = await scp.scp.index.get(object.sop);
        const path = join(dir, 'storage', record!.path);
        const archived = await readFile(path);
        expect(
          Buffer.compare(archived.subarray(readPart10Header(archived).dataSetOffset), whole),
        ).toBe(0);

        const successes: number[] = [];
        for (let cut = 0; cut < whole.length; cut++) {
          const r = await client.store(object.sop, whole.subarray(0, cut));
          if (r.status === 0) successes.push(cut);
          else {
            expect(r.status, `cut at ${cut}`).toBe(0xc000);
            expect(r.errorComment?.length ?? 0).toBeLessThanOrEqual(64);
          }
        }
        // Success only at top-level element boundaries (the archived copy kept: duplicates).
        expect(successes.filter((c) => !boundaries.has(c))).toEqual([]);
        expect(successes.length).toBeGreaterThan(0);
        expect(Buffer.compare(await readFile(path), archived)).toBe(0);
        expect(await scp.scp.index.get(object.sop)).toEqual(record);
      } finally {
        await client.release().catch(() => client.abort());
      }
    });
  }
});

describe('--on-duplicate replace: a cut data set never replaces the archived copy (every cut, over TCP)', () => {
  let dir: string;
  let scp: InProcessScp;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-cut-replace-'));
    scp = await startOnLoopback([join(dir, 'storage'), '--on-duplicate', 'replace']);
  });

  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('implicit VR LE with sequences of undefined length: the file is unchanged after every failed cut', async () => {
    const object = objects()[1]!;
    const whole = concat(object.elements);
    // Raw bytes: dnet's own sender refuses cut and odd-length data sets.
    const client = await rawStoreAssociation({
      port: scp.port,
      called: 'DNETSCP',
      sopClassUid: CT_IMAGE_STORAGE,
      transferSyntaxUid: object.transferSyntaxUid,
    });
    try {
      expect((await client.store(object.sop, whole)).status).toBe(0);
      const path = join(dir, 'storage', (await scp.scp.index.get(object.sop))!.path);
      const archived = await readFile(path);
      let replaced = 0;
      for (let cut = 0; cut < whole.length; cut++) {
        const r = await client.store(object.sop, whole.subarray(0, cut));
        if (r.status === 0) {
          // A cut at a top-level boundary is a complete (smaller) data set: replace takes it.
          replaced++;
          expect((await client.store(object.sop, whole)).status).toBe(0);
        }
        expect(Buffer.compare(await readFile(path), archived), `cut at ${cut}`).toBe(0);
      }
      expect(replaced).toBeLessThan(object.elements.length);
    } finally {
      await client.release().catch(() => client.abort());
    }
  });
});
