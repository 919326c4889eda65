/**
 * The data dictionary of PS3.6 §6 (Registry of DICOM Data Elements), generated
 * at build time (scripts/generate.ts), deflated, and inflated and parsed at
 * first use: a process that never looks a tag up (a command line storing
 * files, say) does not pay for it, nor for parsing it as source text at start.
 */
import { inflateRawSync } from 'node:zlib';
import { DICTIONARY_DEFLATED } from './generated/dictionary.js';
import { formatTag, isGroupLengthTag, isPrivateCreatorTag, type Tag } from './tag.js';
import { isVr, type Vr } from './vr.js';

/** One entry of the data dictionary. */
export interface DictionaryEntry {
  /** The tag; for repeating groups (PS3.5 §7.6) the first tag of the range. */
  readonly tag: Tag;
  /** The keyword of PS3.6, e.g. `PatientName`. */
  readonly keyword: string;
  /** The name of PS3.6, e.g. `Patient's Name`. */
  readonly name: string;
  /**
   * The VR; when PS3.6 allows several (`US or SS`, `OB or OW`), the first of
   * {@link DictionaryEntry.vrs}.
   */
  readonly vr: Vr;
  /** Every VR that PS3.6 allows for the element. */
  readonly vrs: readonly Vr[];
  /** The value multiplicity, e.g. `1`, `1-n`, `2-2n`. */
  readonly vm: string;
  /** Whether PS3.6 lists the element as retired. */
  readonly retired: boolean;
}

type Row = [number, string, string, string, string, number];
type RangeRow = [number, number, number, number, string, string, string, string, number];
type PrivateRow = [string, number, number, string, string, string];

interface Tables {
  byTag: Map<number, DictionaryEntry>;
  byKeyword: Map<string, DictionaryEntry>;
  ranges: {
    group: number;
    gMask: number;
    element: number;
    eMask: number;
    entry: DictionaryEntry;
  }[];
  privates: Map<string, DictionaryEntry>;
}

let tables: Tables | undefined;

function parseVrs(text: string): Vr[] {
  const vrs = text.split('|').filter(isVr);
  return vrs.length > 0 ? vrs : ['UN'];
}

function makeEntry(
  tag: number,
  keyword: string,
  name: string,
  vrText: string,
  vm: string,
  retired: number,
): DictionaryEntry {
  const vrs = parseVrs(vrText);
  return { tag, keyword, name, vr: vrs[0]!, vrs, vm, retired: retired === 1 };
}

/** The generated tables (see scripts/generate.ts). */
interface Generated {
  elements: Row[];
  ranges: RangeRow[];
  privates: PrivateRow[];
}

function load(): Tables {
  if (tables) return tables;
  const generated = JSON.parse(
    inflateRawSync(Buffer.from(DICTIONARY_DEFLATED, 'base64')).toString('utf8'),
  ) as Generated;
  const byTag = new Map<number, DictionaryEntry>();
  const byKeyword = new Map<string, DictionaryEntry>();
  for (const [tag, keyword, name, vr, vm, retired] of generated.elements) {
    const entry = makeEntry(tag, keyword, name, vr, vm, retired);
    byTag.set(tag, entry);
    const existing = byKeyword.get(keyword);
    if (!existing || (existing.retired && !entry.retired)) byKeyword.set(keyword, entry);
  }
  const ranges: Tables['ranges'] = [];
  for (const [group, gMask, element, eMask, keyword, name, vr, vm, retired] of generated.ranges) {
    const tag = ((group << 16) | element) >>> 0;
    const entry = makeEntry(tag, keyword, name, vr, vm, retired);
    ranges.push({ group, gMask, element, eMask, entry });
    if (!byKeyword.has(keyword)) byKeyword.set(keyword, entry);
  }
  const privates = new Map<string, DictionaryEntry>();
  for (const [creator, group, byte, vr, vm, keyword] of generated.privates) {
    privates.set(
      `${creator}\u0000${group}\u0000${byte}`,
      makeEntry(((group << 16) | byte) >>> 0, keyword, keyword, vr, vm, 0),
    );
  }
  tables = { byTag, byKeyword, ranges, privates };
  return tables;
}

const GROUP_LENGTH: Omit<DictionaryEntry, 'tag'> = {
  keyword: 'GroupLength',
  name: 'Group Length',
  vr: 'UL',
  vrs: ['UL'],
  vm: '1',
  retired: false,
};

const PRIVATE_CREATOR: Omit<DictionaryEntry, 'tag'> = {
  keyword: 'PrivateCreator',
  name: 'Private Creator',
  vr: 'LO',
  vrs: ['LO'],
  vm: '1',
  retired: false,
};

/**
 * Looks a tag up in the data dictionary (PS3.6 §6), including repeating groups
 * (PS3.5 §7.6), group lengths (PS3.5 §7.2, always UL) and private creators
 * (PS3.5 §7.8.1, always LO).
 *
 * @param tag - the tag
 * @returns the entry, or `undefined` for unknown and private data elements
 */
export function lookupTag(tag: Tag): DictionaryEntry | undefined {
  const t = load();
  const exact = t.byTag.get(tag);
  if (exact) return exact;
  if (isGroupLengthTag(tag)) return { tag, ...GROUP_LENGTH };
  if (isPrivateCreatorTag(tag)) return { tag, ...PRIVATE_CREATOR };
  const g = tag >>> 16;
  const e = tag & 0xffff;
  for (const r of t.ranges) {
    if ((g & r.gMask) === r.group && (e & r.eMask) === r.element) return r.entry;
  }
  return undefined;
}

/**
 * Looks a private data element up by its creator (PS3.5 §7.8.1): the private
 * dictionary that dcmjs ships, keyed by creator, group and the element's low byte.
 *
 * @param creator - the Private Creator value, e.g. `SIEMENS CSA HEADER`
 * @param tag - the private tag `(gggg,xxEE)`
 */
export function lookupPrivateTag(creator: string, tag: Tag): DictionaryEntry | undefined {
  return load().privates.get(`${creator.trim()}\u0000${tag >>> 16}\u0000${tag & 0xff}`);
}

/**
 * Looks a keyword up (PS3.6 §6), e.g. `PatientName`.
 *
 * @param keyword - the keyword
 */
export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return load().byKeyword.get(keyword);
}

/**
 * The keyword of a tag, or its `(GGGG,EEEE)` form when it has none.
 *
 * @param tag - the tag
 */
export function keywordOf(tag: Tag): string {
  return lookupTag(tag)?.keyword ?? formatTag(tag);
}

/** The number of standard entries (exact tags and repeating groups) in the dictionary. */
export function dictionarySize(): number {
  const t = load();
  return t.byTag.size + t.ranges.length;
}
