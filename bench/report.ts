// The table and the ratios of `pnpm bench`, as text for the terminal and as
// Markdown for BENCHMARKS.md.
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { Row } from './rows.js';
import {
  ASSOC_PARALLELED,
  ASSOC_SERIAL,
  CEILING,
  CLI_START,
  DURABLE_COMMIT,
  DURABLE_GROUP_COMMIT,
  DURABLE_WRITE,
  ECHO_SERIAL,
  ECHO_WIDE,
  ECHO_WIDE_WINDOW,
  ECHO_WINDOW,
  ECHO_WINDOWED,
  LARGE_FROM_FILES,
  LARGE_IN_MEMORY,
  OBJECTS_FILES_FLOOR,
  OBJECTS_FLOOR,
  START_DNET_SCP,
  START_DNET_SCU,
  START_NODE,
  TLS_CEILING,
  TLS_OVER,
  TLS_PLAIN,
  TMPFS,
  TMPFS_BARE_SCU_STORESCP,
  TMPFS_DNET_SCU_STORESCP,
  TMPFS_FOUR,
  TMPFS_FOUR_BARE_SCP,
  TMPFS_FOUR_DNET_SCP,
  TMPFS_STORESCU_BARE_SCP,
  TMPFS_STORESCU_DNET_SCP,
  TMPFS_STORESCU_DNET_SCP_WORKERS,
  TMPFS_STORESCU_STORESCP,
  TMPFS_TLS,
  TMPFS_TLS_BARE_SCU_STORESCP,
  TMPFS_TLS_DNET_SCU_STORESCP,
  TMPFS_TLS_STORESCU_BARE_SCP,
  TMPFS_TLS_STORESCU_DNET_SCP,
  TMPFS_TLS_STORESCU_STORESCP,
} from './rows.js';

