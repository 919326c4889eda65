import { mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Client,
  OperationFailedError,
  queryRetrieve,
  type ReceivedInstance,
  retrieveContexts,
  storage as storageContexts,
} from '@dnet/services';
import { freePort } from '@dnet/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  type InProcessScp,
  startOnLoopback,
} from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE, syntheticImages } from './synthetic-images.js';

/** Drains a received data set, resolving its size. */
async function drain(instance: ReceivedInstance): Promise<number> {
  let n = 0;
  for await (const c of instance.dataSet) n += c.length;
  return n;
}

describe('dnet-scp retrieve failures and query logs', () => {
  let dir: string;
  let storage: string;
  let scp: InProcessScp;
  let images: Awaited<ReturnType<typeof syntheticImages>>;
  let deadPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-retrieve-'));
    storage = join(dir, 'storage');
    // A C-MOVE destination where nothing listens.
    deadPort = await freePort();
    scp = await startOnLoopback([storage, '--peer', `NOBODY=127.0.0.1:${deadPort}`]);
    images = await syntheticImages(join(dir, 'in'), { count: 3, perSeries: 3 });
    const c = await connectClient(scp.port, [storageContexts(CT_IMAGE_STORAGE, [EXPLICIT_VR_LE])]);
    for (const i of images) expect((await c.store(i.path)).status).toBe(0);
    await c.release();
    // Image 2 becomes a folder (read: EISDIR), image 3 is gone (open: ENOENT).
    const at = (i: (typeof images)[number]) =>
      join(storage, i.studyInstanceUid, i.seriesInstanceUid, `${i.sopInstanceUid}.dcm`);
    await unlink(at(images[1]!));
    await mkdir(at(images[1]!));
    await unlink(at(images[2]!));
  });

  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fails those sub-operations (the peer gets a failure status and their UIDs), the association lives on, the log names errno and path', async () => {
    const client: Client = await connectClient(scp.port, [
      ...retrieveContexts('study', [CT_IMAGE_STORAGE], [EXPLICIT_VR_LE]),
    ]);
    try {
      const received: string[] = [];
      const result = await client.get(
        {
          '00080052': { vr: 'CS', Value: ['STUDY'] },
          '0020000D': { vr: 'UI', Value: [images[0]!.studyInstanceUid] },
        },
        {
          level: 'STUDY',
          sink: async (instance) => {
            await drain(instance);
            received.push(instance.sopInstanceUid);
            return 0;
          },
        },
      );
      expect(received).toEqual([images[0]!.sopInstanceUid]);
      expect(result).toMatchObject({ completed: 1, failed: 2, warning: 0 });
      expect(result.failedSopInstanceUids.sort()).toEqual(
        [images[1]!.sopInstanceUid, images[2]!.sopInstanceUid].sort(),
      );
      // The association is still usable.
      expect(client.association.state).toBe('Sta6');
    } finally {
      await client.release();
    }
    const failures = scp.logs.filter((l) => l.msg === 'sub-operation failed');
    expect(failures).toHaveLength(2);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 40,
          op: 'C-GET',
          sopInstanceUid: images[1]!.sopInstanceUid,
          errno: 'EISDIR',
          path: expect.stringContaining(images[1]!.sopInstanceUid),
        }),
        expect.objectContaining({
          op: 'C-GET',
          sopInstanceUid: images[2]!.sopInstanceUid,
          errno: 'ENOENT',
          path: expect.stringContaining(images[2]!.sopInstanceUid),
        }),
      ]),
    );
  });

  it('a C-MOVE whose destination cannot be reached logs the destination and the connect error', async () => {
    const client = await connectClient(scp.port, [queryRetrieve('study')]);
    try {
      const error = await client
        .move(
          {
            '00080052': { vr: 'CS', Value: ['STUDY'] },
            '0020000D': { vr: 'UI', Value: [images[0]!.studyInstanceUid] },
          },
          { level: 'STUDY', destination: 'NOBODY' },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OperationFailedError);
      expect((error as OperationFailedError).status).toBe(0xa702);
    } finally {
      await client.release();
    }
    expect(scp.logs.find((l) => l.msg === 'C-MOVE sub-association failed')).toMatchObject({
      level: 40,
      op: 'C-MOVE',
      destination: 'NOBODY',
      destinationAddress: `127.0.0.1:${deadPort}`,
      phase: 'connect',
      errno: 'ECONNREFUSED',
    });
  });

  it('C-FIND, C-MOVE and C-GET lines have one level key (the log level); the query level is queryLevel', async () => {
    const client = await connectClient(scp.port, [queryRetrieve('study')]);
    try {
      for await (const _ of client.find(
        { '0020000D': { vr: 'UI', Value: [images[0]!.studyInstanceUid] } },
        { level: 'STUDY' },
      )) {
        // Matches are not the point here.
      }
    } finally {
      await client.release();
    }
    expect(scp.logs.find((l) => l.op === 'C-FIND')).toMatchObject({
      level: 30,
      queryLevel: 'STUDY',
    });
    const query = scp.lines.filter((l) => /"op":"C-(FIND|MOVE|GET)"/.test(l));
    expect(query.length).toBeGreaterThanOrEqual(3);
    for (const line of query) expect(line.match(/"level":/g), line).toHaveLength(1);
  });
});
