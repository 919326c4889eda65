import { describe, expect, it } from 'vitest';
import { ratios, serial, targets } from './report.js';
import type { Row } from './rows.js';
import {
  ASSOC_PARALLELED,
  ASSOC_SERIAL,
  CEILING,
  DURABLE_COMMIT,
  ECHO_SERIAL,
  ECHO_WIDE,
  ECHO_WINDOWED,
  LARGE_FROM_FILES,
  LARGE_IN_MEMORY,
  OBJECTS_FLOOR,
  START_DNET_SCU,
  START_NODE,
  splitList,
  TMPFS,
  TMPFS_DNET_SCU_STORESCP,
  TMPFS_FOUR,
  TMPFS_FOUR_DNET_SCP,
  TMPFS_FOUR_STORESCP,
  TMPFS_STORESCU_DNET_SCP,
  TMPFS_STORESCU_STORESCP,
  TMPFS_TLS,
  TMPFS_TLS_DNET_SCU_STORESCP,
  TMPFS_TLS_STORESCU_DNET_SCP,
  TMPFS_TLS_STORESCU_STORESCP,
} from './rows.js';

function row(group: string, name: string, median: number, unit = 'MB/s'): Row {
  return { group, name, unit, median, min: median, max: median, failures: 0 };
}

const byWhat = (rows: Row[], prefix: string) => {
  const t = targets(rows).filter((x) => x.what.startsWith(prefix));
  expect(t).toHaveLength(1);
  return t[0]!;
};

