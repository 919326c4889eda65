import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeDataSet, encodeDataSet, openPart10File, readPart10Header } from '@dnet/dataset';
import { describe, expect, it } from 'vitest';
import { retrieveContexts, storage, verification } from './contexts.js';
import { isDnetError, NoPresentationContextError, OperationFailedError } from './errors.js';
import {
  bytesOf,
  hierarchy,
  makeInstance,
  tempDir,
  uidsOf,
  writeInstances,
} from './instances.test-support.js';
import { type ReceivedInstance, storeToFolder } from './received-instance.js';
import { CT, ELE, ILE, setup } from './server.test-support.js';
import { SopClass } from './sop-class.js';

// The Server's Storage service (PS3.4 Annex B), and the data set sources a Client stores from.
describe('Storage (PS3.4 Annex B)', () => {
  it('stores a DataSet, a file and a Part 10 stream; the handler sees the bytes and the instance', async () => {
    const received: { instance: ReceivedInstance; bytes: Uint8Array; calling: string }[] = [];
    const { server, connect } = await setup({
      store: async (instance, ctx) => {
        received.push({ instance, bytes: await bytesOf(instance), calling: ctx.callingAeTitle });
        return 0;
      },
    });
    await using dir = await tempDir();
    const [file] = await writeInstances(dir.path, [
      { patient: 1, study: 1, series: 1, instance: 2 },
    ]);
    const client = await connect([storage(CT, [ELE])]);
    const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: 1 });
    const r1 = await client.store(ds);
    expect(r1).toMatchObject({ status: 0, sopClassUid: CT, transferSyntaxUid: ELE });
    await client.store(file!);
    await client.store(createReadStream(file!));
    await client.release();
    expect(received).toHaveLength(3);
    expect(received[0]!.bytes).toEqual(encodeDataSet(ds, ELE));
    const fileBytes = await readFile(file!);
    const dataSet = fileBytes.subarray(readPart10Header(fileBytes).dataSetOffset);
    expect(Buffer.from(received[1]!.bytes).equals(dataSet)).toBe(true);
    expect(Buffer.from(received[2]!.bytes).equals(dataSet)).toBe(true);
    expect(received[1]!.instance.sopInstanceUid).toBe(
      uidsOf({ patient: 1, study: 1, series: 1, instance: 2 }).instance,
    );
    expect(received[1]!.calling).toBe('SCU');
    await server.close();
  });

  it('converts between uncompressed syntaxes when the file syntax was not accepted', async () => {
    let got: { ts: string; bytes: Uint8Array } | undefined;
    const { server, connect } = await setup(
      {
        store: async (i) => {
          got = { ts: i.transferSyntaxUid, bytes: await bytesOf(i) };
        },
      },
      { storageTransferSyntaxes: [ILE] },
    );
    await using dir = await tempDir();
    const [file] = await writeInstances(
      dir.path,
      [{ patient: 1, study: 1, series: 1, instance: 1 }],
      ELE,
    );
    const client = await connect([storage(CT, [ELE, ILE])]);
    const r = await client.store(file!);
    expect(r.transferSyntaxUid).toBe(ILE);
    expect(got!.ts).toBe(ILE);
    const original = await (await openPart10File(file!)).readDataSet();
    expect(decodeDataSet(got!.bytes, ILE).string('SOPInstanceUID')).toBe(
      original.string('SOPInstanceUID'),
    );
    expect(
      Buffer.from(decodeDataSet(got!.bytes, ILE).bytes('PixelData')!).equals(
        original.bytes('PixelData')!,
      ),
    ).toBe(true);
    await client.release();
    await server.close();
  });

  it('returns warnings and throws failures with the status', async () => {
    let n = 0;
    const { server, connect } = await setup({
      store: async (i) => {
        await bytesOf(i);
        n++;
        return n === 1 ? 0xb007 : { status: 0xa700, errorComment: 'disk full' };
      },
    });
    const client = await connect([storage(CT)]);
    const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: 1 });
    expect((await client.store(ds)).status).toBe(0xb007);
    const error = await client.store(ds).catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error).toMatchObject({
      status: 0xa700,
      errorComment: 'disk full',
      operation: 'C-STORE',
    });
    await client.release();
    await server.close();
  });

  it('fails with NoPresentationContextError for a SOP class not negotiated', async () => {
    const { server, connect } = await setup({ store: () => 0 });
    const client = await connect([storage(SopClass.MR_IMAGE_STORAGE)]);
    const error = await client
      .store(makeInstance({ patient: 1, study: 1, series: 1, instance: 1 }))
      .catch((e) => e);
    expect(error).toBeInstanceOf(NoPresentationContextError);
    expect(error.code).toBe('DNET_ASSOCIATION_NO_PRESENTATION_CONTEXT');
    await client.release();
    await server.close();
  });

  it('storeMany keeps several operations outstanding within the window and reports progress', async () => {
    let active = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const { server, connect } = await setup({
      store: async (i) => {
        active++;
        peak = Math.max(peak, active);
        await bytesOf(i);
        // Hold each store until four are outstanding (or the batch's tail).
        await new Promise<void>((resolve) => {
          gates.push(resolve);
          if (gates.length >= 4 || peak >= 4) for (const g of gates.splice(0)) g();
        });
        active--;
        return 0;
      },
    });
    const client = await connect([storage(CT)], { maxOperations: 4 });
    expect(client.association.info.asyncOperationsWindow).toEqual({
      maxInvoked: 4,
      maxPerformed: 1,
    });
    const specs = hierarchy(1, 1, 1, 12);
    const progress: number[] = [];
    const result = await client.storeMany(specs.map(makeInstance), {
      onProgress: (p) => progress.push(p.done),
    });
    expect(result).toMatchObject({ stored: 12, failed: 0 });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(peak).toBe(4);
    await client.release();
    await server.close();
  });
});

