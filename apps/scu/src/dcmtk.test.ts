/**
 * End to end: the built `dnet-scu` binary against DCMTK 3.6.7 on 127.0.0.1:
 * storescp (echo, store, rejection), dcmqrscp (find, move, get) and
 * wlmscpfs (worklist); exit codes and output checked.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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
} from './scu-cli.test-support.js';

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

  it('store --json: one object per file, then the summary; no bar when not a TTY', async () => {
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
    const records = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.slice(0, -1)).toHaveLength(8);
    for (const f of records.slice(0, -1))
      expect(f).toMatchObject({ type: 'file', status: 0, statusText: '0000H Success' });
    expect(records.at(-1)).toMatchObject({
      type: 'summary',
      operation: 'C-STORE',
      stored: 8,
      failed: 0,
      total: 8,
      interrupted: false,
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
    const records = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.at(-1)).toEqual({
      type: 'summary',
      operation: 'C-FIND',
      matches: 2,
      interrupted: false,
    });
    const matches = records.filter((r) => r.type === 'match').map((r) => r.dataSet);
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

  it('move and get --json: one object per response (get: per instance), then the summary', async () => {
    const study = `StudyInstanceUID=${uidsOf(2, 1, 1).study}`;
    const moved = await scu([
      'move',
      ...at(dcmqrscp),
      '--aec',
      'QRSCP',
      '--dest',
      'DEST',
      '--json',
      '-k',
      study,
    ]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toBe('');
    const m = moved.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(m.slice(0, -1).every((r) => r.type === 'response' && r.operation === 'C-MOVE')).toBe(
      true,
    );
    expect(m.at(-1)).toMatchObject({
      type: 'summary',
      operation: 'C-MOVE',
      status: 0,
      completed: 4,
      failed: 0,
      interrupted: false,
    });

    const out = join(dir.path, 'got-json');
    const got = await scu([
      'get',
      ...at(dcmqrscp),
      '--aec',
      'QRSCP',
      '--out',
      out,
      '--json',
      '-k',
      study,
    ]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stderr).toBe('');
    const g = got.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const instances = g.filter((r) => r.type === 'instance');
    expect(instances).toHaveLength(4);
    for (const i of instances)
      expect(i).toMatchObject({ status: 0, path: join(out, `${i.sopInstanceUid}.dcm`) });
    expect(g.filter((r) => !['instance', 'response', 'summary'].includes(r.type))).toEqual([]);
    expect(g.at(-1)).toMatchObject({
      type: 'summary',
      operation: 'C-GET',
      completed: 4,
      failed: 0,
    });
  });

  it('find: UIDs whole when piped; cut on a terminal unless --wide', async () => {
    // A study with a 64-character UID (PS3.5 §9.1).
    const long = `2.25.${'1'.repeat(59)}`;
    const made = join(dir.path, 'long');
    await mkdir(made, { recursive: true });
    const [file] = await writeCtFiles(made, 1, 1, 1);
    const dumped = await runTool('dcmodify', [
      '-nb',
      '-m',
      `StudyInstanceUID=${long}`,
      '-m',
      'PatientName=LONG^UID',
      file!,
    ]);
    expect(dumped.code, dumped.stderr).toBe(0);
    expect((await scu(['store', ...at(dcmqrscp), '--aec', 'QRSCP', '-q', file!])).code).toBe(0);
    const args = [
      'find',
      ...at(dcmqrscp),
      '-aec',
      'QRSCP',
      '-S',
      '-k',
      'PatientName=LONG^UID',
      '-k',
      'StudyInstanceUID',
    ];
    const piped = await scu(args);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout.split('\n')[2]).toMatch(
      new RegExp(`^LONG\\^UID\\s+${long.replaceAll('.', '\\.')}\\s`),
    );
    const onTerminal = async (extra: string[]) => {
      const command = [process.execPath, cliPath(), ...args, ...extra]
        .map((a) => `'${a}'`)
        .join(' ');
      return runTool('script', ['-qec', command, '/dev/null']);
    };
    const cut = await onTerminal([]);
    expect(cut.stdout).not.toContain(long);
    expect(cut.stdout).toContain('…');
    const wide = await onTerminal(['--wide']);
    expect(wide.stdout).toContain(long);
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
    expect(JSON.parse(none.stdout)).toEqual({
      type: 'summary',
      operation: 'C-FIND',
      matches: 0,
      interrupted: false,
    });
  });
});

/** A tmpfs of `size` mounted on a new folder (root only), or why it cannot be. */
function mountTmpfs(path: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  return r.status === 0 ? undefined : `mount failed: ${r.stderr.toString().trim()}`;
}

