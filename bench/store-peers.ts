// The receivers and senders of the store rows of `pnpm bench` (compare.ts runs
// them): dnet's roles and CLIs, DCMTK's storescp and storescu, dcmjs-dimse,
// each started as its own measured process.
import { resolve } from 'node:path';
import {
  type Finished,
  type MeasuredServer,
  nodeRole,
  runMeasured,
  SERVER_NODE_FLAGS,
  startMeasured,
} from './measure.js';
import { DEFAULT_GC, NO_GC_PACING } from './rows.js';

/** Whether a receiver writes what it receives to files or discards it. */
export type Mode = 'discard' | 'write';

/** A receiver: how to start it given port, mode and output folder. */
export interface Receiver {
  name: string;
  calledAe: string;
  /** A Node process (its JIT wants the full warm-up), not native code. */
  jit: boolean;
  start(port: number, mode: Mode, dir: string): Promise<MeasuredServer>;
}

/** A sender: runs to completion; returns ms of the transfer and its process report. */
export interface Sender {
  name: string;
  /** Takes the warm-up list itself (in its own process, untimed) rather than as a separate run. */
  warmsItself?: boolean;
  send(
    port: number,
    calledAe: string,
    listFile: string,
    files: string[],
    warmList?: string,
  ): Promise<SendResult>;
}

export interface SendResult {
  ms: number;
  proc: Finished;
  failed: number;
}

export const DCMTK_PDU = '131072';
export const DNET_PDU = String(1 << 20);
/** Max PDU of the in-memory large-object row, both sides. */
export const DNET_LARGE_PDU = String(4 << 20);

export function parseJson(proc: Finished): Record<string, number> {
  const line = proc.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, number>;
  } catch {
    throw new Error(`no result (exit ${proc.code}): ${proc.stderr.slice(-800)}`);
  }
}

/** The bench's dnet SCP role (services Server), with extra role arguments. */
export function dnetRoleReceiver(
  name: string,
  extra: string[] = [],
  maxPdu = DNET_PDU,
  nodeFlags: readonly string[] = SERVER_NODE_FLAGS,
): Receiver {
  return {
    name,
    calledAe: 'DNETSCP',
    jit: true,
    start: (port, mode, dir) =>
      startMeasured(
        ...nodeRole(
          'dnet-scp',
          ['--port', String(port), '--mode', mode, '--dir', dir, '--max-pdu', maxPdu, ...extra],
          nodeFlags,
        ),
        port,
      ),
  };
}

export const dnetRoleScp = dnetRoleReceiver('dnet SCP');
/** The same SCP role under Node's default (multi-threaded) garbage collector, for comparison. */
export const dnetRoleScpDefaultGc = dnetRoleReceiver(DEFAULT_GC, [], DNET_PDU, []);
/** The same SCP role without its young-generation pacing (@dnet/services GcPacer), for comparison. */
export const dnetRoleScpUnpaced = dnetRoleReceiver(NO_GC_PACING, ['--gc-every-mib', '0']);

/** dnet-scp, the app (index + files), for the write mode. */
export function dnetScpApp(extra: string[] = []): Receiver {
  return {
    name: 'dnet-scp',
    calledAe: 'DNETSCP',
    jit: true,
    start: (port, _mode, dir) =>
      startMeasured(
        process.execPath,
        [
          ...SERVER_NODE_FLAGS,
          resolve('apps/scp/dist/cli.js'),
          '--port',
          String(port),
          '--aet',
          'DNETSCP',
          '--storage',
          dir,
          '--max-pdu',
          DNET_PDU,
          '--log-level',
          'silent',
          ...extra,
        ],
        port,
      ),
  };
}

/** DCMTK storescp in its best case: +B bit-preserving, -pdu 131072. */
export const storescp: Receiver = {
  name: 'storescp',
  calledAe: 'STORESCP',
  jit: false,
  start: (port, mode, dir) =>
    startMeasured(
      'storescp',
      mode === 'write'
        ? ['-od', dir, '+B', '+xa', '-pdu', DCMTK_PDU, String(port)]
        : ['--ignore', '+xa', '-pdu', DCMTK_PDU, String(port)],
      port,
    ),
};

export function dnetScu(window: number, tlsCa?: string): Sender {
  return {
    name: window > 1 ? `dnet SCU (window ${window})` : 'dnet SCU',
    warmsItself: true,
    async send(port, calledAe, listFile, _files, warmList) {
      const proc = await runMeasured(
        ...nodeRole('dnet-scu', [
          ...(warmList ? ['--warmup', warmList] : []),
          '--op',
          'store',
          '--port',
          String(port),
          '--aet',
          calledAe,
          '--files',
          listFile,
          '--window',
          String(window),
          '--max-pdu',
          DNET_PDU,
          ...(tlsCa ? ['--tls', tlsCa] : []),
        ]),
      );
      const r = parseJson(proc);
      return { ms: r.ms ?? Number.NaN, proc, failed: r.failed ?? 0 };
    },
  };
}

/**
 * The dnet SCU storing data sets built in memory: as many objects as the
 * corpus has files, each `mib` MiB of Pixel Data (one buffer kept for all,
 * distinct SOP Instance UIDs in every run), so that what is sent comes from
 * memory like the socket ceiling's writes. Warms itself with `warm` small
 * in-memory images into the same receiver.
 */
export function dnetMemoryScu(mib: number, maxPdu: string, warm: number, repeat = 1): Sender {
  let sends = 0;
  return {
    name: 'dnet SCU (data set in memory)',
    warmsItself: true,
    async send(port, calledAe, _list, files) {
      sends++;
      const proc = await runMeasured(
        ...nodeRole('dnet-scu', [
          '--op',
          'store-memory',
          '--warm',
          String(warm),
          '--port',
          String(port),
          '--aet',
          calledAe,
          '--count',
          String(files.length * repeat),
          '--mib',
          String(mib),
          '--uid-prefix',
          `2.25.1234567890.9.${sends}`,
          '--max-pdu',
          maxPdu,
        ]),
      );
      const r = parseJson(proc);
      return { ms: r.ms ?? Number.NaN, proc, failed: r.failed ?? 0 };
    },
  };
}

export const storescu: Sender = {
  name: 'storescu',
  async send(port, calledAe, _list, files) {
    const proc = await runMeasured('storescu', [
      '-aec',
      calledAe,
      '-pdu',
      DCMTK_PDU,
      '127.0.0.1',
      String(port),
      ...files,
    ]);
    if (proc.code !== 0) throw new Error(`storescu exit ${proc.code}: ${proc.stderr.slice(-500)}`);
    return { ms: proc.wallMs, proc, failed: 0 };
  },
};

export const dcmjs: Sender = {
  name: 'dcmjs-dimse',
  async send(port, calledAe, listFile) {
    const proc = await runMeasured(
      ...nodeRole('dcmjs-scu', ['--port', String(port), '--files', listFile, '--aet', calledAe]),
      { timeoutMs: 300_000 },
    );
    const r = parseJson(proc);
    return { ms: r.ms ?? Number.NaN, proc, failed: r.failed ?? 0 };
  },
};
