import {
  type DicomJsonDataSet,
  fromKeywords,
  InvalidValueError,
  type KeywordDataSet,
  lookupKeyword,
  lookupTag,
  parseTag,
  type Tag,
  tagToHex,
} from '@dnet/dataset';
import { UsageError } from './errors.js';

/** VRs whose values are numbers in the keyword form and in DICOM JSON (PS3.18 §F.2.3). */
const NUMBER_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD', 'SV', 'UV']);

interface Segment {
  tag: Tag;
  /** The dictionary keyword; undefined for a tag the dictionary does not have. */
  keyword: string | undefined;
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
  const entry = lookupTag(tag);
  const keyword =
    entry && entry.keyword !== 'GroupLength' && entry.keyword !== 'PrivateCreator'
      ? entry.keyword
      : undefined;
  const item = m?.[2] === undefined ? undefined : Number(m[2]);
  return { tag, keyword, vr: entry?.vr ?? 'UN', item, text };
}

/** The value of one key in the keyword form: text, or numbers for the binary number VRs. */
function keywordValue(
  vr: string,
  text: string,
  key: string,
): string | number | (string | number)[] {
  // Multiple values are separated by a backslash (PS3.5 §6.4).
  const parts = text.split('\\');
  const values = NUMBER_VRS.has(vr)
    ? parts.map((p) => {
        const n = Number(p);
        if (p.trim() === '' || !Number.isFinite(n))
          throw new UsageError(`${key}: '${p}' is not a number (${vr})`);
        return n;
      })
    : parts;
  return values.length === 1 ? values[0]! : values;
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
  // The keys are gathered in the keyword form of @dnet/dataset and converted
  // by its fromKeywords, the one conversion the library's API uses too.
  const query: Record<string, unknown> = {};
  // Tags the dictionary does not have can only be asked back (no VR to write a
  // value with): top-level return keys, added to the DICOM JSON as UN.
  const returnKeys: string[] = [];
  for (const key of keys) {
    const eq = key.indexOf('=');
    const path = eq < 0 ? key : key.slice(0, eq);
    const value = eq < 0 ? '' : key.slice(eq + 1);
    const segments = path.split('.').map(parseSegment);
    let target = query;
    segments.forEach((s, i) => {
      const last = i === segments.length - 1;
      if (s.keyword === undefined) {
        if (value !== '' || !last || s.item !== undefined)
          throw new UsageError(
            `${key}: the tag is not in the dictionary, so only a return key (no value) can be given`,
          );
        if (i > 0)
          throw new UsageError(`${key}: a tag not in the dictionary can only be a top-level key`);
        returnKeys.push(tagToHex(s.tag));
        return;
      }
      if (!last || s.item !== undefined) {
        if (s.vr !== 'SQ') throw new UsageError(`${key}: ${s.text} is not a sequence`);
        const existing = target[s.keyword];
        const items: Record<string, unknown>[] = Array.isArray(existing) ? existing : [];
        target[s.keyword] = items;
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
        target[s.keyword] ??= null;
        return;
      }
      target[s.keyword] = value === '' ? null : keywordValue(s.vr, value, key);
    });
  }
  let json: DicomJsonDataSet;
  try {
    json = fromKeywords(query as KeywordDataSet) as DicomJsonDataSet;
  } catch (e) {
    if (e instanceof InvalidValueError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
  for (const hex of returnKeys) json[hex] ??= { vr: 'UN' };
  return json;
}
