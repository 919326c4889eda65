import type { DicomJsonAttribute, DicomJsonDataSet, PersonName } from '@dnet/dataset';

/**
 * Attributes that travel in an Identifier but are never matched:
 * Specific Character Set (0008,0005) (PS3.4 §C.2.2.2), Query/Retrieve Level
 * (0008,0052) (PS3.4 §C.4.1.1.3.1) and Timezone Offset From UTC (0008,0201).
 */
const NEVER_MATCHED = new Set(['00080005', '00080052', '00080201']);

/** VRs on which `*` and `?` are wild cards (PS3.4 §C.2.2.2.4). */
const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);

/** VRs on which `a-b`, `-b` and `a-` are ranges (PS3.4 §C.2.2.2.5). */
const RANGE_VRS = new Set(['DA', 'TM', 'DT']);

/** Options of {@link matches}. */
export interface MatchOptions {
  /**
   * Whether PN matching ignores case. PS3.4 §C.2.2.2.1 leaves PN case
   * sensitivity to the implementation; like most archives we ignore it (default true).
   */
  caseInsensitivePersonNames?: boolean;
}

/** Whether a key carries no value, which asks for Universal Matching (PS3.4 §C.2.2.2.3). */
function isUniversal(key: DicomJsonAttribute): boolean {
  if (!key.Value || key.Value.length === 0) return true;
  if (key.vr === 'SQ') return false;
  return key.Value.every((v) => v === null || v === undefined || textOf(v, key.vr) === '');
}

/** The text of one value: PN as its Alphabetic group (component groups joined with `=` when more). */
function textOf(value: unknown, vr: string): string {
  if (value === null || value === undefined) return '';
  if (vr === 'PN' && typeof value === 'object') {
    const pn = value as PersonName;
    const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
    while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
    return groups.join('=');
  }
  return String(value);
}

/** Compiles a wild card pattern (PS3.4 §C.2.2.2.4): `*` any run, `?` one character. */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

/**
 * Normalises a DA, TM or DT value for ordering; `upper` pads a partial
 * upper bound so that "1800" includes 18:00:59.999999 (PS3.4 §C.2.2.2.5).
 */
function normaliseTemporal(value: string, vr: string, upper: boolean): string {
  const v = value
    .trim()
    .replace(/:/g, '')
    .replace(/-(?=\d{2}$)/, '');
  const pad = (s: string, width: number) => s.padEnd(width, upper ? '9' : '0');
  if (vr === 'DA') return pad(v.replace(/\./g, ''), 8);
  if (vr === 'TM') {
    const [whole = '', frac = ''] = v.split('.');
    return `${pad(whole, 6)}.${pad(frac, 6)}`;
  }
  // DT: YYYYMMDDHHMMSS.FFFFFF&ZZXX; the offset is ignored here (no conversion).
  const withoutOffset = v.replace(/[+-]\d{4}$/, '');
  const [whole = '', frac = ''] = withoutOffset.split('.');
  return `${pad(whole, 14)}.${pad(frac, 6)}`;
}

function matchRange(pattern: string, value: string, vr: string): boolean {
  const dash = vr === 'DT' ? findDtRangeDash(pattern) : pattern.indexOf('-');
  if (dash < 0)
    return normaliseTemporal(pattern, vr, false) === normaliseTemporal(value, vr, false);
  const low = pattern.slice(0, dash).trim();
  const high = pattern.slice(dash + 1).trim();
  const v = normaliseTemporal(value, vr, false);
  if (low && v < normaliseTemporal(low, vr, false)) return false;
  if (high && v > normaliseTemporal(high, vr, true)) return false;
  return true;
}

/** In a DT range the separating `-` is the one not followed by a 4-digit UTC offset at the end. */
function findDtRangeDash(pattern: string): number {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '-') continue;
    const rest = pattern.slice(i + 1);
    if (/^\d{4}$/.test(rest) && i >= 8) continue; // a UTC offset of the low bound
    return i;
  }
  return -1;
}