/** The machine, from os.cpus() and os.totalmem(). */
export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${process.platform} ${process.arch}`;
}

function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

function find(rows: Row[], group: string, name: string): Row | undefined {
  return rows.find((r) => r.group === group && r.name === name);
}

/** One target: the figure, the goal, met or not. */
export interface Target {
  what: string;
  value: string;
  goal: string;
  met: boolean | undefined;
  /** A figure shown next to a target, not itself a target (no met / not met). */
  info?: boolean;
}

/** The rate of two steps that run one after the other, each at its own rate (1 / (1/a + 1/b)). */
export function serial(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) return undefined;
  return 1 / (1 / a + 1 / b);
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? a / b
    : undefined;
}

/** The targets of issue 12, computed from rows of the same run. */
export function targets(rows: Row[]): Target[] {
  const out: Target[] = [];
  const ratioTarget = (
    what: string,
    num: number | undefined,
    den: number | undefined,
    goal: number,
  ) => {
    const r = ratio(num, den);
    out.push({
      what,
      value: r === undefined ? '—' : `${r.toFixed(2)} x`,
      goal: `>= ${goal} x`,
      met: r === undefined ? undefined : r >= goal,
    });
  };
  const absTarget = (
    what: string,
    v: number | undefined,
    goal: number,
    unit: string,
    below = false,
  ) => {
    const ok = v !== undefined && Number.isFinite(v);
    out.push({
      what,
      value: ok ? `${fmt(v)} ${unit}` : '—',
      goal: `${below ? '<' : '>='} ${goal} ${unit}`,
      met: ok ? (below ? v < goal : v >= goal) : undefined,
    });
  };
  const m = (g: string, n: string) => find(rows, g, n)?.median;
  const ips = (g: string, n: string) => find(rows, g, n)?.rate?.median;
  /** The best of some rows (by median), with which one it was. */
  const best = (g: string, ...candidates: [string, string][]) => {
    let out: { v: number | undefined; which: string } = { v: undefined, which: '' };
    for (const [name, which] of candidates) {
      const v = m(g, name);
      if (v !== undefined && Number.isFinite(v) && (out.v === undefined || v > out.v))
        out = { v, which };
    }
    return out;
  };
  // Like with like: the ceiling writes from memory, so does this row.
  const ceiling = m('large', CEILING);
  ratioTarget(
    'large, dnet -> dnet discarding vs the socket ceiling (data set in memory, max PDU 4 MiB)',
    m('large', LARGE_IN_MEMORY),
    ceiling,
    0.8,
  );
  const fromFiles = ratio(m('large', LARGE_FROM_FILES), ceiling);
  out.push({
    what: 'large, dnet -> dnet discarding vs the socket ceiling, sender reading files (max PDU 1 MiB)',
    value: fromFiles === undefined ? '—' : `${fromFiles.toFixed(2)} x`,
    goal: '(for information)',
    met: undefined,
    info: true,
  });
  ratioTarget(
    'large, dnet -> dnet-scp writing files vs storescu -> storescp +B',
    m('large', 'dnet SCU -> dnet-scp, writing files'),
    m('large', 'storescu -> storescp, writing files'),
    1.5,
  );
  absTarget(
    'dnet-scp peak RSS receiving the huge object',
    find(rows, 'huge', 'dnet SCU -> dnet-scp, writing files')?.receiverRssMb,
    100,
    'MB',
    true,
  );
  for (const mode of ['discarding', 'writing files']) {
    const dnetRx = mode === 'discarding' ? 'dnet SCP' : 'dnet-scp';
    ratioTarget(
      `small, dnet -> ${dnetRx} ${mode} vs storescu -> storescp (images/s)`,
      ips('small', `dnet SCU -> ${dnetRx}, ${mode}`),
      ips('small', `storescu -> storescp, ${mode}`),
      1.3,
    );
    ratioTarget(
      `small, dnet window 8 -> ${dnetRx} ${mode} vs storescu -> storescp (images/s)`,
      ips('small', `dnet SCU (window 8) -> ${dnetRx}, ${mode}`),
      ips('small', `storescu -> storescp, ${mode}`),
      2,
    );
  }
  // What this machine allows at all (bench/floors.ts), against the same DCMTK rows.
  const info = (what: string, r: number | undefined) =>
    out.push({
      what,
      value: r === undefined ? '—' : `${r.toFixed(2)} x`,
      goal: '(for information)',
      met: undefined,
      info: true,
    });
  for (const window of [1, 8]) {
    info(
      `small, plain Node sockets (512 KiB from memory + answer, ${window} outstanding, no DICOM) vs storescu -> storescp discarding (images/s)`,
      ratio(m('small', OBJECTS_FLOOR(window)), ips('small', 'storescu -> storescp, discarding')),
    );
    info(
      `small, plain Node sockets, sender reading the files (open, fstat, read, close, blocking calls; ${window} outstanding, no DICOM) vs storescu -> storescp discarding (images/s)`,
      ratio(
        m('small', OBJECTS_FILES_FLOOR(window)),
        ips('small', 'storescu -> storescp, discarding'),
      ),
    );
  }
  info(
    "large, this disk's durable write rate (the large objects, each fdatasynced) vs storescu -> storescp +B writing files (which never syncs)",
    ratio(m('disk', DURABLE_WRITE), m('large', 'storescu -> storescp, writing files')),
  );
  info(
    'small, durable commits one at a time (512 KiB, fdatasync, rename, folder fsync) vs storescu -> storescp writing files (images/s)',
    ratio(m('disk', DURABLE_COMMIT), ips('small', 'storescu -> storescp, writing files')),
  );
  info(
    'small, durable commits 8 at a time (group commit, one folder fsync per 8) vs storescu -> storescp writing files (images/s)',
    ratio(m('disk', DURABLE_GROUP_COMMIT(8)), ips('small', 'storescu -> storescp, writing files')),
  );
  // At window 1 the sender waits for each answer, and a durable receiver
  // answers only after the commit: the transfer and the commit of one object
  // cannot overlap, so their times add up. The fastest transfer measured
  // (plain sockets, from memory) plus the fastest commit (one at a time):
  info(
    'small, window 1, the most a durable receiver can do: plain-socket transfer, then durable commit, one after the other (1 / (1/socket floor + 1/commit floor)) vs storescu -> storescp writing files (images/s)',
    ratio(
      serial(m('small', OBJECTS_FLOOR(1)), m('disk', DURABLE_COMMIT)),
      ips('small', 'storescu -> storescp, writing files'),
    ),
  );
  const echo = best(
    'echo',
    [ECHO_SERIAL, 'one at a time'],
    [ECHO_WINDOWED, `${ECHO_WINDOW} outstanding`],
    [ECHO_WIDE, `${ECHO_WIDE_WINDOW} outstanding`],
  );
  absTarget(
    `C-ECHO round trips, one association (best of one at a time, ${ECHO_WINDOW} and ${ECHO_WIDE_WINDOW} outstanding: ${echo.which || '—'})`,
    echo.v,
    20000,
    'echo/s',
  );
  const assoc = best('echo', [ASSOC_SERIAL, 'one at a time'], [ASSOC_PARALLELED, '8 under way']);
  absTarget(
    `associations (associate, echo, release), one process (best of one at a time and 8 under way: ${assoc.which || '—'})`,
    assoc.v,
    2000,
    'assoc/s',
  );
  ratioTarget(
    'TLS vs plaintext (dnet -> dnet, large, discarding)',
    m('tls', TLS_OVER),
    m('tls', TLS_PLAIN),
    0.7,
  );
  // What Node's own TLS sockets reach with the same bytes and no DICOM: the
  // best ratio dnet over TLS could show against dnet in plaintext.
  info(
    'TLS: plain Node TLS sockets (no DICOM) vs dnet plaintext (the most the target row could show)',
    ratio(m('tls', TLS_CEILING), m('tls', TLS_PLAIN)),
  );
  info(
    'TLS: dnet over TLS vs plain Node TLS sockets (no DICOM)',
    ratio(m('tls', TLS_OVER), m('tls', TLS_CEILING)),
  );
  // Issue 26: where the disk is not the limit (bench/tmpfs.ts), images/s of the same run.
  ratioTarget(
    `tmpfs, storescu -> dnet-scp vs storescu -> storescp +B, writing files (images/s)`,
    ips(TMPFS, TMPFS_STORESCU_DNET_SCP),
    ips(TMPFS, TMPFS_STORESCU_STORESCP),
    1,
  );
  info(
    `tmpfs (workers): ${TMPFS_STORESCU_DNET_SCP_WORKERS().replace(', writing files', '')} vs storescu -> storescp +B (images/s)`,
    ratio(ips(TMPFS, TMPFS_STORESCU_DNET_SCP_WORKERS()), ips(TMPFS, TMPFS_STORESCU_STORESCP)),
  );
  // Its floor: the least a durable Node receiver does with the same files
  // (bench/roles/bare-store-scp.mjs). Under 1.0 x, no Node receiver keeping
  // the durability rule reaches the target on this machine.
  info(
    'tmpfs floor: storescu -> bare Node durable receiver vs -> storescp +B (images/s)',
    ratio(ips(TMPFS, TMPFS_STORESCU_BARE_SCP), ips(TMPFS, TMPFS_STORESCU_STORESCP)),
  );
  info(
    'tmpfs: storescu -> dnet-scp vs -> the bare Node durable receiver (images/s)',
    ratio(ips(TMPFS, TMPFS_STORESCU_DNET_SCP), ips(TMPFS, TMPFS_STORESCU_BARE_SCP)),
  );
  ratioTarget(
    'tmpfs, dnet-scu -> storescp +B vs storescu -> storescp +B, process start included (images/s)',
    ips(TMPFS, TMPFS_DNET_SCU_STORESCP),
    ips(TMPFS, TMPFS_STORESCU_STORESCP),
    1,
  );
  // The floor of that target: the least any Node program does to send the
  // same files (bench/roles/bare-store-scu.mjs). Under 1.0 x, no Node sender
  // reaches the target on this machine; dnet-scu against it is dnet's own cost.
  info(
    'tmpfs floor: bare Node C-STORE sender -> storescp +B vs storescu -> storescp +B, process start included (images/s)',
    ratio(ips(TMPFS, TMPFS_BARE_SCU_STORESCP), ips(TMPFS, TMPFS_STORESCU_STORESCP)),
  );
  info(
    'tmpfs: dnet-scu -> storescp +B vs the bare Node C-STORE sender (images/s)',
    ratio(ips(TMPFS, TMPFS_DNET_SCU_STORESCP), ips(TMPFS, TMPFS_BARE_SCU_STORESCP)),
  );
  const four = rows.find((r) => r.group === TMPFS_FOUR && r.name === TMPFS_FOUR_DNET_SCP(4));
  const fourOne = rows.find((r) => r.group === TMPFS_FOUR && r.name === TMPFS_FOUR_DNET_SCP(4, 1));
  const fourDcmtk = rows.find((r) => r.group === TMPFS_FOUR && r.name.includes('storescp --fork'));
  ratioTarget(
    `tmpfs, ${four?.name.replace(/ ->.*/, '') ?? 'several storescu at once'} -> dnet-scp vs -> storescp --fork +B (images/s)`,
    four?.rate?.median,
    fourDcmtk?.rate?.median,
    1,
  );
  info(
    'tmpfs (workers): 4 storescu at once -> dnet-scp --workers 1 (one process, the default) vs -> storescp --fork +B (images/s)',
    ratio(fourOne?.rate?.median, fourDcmtk?.rate?.median),
  );
  const fourBare = rows.find((r) => r.group === TMPFS_FOUR && r.name === TMPFS_FOUR_BARE_SCP(4));
  info(
    'tmpfs floor: 4 storescu at once -> bare Node durable receiver (one process) vs -> storescp --fork +B (images/s)',
    ratio(fourBare?.rate?.median, fourDcmtk?.rate?.median),
  );
  const cores = availableParallelism();
  const fourBareCores = rows.find(
    (r) => r.group === TMPFS_FOUR && r.name === TMPFS_FOUR_BARE_SCP(4, cores),
  );
  info(
    `tmpfs floor: 4 storescu at once -> bare Node durable receiver (${cores} processes) vs -> storescp --fork +B (images/s)`,
    ratio(fourBareCores?.rate?.median, fourDcmtk?.rate?.median),
  );
  ratioTarget(
    'tmpfs, TLS: storescu +tls -> dnet-scp --tls vs -> storescp +tls +B (MB/s)',
    m(TMPFS_TLS, TMPFS_TLS_STORESCU_DNET_SCP),
    m(TMPFS_TLS, TMPFS_TLS_STORESCU_STORESCP),
    1,
  );
  ratioTarget(
    'tmpfs, TLS: dnet-scu --tls -> storescp +tls vs storescu +tls -> storescp +tls (MB/s)',
    m(TMPFS_TLS, TMPFS_TLS_DNET_SCU_STORESCP),
    m(TMPFS_TLS, TMPFS_TLS_STORESCU_STORESCP),
    1,
  );
  // The floors of the two TLS targets: the bare programs over Node's TLS.
  info(
    'tmpfs floor, TLS: storescu +tls -> bare Node durable receiver vs -> storescp +tls +B (MB/s)',
    ratio(m(TMPFS_TLS, TMPFS_TLS_STORESCU_BARE_SCP), m(TMPFS_TLS, TMPFS_TLS_STORESCU_STORESCP)),
  );
  info(
    'tmpfs floor, TLS: bare Node C-STORE sender -> storescp +tls vs storescu +tls -> storescp +tls (MB/s)',
    ratio(m(TMPFS_TLS, TMPFS_TLS_BARE_SCU_STORESCP), m(TMPFS_TLS, TMPFS_TLS_STORESCU_STORESCP)),
  );
  // No figure in the issue: "as fast as Node allows". The time of `node -e 0`
  // over the command's (1.0 x: no slower than Node starting and doing nothing).
  info(
    'start: node -e 0 vs dnet-scu --help (time of node -e 0 / time of dnet-scu --help)',
    ratio(m(CLI_START, START_NODE), m(CLI_START, START_DNET_SCU)),
  );
  info(
    'start: node -e 0 vs dnet-scp --help (time of node -e 0 / time of dnet-scp --help)',
    ratio(m(CLI_START, START_NODE), m(CLI_START, START_DNET_SCP)),
  );
  const c = rows.find((r) => r.group === 'concurrent');
  out.push({
    what: 'concurrent associations: all stored',
    value: c ? c.name.replace(/.*\(/, '(') : '—',
    goal: 'all stored',
    met: c ? c.failures === 0 : undefined,
  });
  absTarget('concurrent associations: dnet-scp peak RSS', c?.receiverRssMb, 500, 'MB', true);
  return out;
}

/** Ratios of interest that are not targets: against DCMTK and the ceiling. */
export function ratios(rows: Row[]): string[] {
  const lines: string[] = [];
  const ceiling = find(rows, 'large', CEILING)?.median;
  for (const group of ['large', 'small']) {
    for (const mode of ['discarding', 'writing files']) {
      const dcmtk = find(rows, group, `storescu -> storescp, ${mode}`);
      for (const r of rows.filter((x) => x.group === group && x.name.includes(`, ${mode}`))) {
        const parts = [];
        const vs = ratio(r.median, dcmtk?.median);
        if (vs !== undefined) parts.push(`${vs.toFixed(2)} x DCMTK`);
        const vc = ratio(r.median, ceiling);
        if (vc !== undefined) parts.push(`${vc.toFixed(2)} x ceiling`);
        if (parts.length) lines.push(`${group}: ${r.name}: ${parts.join(', ')}`);
      }
    }
  }
  const one = rows.find((r) => r.group === 'scale-out' && / 1 dnet-scp node /.test(r.name));
  const two = rows.find((r) => r.group === 'scale-out' && / 2 dnet-scp nodes /.test(r.name));
  const scale = ratio(two?.median, one?.median);
  if (scale !== undefined) {
    lines.push(`scale-out: two dnet-scp nodes vs one, through HAProxy: ${scale.toFixed(2)} x`);
  }
  return lines;
}

/** The table as aligned text. */
export function textTable(rows: Row[]): string {
  const lines = [
    `${'benchmark'.padEnd(72)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'unit'.padEnd(9)} ${'img/s'.padStart(7)} ${'RSS tx'.padStart(7)} ${'RSS rx'.padStart(7)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${`${r.group}: ${r.name}`.slice(0, 72).padEnd(72)} ${fmt(r.median).padStart(8)} ${fmt(r.min).padStart(8)} ${fmt(r.max).padStart(8)} ${r.unit.padEnd(9)} ${fmt(r.rate?.median).padStart(7)} ${fmt(r.senderRssMb).padStart(7)} ${fmt(r.receiverRssMb).padStart(7)}${r.failures ? `  (${r.failures} failed: ${r.note ?? ''})` : ''}`,
    );
  }
  return lines.join('\n');
}

/** The generated part of BENCHMARKS.md. */
export function markdown(
  rows: Row[],
  info: { mode: string; runs: number; seconds: number; corpus: string },
): string {
  const out: string[] = [];
  out.push(
    `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, \`pnpm bench${info.mode === 'quick' ? ' --quick' : ''}\` (${info.mode} mode, ${info.runs} interleaved runs per configuration, ${info.seconds.toFixed(0)} s in all).`,
  );
  out.push('');
  out.push(`Machine: ${machine()}.`);
  out.push('');
  out.push(`Corpus: ${info.corpus}.`);
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push('| target | measured (median) | goal | met |');
  out.push('| --- | --- | --- | --- |');
  for (const t of targets(rows)) {
    out.push(
      `| ${t.what} | ${t.value} | ${t.goal} | ${t.info ? '—' : t.met === undefined ? 'not measured' : t.met ? 'yes' : '**no**'} |`,
    );
  }
  out.push('');
  out.push('### All figures');
  out.push('');
  out.push(
    'Median, min and max of the runs; images/s is the median; RSS is the median peak resident set size of the sending and the receiving process (MB, GNU time).',
  );
  out.push('');
  out.push(
    '| group | configuration | median | min | max | unit | images/s | RSS sender | RSS receiver |',
  );
  out.push('| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    out.push(
      `| ${r.group} | ${r.name}${r.failures ? ` (${r.failures} runs failed: ${r.note ?? ''})` : ''} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.unit} | ${fmt(r.rate?.median)} | ${fmt(r.senderRssMb)} | ${fmt(r.receiverRssMb)} |`,
    );
  }
  out.push('');
  out.push('### Ratios (same run)');
  out.push('');
  for (const l of ratios(rows)) out.push(`- ${l}`);
  return out.join('\n');
}
