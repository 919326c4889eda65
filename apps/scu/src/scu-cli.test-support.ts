/**
 * Helpers of this app's tests (not part of the CLI): synthetic CT instances
 * written as Part 10 files, a temporary folder, and a runner of the built
 * binary.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSet, TransferSyntax, writePart10File } from '@dnet/dataset';
import { type AAssociateRq, decodePdu, encodePdu, PduType } from '@dnet/pdu';

const APP = join(import.meta.dirname, '..');

/** The built CLI (the repository's test command builds before testing). */
export const CLI = join(APP, 'dist', 'cli.js');

let cli = CLI;

/**
 * Copies the built CLI (cli.js and the chunks it loads on demand) beside this
 * app's node_modules and runs that copy from then on, so a rebuild of the
 * workspace during the tests cannot pull it away; builds it first when it is
 * missing. `await using` removes the copy.
 */
export async function useBuiltCli(): Promise<AsyncDisposable> {
  if (!existsSync(CLI)) {
    execFileSync(
      process.execPath,
      [join(APP, '..', '..', 'node_modules', 'tsup', 'dist', 'cli-default.js')],
      {
        cwd: APP,
        stdio: 'ignore',
        timeout: 50_000,
      },
    );
  }
  const copy = join(APP, 'node_modules', '.cache', `dnet-scu-test-${process.pid}-${Date.now()}`);
  // Laid out as the published package: dist/ beside the package.json (its `type`
  // makes the chunks ES modules, its `version` is what --version prints).
  await mkdir(join(copy, 'dist'), { recursive: true });
  await cp(dirname(CLI), join(copy, 'dist'), {
    recursive: true,
    filter: (path) => !path.endsWith('.map'),
  });
  await writeFile(join(copy, 'package.json'), await readFile(join(APP, 'package.json')));
  cli = join(copy, 'dist', 'cli.js');
  return { [Symbol.asyncDispose]: () => rm(copy, { recursive: true, force: true }) };
}

/** CT Image Storage (PS3.4 Annex B.5). */
export const CT = '1.2.840.10008.5.1.4.1.1.2';

/** UIDs of instance `i` of series `s` of study `st` (under 2.25, PS3.5 §B.2). */
export function uidsOf(st: number, s: number, i: number) {
  const study = `2.25.7${st}`;
  const series = `${study}.${s}`;
  return { study, series, instance: `${series}.${i}` };
}

/** Writes `studies × series × instances` small CT files (Explicit VR LE) to `dir`; returns their paths. */
export async function writeCtFiles(
  dir: string,
  studies: number,
  series: number,
  instances: number,
  pixels = 4096,
): Promise<string[]> {
  const paths: string[] = [];
  for (let st = 1; st <= studies; st++)
    for (let s = 1; s <= series; s++)
      for (let i = 1; i <= instances; i++) {
        const u = uidsOf(st, s, i);
        const ds = new DataSet();
        ds.setString('SOPClassUID', CT, 'UI');
        ds.setString('SOPInstanceUID', u.instance, 'UI');
        ds.setString('StudyDate', `2024010${st}`, 'DA');
        ds.setString('StudyTime', '101500', 'TM');
        ds.setString('AccessionNumber', `ACC${st}`, 'SH');
        ds.setString('Modality', 'CT', 'CS');
        ds.setString('PatientName', `DOE^JANE${st}`, 'PN');
        ds.setString('PatientID', `PID${st}`, 'LO');
        ds.setString('StudyInstanceUID', u.study, 'UI');
        ds.setString('SeriesInstanceUID', u.series, 'UI');
        ds.setString('StudyID', `S${st}`, 'SH');
        ds.setString('SeriesNumber', String(s), 'IS');
        ds.setString('InstanceNumber', String(i), 'IS');
        ds.setNumber('Rows', 16);
        ds.setNumber('Columns', pixels / 32);
        ds.setNumber('BitsAllocated', 16);
        ds.setBytes('PixelData', new Uint8Array(pixels).fill(i), 'OW');
        const path = join(dir, `${u.instance}.dcm`);
        await writePart10File(
          path,
          {
            mediaStorageSopClassUid: CT,
            mediaStorageSopInstanceUid: u.instance,
            transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
          },
          ds,
        );
        paths.push(path);
      }
  return paths;
}

