// The scale-out row of `pnpm bench` (issue 14): images/s through HAProxy
// (TCP mode, the DICOM health check of docs/scale-out.md) into one dnet-scp
// node, then into two, both on one PostgreSQL index and one storage root,
// sent by several storescu associations at once. One and two nodes are run
// alternately (1 2 1 2 ...), each run on a fresh database and storage root.
// Skipped, with the reason printed, when HAProxy, the PostgreSQL server or
// DCMTK is not installed.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasCommand, runTool } from '@dnet/testkit/node';
import { postgresBinDir, startPostgres, type TestPostgres } from '@dnet/testkit/postgres';
import {
  type RunningHaproxy,
  type ScpNode,
  startHaproxy,
  startScpNode,
} from '../apps/scp/src/scale-out-cluster.test-support.js';
import { syntheticImages } from '../apps/scp/src/synthetic-images.js';
import type { Row } from './rows.js';
import { summarize } from './stats.js';

/** How much the scale-out row sends. */
export interface ScaleOutPlan {
  runs: number;
  /** Parallel storescu associations. */
  associations: number;
  /** Images in all (split evenly over the associations). */
  images: number;
  /** Rows and columns of the 16-bit images. */
  size: number;
}

/** The reason the scale-out row cannot run here, or `undefined`. */
export function scaleOutMissing(): string | undefined {
  const missing = [
    ...(hasCommand('haproxy') ? [] : ['haproxy']),
    ...(postgresBinDir() ? [] : ['the PostgreSQL server (/usr/lib/postgresql/<major>/bin)']),
    ...(hasCommand('storescu') ? [] : ['storescu (DCMTK)']),
  ];
  return missing.length ? `${missing.join(', ')} not installed` : undefined;
}

/** Images/s through HAProxy into one node and into two; no rows (and a printed reason) when skipped. */
export async function scaleOut(
  plan: ScaleOutPlan,
  work: string,
  log: (line: string) => void,
): Promise<Row[]> {
  const missing = scaleOutMissing();
  if (missing) {
    log(`scale-out skipped: ${missing}`);
    return [];
  }
  const dir = join(work, 'scale-out');
  await mkdir(dir, { recursive: true });
  const images = await syntheticImages(join(dir, 'images'), {
    count: plan.images,
    perSeries: 20,
    size: plan.size,
  });
  const groups = Array.from({ length: plan.associations }, (_, g) =>
    images.filter((_, i) => i % plan.associations === g).map((i) => i.path),
  );
  const samples = new Map<number, number[]>([
    [1, []],
    [2, []],
  ]);
  const notes = new Map<number, string>();
  let pg: TestPostgres | undefined;
  try {
    // fsync on: an acknowledged object is on disk and in a committed row, as in production.
    pg = await startPostgres({ fsync: true });
    for (let run = 0; run < plan.runs; run++) {
      for (const count of [1, 2]) {
        const root = join(dir, `root-${run}-${count}`);
        const nodes: ScpNode[] = [];
        let haproxy: RunningHaproxy | undefined;
        try {
          const db = await pg.createDatabase(`bench_${run}_${count}`);
          // Started one after the other: the first creates the schema.
          for (let n = 1; n <= count; n++) {
            nodes.push(
              await startScpNode({
                name: `node-${n}`,
                db,
                storage: root,
                logLevel: 'warn',
                args: ['--max-pdu', '131072'],
              }),
            );
          }
          const servers = nodes.map((n) => ({ name: n.name, port: n.port }));
          haproxy = await startHaproxy({ dir: root, servers, interMs: 2000 });
          const port = haproxy.port;
          const started = performance.now();
          const results = await Promise.all(
            groups.map((files) =>
              runTool(
                'storescu',
                ['-v', '-aec', 'DNETSCP', '-pdu', '131072', '127.0.0.1', String(port), ...files],
                { timeoutMs: 300_000 },
              ),
            ),
          );
          const seconds = (performance.now() - started) / 1000;
          const ok = results.reduce(
            (n, r) =>
              n +
              (`${r.stdout}${r.stderr}`.match(/Received Store Response \(Success\)/g) ?? []).length,
            0,
          );
          if (ok !== plan.images) {
            const bad = results.find((r) => r.code !== 0);
            throw new Error(
              `${ok} of ${plan.images} stored ${bad ? bad.stderr.slice(-300) : ''}`.trim(),
            );
          }
          samples.get(count)?.push(plan.images / seconds);
          log(
            `  scale-out run ${run + 1}: ${count} node(s): ${(plan.images / seconds).toFixed(0)} images/s`,
          );
        } catch (error) {
          const note = (error as Error).message.replace(/\s+/g, ' ').slice(0, 160);
          notes.set(count, note);
          log(`  scale-out run ${run + 1}: ${count} node(s): FAILED ${note}`);
        } finally {
          await haproxy?.stop();
          for (const n of nodes) await n.stop();
          await rm(root, { recursive: true, force: true });
        }
      }
    }
  } catch (error) {
    log(`scale-out FAILED: ${(error as Error).message.slice(0, 300)}`);
  } finally {
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return [1, 2].map((count) => {
    const values = samples.get(count) ?? [];
    const s = values.length ? summarize('', 'images/s', values) : undefined;
    const note = notes.get(count);
    return {
      group: 'scale-out',
      name: `${plan.associations} storescu associations -> HAProxy -> ${count} dnet-scp node${count > 1 ? 's' : ''} (PostgreSQL, shared root), ${plan.images} images of ${plan.size}x${plan.size}x16 bit`,
      unit: 'images/s',
      median: s?.median ?? Number.NaN,
      min: s?.min ?? Number.NaN,
      max: s?.max ?? Number.NaN,
      failures: plan.runs - values.length,
      ...(note && { note }),
    };
  });
}

/** `tsx bench/scale-out.ts [runs]`: this row alone, printed (for development). */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const work = await mkdtemp(join(tmpdir(), 'dnet-bench-scale-out-'));
  try {
    const rows = await scaleOut(
      { runs: Number(process.argv[2] ?? 1), associations: 8, images: 240, size: 64 },
      work,
      console.log,
    );
    for (const r of rows) console.log(`${r.name}: ${r.median.toFixed(0)} ${r.unit}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
