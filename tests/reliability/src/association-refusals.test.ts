import { PduType } from '@dnet/pdu';
import type { RejectedAssociation } from '@dnet/services';
import { IMPLICIT_LE, rawAssociateRq, VERIFICATION } from '@dnet/testkit/raw-pdus';
import { memory } from '@dnet/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawExchange } from './support/raw-peer.js';
import { echoStatus, startStoringServer } from './support/server-under-test.js';

/**
 * A-ASSOCIATE-RQs that cannot lead to a working association are answered with
 * an A-ASSOCIATE-RJ carrying the result/source/reason of PS3.8 §9.3.4 Table
 * 9-21 (not an A-ABORT, not a timeout), and each refusal is reported by the
 * Server's `rejected` event with a cause.
 */
describe('misbehaving A-ASSOCIATE-RQs get an A-ASSOCIATE-RJ (raw peer, memory transport)', () => {
  const transport = memory();
  let srv: Awaited<ReturnType<typeof startStoringServer>>;
  let rejected: RejectedAssociation[];
  beforeEach(async () => {
    srv = await startStoringServer(transport);
    rejected = [];
    srv.server.on('rejected', (r) => rejected.push(r));
  });
  afterEach(async () => {
    // The server keeps answering afterwards.
    expect(await echoStatus(transport, srv.server.port)).toBe(0);
    await srv.stop();
  });
  const echo = [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }];
  /** The PDUs the server sent back to a lone A-ASSOCIATE-RQ, and how the connection ended. */
  const answer = async (rq: Uint8Array) => {
    const r = await rawExchange(transport, srv.server.port, [rq]);
    return { pdus: r.pdus.map((p) => ({ ...p })), end: r.end };
  };
  const rj = (result: number, source: number, reason: number) => ({
    pdus: [{ type: PduType.A_ASSOCIATE_RJ, result, source, reason }],
    end: 'ended',
  });

  for (const maxLength of [1, 6]) {
    it(`maximum length ${maxLength} (too small for one PDV, PS3.8 Annex D.1): RJ permanent, service-provider ACSE, no-reason-given`, async () => {
      expect(
        await answer(rawAssociateRq({ called: 'SCP', calling: 'EVIL', contexts: echo, maxLength })),
      ).toEqual(rj(1, 2, 1));
      expect(rejected).toMatchObject([{ callingAeTitle: 'EVIL', result: 1, source: 2, reason: 1 }]);
      expect(rejected[0]?.cause).toMatch(/maximum length received/);
    });
  }

  it('maximum length 7 (one PDV of one byte) is accepted', async () => {
    const r = await answer(
      rawAssociateRq({ called: 'SCP', calling: 'EVIL', contexts: echo, maxLength: 7 }),
    );
    expect(r.pdus[0]?.type).toBe(PduType.A_ASSOCIATE_AC);
    expect(rejected).toEqual([]);
  });

  it('200 presentation contexts: RJ permanent, service-provider (presentation), local-limit-exceeded', async () => {
    const contexts = Array.from({ length: 200 }, (_, i) => ({
      id: (2 * i + 1) & 0xff,
      abstractSyntax: VERIFICATION,
      transferSyntaxes: [IMPLICIT_LE],
    }));
    expect(await answer(rawAssociateRq({ called: 'SCP', calling: 'EVIL', contexts }))).toEqual(
      rj(1, 3, 2),
    );
    expect(rejected[0]?.cause).toMatch(/200 presentation contexts/);
  });

  it('a called AE title of spaces: RJ permanent, service-user, called-AE-title-not-recognized', async () => {
    expect(
      await answer(rawAssociateRq({ called: ' '.repeat(16), calling: 'EVIL', contexts: echo })),
    ).toEqual(rj(1, 1, 7));
    expect(rejected).toMatchObject([{ calledAeTitle: '', callingAeTitle: 'EVIL' }]);
  });

  it('a calling AE title of spaces: RJ permanent, service-user, calling-AE-title-not-recognized', async () => {
    expect(
      await answer(rawAssociateRq({ called: 'SCP', calling: ' '.repeat(16), contexts: echo })),
    ).toEqual(rj(1, 1, 3));
  });

  it('a called AE title that is not ours: RJ permanent, service-user, called-AE-title-not-recognized', async () => {
    expect(
      await answer(rawAssociateRq({ called: 'OTHER', calling: 'EVIL', contexts: echo })),
    ).toEqual(rj(1, 1, 7));
  });
});
