/**
 * End to end: the built `dnet-scu` binary against DCMTK 3.6.7 on 127.0.0.1:
 * storescp (echo, store, rejection), dcmqrscp (find, move, get) and
 * wlmscpfs (worklist); exit codes and output checked.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describePeer, freePort, type RunningPeer, runTool, startPeer } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cliPath,
  scu,
  tempDir,
  uidsOf,
  useBuiltCli,
  writeCtFiles,
  writeUnknownClassFile,
} from './test-support.js';

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
const peers: RunningPeer[] = [];
let storescp: RunningPeer;
let dcmqrscp: RunningPeer;
let wlmscpfs: RunningPeer;
let source: string;

async function start(...args: Parameters<typeof startPeer>): Promise<RunningPeer> {
  const peer = await startPeer(...args);
  peers.push(peer);
  return peer;
}

const at = (peer: RunningPeer) => ['127.0.0.1', String(peer.port)];

// wlmscpfs ignores items without the Type 1 attributes of PS3.4 Table K.6-1.
const WORKLIST_ITEM = `(0008,0005) CS [ISO_IR 100]
(0008,0050) SH [ACC77]
(0010,0010) PN [VIVALDI^ANTONIO]
(0010,0020) LO [AV35674]
(0010,0030) DA [16780304]
(0010,0040) CS [M]
(0020,000d) UI [1.2.276.0.7230010.3.2.101]
(0032,1032) PN [SMITH]
(0032,1060) LO [EXAM6]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [MR]
(0040,0001) AE [SCANNER1]
(0040,0002) DA [20240115]
(0040,0003) TM [085607]
(0040,0006) PN [JOHNSON]
(0040,0007) LO [EXAM74]
(0040,0009) SH [SPD3445]
(0040,0010) SH [STN456]
(0040,0011) SH [B34F56]
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH [RP454G234]
(0040,1003) SH [LOW]
`;

describePeer(['storescp', 'dcmqrscp', 'wlmscpfs', 'dump2dcm'], 'dnet-scu against DCMTK', () => {
  beforeAll(async () => {
    dir = await tempDir();
    cli = await useBuiltCli();
    source = join(dir.path, 'source');
    await mkdir(join(source, 'nested'), { recursive: true });
    await writeCtFiles(join(source, 'nested'), 2, 2, 2);
    await writeFile(join(source, 'README.txt'), 'not DICOM');
    for (const d of ['recv', 'moved', 'db', 'wl/WLSCP'])
      await mkdir(join(dir.path, d), { recursive: true });

    storescp = await start({
      command: 'storescp',
      args: (p) => ['-od', join(dir.path, 'recv'), '+B', '+xa', String(p)],
    });
    const dest = await start({
      command: 'storescp',
      args: (p) => ['-od', join(dir.path, 'moved'), '+B', '+xa', String(p)],
    });
    const config = join(dir.path, 'dcmqrscp.cfg');
    const port = await freePort();
    await writeFile(
      config,
      `NetworkTCPPort = ${port}
MaxPDUSize = 16384
MaxAssociations = 16
HostTable BEGIN
dest = (DEST, 127.0.0.1, ${dest.port})
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP ${join(dir.path, 'db')} RW (100, 1024mb) ANY
AETable END
`,
    );
    // dcmqrscp 3.6.7 with -s (single process) segfaults when an association ends: it forks here.
    dcmqrscp = await start({
      command: 'dcmqrscp',
      port,
      args: (p) => ['-c', config, String(p)],
    });

    await writeFile(join(dir.path, 'wl', 'item.dump'), WORKLIST_ITEM);
    const made = await runTool('dump2dcm', [
      join(dir.path, 'wl', 'item.dump'),
      join(dir.path, 'wl', 'WLSCP', 'item.wl'),
    ]);
    expect(made.code, made.stderr).toBe(0);
    await writeFile(join(dir.path, 'wl', 'WLSCP', 'lockfile'), '');
    wlmscpfs = await start({
      command: 'wlmscpfs',
      args: (p) => ['-dfp', join(dir.path, 'wl'), String(p)],
    });
  });

  afterAll(async () => {
    for (const p of peers) await p.stop();
    await dir?.[Symbol.asyncDispose]();
    await cli?.[Symbol.asyncDispose]();
  });

  it('echo: exit 0 and the status by name', async () => {
    const r = await scu(['echo', ...at(storescp), '--repeat', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/C-ECHO ANY-SCP@127\.0\.0\.1:\d+: 0000H Success/g)).toHaveLength(2);
  });

  it('echo: a closed port is one line on stderr and exit 1', async () => {
    const r = await scu(['echo', '127.0.0.1', String(await freePort())]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'dnet-scu echo: cannot connect: connection refused (ECONNREFUSED)',
    );
  });

  it('store: a folder recursively, non-DICOM files skipped with a warning', async () => {
    const r = await scu(['store', ...at(storescp), source]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*README\.txt: skipped, not a DICOM file/);
    expect(r.stdout).toMatch(/^stored 8 of 8 files, 0\.0 MB in [\d.]+ s \([\d.]+ MB\/s\)$/m);
    expect(await readdir(join(dir.path, 'recv'))).toHaveLength(8);
  });

  it('store --json: a summary object; no bar when not a TTY', async () => {
    const r = await scu([
      'store',
      ...at(storescp),
      '--json',
      '-q',
      '--max-pdu',
      '16384',
      join(source, 'nested'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      operation: 'C-STORE',
      stored: 8,
      failed: 0,
      total: 8,
    });
  });

  it('store: a progress bar with counts and MB/s on a terminal', async () => {
    // script(1) runs the CLI on a pseudo-terminal and returns its exit status (-e).
    const command = [process.execPath, cliPath(), 'store', ...at(storescp), join(source, 'nested')]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = await runTool('script', ['-qec', command, '/dev/null']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/store [\u2588\u2591]+ 8\/8 \| 0 failed \| [\d.]+ MB\/s/);
    expect(r.stdout).toMatch(/stored 8 of 8 files/);
  });

  it('store: a file the peer refuses is one line naming it; the others go; exit 1', async () => {
    const odd = await writeUnknownClassFile(dir.path);
    const r = await scu(['store', ...at(storescp), odd, join(source, 'nested')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^stored 8 of 9 files \(1 failed\)/);
    expect(r.stderr.trim()).toBe(
      `${odd}: no accepted presentation context for 2.25.999 that can carry 1.2.840.10008.1.2.1`,
    );
  });

  it('store: a rejected association is one line with result, source and reason; exit 1', async () => {
    const refusing = await start({ command: 'storescp', args: (p) => ['--refuse', String(p)] });
    const r = await scu(['store', ...at(refusing), source]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'dnet-scu store: association rejected: rejected-permanent, service-user, no-reason-given',
    );
  });

  it('find: study matches as a table, series matches as DICOM JSON lines', async () => {
    const stored = await scu(['store', ...at(dcmqrscp), '--aec', 'QRSCP', '-q', source]);
    expect(stored.code, stored.stderr + dcmqrscp.log()).toBe(0);

    const table = await scu([
      'find',
      ...at(dcmqrscp),
      '-aec',
      'QRSCP',
      '-S',
      '-k',
      'PatientName=DOE*',
      '-k',
      'StudyInstanceUID',
      '-k',
      'StudyDate',
    ]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PatientName\s+StudyInstanceUID\s+StudyDate/);
    expect(lines.slice(2).sort()).toEqual([
      expect.stringMatching(/^DOE\^JANE1\s+2\.25\.71\s+20240101/),
      expect.stringMatching(/^DOE\^JANE2\s+2\.25\.72\s+20240102/),
    ]);
    expect(table.stderr).toContain('2 matches');

    const json = await scu([
      'find',
      ...at(dcmqrscp),
      '--aec',
      'QRSCP',
      '--level',
      'SERIES',
      '--json',
      '-k',
      `StudyInstanceUID=${uidsOf(1, 1, 1).study}`,
      '-k',
      'SeriesInstanceUID',
    ]);
    expect(json.code, json.stderr).toBe(0);
    const matches = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(matches.map((m) => m['0020000E'].Value[0]).sort()).toEqual([
      uidsOf(1, 1, 1).series,
      uidsOf(1, 2, 1).series,
    ]);
  });

  it('move: the study arrives at the destination; exit 0', async () => {
    const r = await scu([
      'move',
      ...at(dcmqrscp),
      '--aec',
      'QRSCP',
      '--dest',
      'DEST',
      '-k',
      `StudyInstanceUID=${uidsOf(2, 1, 1).study}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^moved to DEST 4 of 4 instances \(0 failed, 0 warnings\)/);
    expect(await readdir(join(dir.path, 'moved'))).toHaveLength(4);
  });

  it('move: an unknown destination is a named failure status; exit 1', async () => {
    const r = await scu([
      'move',
      ...at(dcmqrscp),
      '--aec',
      'QRSCP',
      '-aem',
      'NOWHERE',
      '-k',
      `StudyInstanceUID=${uidsOf(2, 1, 1).study}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'dnet-scu move: C-MOVE failed: A801H Refused: move destination unknown',
    );
  });

  it('get: the series is written to the folder as Part 10 files', async () => {
    const out = join(dir.path, 'got');
    const r = await scu([
      'get',
      ...at(dcmqrscp),
      '--aec',
      'QRSCP',
      '--out',
      out,
      '--level',
      'SERIES',
      '-k',
      `StudyInstanceUID=${uidsOf(1, 1, 1).study}`,
      '-k',
      `SeriesInstanceUID=${uidsOf(1, 2, 1).series}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^received 2 of 2 instances \(0 failed, 0 warnings\), 0\.0 MB/);
    expect((await readdir(out)).sort()).toEqual([
      `${uidsOf(1, 2, 1).instance}.dcm`,
      `${uidsOf(1, 2, 2).instance}.dcm`,
    ]);
    const dumped = await runTool('dcmdump', [
      '+P',
      'SOPInstanceUID',
      join(out, `${uidsOf(1, 2, 2).instance}.dcm`),
    ]);
    expect(dumped.stdout).toContain(uidsOf(1, 2, 2).instance);
  });

  it('find -W: a worklist query with a sequence key', async () => {
    const r = await scu([
      'find',
      ...at(wlmscpfs),
      '--aec',
      'WLSCP',
      '-W',
      '-k',
      'PatientName',
      '-k',
      'ScheduledProcedureStepSequence[0].Modality=MR',
      '-k',
      'ScheduledProcedureStepSequence[0].ScheduledStationAETitle',
    ]);
    expect(r.code, r.stderr + wlmscpfs.log()).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PatientName\s+ScheduledProcedureStepSequence/);
    expect(lines[2]).toMatch(
      /^VIVALDI\^ANTONIO\s+\{Modality=MR, ScheduledStationAETitle=SCANNER1\}/,
    );

    const none = await scu([
      'find',
      ...at(wlmscpfs),
      '--aec',
      'WLSCP',
      '-W',
      '--json',
      '-k',
      'ScheduledProcedureStepSequence[0].Modality=CT',
    ]);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('0 matches');
  });
});