function matchValue(
  pattern: string,
  candidate: string,
  vr: string,
  options: MatchOptions,
): boolean {
  if (RANGE_VRS.has(vr)) return matchRange(pattern, candidate, vr);
  const ignoreCase = vr === 'PN' && options.caseInsensitivePersonNames !== false;
  if (WILDCARD_VRS.has(vr) && /[*?]/.test(pattern)) {
    return wildcard(pattern, ignoreCase).test(candidate.trimEnd());
  }
  // Single Value Matching (PS3.4 §C.2.2.2.1): trailing (and for most VRs leading) spaces are not significant.
  const a = pattern.trim();
  const b = candidate.trim();
  return ignoreCase ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/**
 * Whether one key of an Identifier matches an entity's attribute, following
 * PS3.4 §C.2.2.2: universal, single value, wild card, list of UIDs (§C.2.2.2.2),
 * range (§C.2.2.2.5) and sequence matching (§C.2.2.2.6). A multi-valued entity
 * attribute matches when any of its values does.
 */
export function matchesKey(
  key: DicomJsonAttribute,
  attribute: DicomJsonAttribute | undefined,
  options: MatchOptions = {},
): boolean {
  if (isUniversal(key)) return true;
  if (!attribute?.Value || attribute.Value.length === 0) return false;
  if (key.vr === 'SQ') {
    // Sequence Matching: the (single) query item must match at least one item.
    const queryItem = key.Value?.[0] as DicomJsonDataSet | undefined;
    if (!queryItem || Object.keys(queryItem).length === 0) return true;
    return attribute.Value.some((item) => matches(queryItem, item as DicomJsonDataSet, options));
  }
  const patterns = (key.Value ?? []).map((v) => textOf(v, key.vr));
  const candidates = attribute.Value.map((v) => textOf(v, attribute.vr || key.vr));
  // List of UID Matching (PS3.4 §C.2.2.2.2) and, generally, a multi-valued key: any of them.
  return patterns.some((p) => candidates.some((c) => matchValue(p, c, key.vr, options)));
}

/**
 * Whether an entity matches every key of a C-FIND Identifier (PS3.4 §C.2.2.2):
 * each key with a value must match; keys without a value are return keys.
 *
 * @example
 * ```ts
 * matches({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] } }, record); // true for DOE^JOHN
 * ```
 */
export function matches(
  query: DicomJsonDataSet,
  entity: DicomJsonDataSet,
  options: MatchOptions = {},
): boolean {
  for (const [tag, key] of Object.entries(query)) {
    if (NEVER_MATCHED.has(tag)) continue;
    if (!matchesKey(key, entity[tag], options)) return false;
  }
  return true;
}

/**
 * The response Identifier for a matched entity (PS3.4 §C.4.1.2.2): every key
 * of the query, with the entity's value, or empty when the entity has none.
 * Sequence keys return the entity's items reduced to the query item's keys.
 */
export function responseIdentifier(
  query: DicomJsonDataSet,
  entity: DicomJsonDataSet,
): DicomJsonDataSet {
  const out: DicomJsonDataSet = {};
  for (const [tag, key] of Object.entries(query)) {
    const attribute = entity[tag];
    if (tag === '00080005' || tag === '00080052') {
      out[tag] = attribute ?? key;
      continue;
    }
    if (!attribute) {
      out[tag] = { vr: key.vr };
      continue;
    }
    if (key.vr === 'SQ' && attribute.Value) {
      const queryItem = key.Value?.[0] as DicomJsonDataSet | undefined;
      out[tag] = {
        vr: 'SQ',
        Value:
          queryItem && Object.keys(queryItem).length > 0
            ? attribute.Value.map((item) => responseIdentifier(queryItem, item as DicomJsonDataSet))
            : attribute.Value,
      };
      continue;
    }
    out[tag] = attribute;
  }
  return out;
}
