// The store-with-transcoding rows of `pnpm bench` (issue 25): the built
// `dnet-scu store` sending CT images to DCMTK's storescp in its default
// set-up (uncompressed syntaxes only, discarding), once as Explicit VR
// Little Endian files (nothing to transcode) and once as JPEG-LS Lossless
// files that dnet-scu transcodes to Explicit VR Little Endian on the fly,
// side by side on the same pixels. Both include dnet-scu's process start-up.
// `pnpm bench --codecs` runs these rows too.

import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { transcodeFile } from '@dnet/codecs';
import { freePort, hasCommand } from '@dnet/testkit/node';
import { writeCt } from './codecs.js';
import { runMeasured, startMeasured } from './measure.js';
import type { Row } from './rows.js';
import { sampledRow } from './stats.js';

/** How much the transcoding store rows send. */
export interface TranscodeStorePlan {
  runs: number;
  /** Images per run. */
  images: number;
  /** Rows and columns of each image. */
  size: number;
}

/** The built dnet-scu (`pnpm run build` made it). */
const SCU = join(import.meta.dirname, '..', 'apps', 'scu', 'dist', 'cli.js');
const JLS = '1.2.840.10008.1.2.4.80';

/** Wall seconds of one `dnet-scu store` of `folder` into a fresh storescp (uncompressed only, discarding). */
async function storeOnce(folder: string): Promise<number> {
  const port = await freePort();
  const scp = await startMeasured('storescp', ['--ignore', '-aet', 'STORESCP', String(port)], port);
  try {
    const r = await runMeasured(
      process.execPath,
      [SCU, 'store', '127.0.0.1', String(port), '--aec', 'STORESCP', '-q', folder],
      { timeoutMs: 600_000 },
    );
    if (r.code !== 0) throw new Error(`dnet-scu store exit ${r.code}: ${r.stderr.slice(-500)}`);
    return r.wallMs / 1000;
  } finally {
    await scp.stop();
  }
}

/** Images/s storing native files and JPEG-LS files transcoded to Explicit VR LE, side by side. */
export async function transcodeStoreRows(
  plan: TranscodeStorePlan,
  work: string,
  log: (line: string) => void,
): Promise<Row[]> {
  if (!hasCommand('storescp')) {
    log('transcoding store: storescp not installed, rows left out');
    return [];
  }
  const dir = join(work, 'transcode-store');
  const native = join(dir, 'native');
  const jls = join(dir, 'jpeg-ls');
  await mkdir(native, { recursive: true });
  await mkdir(jls, { recursive: true });
  try {
    const one = join(dir, 'ct.dcm');
    const oneJls = join(dir, 'ct-jls.dcm');
    await writeCt(one, { runs: 1, frames: 1, size: plan.size });
    await transcodeFile(one, oneJls, { transferSyntaxUid: JLS });
    // The same image N times (storescp discards, the UIDs may repeat).
    for (let i = 0; i < plan.images; i++) {
      await copyFile(one, join(native, `${i}.dcm`));
      await copyFile(oneJls, join(jls, `${i}.dcm`));
    }
    const what = `${plan.images} CT images of ${plan.size}x${plan.size}x16 bit`;
    log(`transcoding store: ${what}, native then JPEG-LS, ${plan.runs} run(s)`);
    const samples = { native: [] as number[], jls: [] as number[] };
    for (let run = 0; run < plan.runs; run++) {
      samples.native.push(plan.images / (await storeOnce(native)));
      samples.jls.push(plan.images / (await storeOnce(jls)));
    }
    const rows: Row[] = [];
    const add = (name: string, values: number[]) => {
      const row = sampledRow(plan.runs, 'transcoding', `${name}, ${what}`, 'images/s', values);
      if (row) rows.push(row);
    };
    add(
      'dnet-scu store -> storescp (uncompressed only, discarding), Explicit VR LE files',
      samples.native,
    );
    add(
      'dnet-scu store -> storescp (uncompressed only, discarding), JPEG-LS Lossless files transcoded to Explicit VR LE',
      samples.jls,
    );
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
