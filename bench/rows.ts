// The rows every bench module shares: their shape, the plan of a run, and the
// names of the rows that bench/report.ts reads for the targets (no side
// effects: report.ts and its test import this without starting anything).
import { availableParallelism } from 'node:os';

/** C-ECHOs outstanding at once in the windowed C-ECHO row. */
export const ECHO_WINDOW = 8;
/** Associations under way at once in the parallel associations row. */
export const ASSOC_PARALLEL = 8;
/** The dnet SCP role under Node's default garbage collector (the others run with SERVER_NODE_FLAGS). */
export const DEFAULT_GC = 'dnet SCP (default GC)';
/** The dnet SCP role leaving young-generation collections to V8 (the others pace them every 8 MiB). */
export const NO_GC_PACING = 'dnet SCP (no GC pacing)';
/** TLS group: dnet over TLS (sender -> receiver, mode). */
export const TLS_OVER = 'dnet SCU over TLS -> dnet SCP over TLS, discarding';
/** TLS group: the same in plaintext. */
export const TLS_PLAIN = 'dnet SCU -> dnet SCP, discarding';
/** The TLS group's ceiling: Node's own TLS sockets, the same bytes, no DICOM. */
export const TLS_CEILING = 'node tls.TLSSocket -> tls.TLSSocket (TLS ceiling, no DICOM)';
/** The socket ceiling of the large group. */
export const CEILING = 'node net.Socket -> net.Socket (ceiling)';
/** Large group: the dnet SCU reading files, max PDU 1 MiB. */
export const LARGE_FROM_FILES = 'dnet SCU -> dnet SCP, discarding';
/** Large group: the data set in memory, 4 MiB PDUs on both sides (sender -> receiver, mode, suffix). */
export const LARGE_IN_MEMORY =
  'dnet SCU (data set in memory) -> dnet SCP, discarding, max PDU 4 MiB';
/** C-ECHO, one at a time. */
export const ECHO_SERIAL = 'dnet SCU -> dnet SCP: C-ECHO round trips, one association';
/** C-ECHO, {@link ECHO_WINDOW} outstanding (PS3.7 §D.3.3.3 asynchronous operations window). */
export const ECHO_WINDOWED = `dnet SCU -> dnet SCP: C-ECHO round trips, one association, ${ECHO_WINDOW} outstanding (asynchronous operations window ${ECHO_WINDOW})`;
/** C-ECHOs outstanding in the wide-window row: the window a dnet `Server` grants by default (16 invoked). */
export const ECHO_WIDE_WINDOW = 16;
/** C-ECHO, {@link ECHO_WIDE_WINDOW} outstanding. */
export const ECHO_WIDE = `dnet SCU -> dnet SCP: C-ECHO round trips, one association, ${ECHO_WIDE_WINDOW} outstanding (the Server's default window)`;
/** Associate + echo + release, one after the other. */
export const ASSOC_SERIAL = 'dnet SCU -> dnet SCP: associate + echo + release, one process';
/** Associate + echo + release, {@link ASSOC_PARALLEL} under way at once. */
export const ASSOC_PARALLELED = `dnet SCU -> dnet SCP: associate + echo + release, ${ASSOC_PARALLEL} associations under way, one process`;

/** The receiver of the small group's ingest transcoding row: dnet-scp --store-as jpeg-ls-lossless. */
export const STORE_AS_NAME = 'dnet-scp --store-as jpeg-ls-lossless';

/** bench/floors.ts: plain sockets, 512 KiB objects, `window` outstanding. */
export const OBJECTS_FLOOR = (window: number) =>
  `node net.Socket: 512 KiB object from memory + 128-byte answer, ${window} outstanding (no DICOM, no file)`;
/** bench/floors.ts: plain sockets, the small corpus's files read as dnet's SCU reads them, `window` outstanding. */
export const OBJECTS_FILES_FLOOR = (window: number) =>
  `node net.Socket: 512 KiB file read (open, fstat, read, close; blocking calls) + sent + 128-byte answer, ${window} outstanding (no DICOM)`;