/** Writes a Part 10 file of a SOP class no peer knows (a UID under 2.25); returns its path. */
export async function writeUnknownClassFile(dir: string): Promise<string> {
  const ds = new DataSet();
  ds.setString('SOPClassUID', '2.25.999', 'UI');
  ds.setString('SOPInstanceUID', '2.25.999.1', 'UI');
  const path = join(dir, 'unknown-class.dcm');
  await writePart10File(
    path,
    {
      mediaStorageSopClassUid: '2.25.999',
      mediaStorageSopInstanceUid: '2.25.999.1',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    },
    ds,
  );
  return path;
}

/** A temporary folder, removed by `await using` or `dispose`. */
export async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), 'dnet-scu-'));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** The path of the CLI the tests run (see {@link useBuiltCli}). */
export function cliPath(): string {
  return cli;
}

/** What {@link scu} resolves with. */
export interface ScuRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** When the process ended (performance.now() time). */
  endedAt: number;
}

/** Runs the built `dnet-scu` (bounded by `timeoutMs`) and returns its exit code and output. */
export function scu(
  args: string[],
  {
    timeoutMs = 30_000,
    cwd,
    onStdout,
    onStderr,
    onSpawn,
  }: {
    timeoutMs?: number;
    cwd?: string;
    /** Called with all stdout so far and the process, e.g. to interrupt it. */
    onStdout?: (stdout: string, child: ReturnType<typeof spawn>) => void;
    /** Called with all stderr so far and the process. */
    onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void;
    /** Called with the process once started, e.g. to signal it later. */
    onSpawn?: (child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<ScuRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, endedAt: performance.now() });
    });
  });
}

/** A peer that answers nothing, for the tests of timeouts and interruptions. */
export interface MutePeer extends AsyncDisposable {
  port: number;
  /** When the first connection arrived (performance.now() time), once it did. */
  connectedAt: number | undefined;
  /** The PDU types received, in order (whole PDUs only; P-DATA-TF is 4). */
  pduTypes: number[];
  /** DIMSE command sets received whole (the last command fragment, PS3.8 Annex E.2). */
  commands: number;
  /** When the last whole command set arrived (performance.now() time). */
  lastCommandAt: number | undefined;
  /** The last A-ASSOCIATE-RQ received, decoded (with `associate`). */
  associateRq: AAssociateRq | undefined;
}

/**
 * A raw TCP peer on 127.0.0.1 that never closes a connection and never
 * answers, except (with `associate`) the A-ASSOCIATE-RQ: that it accepts,
 * every context with its first transfer syntax (PS3.8 §9.3.3), so the next
 * wait is a DIMSE one. It reads and keeps count of the PDUs it gets.
 */
export async function mutePeer({ associate = false } = {}): Promise<MutePeer> {
  const sockets = new Set<Socket>();
  const peer = {
    port: 0,
    connectedAt: undefined as number | undefined,
    pduTypes: [] as number[],
    commands: 0,
    lastCommandAt: undefined as number | undefined,
    associateRq: undefined as AAssociateRq | undefined,
  };
  const server = createServer((socket) => {
    peer.connectedAt ??= performance.now();
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 6) {
        const length = 6 + pending.readUInt32BE(2);
        if (pending.length < length) break;
        const bytes = new Uint8Array(pending.subarray(0, length));
        pending = pending.subarray(length);
        peer.pduTypes.push(bytes[0]!);
        // P-DATA-TF (PS3.8 §9.3.5): PDVs of 4-byte length, context ID, control header.
        for (let at = 6; bytes[0] === PduType.P_DATA_TF && at + 6 <= length; ) {
          const control = bytes[at + 5]!;
          if ((control & 3) === 3) {
            peer.commands++;
            peer.lastCommandAt = performance.now();
          }
          at += 4 + new DataView(bytes.buffer).getUint32(at);
        }
        if (associate && bytes[0] === PduType.A_ASSOCIATE_RQ) {
          const rq = decodePdu(bytes) as AAssociateRq;
          peer.associateRq = rq;
          socket.write(
            encodePdu({
              type: PduType.A_ASSOCIATE_AC,
              protocolVersion: 1,
              calledAeTitle: rq.calledAeTitle,
              callingAeTitle: rq.callingAeTitle,
              applicationContextName: rq.applicationContextName,
              presentationContexts: rq.presentationContexts.map((c) => ({
                id: c.id,
                result: 0,
                transferSyntax: c.transferSyntaxes[0]!,
              })),
              userInformation: {
                maxLength: 16384,
                implementationClassUid: '2.25.1',
                roleSelections: [],
                extendedNegotiations: [],
                commonExtendedNegotiations: [],
                unknownItems: [],
              },
            }),
          );
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.address() as { port: number }).port;
  return Object.assign(peer, {
    [Symbol.asyncDispose]: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