describePeer(['storescp', 'dcmqrscp'], 'dnet-scu: local failures and interruptions', () => {
  let dir2: AsyncDisposable & { path: string };
  let cli2: AsyncDisposable;
  let qr: RunningPeer;
  const study = `StudyInstanceUID=${uidsOf(1, 1, 1).study}`;

  beforeAll(async () => {
    dir2 = await tempDir();
    cli2 = await useBuiltCli();
    await mkdir(join(dir2.path, 'db'));
    await mkdir(join(dir2.path, 'src'));
    await writeCtFiles(join(dir2.path, 'src'), 1, 1, 3);
    const config = join(dir2.path, 'dcmqrscp.cfg');
    const port = await freePort();
    await writeFile(
      config,
      `NetworkTCPPort = ${port}
MaxPDUSize = 16384
MaxAssociations = 16
HostTable BEGIN
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
QRSCP ${join(dir2.path, 'db')} RW (100, 1024mb) ANY
AETable END
`,
    );
    qr = await startPeer({
      command: 'dcmqrscp',
      port,
      args: (p) => ['-v', '-c', config, String(p)],
    });
    const stored = await scu([
      'store',
      '127.0.0.1',
      String(qr.port),
      '--aec',
      'QRSCP',
      '-q',
      join(dir2.path, 'src'),
    ]);
    expect(stored.code, stored.stderr).toBe(0);
  });

  afterAll(async () => {
    await qr?.stop();
    await dir2?.[Symbol.asyncDispose]();
    await cli2?.[Symbol.asyncDispose]();
  });

  const get = (out: string, ...extra: string[]) =>
    scu([
      'get',
      '127.0.0.1',
      String(qr.port),
      '--aec',
      'QRSCP',
      '--out',
      out,
      '-k',
      study,
      ...extra,
    ]);

  /** Runs `body` on a fresh tmpfs, or skips with the reason (never on CI). */
  async function onTmpfs(name: string, size: string, body: (path: string) => Promise<void>) {
    const path = join(dir2.path, name);
    await mkdir(path);
    const cannot = mountTmpfs(path, size);
    if (cannot && !process.env.CI) {
      console.log(`skipped: ${cannot}`);
      return;
    }
    expect(cannot).toBeUndefined();
    try {
      await body(path);
    } finally {
      spawnSync('umount', [path]);
    }
  }

  it('get on a full disk: the local ENOSPC with the path, no temporary file left, exit 1', async () => {
    await onTmpfs('full', '64k', async (out) => {
      // Fill it up: the writes of the C-GET find no room.
      spawnSync('dd', ['if=/dev/zero', `of=${join(out, 'filler')}`, 'bs=4k', 'count=64']);
      const r = await get(out);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^dnet-scu get: local error: cannot write ${out}/2\\.25\\.[0-9.]+\\.dcm: no space left on device \\(ENOSPC\\) \\(2 more files not written\\)$`,
          'm',
        ),
      );
      // The peer's final status follows from our failures, and says so.
      expect(r.stderr).toMatch(
        /C-GET failed: A702H .* \(the sub-operations failed here: see above\)$/m,
      );
      expect(await readdir(out)).toEqual(['filler']);
      // The peer was told each sub-operation failed: A700H (PS3.4 Table B.2-1).
      expect(qr.log()).toMatch(/Received Store SCU RSP \[Status=Refused: OutOfResources\]/);
    });
  });

  it('get on a read-only disk: the local EROFS with the path, in --json too', async () => {
    await onTmpfs('ro', '1m', async (out) => {
      execFileSync('mount', ['-o', 'remount,ro', out]);
      const r = await get(out);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^dnet-scu get: local error: cannot write .*: read-only file system \(EROFS\)/m,
      );
      const json = await get(out, '--json');
      const records = json.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      const failed = records.filter((x) => x.type === 'instance');
      expect(failed).toHaveLength(3);
      for (const f of failed)
        expect(f.error).toMatchObject({
          code: 'DNET_SCU_LOCAL_IO',
          errno: 'EROFS',
          path: join(out, `${f.sopInstanceUid}.dcm`),
        });
    });
  });

  it('get removes the temporary files of killed runs, not those of a run still going', async () => {
    const out = join(dir2.path, 'leftovers');
    await mkdir(out);
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const killed = `2.25.1.dcm.${dead}.abc.tmp`;
    const running = `2.25.2.dcm.${process.pid}.abc.tmp`;
    await writeFile(join(out, killed), 'half a file');
    await writeFile(join(out, running), 'being written');
    const r = await get(out, '-v');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`removed ${join(out, killed)}, left by a run that was killed`);
    const names = await readdir(out);
    expect(names).not.toContain(killed);
    expect(names).toContain(running);
    expect(names.filter((n) => n.endsWith('.dcm'))).toHaveLength(3);
  });

  it('store: Ctrl-C mid-transfer aborts (storescp logs an abort, not a release); exit 130', async () => {
    const big = join(dir2.path, 'big');
    await mkdir(big);
    const bigFiles = await writeCtFiles(big, 1, 1, 20, 1024 * 1024);
    const recv = join(dir2.path, 'recv');
    await mkdir(recv);
    const storescp = await startPeer({
      command: 'storescp',
      args: (p) => ['-v', '-od', recv, String(p)],
    });
    try {
      let sent = false;
      const r = await scu(['store', '127.0.0.1', String(storescp.port), '-v', ...bigFiles], {
        onStderr: (err, child) => {
          if (!sent && err.includes('stored ')) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      });
      expect(r.code, r.stderr).toBe(130);
      expect(r.stdout).toMatch(/^stored \d+ of 20 files \(\d+ failed\)/);
      expect(r.stderr).toMatch(/interrupted after \d+ of 20 files \(association aborted\)/);
      for (let i = 0; i < 100 && !/Abort/i.test(storescp.log()); i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(storescp.log()).toMatch(/Abort/i);
      expect(storescp.log()).not.toMatch(/Release/i);
    } finally {
      await storescp.stop();
    }
  });
});