/** bench/floors.ts: a durable commit of a 512 KiB object, one at a time. */
export const DURABLE_COMMIT =
  '512 KiB object written, fdatasync, renamed, folder fsync, one at a time (durable commit)';
/** bench/floors.ts: durable commits of 512 KiB objects, `n` at a time, one folder fsync per `n`. */
export const DURABLE_GROUP_COMMIT = (n: number) =>
  `512 KiB objects written and fdatasynced ${n} at a time, renamed, one folder fsync per ${n} (group commit)`;
/** bench/floors.ts: the disk's durable write rate. */
export const DURABLE_WRITE =
  'the large objects written and fdatasynced one after the other (durable write rate)';

/**
 * Associations the warm-up of a measured dnet process is spread over. A
 * long-lived SCP or client has been through many associations; after only
 * one, the timed association still meets code paths first run at a release
 * and a new association (V8 deoptimizes them for lack of type feedback and
 * compiles them again, on the other core, inside the timed part). Measured
 * 2026-12-04, storescu -> the SCP role, 500 x 512 KiB after 300 warm-up
 * images: 44 optimizing compilations and 6 deoptimizations in the timed part
 * after one warm-up association, 24 and 2 after three; 1 155-1 346 images/s
 * and 600-720 us of SCP CPU per image after one, 1 245-1 509 and 500-700 us
 * after three (4 alternating rounds).
 */
export const WARM_ASSOCIATIONS = 3;

/** `list` cut into `parts` runs of nearly equal length, in order (none empty). */
export function splitList<T>(list: readonly T[], parts: number): T[][] {
  const n = Math.max(1, Math.min(parts, list.length));
  const out: T[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      list.slice(Math.floor((i * list.length) / n), Math.floor(((i + 1) * list.length) / n)),
    );
  }
  return out.filter((p) => p.length > 0);
}

/** One figure of the comparison, with the peak RSS of each role. */
export interface Row {
  /** Group: large, small, echo... */
  group: string;
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  /** Second figure (images/s for stores), median. */
  rate?: { unit: string; median: number; min: number; max: number };
  /** Median peak RSS of the sender / client, MB. */
  senderRssMb?: number;
  /** Median peak RSS of the receiver / server, MB. */
  receiverRssMb?: number;
  /** Runs that failed (their figures are left out). */
  failures: number;
  /** Why the last failure happened. */
  note?: string;
}

/** How large and how many. */
export interface Plan {
  runs: number;
  echoes: number;
  associations: number;
  findMatches: number;
  concurrentAssociations: number;
  concurrentPerAssociation: number;
  /** Run dcmjs-dimse on the large objects too (about 5 MB/s: too slow for the full mode). */
  dcmjsLarge: boolean;
  /**
   * Small images stored untimed before each timed store run, into the same
   * receiver (0: none): by the dnet SCU itself, in the same process; for
   * other senders as a separate run when the receiver is a dnet process.
   */
  warmup: number;
  /** Tiny images (64x64x16 bit) sent before those in discarding runs (see bench/index.ts). */
  warmupTiny: number;
  /** The same for a non-dnet sender into a non-dnet receiver (no JIT to warm). */
  warmupNative: number;
  /** C-ECHOs sent untimed by the echo role before its timed echoes. */
  echoWarmup: number;
  /** Associations made untimed by the assoc role before its timed ones. */
  assocWarmup: number;
  /** Rows and columns of the images of the concurrency check. */
  concurrentImageSize: number;
}

/** bench/tmpfs.ts: the group of the one-sender rows on tmpfs (issue 26). */
export const TMPFS = 'tmpfs';
/** bench/tmpfs.ts: the group of the four-sender rows on tmpfs. */
export const TMPFS_FOUR = 'tmpfs, 4 senders';
/** bench/tmpfs.ts: the group of the TLS rows on tmpfs. */
export const TMPFS_TLS = 'tmpfs, TLS';
/** bench/tmpfs.ts: the group of the command-line start rows. */
export const CLI_START = 'start';
/** tmpfs: storescu into dnet-scp (the app, writing files). */
export const TMPFS_STORESCU_DNET_SCP = 'storescu -> dnet-scp, writing files';
/** tmpfs: the same with one worker process per core (`--workers auto`): what workers do for one sender. */
export const TMPFS_STORESCU_DNET_SCP_WORKERS = (workers: number = availableParallelism()) =>
  `storescu -> dnet-scp --workers ${workers}, writing files`;
