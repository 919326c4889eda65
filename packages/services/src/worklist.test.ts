/**
 * Basic Worklist Management (PS3.4 Annex K) with DCMTK 3.6.7 over TCP on
 * 127.0.0.1: findscu -W against our worklist SCP, our SCU against wlmscpfs.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DicomJsonDataSet } from '@dnet/dataset';
import { describePeer, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { memory } from '@dnet/transport';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { tempDir } from './instances.test-support.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';
import { worklist, worklistFind } from './worklist.js';

const v = (vr: string, ...values: string[]) => ({ vr, Value: values });

function item(n: number, modality: string, station: string, date: string): DicomJsonDataSet {
  return {
    '00080050': v('SH', `ACC${n}`),
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `DOE^PATIENT${n}` }] },
    '00100020': v('LO', `PID${n}`),
    '0020000D': v('UI', `1.2.826.0.1.3680043.2.1125.${n}`),
    '00401001': v('SH', `RP${n}`),
    '00400100': {
      vr: 'SQ',
      Value: [
        {
          '00080060': v('CS', modality),
          '00400001': v('AE', station),
          '00400002': v('DA', date),
          '00400003': v('TM', '101500'),
          '00400009': v('SH', `SPS${n}`),
        },
      ],
    },
  };
}

const ITEMS = [
  item(1, 'CT', 'CT01', '20260101'),
  item(2, 'MR', 'MR01', '20260101'),
  item(3, 'CT', 'CT02', '20260102'),
];

describe('worklistFind (PS3.4 §K.6.1.2)', () => {
  it('matches on Scheduled Procedure Step Sequence attributes and returns only the keys asked', async () => {
    const transport = memory();
    const server = await Server.listen({
      transport,
      port: 0,
      aeTitle: 'WL',
      handlers: { find: worklistFind(ITEMS) },
    });
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      callingAeTitle: 'SCU',
      calledAeTitle: 'WL',
      contexts: [worklist()],
    });
    const out: DicomJsonDataSet[] = [];
    for await (const m of client.find(
      {
        '00100010': { vr: 'PN' },
        '00400100': {
          vr: 'SQ',
          Value: [
            {
              '00080060': v('CS', 'CT'),
              '00400002': v('DA', '20260101-20260131'),
              '00400001': { vr: 'AE' },
            },
          ],
        },
      },
      { sopClassUid: SopClass.MODALITY_WORKLIST_FIND },
    ))
      out.push(m);
    expect(
      out.map(
        (m) => (m['00100010']?.Value?.[0] as { Alphabetic?: string } | undefined)?.Alphabetic,
      ),
    ).toEqual(['DOE^PATIENT1', 'DOE^PATIENT3']);
    const sps = out[1]?.['00400100']?.Value?.[0] as DicomJsonDataSet | undefined;
    expect(sps?.['00400001']?.Value).toEqual(['CT02']);
    expect(out[0]?.['00080050']).toBeUndefined();
    await client.release();
    await server.close();
  });
});

describePeer(['findscu', 'wlmscpfs', 'dump2dcm', 'dcmdump'], 'Modality Worklist with DCMTK', () => {
  let dir: AsyncDisposable & { path: string };
  let server: Server;
  let wlm: RunningPeer;

  beforeAll(async () => {
    dir = await tempDir();
    server = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'DNETWL',
      handlers: { find: worklistFind(ITEMS) },
    });
    // wlmscpfs: DIR/<called AE>/ holds *.wl files (dump2dcm) and a lockfile.
    const db = join(dir.path, 'wlm', 'WLMAE');
    await mkdir(db, { recursive: true });
    await writeFile(join(db, 'lockfile'), '');
    for (const [n, modality, station] of [
      [1, 'CT', 'CT01'],
      [2, 'MR', 'MR01'],
    ] as const) {
      const dump = join(dir.path, `wl${n}.dump`);
      await writeFile(
        dump,
        [
          '(0008,0005) CS [ISO_IR 100]',
          `(0008,0050) SH [ACC${n}]`,
          `(0010,0010) PN [DOE^PATIENT${n}]`,
          `(0010,0020) LO [PID${n}]`,
          `(0020,000d) UI [1.2.826.0.1.3680043.2.1125.${n}]`,
          `(0040,1001) SH [RP${n}]`,
          '(0032,1060) LO [CHEST]',
          '(0008,0090) PN [REF^DOC]',
          '(0010,0030) DA [19700101]',
          '(0010,0040) CS [O]',
          '(0040,0100) SQ (Sequence with undefined length #=1)',
          '(fffe,e000) na (Item with undefined length #=7)',
          `(0008,0060) CS [${modality}]`,
          `(0040,0001) AE [${station}]`,
          '(0040,0002) DA [20260101]',
          '(0040,0003) TM [101500]',
          `(0040,0009) SH [SPS${n}]`,
          '(0040,0006) PN [PERF^DOC]',
          '(0040,0007) LO [SCAN]',
          '(fffe,e00d) na (ItemDelimitationItem)',
          '(fffe,e0dd) na (SequenceDelimitationItem)',
          '',
        ].join('\n'),
      );
      const r = await runTool('dump2dcm', [dump, join(db, `wl${n}.wl`)], { timeoutMs: 10_000 });
      expect(r.code).toBe(0);
    }
    wlm = await startPeer({
      command: 'wlmscpfs',
      args: (port) => ['-dfp', join(dir.path, 'wlm'), String(port)],
    });
  }, 30_000);

  afterAll(async () => {
    await server?.close({ timeoutMs: 1000 });
    await wlm?.stop();
    await dir?.[Symbol.asyncDispose]();
  });

  it('findscu -W gets the matches of our worklist SCP (sequence matching on Modality)', async () => {
    const cwd = join(dir.path, 'findscu');
    await mkdir(cwd);
    const r = await runTool(
      'findscu',
      [
        '-W',
        '-X',
        '-aec',
        'DNETWL',
        '-k',
        'PatientName',
        '-k',
        'ScheduledProcedureStepSequence[0].Modality=CT',
        '-k',
        'ScheduledProcedureStepSequence[0].ScheduledStationAETitle',
        '127.0.0.1',
        String(server.port),
      ],
      { cwd, timeoutMs: 20_000 },
    );
    expect(r.code).toBe(0);
    const files = (await readdir(cwd)).filter((f) => f.startsWith('rsp')).sort();
    expect(files).toHaveLength(2);
    const dumps = await Promise.all(
      files.map(
        async (f) => (await runTool('dcmdump', [join(cwd, f)], { timeoutMs: 10_000 })).stdout,
      ),
    );
    expect(dumps.join('\n')).toMatch(/DOE\^PATIENT1[\s\S]*CT01/);
    expect(dumps.join('\n')).toMatch(/DOE\^PATIENT3[\s\S]*CT02/);
    expect(dumps.join('\n')).not.toMatch(/PATIENT2|ACC1/);
  });

  it('our SCU queries wlmscpfs with a Scheduled Procedure Step Sequence key', async () => {
    const client = await Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: wlm.port,
      callingAeTitle: 'DNET',
      calledAeTitle: 'WLMAE',
      contexts: [worklist()],
    });
    const out: DicomJsonDataSet[] = [];
    for await (const m of client.find(
      {
        '00100010': { vr: 'PN' },
        '00100020': { vr: 'LO' },
        '00400100': {
          vr: 'SQ',
          Value: [{ '00080060': v('CS', 'MR'), '00400001': { vr: 'AE' } }],
        },
      },
      { sopClassUid: SopClass.MODALITY_WORKLIST_FIND },
    ))
      out.push(m);
    await client.release();
    expect(out, wlm.log()).toHaveLength(1);
    expect(out[0]?.['00100020']?.Value).toEqual(['PID2']);
    const sps = out[0]?.['00400100']?.Value?.[0] as DicomJsonDataSet | undefined;
    expect(sps?.['00400001']?.Value).toEqual(['MR01']);
  });
});
