/**
 * Interop: the SOP Class (Common) Extended Negotiation sub-items our Client
 * proposes (PS3.7 Annex D.3.3.5, D.3.3.6) are read by DCMTK 3.6.7's storescp,
 * which dumps the 56H ones in debug mode and answers none: nothing is then
 * agreed, and the association serves on.
 */
import { DataSet } from '@dnet/dataset';
import { describePeer, type RunningPeer, startPeer } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from './client.js';
import { queryRetrieve, storage } from './contexts.js';
import { tempDir } from './instances.test-support.js';
import { SopClass } from './sop-class.js';

const SPECIALIZED = '1.2.826.0.1.3680043.9.7433.1.1';
const CT = SopClass.CT_IMAGE_STORAGE;

describePeer(['storescp'], 'extended negotiation with DCMTK storescp', () => {
  let dir: AsyncDisposable & { path: string };
  let storescp: RunningPeer;

  beforeAll(async () => {
    dir = await tempDir();
    storescp = await startPeer({
      command: 'storescp',
      args: (port) => ['-d', '-aet', 'STORESCP', '-od', dir.path, '+xa', String(port)],
    });
  }, 30_000);

  afterAll(async () => {
    await storescp?.stop();
    await dir?.[Symbol.asyncDispose]();
  });

  it('storescp parses our 56H and 57H sub-items, answers none, and stores on', async () => {
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: storescp.port,
      callingAeTitle: 'DNETSCU',
      calledAeTitle: 'STORESCP',
      contexts: [
        queryRetrieve('study', { operations: ['find'], relational: true }),
        storage(SPECIALIZED, undefined, { relatedGeneralSopClassUids: [CT] }),
        storage(CT),
      ],
    });
    try {
      expect(client.association.negotiation?.extendedNegotiations).toEqual([]);
      expect(client.queryExtendedNegotiation().relationalQueries).toBe(false);
      const ds = new DataSet();
      ds.setString('SOPClassUID', CT, 'UI');
      ds.setString('SOPInstanceUID', '1.2.826.0.1.3680043.9.7433.3.1', 'UI');
      expect(await client.store(ds)).toMatchObject({ status: 0 });
    } finally {
      await client.release();
    }
    // DCMTK decoded the whole user information item (a malformed 57H sub-item would
    // have aborted the association) and dumps the 56H sub-item as it read it.
    expect(storescp.log()).toMatch(
      /Requested Extended Negotiation:\n.*\(1\.2\.840\.10008\.5\.1\.4\.1\.2\.2\.1\)\n.*\[0x01\]/,
    );
  }, 30_000);
});
