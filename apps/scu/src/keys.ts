import type { DicomJsonAttribute, DicomJsonDataSet } from '@dnet/dataset';
import { lookupKeyword, lookupTag, parseTag, type Tag, tagToHex } from '@dnet/dataset';
import { UsageError } from './errors.js';

/** VRs whose DICOM JSON values are numbers (PS3.18 §F.2.3). */
const NUMBER_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

interface Segment {
  tag: Tag;
  vr: string;
  /** Item index for a sequence segment (`[n]`), else undefined. */
  item: number | undefined;
  text: string;
}

function parseSegment(text: string): Segment {
  // `Keyword`, `gggg,eeee` or `(gggg,eeee)`, then an optional `[n]` item index (DCMTK's syntax).
  const m = /^(.+?)(?:\[(\d+)\])?$/.exec(text.trim());
  const name = m?.[1] ?? '';
  const tag = parseTag(name) ?? lookupKeyword(name)?.tag;
  if (tag === undefined)
    throw new UsageError(`unknown attribute '${name}' (a keyword or gggg,eeee)`);
  const item = m?.[2] === undefined ? undefined : Number(m[2]);
  return { tag, vr: lookupTag(tag)?.vr ?? 'UN', item, text };
}

function jsonValues(vr: string, text: string, key: string): DicomJsonAttribute['Value'] {
  // Multiple values are separated by a backslash (PS3.5 §6.4).
  const parts = text.split('\\');
  if (vr === 'PN') return parts.map((p) => ({ Alphabetic: p }));
  if (NUMBER_VRS.has(vr)) {
    return parts.map((p) => {
      const n = Number(p);
      if (p.trim() === '' || !Number.isFinite(n))
        throw new UsageError(`${key}: '${p}' is not a number (${vr})`);
      return n;
    });
  }
  if (vr === 'UN')
    throw new UsageError(
      `${key}: the tag is not in the dictionary, so only a return key (no value) can be given`,
    );
  return parts;
}

/**
 * Turns `-k` keys into a query in DICOM JSON (PS3.18 Annex F), the way DCMTK's
 * findscu reads them: `Keyword=value` or `gggg,eeee=value`; a key without a
 * value (or with an empty one) is a return key, universal matching (PS3.4
 * §C.2.2.2.3); `Seq[n].Key=value` sets an attribute in item `n` of a
 * sequence (sequence matching, PS3.4 §C.2.2.2.6); a sequence key alone
 * asks for the whole sequence.
 *
 * @throws UsageError for an unknown keyword, a bad index or a value that does not fit the VR
 */
export function parseKeys(keys: readonly string[]): DicomJsonDataSet {
  const query: DicomJsonDataSet = {};
  for (const key of keys) {
    const eq = key.indexOf('=');
    const path = eq < 0 ? key : key.slice(0, eq);
    const value = eq < 0 ? '' : key.slice(eq + 1);
    const segments = path.split('.').map(parseSegment);
    let target = query;
    segments.forEach((s, i) => {
      const hex = tagToHex(s.tag);
      const last = i === segments.length - 1;
      if (!last || s.item !== undefined) {
        if (s.vr !== 'SQ') throw new UsageError(`${key}: ${s.text} is not a sequence`);
        const attr = target[hex] ?? { vr: 'SQ' };
        target[hex] = attr;
        attr.Value ??= [];
        const items = attr.Value as DicomJsonDataSet[];
        const index = s.item ?? 0;
        if (index > items.length)
          throw new UsageError(`${key}: item ${index} of ${s.text} skips item ${items.length}`);
        items[index] ??= {};
        target = items[index]!;
        if (last && value !== '') throw new UsageError(`${key}: a sequence item takes no value`);
        return;
      }
      if (s.vr === 'SQ') {
        if (value !== '')
          throw new UsageError(
            `${key}: a sequence takes no value; set its attributes with ${s.text}[0].Keyword=value`,
          );
        target[hex] ??= { vr: 'SQ' };
        return;
      }
      target[hex] = value === '' ? { vr: s.vr } : { vr: s.vr, Value: jsonValues(s.vr, value, key) };
    });
  }
  return query;
}
