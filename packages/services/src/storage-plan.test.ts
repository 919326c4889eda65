import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSet, TransferSyntax, writePart10File } from '@dnet/dataset';
import { describePeer, startPeer } from '@dnet/testkit';
import { memory } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { InvalidArgumentError } from './errors.js';
import { hierarchy, tempDir, writeInstances } from './instances.test-support.js';
import { Server } from './server.js';
import { storageSopClasses } from './sop-class.js';
import { planStorage, type StorageFile, type StoragePlan } from './storage-plan.js';

const ELE = TransferSyntax.ExplicitVRLittleEndian;
const ILE = TransferSyntax.ImplicitVRLittleEndian;
const JPEG = '1.2.840.10008.1.2.4.50';
const file = (path: string, sopClassUid: string, transferSyntaxUid: string = ELE) => ({
  path,
  sopClassUid,
  transferSyntaxUid,
});

/** Writes one small Part 10 file per SOP class given; returns the paths. */
async function writeFiles(
  dir: string,
  classes: readonly string[],
  transferSyntaxUid: string = ELE,
): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, sopClassUid] of classes.entries()) {
    const sopInstanceUid = `2.25.4242.${i + 1}`;
    const ds = new DataSet();
    ds.setString('SOPClassUID', sopClassUid, 'UI');
    ds.setString('SOPInstanceUID', sopInstanceUid, 'UI');
    ds.setString('PatientID', 'PLAN', 'LO');
    const path = join(dir, `${String(i).padStart(4, '0')}.dcm`);
    await writePart10File(
      path,
      {
        mediaStorageSopClassUid: sopClassUid,
        mediaStorageSopInstanceUid: sopInstanceUid,
        transferSyntaxUid,
      },
      ds,
    );
    paths.push(path);
  }
  return paths;
}

/** Every file lands in exactly one plan, and that plan has a context with its class and syntax. */
function expectCarried(plans: readonly StoragePlan<StorageFile>[], paths: readonly string[]) {
  const seen = plans.flatMap((p) => p.files.map((f) => f.path));
  expect([...seen].sort()).toEqual([...paths].sort());
  for (const plan of plans) {
    expect(plan.contexts.length).toBeLessThanOrEqual(128);
    for (const f of plan.files)
      expect(
        plan.contexts.some(
          (c) =>
            c.abstractSyntax === f.sopClassUid && c.transferSyntaxes.includes(f.transferSyntaxUid),
        ),
        f.path,
      ).toBe(true);
  }
}

