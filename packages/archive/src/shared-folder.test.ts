import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveErrorCode } from './errors.js';
import { bytes, describeObjectStorage, readAll, UIDS } from './object-storage-compliance.js';
import { INCOMING_FOLDER, LocalStorage } from './storage.js';

// A root shared by several nodes (an NFS or CephFS mount in production): the
// same contract as a local root, with this node's own temporary folder.
describeObjectStorage('LocalStorage (shared folder, nodeId)', (root) => {
  return new LocalStorage(root, { nodeId: 'node-1' });
});

let parent: string;
let root: string;

beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'dnet-scp-shared-'));
  root = join(parent, 'root');
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

const uids = (n: number) => ({ ...UIDS, sopInstanceUid: `${UIDS.sopInstanceUid}.${n}` });

describe('LocalStorage: two nodes on one root', () => {
  it("writes temporary files to the node's own folder and refuses a bad node id", async () => {
    const a = new LocalStorage(root, { nodeId: 'node-a', fsync: false });
    expect(a.incoming).toBe(join(root, INCOMING_FOLDER, 'node-a'));
    const writer = await a.begin(UIDS);
    expect(await readdir(join(root, INCOMING_FOLDER))).toEqual(['node-a']);
    const names = await readdir(a.incoming);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^[0-9a-f-]+\.part$/);
    await writer.abort();
    for (const bad of ['', '../x', 'a/b', 'a~b', 'x'.repeat(65)]) {
      expect(() => new LocalStorage(root, { nodeId: bad })).toThrow(
        expect.objectContaining({ code: ArchiveErrorCode.INVALID_PATH }),
      );
    }
  });

  it('a node restarting removes only its own temporary files, never a transfer of the other', async () => {
    const a = new LocalStorage(root, { nodeId: 'node-a', fsync: false });
    const b = new LocalStorage(root, { nodeId: 'node-b', fsync: false });
    const crashed = await a.begin(uids(1)); // node A "dies" mid-transfer
    await crashed.write(bytes(100, 1));
    const inFlight = await b.begin(uids(2)); // node B is receiving
    await inFlight.write(bytes(300, 2));
    // Node A restarts: its start-up clean-up must not touch node B's file.
    const restarted = new LocalStorage(root, { nodeId: 'node-a', fsync: false });
    expect(await restarted.removeTemporaryFiles()).toBe(1);
    await inFlight.write(bytes(200, 3));
    const stored = await inFlight.commit();
    expect(stored.size).toBe(500);
    expect((await readFile(join(root, stored.path))).length).toBe(500);
    expect(await readdir(a.incoming)).toEqual([]);
    expect(await readdir(b.incoming)).toEqual([]);
    await crashed.abort();
  });

  it('a node without a node id never cleans the folders of nodes with one', async () => {
    const a = new LocalStorage(root, { nodeId: 'node-a', fsync: false });
    const inFlight = await a.begin(uids(1));
    const single = new LocalStorage(root, { fsync: false });
    expect(await single.removeTemporaryFiles()).toBe(0);
    await inFlight.write(bytes(10, 1));
    expect((await inFlight.commit()).size).toBe(10);
  });

  it("removes the node's temporary files that older versions left in .incoming itself", async () => {
    await mkdir(join(root, INCOMING_FOLDER), { recursive: true });
    await writeFile(join(root, INCOMING_FOLDER, 'node-a~0123.part'), 'x');
    await writeFile(join(root, INCOMING_FOLDER, 'node-b~4567.part'), 'x');
    const a = new LocalStorage(root, { nodeId: 'node-a', fsync: false });
    expect(await a.removeTemporaryFiles()).toBe(1);
    expect(await readdir(join(root, INCOMING_FOLDER))).toEqual(['node-b~4567.part']);
  });

  it('concurrent writers on both nodes: every object complete, paths relative and the same on both', async () => {
    const a = new LocalStorage(root, { nodeId: 'node-a', fsync: true });
    const b = new LocalStorage(root, { nodeId: 'node-b', fsync: true });
    const store = async (storage: LocalStorage, n: number, fill: number) => {
      const writer = await storage.begin(uids(n));
      for (let i = 0; i < 4; i++) await writer.write(bytes(4096, fill + i));
      return writer.commit();
    };
    // 40 distinct objects, half through each node, plus 10 sent to both at once
    // (the same SOP Instance UID: the last rename wins, whole).
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, n) => store(a, n, n)),
      ...Array.from({ length: 20 }, (_, n) => store(b, 100 + n, n)),
      ...Array.from({ length: 10 }, (_, n) => store(a, 200 + n, 1)),
      ...Array.from({ length: 10 }, (_, n) => store(b, 200 + n, 7)),
    ]);
    for (const r of results) {
      expect(r.path.startsWith('/')).toBe(false);
      expect(r.path).not.toContain(root);
    }
    const expected = (fill: number) => {
      const parts = [0, 1, 2, 3].map((i) => bytes(4096, fill + i));
      return Buffer.concat(parts);
    };
    for (let n = 200; n < 210; n++) {
      const path = b.pathFor(uids(n));
      expect(a.pathFor(uids(n))).toBe(path);
      const read = await readAll(await a.open(path));
      const one = Buffer.compare(read, expected(1)) === 0;
      const other = Buffer.compare(read, expected(7)) === 0;
      expect(one || other).toBe(true); // never a mix of the two writers
    }
    // Each node reads what the other stored.
    for (let n = 0; n < 20; n++) {
      const read = await readAll(await b.open(a.pathFor(uids(n))));
      expect(Buffer.compare(read, expected(n))).toBe(0);
      expect(await a.stat(b.pathFor(uids(100 + n)))).toMatchObject({ size: 4 * 4096 });
    }
    expect(await readdir(a.incoming)).toEqual([]);
    expect(await readdir(b.incoming)).toEqual([]);
  });

  it('a remove on one node racing a store into the same series on the other loses nothing', async () => {
    const a = new LocalStorage(root, { nodeId: 'node-a', fsync: false });
    const b = new LocalStorage(root, { nodeId: 'node-b', fsync: false });
    for (let round = 0; round < 20; round++) {
      const first = await a.begin(uids(round * 2));
      await first.write(bytes(10, round));
      const stored = await first.commit();
      const second = await b.begin(uids(round * 2 + 1));
      await second.write(bytes(10, round));
      // A prunes the (now maybe empty) series folder while B renames into it.
      const [, placed] = await Promise.all([a.remove(stored.path), second.commit()]);
      expect(await a.stat(placed.path)).toMatchObject({ size: 10 });
    }
  });
});
