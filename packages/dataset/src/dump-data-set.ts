/**
 * A readable listing of a data set, one element per line in the manner of
 * DCMTK's dcmdump: `(0010,0010) PN [DOE^JOHN]  # PatientName`.
 */
import type { DataSet } from './data-set.js';
import { keywordOf } from './dictionary.js';
import { formatTag } from './tag.js';
import { isStringVr } from './vr.js';

/** Options of {@link dumpDataSet}. */
export interface DumpOptions {
  /** Values longer than this many characters are cut with `...`. Default 64. */
  maxValueLength?: number;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/**
 * Lists a data set: tag, VR, value and keyword per line, sequences and items
 * indented, binary values in hex, encapsulated fragments by size.
 *
 * @param dataSet - the data set
 * @param options - value length
 */
export function dumpDataSet(dataSet: DataSet, options: DumpOptions = {}): string {
  const max = options.maxValueLength ?? 64;
  const lines: string[] = [];
  const walk = (ds: DataSet, indent: string) => {
    for (const e of ds.elements()) {
      const head = `${indent}${formatTag(e.tag)} ${e.vr}`;
      const name = keywordOf(e.tag);
      if (e.items) {
        lines.push(`${head} (sequence, ${e.items.length} items)  # ${name}`);
        e.items.forEach((item, i) => {
          lines.push(`${indent}  (FFFE,E000) item ${i + 1}`);
          walk(item, `${indent}    `);
        });
        continue;
      }
      if (e.fragments) {
        const sizes = e.fragments.map((f) => f.length).join(', ');
        lines.push(`${head} (encapsulated, fragments of ${sizes} bytes)  # ${name}`);
        continue;
      }
      let value: string;
      if (!e.value || e.value.length === 0) value = '(empty)';
      else if (isStringVr(e.vr)) value = `[${cut(ds.strings(e.tag).join('\\'), max)}]`;
      else if (e.vr === 'OB' || e.vr === 'UN') {
        value = cut(
          Buffer.from(e.value)
            .toString('hex')
            .replace(/(..)(?=.)/g, '$1\\'),
          max,
        );
      } else if (e.vr === 'AT') value = ds.numbers(e.tag).map(formatTag).join('\\');
      else if (e.vr === 'SV' || e.vr === 'UV' || e.vr === 'OV') {
        value = cut(ds.bigints(e.tag).join('\\'), max);
      } else value = cut(ds.numbers(e.tag).join('\\'), max);
      lines.push(`${head} ${value}  # ${e.value?.length ?? 0} ${name}`);
    }
  };
  walk(dataSet, '');
  return lines.join('\n');
}