describe('planStorage', () => {
  it('proposes one context per SOP class for uncompressed files and one per compressed syntax', async () => {
    const plans = await planStorage([
      file('a', '1.2.3'),
      file('b', '1.2.3', ILE),
      file('c', '1.2.3', JPEG),
      file('d', '1.2.4', ILE),
    ]);
    expect(plans).toHaveLength(1);
    expect(plans[0]!.contexts).toEqual([
      { abstractSyntax: '1.2.3', transferSyntaxes: [ELE, ILE] },
      { abstractSyntax: '1.2.3', transferSyntaxes: [JPEG] },
      { abstractSyntax: '1.2.4', transferSyntaxes: [ILE, ELE] },
    ]);
    // Grouped by the context each needs, groups in the order first met.
    expect(plans[0]!.files.map((f) => f.path)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('splits files needing more than 128 contexts over several associations (PS3.8 §9.3.2.2)', async () => {
    const files = Array.from({ length: 300 }, (_, i) =>
      file(`f${i}`, `1.2.${i % 130}`, i % 7 === 0 ? JPEG : ELE),
    );
    const plans = await planStorage(files);
    // 130 classes uncompressed, and 43 of them with JPEG files too: 173 contexts.
    expect(plans.map((p) => p.contexts.length)).toEqual([128, 45]);
    expectCarried(
      plans,
      files.map((f) => f.path),
    );
    expect((await planStorage(files, { maxContexts: 64 })).length).toBe(3);
    expect(await planStorage([])).toEqual([]);
    await expect(planStorage(files, { maxContexts: 129 })).rejects.toThrow(InvalidArgumentError);
    await expect(planStorage(files, { maxContexts: 0 })).rejects.toThrow(InvalidArgumentError);
  });

  it('reads a folder with more Storage SOP classes than one association carries into two plans', async () => {
    await using dir = await tempDir();
    const classes = storageSopClasses().slice(0, 130);
    const paths = await writeFiles(dir.path, classes.slice(0, 125));
    const sub = join(dir.path, 'jpeg');
    await mkdir(sub);
    // Five more classes in a compressed syntax (the data set is read, never decoded).
    paths.push(...(await writeFiles(sub, classes.slice(125), JPEG)));
    const skipped: string[] = [];
    const plans = await planStorage([dir.path], { onSkip: (p) => skipped.push(p) });
    expect(skipped).toEqual([]);
    expect(plans.map((p) => p.contexts.length)).toEqual([128, 2]);
    expectCarried(plans, paths);
    expect(plans[1]!.contexts.every((c) => c.transferSyntaxes.join() === JPEG)).toBe(true);
  });
});

describe('Client.storeMany with a plan', () => {
  it('stores the plan`s files, each reported by its path, over the contexts the plan proposed', async () => {
    await using dir = await tempDir();
    const paths = [
      ...(await writeInstances(dir.path, hierarchy(1, 1, 1, 2))),
      ...(await writeInstances(dir.path, [{ patient: 2, study: 1, series: 1, instance: 1 }], ILE)),
    ];
    const received: string[] = [];
    const transport = memory();
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: {
        store: async (instance) => {
          for await (const _ of instance.dataSet);
          received.push(instance.sopInstanceUid);
          return 0;
        },
      },
    });
    try {
      const [plan, ...more] = await planStorage(paths);
      expect(more).toEqual([]);
      // Both files' syntaxes in one context: one CT class, uncompressed.
      expect(plan!.contexts).toEqual([
        { abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: [ELE, ILE] },
      ]);
      const client = await Client.connect({
        transport,
        host: '127.0.0.1',
        port: server.port,
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: plan!.contexts,
      });
      const sources: unknown[] = [];
      const result = await client.storeMany(plan!, {
        onProgress: ({ source }) => sources.push(source),
      });
      await client.release();
      expect(result).toMatchObject({ stored: 3, failed: 0 });
      expect(sources).toEqual(paths);
      expect(received).toHaveLength(3);
    } finally {
      await server.close({ timeoutMs: 1000 });
    }
  });
});

describePeer(['storescp'], 'planStorage against DCMTK', () => {
  it('storescp receives a folder that needs two associations, one per plan', async () => {
    await using dir = await tempDir();
    const source = join(dir.path, 'source');
    const out = join(dir.path, 'out');
    await mkdir(source);
    await mkdir(out);
    // SOP classes of our own (UUID-derived UIDs, PS3.5 §B.2): storescp knows none of them.
    const classes = Array.from({ length: 130 }, (_, i) => `2.25.4242${i}`);
    const paths = await writeFiles(source, classes);
    // -pm: accepts SOP classes it does not know; +xa: every transfer syntax it supports.
    await using scp = await startPeer({
      command: 'storescp',
      args: (port) => ['-pm', '+xa', '-od', out, String(port)],
    });
    const plans = await planStorage([source]);
    expect(plans).toHaveLength(2);
    let stored = 0;
    for (const plan of plans) {
      const client = await Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'DNETSCU',
        calledAeTitle: 'STORESCP',
        contexts: plan.contexts,
      });
      const sources: unknown[] = [];
      const result = await client.storeMany(plan, {
        onProgress: ({ source }) => sources.push(source),
      });
      await client.release();
      expect(result.failed, String(result.results.find((r) => r instanceof Error))).toBe(0);
      expect(sources).toEqual(plan.files.map((f) => f.path));
      stored += result.stored;
    }
    expect(stored).toBe(paths.length);
    expect((await readdir(out)).length).toBe(paths.length);
  });
});
