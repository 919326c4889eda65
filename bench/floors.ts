// Floors of this machine that no DICOM implementation can beat, measured in
// the same run as the DICOM rows so the small-object and file-writing
// targets can be read against them:
//
// - small objects over plain Node sockets (bench/roles/objects.ts): a 512 KiB
//   object from memory, answered with 128 bytes, one and 8 outstanding; no
//   DICOM, no file read, in two processes like the DICOM pairs;
// - the same with the sender reading the small corpus's files as dnet's SCU
//   does (open, fstat, read into reused buffers, close, blocking calls; two
//   files ahead): what a Node sender of files can do at all, against
//   storescu's file reading;
// - durable commit of a 512 KiB object the way dnet-scp acknowledges one
//   (write, fdatasync, rename into its folder, fsync of the folder), one at a
//   time: what a receiver that answers only once an object is on disk can do
//   per association at window 1 (storescp never syncs); and 8 at a time with
//   one folder fsync for the 8 (group commit): the most such a receiver can do
//   with 8 operations outstanding;
// - the large objects' sizes written and each fdatasynced: the disk's durable
//   write rate, the bound of a durable receiver of large objects.
//
// The disk floors commit as many objects (and bytes) as the rows they bound:
// a short burst fits the disk's write cache (measured 2026-12-05: 80 group
// commits at 1 465/s, then 500 at 771/s in the same minute).
import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@dnet/testkit/node';
import { nodeRole, runMeasured, SERVER_NODE_FLAGS, startMeasured } from './measure.js';
import type { Plan, Row } from './rows.js';
import {
  DURABLE_COMMIT,
  DURABLE_GROUP_COMMIT,
  DURABLE_WRITE,
  OBJECTS_FILES_FLOOR,
  OBJECTS_FLOOR,
} from './rows.js';
import { sampledRow } from './stats.js';

const SMALL = 512 * 1024;
/** Objects per group commit: the small group's asynchronous operations window. */
const GROUP = 8;

/** A temporary folder and a final folder under `dir` for one floor's commits. */
function commitFolders(dir: string, tag: string): { incoming: string; final: string } {
  const incoming = join(dir, `incoming-${tag}`);
  const final = join(dir, `final-${tag}`);
  mkdirSync(incoming, { recursive: true });
  mkdirSync(final, { recursive: true });
  return { incoming, final };
}

/** Objects per second of `count` durable commits of `size` bytes into `dir`. */
function durableCommits(dir: string, count: number, size: number): number {
  const bytes = new Uint8Array(size).fill(0x42);
  const { incoming, final } = commitFolders(dir, 'one');
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const part = join(incoming, `${i}.part`);
    const fd = openSync(part, 'w');
    try {
      for (let at = 0; at < size; ) at += writeSync(fd, bytes, at, size - at);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(part, join(final, `${i}.dcm`));
    const folder = openSync(final, 'r');
    try {
      fsyncSync(folder);
    } finally {
      closeSync(folder);
    }
  }
  return count / ((performance.now() - t0) / 1000);
}

/**
 * Objects per second of `count` durable commits of `size` bytes into `dir`,
 * `batch` at a time as a receiver with that many operations outstanding could
 * at best commit them (group commit): the batch's files written and
 * fdatasynced in parallel (libuv's thread pool), renamed into the folder, and
 * the folder fsynced once for the whole batch.
 */
