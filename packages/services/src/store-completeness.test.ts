import { readdir } from 'node:fs/promises';
import { DataSet, encodeDataSet, TransferSyntax } from '@dnet/dataset';
import { CommandField, Priority } from '@dnet/dimse';
import { memory } from '@dnet/transport';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { storage } from './contexts.js';
import { tempDir } from './instances.test-support.js';
import { MemoryArchive } from './memory-archive.js';
import { type ReceivedInstance, storeToFolder } from './received-instance.js';
import { Server, type ServerHandlers } from './server.js';
import { SopClass } from './sop-class.js';

const CT = SopClass.CT_IMAGE_STORAGE;
const ELE = TransferSyntax.ExplicitVRLittleEndian;
const SOP = '1.2.826.0.1.77.1';

function image(): Uint8Array {
  const ds = new DataSet();
  ds.setString('SOPClassUID', CT, 'UI');
  ds.setString('SOPInstanceUID', SOP, 'UI');
  ds.setString('PatientID', 'P1', 'LO');
  ds.setString('StudyInstanceUID', '1.2.826.0.1.77', 'UI');
  ds.setString('SeriesInstanceUID', '1.2.826.0.1.77.2', 'UI');
  ds.setBytes('PixelData', new Uint8Array(2048).fill(3), 'OW');
  return encodeDataSet(ds, ELE);
}

const whole = image();
const pixelDataAt = whole.length - 2048 - 12;
const cut = whole.subarray(0, whole.length - 100);

async function setup(store: ServerHandlers['store']) {
  const transport = memory();
  const server = await Server.listen({ transport, port: 0, aeTitle: 'SCP', handlers: { store } });
  const client = await Client.connect({
    transport,
    host: '127.0.0.1',
    port: server.port,
    callingAeTitle: 'SCU',
    calledAeTitle: 'SCP',
    contexts: [storage(CT, [ELE])],
  });
  /** One C-STORE of `bytes` as they are, through the association (no check on our side). */
  const send = async (bytes: Uint8Array) => {
    const rsp = await client.association.cStore(
      {
        commandField: CommandField.C_STORE_RQ,
        affectedSopClassUid: CT,
        affectedSopInstanceUid: SOP,
        priority: Priority.MEDIUM,
        hasDataSet: true,
      },
      bytes,
    );
    return rsp.message as { status: number; errorComment?: string };
  };
  const close = async () => {
    await client.release();
    await server.close();
  };
  return { send, close };
}

describe('Server: an incomplete data set never gets a Success', () => {
  it('a handler that reads to the end sees its loop throw, and its Success is replaced by C000H naming the cut', async () => {
    let thrown: unknown;
    const { send, close } = await setup(async (instance: ReceivedInstance) => {
      try {
        for await (const _ of instance.dataSet) {
          // consumed
        }
      } catch (error) {
        thrown = error;
      }
      return 0; // a careless handler: Success whatever happened
    });
    expect(await send(whole)).toMatchObject({ status: 0 });
    expect(thrown).toBeUndefined();
    const r = await send(cut);
    expect(r.status).toBe(0xc000);
    expect(r.errorComment).toBe(`data set ends inside (7FE0,0010) at offset ${pixelDataAt}`);
    expect((thrown as { code?: string }).code).toBe('DNET_DATASET_INCOMPLETE');
    await close();
  });

  it('a handler that answers Success without reading has the data set checked before the answer', async () => {
    const { send, close } = await setup(() => 0);
    expect((await send(whole)).status).toBe(0);
    expect((await send(cut)).status).toBe(0xc000);
    // Still in step: the next C-STORE on the association is answered.
    expect((await send(whole)).status).toBe(0);
    await close();
  });

  it('a handler failure stays as it is (the rest is dropped, the association goes on)', async () => {
    const { send, close } = await setup(async (instance) => {
      for await (const _ of instance.dataSet) break;
      return 0xa700;
    });
    expect((await send(whole)).status).toBe(0xa700);
    expect((await send(whole)).status).toBe(0xa700);
    await close();
  });

  it('MemoryArchive keeps only complete data sets', async () => {
    const archive = new MemoryArchive();
    const { send, close } = await setup(archive.handlers().store);
    expect((await send(cut)).status).toBe(0xc000);
    expect(archive.instances.size).toBe(0);
    expect((await send(whole)).status).toBe(0);
    expect(Buffer.compare(archive.instances.get(SOP)!.dataSet, whole)).toBe(0);
    // A cut re-send does not replace the kept copy.
    expect((await send(cut)).status).toBe(0xc000);
    expect(Buffer.compare(archive.instances.get(SOP)!.dataSet, whole)).toBe(0);
    await close();
  });

  it('storeToFolder leaves no file for a cut data set', async () => {
    await using dir = await tempDir();
    const { send, close } = await setup(storeToFolder(dir.path));
    const r = await send(cut);
    expect(r.status).toBe(0xc000);
    expect(r.errorComment).toMatch(/^data set ends inside \(7FE0,0010\)/);
    expect(await readdir(dir.path)).toEqual([]);
    expect((await send(whole)).status).toBe(0);
    expect(await readdir(dir.path)).toEqual([`${SOP}.dcm`]);
    await close();
  });
});
