// Small helpers shared by the archive's compliance suites (archive-index-compliance.ts,
// upper-keys-compliance.ts), in a module of their own so that neither suite imports the other.
import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';

/** Every item of an async iterable. */
export async function collect(
  iterable: AsyncIterable<DicomJsonDataSet>,
): Promise<DicomJsonDataSet[]> {
  const out: DicomJsonDataSet[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** The first value of `tag` in each response. */
export function column(responses: DicomJsonDataSet[], tag: string): unknown[] {
  return responses.map((r) => r[tag]?.Value?.[0]);
}

/** A key with no value (universal matching, a return key). */
export const empty = (vr: string) => ({ vr });
/** A key or attribute with values. */
export const value = (
  vr: string,
  ...values: NonNullable<DicomJsonAttribute['Value']>
): DicomJsonAttribute => ({ vr, Value: values });
