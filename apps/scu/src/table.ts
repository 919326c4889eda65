import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';
import { keywordOf, parseTag } from '@dnet/dataset';

/** Widest cell on a terminal before it is cut with an ellipsis; sequences get twice as much. */
export const MAX_CELL = 40;

/** Attributes never shown as columns: they describe the response, not the match. */
const HIDDEN = new Set([
  '00080005', // Specific Character Set
  '00080052', // Query/Retrieve Level
]);

const keyword = (hex: string) => keywordOf(parseTag(hex) ?? 0);

/** An attribute's value as text: person names by component group, values joined by `\`, items in braces. */
export function formatValue(attr: DicomJsonAttribute | undefined): string {
  if (!attr?.Value) return '';
  if (attr.vr === 'SQ') {
    return (attr.Value as DicomJsonDataSet[])
      .map(
        (item) =>
          `{${Object.entries(item)
            .filter(([, a]) => a.Value?.length)
            .map(([hex, a]) => `${keyword(hex)}=${formatValue(a)}`)
            .join(', ')}}`,
      )
      .join(' ');
  }
  return attr.Value.map((v) => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'object') {
      const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
      return [pn.Alphabetic, pn.Ideographic, pn.Phonetic].filter((s) => s !== undefined).join('=');
    }
    return String(v);
  }).join('\\');
}

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * C-FIND matches as a table, one row per match: the columns are the query's
 * keys in the order given, then any other attribute returned, headed by
 * keyword. Cells longer than `maxCell` (sequences: twice that) are cut with
 * an ellipsis; without `maxCell` nothing is cut (a UID must stay whole to be
 * pasted into a move or get).
 */
export function formatTable(
  rows: readonly DicomJsonDataSet[],
  keys: readonly string[],
  maxCell?: number,
): string[] {
  const columns = [...keys];
  for (const row of rows)
    for (const hex of Object.keys(row).sort()) if (!columns.includes(hex)) columns.push(hex);
  const shown = columns.filter((c) => !HIDDEN.has(c));
  const cells = [
    shown.map(keyword),
    ...rows.map((r) =>
      shown.map((c) => {
        const text = formatValue(r[c]);
        if (maxCell === undefined) return text;
        return cut(text, r[c]?.vr === 'SQ' ? 2 * maxCell : maxCell);
      }),
    ),
  ];
  const widths = shown.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ];
}