/**
 * tmpfs: the floor of the row above: bench/roles/bare-store-scp.mjs, the least
 * a Node program does to receive the files under dnet-scp's durability rule
 * (hand-made PDUs, no library, no index; data sync, rename, folder sync).
 */
export const TMPFS_STORESCU_BARE_SCP =
  'storescu -> bare Node durable receiver (hand-made PDUs, no library, no index), writing files';
/** tmpfs: the dnet-scu command line into storescp, its process start included. */
export const TMPFS_DNET_SCU_STORESCP =
  'dnet-scu store (the CLI, process start included) -> storescp +B, writing files';
/**
 * tmpfs: the floor of the row above: bench/roles/bare-store-scu.mjs, the least
 * a Node program does to send the files (hand-made PDUs, no library), its
 * process start included.
 */
export const TMPFS_BARE_SCU_STORESCP =
  'bare Node C-STORE sender (hand-made PDUs, no library; process start included) -> storescp +B, writing files';
/** tmpfs: DCMTK on both sides, the reference of the rows above. */
export const TMPFS_STORESCU_STORESCP = 'storescu -> storescp +B, writing files';
/** tmpfs: `n` storescu at once into dnet-scp with `workers` worker processes (default: the core count, `--workers auto`). */
export const TMPFS_FOUR_DNET_SCP = (n: number, workers: number = availableParallelism()) =>
  `${n} storescu at once -> dnet-scp --workers ${workers}, writing files`;
/** tmpfs: `n` storescu at once into storescp --fork. */
/** tmpfs: `n` storescu at once into the bare Node durable receiver (one process): the floor of the rows around. */
export const TMPFS_FOUR_BARE_SCP = (n: number, processes = 1) =>
  `${n} storescu at once -> bare Node durable receiver (${processes === 1 ? 'one process' : `${processes} processes`}), writing files`;
/** tmpfs: `n` storescu at once into storescp --fork. */
export const TMPFS_FOUR_STORESCP = (n: number) =>
  `${n} storescu at once -> storescp --fork +B, writing files`;
/** tmpfs, TLS: storescu +tls into dnet-scp --tls. */
export const TMPFS_TLS_STORESCU_DNET_SCP = 'storescu +tls -> dnet-scp --tls, writing files';
/** tmpfs, TLS: dnet-scu --tls (the CLI, process start included) into storescp +tls. */
export const TMPFS_TLS_DNET_SCU_STORESCP =
  'dnet-scu store --tls (the CLI, process start included) -> storescp +tls +B, writing files';
/** tmpfs, TLS: the floor of the receiving row, bench/roles/bare-store-scp.mjs over Node's TLS. */
export const TMPFS_TLS_STORESCU_BARE_SCP =
  'storescu +tls -> bare Node durable receiver over TLS, writing files';
/** tmpfs, TLS: the floor of the sending row, bench/roles/bare-store-scu.mjs over Node's TLS. */
export const TMPFS_TLS_BARE_SCU_STORESCP =
  'bare Node C-STORE sender over TLS (process start included) -> storescp +tls +B, writing files';
/** tmpfs, TLS: DCMTK on both sides. */
export const TMPFS_TLS_STORESCU_STORESCP = 'storescu +tls -> storescp +tls +B, writing files';
/** Command-line start: Node doing nothing. */
export const START_NODE = 'node -e 0 (process start and exit)';
/** Command-line start: `dnet-scu --help`. */
export const START_DNET_SCU = 'dnet-scu --help (process start, help printed, exit)';
/** Command-line start: `dnet-scp --help`. */
export const START_DNET_SCP = 'dnet-scp --help (process start, help printed, exit)';
