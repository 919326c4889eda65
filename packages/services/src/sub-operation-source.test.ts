import { encodeDataSet, TransferSyntax } from '@dnet/dataset';
import { memory } from '@dnet/transport';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, retrieveContexts } from './contexts.js';
import { InvalidSourceError } from './errors.js';
import { hierarchy, makeInstance, uidsOf } from './instances.test-support.js';
import type { ReceivedInstance } from './received-instance.js';
import { Server, type ServerHandlers } from './server.js';
import { SopClass } from './sop-class.js';
import type { StoreInstance } from './store-source.js';

const CT = SopClass.CT_IMAGE_STORAGE;
const ELE = TransferSyntax.ExplicitVRLittleEndian;

/** An EIO read error as node:fs reports one. */
const eio = () =>
  Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' });

/**
 * Three instances of one study: the first sent whole, the second failing as
 * `second` says (before any byte, or after some), the third sent whole.
 */
function sources(second: 'before' | 'after'): StoreInstance[] {
  return hierarchy(1, 1, 1, 3).map((spec, i) => {
    // Large enough to be sent in several PDVs (the peer's maximum PDU is 16 KiB below).
    const bytes = encodeDataSet(makeInstance({ ...spec, pixels: 256 * 1024 }), ELE);
    return {
      sopClassUid: CT,
      sopInstanceUid: uidsOf(spec).instance,
      transferSyntaxUid: ELE,
      dataSet: async function* () {
        if (i !== 1) {
          yield bytes;
          return;
        }
        if (second === 'after') {
          yield bytes.subarray(0, 64 * 1024);
          yield bytes.subarray(64 * 1024, 128 * 1024);
        }
        throw eio();
      },
    };
  });
}

async function setup(second: 'before' | 'after') {
  const transport = memory();
  const handlers: ServerHandlers = { get: () => sources(second) };
  const server = await Server.listen({ transport, port: 0, aeTitle: 'SCP', handlers });
  const errors: unknown[] = [];
  server.on('error', (e) => errors.push(e));
  const client = await Client.connect({
    transport,
    host: '127.0.0.1',
    port: server.port,
    callingAeTitle: 'SCU',
    calledAeTitle: 'SCP',
    contexts: retrieveContexts('study', [CT], [ELE]),
    maxPduLength: 16 * 1024,
  });
  const received: string[] = [];
  const get = client
    .get(
      { '0020000D': { vr: 'UI', Value: [uidsOf(hierarchy(1, 1, 1, 1)[0]!).study] } },
      {
        level: 'STUDY',
        sink: async (instance: ReceivedInstance) => {
          for await (const _ of instance.dataSet) {
            // drained
          }
          received.push(instance.sopInstanceUid);
          return 0;
        },
      },
    )
    .then(
      (r) => r,
      (e: unknown) => e,
    );
  return { server, client, errors, received, get };
}

describe('C-GET sub-operations whose data set source fails (a local read error)', () => {
  it('before its first byte: that sub-operation fails alone, its UID listed, the association lives on', async () => {
    const { server, client, errors, received, get } = await setup('before');
    const result = await get;
    const uids = hierarchy(1, 1, 1, 3).map((s) => uidsOf(s).instance);
    expect(received).toEqual([uids[0], uids[2]]);
    // B000H: sub-operations complete, one or more failures (PS3.4 §C.4.3.1.4).
    expect(result).toMatchObject({
      status: 0xb000,
      completed: 2,
      failed: 1,
      failedSopInstanceUids: [uids[1]],
    });
    expect(errors).toEqual([]);
    expect(client.association.state).toBe('Sta6');
    await client.release();
    await server.close();
  });

  it('after some bytes were sent: the association is aborted (no other message may follow an incomplete one), the cause emitted', async () => {
    const { server, client, errors, received, get } = await setup('after');
    const result = await get;
    expect(result).toBeInstanceOf(Error);
    // Not a protocol error of the peer: our A-ABORT.
    expect((result as { code?: string }).code).not.toBe('DNET_ASSOCIATION_PROTOCOL_ERROR');
    expect(received).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(InvalidSourceError);
    expect((errors[0] as Error).message).toMatch(/failed after its first bytes were sent: EIO/);
    expect(((errors[0] as Error).cause as { code: string }).code).toBe('EIO');
    await client.association.closed;
    await server.close();
  });

  it('C-MOVE, after some bytes were sent: the sub-association is aborted, the rest fail, the requestor gets the counts', async () => {
    const transport = memory();
    const stored: string[] = [];
    const destination = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'DEST',
      handlers: {
        store: async (instance) => {
          for await (const _ of instance.dataSet) {
            // drained
          }
          stored.push(instance.sopInstanceUid);
          return 0;
        },
      },
    });
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'SCP',
      handlers: { move: () => sources('after') },
      aeTable: { DEST: { host: '127.0.0.1', port: destination.port } },
    });
    const errors: unknown[] = [];
    server.on('error', (e) => errors.push(e));
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [queryRetrieve('study', { operations: ['move'] })],
    });
    const uids = hierarchy(1, 1, 1, 3).map((s) => uidsOf(s).instance);
    const result = await client.move(
      { '0020000D': { vr: 'UI', Value: [uidsOf(hierarchy(1, 1, 1, 1)[0]!).study] } },
      { level: 'STUDY', destination: 'DEST' },
    );
    expect(result).toMatchObject({ status: 0xb000, completed: 1, failed: 2 });
    expect(result.failedSopInstanceUids.sort()).toEqual([uids[1], uids[2]].sort());
    expect(stored).toEqual([uids[0]]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(InvalidSourceError);
    expect(client.association.state).toBe('Sta6');
    await client.release();
    await server.close();
    await destination.close();
  });
});
