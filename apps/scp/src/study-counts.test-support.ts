import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodePart10, toDicomJson } from '@dnet/dataset';
import { runTool } from '@dnet/testkit';

/**
 * The Number of Study Related Instances (0020,1208) of every study that
 * `findscu -S -X` finds at the STUDY level on 127.0.0.1:`port` (called AE
 * `calledAe`), its responses written into a new folder `out`. Throws when
 * findscu fails.
 */
export async function studyCounts(out: string, port: number, calledAe: string): Promise<number[]> {
  await mkdir(out);
  const r = await runTool(
    'findscu',
    [
      '-S',
      '-X',
      '-aec',
      calledAe,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'StudyInstanceUID',
      '-k',
      'NumberOfStudyRelatedInstances',
      '127.0.0.1',
      String(port),
    ],
    { cwd: out, timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`findscu exit ${r.code}: ${r.stderr}`);
  const counts: number[] = [];
  for (const f of (await readdir(out)).filter((x) => x.startsWith('rsp'))) {
    const json = toDicomJson(decodePart10(await readFile(join(out, f))).dataSet);
    counts.push(Number(json['00201208']?.Value?.[0]));
  }
  return counts;
}