describe('targets', () => {
  it('judges the tmpfs, four-sender and TLS rows of issue 26 against DCMTK at 1.0 x', () => {
    const images = (group: string, name: string, ips: number) => ({
      ...row(group, name, ips / 2),
      rate: { unit: 'images/s', median: ips, min: ips, max: ips },
    });
    const rows = [
      images(TMPFS, TMPFS_STORESCU_DNET_SCP, 500),
      images(TMPFS, TMPFS_DNET_SCU_STORESCP, 1100),
      images(TMPFS, TMPFS_STORESCU_STORESCP, 1000),
      images(TMPFS_FOUR, TMPFS_FOUR_DNET_SCP(4), 300),
      images(TMPFS_FOUR, TMPFS_FOUR_STORESCP(4), 1200),
      row(TMPFS_TLS, TMPFS_TLS_STORESCU_DNET_SCP, 90),
      row(TMPFS_TLS, TMPFS_TLS_DNET_SCU_STORESCP, 150),
      row(TMPFS_TLS, TMPFS_TLS_STORESCU_STORESCP, 100),
      row('start', START_NODE, 40, 'ms'),
      row('start', START_DNET_SCU, 50, 'ms'),
    ];
    const one = byWhat(rows, 'tmpfs, storescu -> dnet-scp');
    expect([one.value, one.goal, one.met]).toEqual(['0.50 x', '>= 1 x', false]);
    const scu = byWhat(rows, 'tmpfs, dnet-scu -> storescp');
    expect([scu.value, scu.met]).toEqual(['1.10 x', true]);
    const four = byWhat(rows, 'tmpfs, 4 storescu at once');
    expect([four.value, four.met]).toEqual(['0.25 x', false]);
    expect(byWhat(rows, 'tmpfs, TLS: storescu +tls').value).toBe('0.90 x');
    expect(byWhat(rows, 'tmpfs, TLS: dnet-scu --tls').met).toBe(true);
    const start = byWhat(rows, 'start: node -e 0 vs dnet-scu --help');
    expect([start.value, start.info]).toEqual(['0.80 x', true]);
  });

  it('judges the large ceiling target on the in-memory row and shows the file row for information', () => {
    const rows = [
      row('large', CEILING, 1000),
      row('large', LARGE_FROM_FILES, 500),
      row('large', LARGE_IN_MEMORY, 850),
    ];
    const all = targets(rows).filter((t) => t.what.includes('vs the socket ceiling'));
    expect(all).toHaveLength(2);
    const [memory, files] = all;
    expect(memory?.what).toContain('in memory');
    expect(memory?.value).toBe('0.85 x');
    expect(memory?.met).toBe(true);
    expect(files?.what).toContain('reading files');
    expect(files?.value).toBe('0.50 x');
    expect(files?.info).toBe(true);
    expect(files?.met).toBeUndefined();
  });

  it('bounds a durable receiver at window 1 by the transfer and the commit one after the other', () => {
    expect(serial(2000, 1000)).toBeCloseTo(666.67, 1);
    expect(serial(undefined, 1000)).toBeUndefined();
    expect(serial(0, 1000)).toBeUndefined();
    const storescp = {
      ...row('small', 'storescu -> storescp, writing files', 400),
      rate: { unit: 'images/s', median: 1000, min: 1000, max: 1000 },
    };
    const rows = [
      row('small', OBJECTS_FLOOR(1), 2000, 'images/s'),
      row('disk', DURABLE_COMMIT, 1000, 'objects/s'),
      storescp,
    ];
    const bound = byWhat(rows, 'small, window 1, the most a durable receiver can do');
    expect(bound.value).toBe('0.67 x');
    expect(bound.info).toBe(true);
  });

  it('takes the better C-ECHO row and names it', () => {
    const windowed = byWhat(
      [row('echo', ECHO_SERIAL, 9000, 'echo/s'), row('echo', ECHO_WINDOWED, 20400, 'echo/s')],
      'C-ECHO',
    );
    expect(windowed.what).toContain('8 outstanding');
    expect(windowed.value).toBe('20400 echo/s');
    expect(windowed.met).toBe(true);
    const serial = byWhat(
      [row('echo', ECHO_SERIAL, 9000, 'echo/s'), row('echo', ECHO_WINDOWED, 8000, 'echo/s')],
      'C-ECHO',
    );
    expect(serial.what).toContain(': one at a time)');
    expect(serial.value).toBe('9000 echo/s');
    expect(serial.met).toBe(false);
    const wide = byWhat(
      [
        row('echo', ECHO_SERIAL, 9000, 'echo/s'),
        row('echo', ECHO_WINDOWED, 18000, 'echo/s'),
        row('echo', ECHO_WIDE, 24000, 'echo/s'),
      ],
      'C-ECHO',
    );
    expect(wide.what).toContain(': 16 outstanding)');
    expect(wide.value).toBe('24000 echo/s');
    expect(wide.met).toBe(true);
  });

  it('takes the better associations row, and the one measured when the other is missing', () => {
    const parallel = byWhat(
      [row('echo', ASSOC_SERIAL, 1400, 'assoc/s'), row('echo', ASSOC_PARALLELED, 2300, 'assoc/s')],
      'associations',
    );
    expect(parallel.what).toContain('8 under way');
    expect(parallel.met).toBe(true);
    const only = byWhat([row('echo', ASSOC_SERIAL, 1400, 'assoc/s')], 'associations');
    expect(only.what).toContain(': one at a time)');
    expect(only.value).toBe('1400 assoc/s');
    const none = byWhat([], 'associations');
    expect(none.met).toBeUndefined();
  });
});

describe('ratios', () => {
  it('lists the in-memory row with the other discarding rows', () => {
    const lines = ratios([
      row('large', CEILING, 1000),
      row('large', LARGE_IN_MEMORY, 800),
      row('large', 'storescu -> storescp, discarding', 400),
    ]);
    expect(lines).toContain(`large: ${LARGE_IN_MEMORY}: 2.00 x DCMTK, 0.80 x ceiling`);
  });
});

describe('splitList', () => {
  it('cuts a warm-up list into nearly equal runs, in order, none empty', () => {
    expect(splitList([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6, 7],
    ]);
    expect(splitList([1, 2], 3)).toEqual([[1], [2]]);
    expect(splitList([], 3)).toEqual([]);
    expect(splitList([1, 2, 3], 1)).toEqual([[1, 2, 3]]);
  });
});