async function groupCommits(
  dir: string,
  count: number,
  size: number,
  batch: number,
): Promise<number> {
  const bytes = new Uint8Array(size).fill(0x44);
  const { incoming, final } = commitFolders(dir, 'group');
  const t0 = performance.now();
  for (let first = 0; first < count; first += batch) {
    const ids = Array.from({ length: Math.min(batch, count - first) }, (_, k) => first + k);
    await Promise.all(
      ids.map(async (i) => {
        const handle = await open(join(incoming, `${i}.part`), 'w');
        try {
          await handle.writeFile(bytes);
          await handle.datasync();
        } finally {
          await handle.close();
        }
        await rename(join(incoming, `${i}.part`), join(final, `${i}.dcm`));
      }),
    );
    const folder = await open(final, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }
  return count / ((performance.now() - t0) / 1000);
}

/**
 * MB/s of one file per entry of `sizes`, each written in 4 MiB writes and
 * fdatasynced before the next: the disk's durable write rate over as many
 * files and bytes as the large group's runs write.
 */
function durableWrites(dir: string, sizes: readonly number[]): number {
  const chunk = new Uint8Array(4 * 1024 * 1024).fill(0x43);
  let total = 0;
  const t0 = performance.now();
  for (const [i, size] of sizes.entries()) {
    const path = join(dir, `large-${i}.part`);
    const fd = openSync(path, 'w');
    try {
      for (let written = 0; written < size; ) {
        const n = Math.min(chunk.length, size - written);
        written += writeSync(fd, chunk, 0, n);
      }
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    total += size;
  }
  const ms = performance.now() - t0;
  for (const i of sizes.keys()) rmSync(join(dir, `large-${i}.part`), { force: true });
  return total / 1e6 / (ms / 1000);
}

/** The floors, measured one run at a time at the start of the large and the small group's runs, then read as rows. */
export interface Floors {
  /** One run of the large objects' floor (the disk's durable write rate). */
  runLarge(): Promise<void>;
  /** One run of the small objects' floors (plain sockets, then durable commits). */
  runSmall(): Promise<void>;
  /** Their rows: the median, min and max of the runs made. */
  rows(): Row[];
}

/**
 * The floors over the small corpus's files, as many objects per run as it
 * has. {@link Floors.runLarge} and {@link Floors.runSmall} are called at the
 * start of each run of the large and the small group (bench/compare.ts), so
 * that each floor and the rows it bounds are measured in the same minutes,
 * interleaved like the DICOM configurations:
 * this machine's speed moves from minute to minute, and floors measured after
 * the whole group were 0.71 x to 1.13 x `storescu` -> `storescp` at window 1
 * in two runs whose DCMTK rows were the same.
 */
export function floors(
  plan: Plan,
  work: string,
  smallFiles: readonly string[],
  largeFiles: readonly string[],
  log: (line: string) => void,
): Floors {
  const count = smallFiles.length;
  const objects = new Map<number, number[]>([
    [1, []],
    [8, []],
  ]);
  const fromFiles = new Map<number, number[]>([
    [1, []],
    [8, []],
  ]);
  const list = join(work, 'floors-files.list');
  writeFileSync(list, smallFiles.join('\n'));
  // Each object is the first `fileSize` bytes of a file (the server counts a fixed size).
  const fileSize = Math.min(...smallFiles.map((f) => statSync(f).size));
  const largeSizes = largeFiles.map((f) => statSync(f).size);
  const commits: number[] = [];
  const groups: number[] = [];
  const writes: number[] = [];
  let smallRuns = 0;
  const runSmall = async (): Promise<void> => {
    const at = smallRuns++;
    log(
      `  small run ${at + 1}: floors (plain sockets from memory and from files, durable commits)`,
    );
    const port = await freePort();
    const server = await startMeasured(
      ...nodeRole('objects', ['--serve', String(port), '--size', String(SMALL)], SERVER_NODE_FLAGS),
      port,
    );
    const filePort = await freePort();
    const fileServer = await startMeasured(
      ...nodeRole(
        'objects',
        ['--serve', String(filePort), '--size', String(fileSize)],
        SERVER_NODE_FLAGS,
      ),
      filePort,
    );
    /** Objects per second of one sender run into `into`. */
    const send = async (into: number[], args: string[]) => {
      const r = await runMeasured(
        ...nodeRole('objects', [
          ...args,
          '--count',
          String(count),
          '--warmup',
          String(plan.warmup),
        ]),
      );
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { ms?: number };
      if (out.ms) into.push(count / (out.ms / 1000));
    };
    try {
      for (const window of [1, 8]) {
        const w = ['--window', String(window)];
        await send(objects.get(window)!, ['--send', String(port), '--size', String(SMALL), ...w]);
        await send(fromFiles.get(window)!, [
          '--send',
          String(filePort),
          '--size',
          String(fileSize),
          '--files',
          list,
          ...w,
        ]);
      }
    } finally {
      await server.stop();
      await fileServer.stop();
    }
    const dir = join(work, `floors-${at}`);
    mkdirSync(dir, { recursive: true });
    try {
      // As many commits as the small group's runs make: a short burst (40 or
      // 80, as measured before) fits the disk's write cache (see the top).
      commits.push(durableCommits(dir, count, SMALL));
      groups.push(await groupCommits(dir, count, SMALL, GROUP));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  let largeRuns = 0;
  const runLarge = async (): Promise<void> => {
    const dir = join(work, `floors-large-${largeRuns++}`);
    mkdirSync(dir, { recursive: true });
    try {
      writes.push(durableWrites(dir, largeSizes));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const rows = (): Row[] => {
    const out: Row[] = [];
    const put = (group: string, name: string, unit: string, samples: number[]) => {
      const row = sampledRow(plan.runs, group, name, unit, samples);
      if (row) out.push(row);
    };
    for (const [window, samples] of objects)
      put('small', OBJECTS_FLOOR(window), 'images/s', samples);
    for (const [window, samples] of fromFiles)
      put('small', OBJECTS_FILES_FLOOR(window), 'images/s', samples);
    put('disk', DURABLE_COMMIT, 'objects/s', commits);
    put('disk', DURABLE_GROUP_COMMIT(GROUP), 'objects/s', groups);
    put('disk', DURABLE_WRITE, 'MB/s', writes);
    return out;
  };
  return { runLarge, runSmall, rows };
}
