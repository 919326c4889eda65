import {
  DataSet,
  decodeDataSet,
  deflateDataSet,
  encodeDataSet,
  TransferSyntax,
} from '@dnet/dataset';
import { encodeCommandSet } from '@dnet/dimse';
import { checkAeTitle, isDnetError, PduDecoder, PduType } from '@dnet/pdu';
import { Client, verification } from '@dnet/services';
import {
  IMPLICIT_LE,
  pdu,
  RELEASE_RQ,
  rawAssociateRq,
  rawCommandSet,
  rawPData,
  VERIFICATION,
} from '@dnet/testkit/raw-pdus';
import { memory } from '@dnet/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawExchange } from './support/raw-peer.js';
import {
  echoStatus,
  filesUnder,
  startStoringServer,
  statuses,
} from './support/server-under-test.js';

const SC_IMAGE = '1.2.840.10008.5.1.4.1.1.7';
/** What a refused A-ASSOCIATE-RQ gets back: A-ASSOCIATE-RJ, or A-ABORT for an invalid PDU. */
const REFUSED = [[PduType.A_ASSOCIATE_RJ], [PduType.A_ABORT]];
const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('hostile content against a Server (memory transport)', () => {
  const transport = memory();
  let srv: Awaited<ReturnType<typeof startStoringServer>>;
  beforeEach(async () => {
    srv = await startStoringServer(transport);
  });
  afterEach(async () => {
    // The server survived whatever the test sent.
    expect(await echoStatus(transport, srv.server.port)).toBe(0);
    await srv.stop();
  });

  const echoRq = rawAssociateRq({
    called: 'SCP',
    calling: 'EVIL',
    contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
  });

  it('PDU length 0xFFFFFFFF: PduError DNET_PDU_TOO_LARGE; the server drops the connection', async () => {
    const header = new Uint8Array([0x01, 0, 0xff, 0xff, 0xff, 0xff]);
    const error = thrown(() => new PduDecoder().push(header)) as { code: string };
    expect(isDnetError(error)).toBe(true);
    expect(error.code).toBe('DNET_PDU_TOO_LARGE');
    // As the first PDU (Sta2) and inside an association (Sta6).
    for (const steps of [
      [header],
      [
        echoRq,
        { waitFor: PduType.A_ASSOCIATE_AC },
        pdu(0x04, new Uint8Array(0)).subarray(0, 2),
        new Uint8Array([0, 0xff, 0xff, 0xff, 0xff]),
      ],
    ]) {
      const r = await rawExchange(transport, srv.server.port, steps);
      expect(r.end).not.toBe('open');
      expect(r.pdus.filter((p) => p.type === PduType.P_DATA_TF)).toEqual([]);
    }
  });

  it('200 presentation contexts: rejected (A-ASSOCIATE-RJ); a Client refuses to propose them', async () => {
    const contexts = Array.from({ length: 200 }, (_, i) => ({
      id: (2 * i + 1) & 0xff,
      abstractSyntax: VERIFICATION,
      transferSyntaxes: [IMPLICIT_LE],
    }));
    const r = await rawExchange(transport, srv.server.port, [
      rawAssociateRq({ called: 'SCP', calling: 'EVIL', contexts }),
    ]);
    expect(r.end).not.toBe('open');
    // 200 contexts cannot all have distinct odd IDs (PS3.8 §9.3.2.2): an invalid PDU; a
    // rejection or a provider A-ABORT (PS3.8 §9.3.8) both end it.
    expect(REFUSED).toContainEqual(r.pdus.map((p) => p.type));
    const error = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: srv.server.port,
      callingAeTitle: 'EVIL',
      calledAeTitle: 'SCP',
      contexts: Array.from({ length: 200 }, () => verification()),
    }).catch((e: unknown) => e);
    expect(isDnetError(error)).toBe(true);
  });

  const echoCommand = rawPData(
    1,
    true,
    true,
    encodeCommandSet({
      affectedSopClassUid: VERIFICATION,
      commandField: 0x0030,
      messageId: 1,
      commandDataSetType: 0x0101,
    }),
  );

  it('maximum length 0 (no limit, PS3.8 Annex D.1): C-ECHO answered', async () => {
    const r = await rawExchange(transport, srv.server.port, [
      rawAssociateRq({
        ...{ called: 'SCP', calling: 'EVIL' },
        contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
        maxLength: 0,
      }),
      { waitFor: PduType.A_ASSOCIATE_AC },
      echoCommand,
      { waitFor: PduType.P_DATA_TF },
      RELEASE_RQ,
      { waitFor: PduType.A_RELEASE_RP },
    ]);
    expect(statuses(r.pdus)).toEqual([0]);
  });

  it('maximum length 1: no P-DATA-TF longer than the peer accepts; the association ends', async () => {
    const r = await rawExchange(transport, srv.server.port, [
      rawAssociateRq({
        called: 'SCP',
        calling: 'EVIL',
        contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
        maxLength: 1,
      }),
      { waitFor: PduType.A_ASSOCIATE_AC },
      echoCommand,
      { waitFor: PduType.A_ABORT },
    ]);
    // A PDV cannot fit in 1 byte: whatever the server does, it sends no P-DATA-TF.
    expect(r.pdus.filter((p) => p.type === PduType.P_DATA_TF)).toEqual([]);
    expect(
      r.pdus.some((p) => p.type === PduType.A_ASSOCIATE_RJ || p.type === PduType.A_ABORT),
    ).toBe(true);
  });

  it('deeply nested sequences: NestingTooDeepError in the decoder; C-FIND answered with a failure status', async () => {
    // 500 levels of (0008,1115) SQ, undefined length, in Implicit VR LE.
    const depth = Number(process.env.DEPTH ?? 500);
    const parts: number[] = [];
    const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
    for (let i = 0; i < depth; i++) {
      parts.push(0x08, 0x00, 0x15, 0x11, ...u32(0xffffffff)); // SQ, undefined length
      parts.push(0xfe, 0xff, 0x00, 0xe0, ...u32(0xffffffff)); // item, undefined length
    }
    for (let i = 0; i < depth; i++) {
      parts.push(0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0); // item delimitation
      parts.push(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0); // sequence delimitation
    }
    const nested = new Uint8Array(parts);
    if (depth > 64) {
      const error = thrown(() => decodeDataSet(nested, TransferSyntax.ImplicitVRLittleEndian)) as {
        code: string;
      };
      expect(error.code).toBe('DNET_DATASET_NESTING_TOO_DEEP');
    }

    const command = encodeCommandSet({
      affectedSopClassUid: STUDY_ROOT_FIND,
      commandField: 0x0020,
      messageId: 7,
      priority: 0,
      commandDataSetType: 0x0001,
    });
    const r = await rawExchange(transport, srv.server.port, [
      rawAssociateRq({
        called: 'SCP',
        calling: 'EVIL',
        contexts: [{ id: 1, abstractSyntax: STUDY_ROOT_FIND, transferSyntaxes: [IMPLICIT_LE] }],
      }),
      { waitFor: PduType.A_ASSOCIATE_AC },
      rawPData(1, true, true, command),
      rawPData(1, false, true, nested),
      { waitFor: PduType.P_DATA_TF },
      RELEASE_RQ,
      { waitFor: PduType.A_RELEASE_RP },
    ]);
    const s = statuses(r.pdus);
    expect(
      r.pdus.map((p) => p.type),
      JSON.stringify(s),
    ).toContain(PduType.P_DATA_TF);
    expect(s).toHaveLength(1);
    // A900H (identifier does not match) or Cxxx (unable to process), PS3.4 §C.4.1.1.4.
    expect(s[0] === 0xa900 || ((s[0] as number) & 0xf000) === 0xc000).toBe(true);
  });

  it('a deflate bomb: InflatedTooLargeError past maxInflatedSize', () => {
    const ds = new DataSet();
    ds.setBytes('PixelData', new Uint8Array(32 * 1024 * 1024), 'OB');
    const bomb = deflateDataSet(encodeDataSet(ds, TransferSyntax.ExplicitVRLittleEndian));
    expect(bomb.length).toBeLessThan(64 * 1024); // ~1000:1
    const error = thrown(() =>
      decodeDataSet(bomb, TransferSyntax.DeflatedExplicitVRLittleEndian, {
        maxInflatedSize: 1 << 20,
      }),
    ) as { code: string };
    expect(error.code).toBe('DNET_DATASET_INFLATED_TOO_LARGE');
  });

  for (const uid of ['../../evil', '1.2/3', '1.2\u00003', `${'1.'.repeat(40)}1`]) {
    it(`SOP Instance UID ${JSON.stringify(uid)}: failure status, nothing written outside the storage folder`, async () => {
      const ds = new DataSet();
      ds.setString('SOPClassUID', SC_IMAGE);
      ds.setString('SOPInstanceUID', uid, 'UI');
      const command = rawCommandSet([
        [0x0002, SC_IMAGE],
        [0x0100, 0x0001],
        [0x0110, 3],
        [0x0700, 0],
        [0x0800, 0x0001],
        [0x1000, uid],
      ]);
      const r = await rawExchange(transport, srv.server.port, [
        rawAssociateRq({
          called: 'SCP',
          calling: 'EVIL',
          contexts: [{ id: 1, abstractSyntax: SC_IMAGE, transferSyntaxes: [IMPLICIT_LE] }],
        }),
        { waitFor: PduType.A_ASSOCIATE_AC },
        rawPData(1, true, true, command),
        rawPData(1, false, true, encodeDataSet(ds, TransferSyntax.ImplicitVRLittleEndian)),
        { waitFor: PduType.P_DATA_TF },
        RELEASE_RQ,
        { waitFor: PduType.A_RELEASE_RP },
      ]);
      const s = statuses(r.pdus);
      // Either a failure status, or the command itself refused (A-ABORT, no response).
      if (s.length > 0) expect((s[0] as number) >= 0xa000).toBe(true);
      else expect(r.pdus.some((p) => p.type === PduType.A_ABORT)).toBe(true);
      expect(filesUnder(srv.root).filter((f) => !f.startsWith('storage/'))).toEqual([]);
      expect(filesUnder(srv.storage).filter((f) => f.endsWith('.dcm'))).toEqual([]);
    });
  }

  const aeOfSpaces = async (called: string, calling: string) => {
    const r = await rawExchange(transport, srv.server.port, [
      rawAssociateRq({
        called,
        calling,
        contexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
      }),
    ]);
    expect(REFUSED).toContainEqual(r.pdus.map((p) => p.type));
  };

  it('a called AE title of spaces: checkAeTitle throws; the association is refused', async () => {
    expect(isDnetError(thrown(() => checkAeTitle('                ')))).toBe(true);
    await aeOfSpaces('                ', 'EVIL');
  });

  // Regression (a calling AE title of spaces was once accepted). PS3.5 §6.2 (AE):
  // "a value consisting solely of spaces shall not be used"; expected A-ASSOCIATE-RJ
  // rejected-permanent, service-user, calling-AE-title-not-recognized (PS3.8 Table 9-21).
  it('a calling AE title of spaces: the association is refused', async () => {
    await aeOfSpaces('SCP', '                ');
  });
});