describe('Hot path and sources', () => {
  it('streams a 24 MiB file to a folder through the Server, bytes unchanged', async () => {
    await using dir = await tempDir();
    const inbox = join(dir.path, 'in');
    await mkdir(inbox);
    const [file] = await writeInstances(dir.path, [
      { patient: 1, study: 1, series: 1, instance: 1, pixels: 24 * 1024 * 1024 },
    ]);
    const { server, connect } = await setup({ store: storeToFolder(inbox) });
    const client = await connect([storage(CT)], { maxPduLength: 65536 });
    await client.store(file!);
    await client.release();
    const sent = await readFile(file!);
    const written = await readFile(join(inbox, (await readdir(inbox))[0]!));
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(digest(written.subarray(readPart10Header(written).dataSetOffset))).toBe(
      digest(sent.subarray(readPart10Header(sent).dataSetOffset)),
    );
    await server.close();
  });

  it('a get handler may return file paths; they are read from disk for the sub-operations', async () => {
    await using dir = await tempDir();
    const files = await writeInstances(dir.path, hierarchy(1, 1, 1, 3));
    const { server, connect } = await setup({ get: () => files });
    const client = await connect(retrieveContexts('study', [CT]));
    const got: string[] = [];
    const result = await client.get(
      { '00100020': { vr: 'LO', Value: ['PID1'] } },
      {
        level: 'PATIENT',
        sink: async (i) => {
          await bytesOf(i);
          got.push(i.sopInstanceUid);
        },
      },
    );
    expect(result).toMatchObject({ status: 0, completed: 3 });
    expect(got).toHaveLength(3);
    await client.release();
    await server.close();
  });

  it('connect honours its AbortSignal', async () => {
    const { server, connect } = await setup({});
    const error = await connect([verification()], { signal: AbortSignal.abort() }).catch((e) => e);
    expect(isDnetError(error)).toBe(true);
    await server.close();
  });
});
