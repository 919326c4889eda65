/**
 * Build-time generator of the data dictionary and the UID registry.
 *
 * Sources (dev dependencies, pinned exactly; nothing is typed by hand):
 * - `dcmjs` `dictionary.mjs`: tag, keyword, VR, VM and the retired flag of every
 *   PS3.6 data element (version "DICOM/retired" and the "RETIRED_" prefix), plus
 *   the private dictionary (creator, group, element byte).
 * - `@iwharris/dicom-data-dictionary`: the human-readable names of PS3.6 Table 6-1.
 * - `registry/uids.json` (committed, machine-made by `scripts/import-registry.ts`
 *   from pydicom's `_uid_dict.py`, itself generated from PS3.6): PS3.6 Table A-1,
 *   the registry of UIDs (value, keyword, name, type, retired), completed by
 *   the Storage SOP classes dcmjs names that it lacks
 *   (`DicomMetaDictionary.sopClassNamesByUID`).
 *
 * Tags stay with dcmjs: its dictionary is newer than pydicom 2.3.1's (2022a),
 * which lacks 203 of its elements and has only 13 that dcmjs lacks (compared
 * when the snapshot was made).
 *
 * Output: `src/generated/dictionary.ts`, `src/generated/uids.ts` and
 * `src/generated/keywords.ts` (git-ignored). The data is emitted as JSON strings
 * parsed lazily at first use, which keeps module loading cheap; the keywords are
 * emitted as string-literal union types only (no runtime code), one per kind of
 * value, so that TypeScript completes and checks keywords (`src/keywords.ts`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'src', 'generated');
const require = createRequire(import.meta.url);

interface DcmjsEntry {
  tag?: string;
  vr?: string;
  name?: string;
  vm?: string;
  version?: string;
}

/** DCMTK-style VR codes used by dcmjs for elements that may take several VRs. */
const MULTI_VR: Record<string, string> = {
  xs: 'US|SS',
  ox: 'OB|OW',
  lt: 'US|SS|OW',
  up: 'UL',
  na: '',
};

function normaliseVr(vr: string): string {
  return MULTI_VR[vr] ?? vr;
}

/** Splits a keyword into words when no name is known ("CTImageStorage" -> "CT Image Storage"). */
function nameFromKeyword(keyword: string): string {
  return keyword
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .trim();
}

/** The kinds of value a keyword takes in the keyword form (`src/keywords.ts`). */
type KeywordKind =
  | 'Text'
  | 'PersonName'
  | 'Number'
  | 'Decimal'
  | 'BigNumber'
  | 'Binary'
  | 'Sequence'
  | 'Mixed';

const KIND_DOC: Record<KeywordKind, string> = {
  Text: 'text (AE, AS, AT, CS, DA, DT, LO, LT, SH, ST, TM, UC, UI, UR, UT)',
  PersonName: 'person names (PN)',
  Number: 'binary numbers (US, SS, UL, SL, FL, FD)',
  Decimal: 'decimal text read as numbers (DS, IS)',
  BigNumber: '64-bit integers (SV, UV)',
  Binary: 'bytes (OB, OD, OF, OL, OV, OW, UN)',
  Sequence: 'sequences of items (SQ)',
  Mixed: 'either numbers or bytes (US or SS or OW)',
};

/** The kind of value of a VR as the generator writes it (`US|SS`, `OB|OW`...). */
function keywordKind(vr: string): KeywordKind {
  const vrs = vr.split('|');
  const first = vrs[0] ?? '';
  if (vrs.length > 1) {
    if (vrs.every((v) => NUMBER_VRS.has(v))) return 'Number';
    if (vrs.every((v) => BINARY_VRS.has(v))) return 'Binary';
    return 'Mixed';
  }
  if (first === 'PN') return 'PersonName';
  if (first === 'SQ') return 'Sequence';
  if (first === 'DS' || first === 'IS') return 'Decimal';
  if (first === 'SV' || first === 'UV') return 'BigNumber';
  if (NUMBER_VRS.has(first)) return 'Number';
  // No VR (dcmjs "na", e.g. item delimiters) reads as UN, as in the dictionary.
  if (first === '' || BINARY_VRS.has(first)) return 'Binary';
  return 'Text';
}

const NUMBER_VRS = new Set(['US', 'SS', 'UL', 'SL', 'FL', 'FD']);
const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

function decodeHtml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

async function main(): Promise<void> {
  const dcmjs = (await import('dcmjs/dictionary' as string)) as {
    default: Record<string, DcmjsEntry>;
  };
  const names = require('@iwharris/dicom-data-dictionary') as {
    elements: Record<string, { keyword: string; name: string }>;
  };
  const nameByKeyword = new Map<string, string>();
  for (const e of Object.values(names.elements)) {
    if (e.keyword) nameByKeyword.set(e.keyword, decodeHtml(e.name));
  }

  // [tag, keyword, name, vr, vm, retired]
  const elements: [number, string, string, string, string, number][] = [];
  // [group, groupMask, element, elementMask, keyword, name, vr, vm, retired]
  const ranges: [number, number, number, number, string, string, string, string, number][] = [];
  // [creator, group, elementByte, vr, vm, keyword]
  const privates: [string, number, number, string, string, string][] = [];

  for (const entry of Object.values(dcmjs.default)) {
    const { tag, vr, name, vm, version } = entry;
    if (!tag || !vr || !name || vm === undefined || !version) continue;
    if (version === 'PrivateTag') {
      const m = /^\(([0-9A-Fa-f]{4}),"([^"]*)",([0-9A-Fa-f]{2})\)$/.exec(tag);
      if (!m) continue;
      privates.push([
        m[2]!,
        Number.parseInt(m[1]!, 16),
        Number.parseInt(m[3]!, 16),
        normaliseVr(vr),
        vm,
        name,
      ]);
      continue;
    }
    if (version === 'PRIVATE' || version === 'ILLEGAL' || version === 'GENERIC') continue;
    const retired = version.endsWith('retired') || name.startsWith('RETIRED_') ? 1 : 0;
    const keyword = name.replace(/^RETIRED_/, '');
    const label = nameByKeyword.get(keyword) ?? nameFromKeyword(keyword);
    const exact = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/.exec(tag);
    if (exact) {
      const t = ((Number.parseInt(exact[1]!, 16) << 16) | Number.parseInt(exact[2]!, 16)) >>> 0;
      elements.push([t, keyword, label, normaliseVr(vr), vm, retired]);
      continue;
    }
    // Repeating groups (PS3.5 §7.6): "(6000-60FF,3000)" or "(0020,3100-31FF)".
    const range = /^\(([0-9A-F]{4})(?:-([0-9A-F]{4}))?,([0-9A-F]{4})(?:-([0-9A-F]{4}))?\)$/.exec(
      tag,
    );
    if (!range) continue;
    const g0 = Number.parseInt(range[1]!, 16);
    const g1 = range[2] ? Number.parseInt(range[2], 16) : g0;
    const e0 = Number.parseInt(range[3]!, 16);
    const e1 = range[4] ? Number.parseInt(range[4], 16) : e0;
    ranges.push([
      g0,
      0xffff & ~(g1 - g0),
      e0,
      0xffff & ~(e1 - e0),
      keyword,
      label,
      normaliseVr(vr),
      vm,
      retired,
    ]);
  }
  elements.sort((a, b) => a[0] - b[0]);

  // UID registry, PS3.6 Table A-1: the committed snapshot made by
  // scripts/import-registry.ts (pydicom's table, generated from PS3.6).
  const snapshot = JSON.parse(readFileSync(join(here, '..', 'registry', 'uids.json'), 'utf8')) as {
    source: { dicomEdition: string | null };
    uids: { uid: string; keyword: string; name: string; type: string; retired: boolean }[];
  };
  // [uid, keyword, name, type, retired]
  const uids: [string, string, string, string, number][] = [];
  const seen = new Set<string>();
  for (const { uid, keyword, name, type, retired } of snapshot.uids) {
    // Two retired entries of Table A-1 kept only their UID (2015c): nothing to name.
    if (seen.has(uid) || (!keyword && !name)) continue;
    seen.add(uid);
    uids.push([uid, keyword, name, type, retired ? 1 : 0]);
  }
  // dcmjs names a few Storage SOP classes newer than the snapshot (e.g. Label
  // Map Segmentation Storage, 2024); the snapshot wins for every UID it has.
  const dcmjsMain = (await import('dcmjs')) as unknown as {
    default: { data: { DicomMetaDictionary: { sopClassNamesByUID: Record<string, string> } } };
  };
  for (const [uid, name] of Object.entries(
    dcmjsMain.default.data.DicomMetaDictionary.sopClassNamesByUID,
  )) {
    if (seen.has(uid) || !/^[0-9.]+$/.test(uid)) continue;
    seen.add(uid);
    const keyword = name.endsWith('Storage') ? name : `${name}Storage`;
    uids.push([uid, keyword, nameFromKeyword(keyword), 'SOP Class', 0]);
  }
  uids.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  // The keyword unions: one VR per keyword as `lookupKeyword` resolves it (an
  // exact tag before a repeating group, the current entry before a retired one,
  // the first of several VRs), retired keywords kept as the dictionary keeps them.
  const vrByKeyword = new Map<string, { vr: string; retired: number }>();
  for (const [, keyword, , vr, , retired] of elements) {
    const seen = vrByKeyword.get(keyword);
    if (!seen || (seen.retired === 1 && retired === 0)) vrByKeyword.set(keyword, { vr, retired });
  }
  for (const [, , , , keyword, , vr, , retired] of ranges) {
    if (!vrByKeyword.has(keyword)) vrByKeyword.set(keyword, { vr, retired });
  }
  const kinds: Record<KeywordKind, string[]> = {
    Text: [],
    PersonName: [],
    Number: [],
    Decimal: [],
    BigNumber: [],
    Binary: [],
    Sequence: [],
    Mixed: [],
  };
  for (const [keyword, { vr }] of [...vrByKeyword].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    kinds[keywordKind(vr)].push(keyword);
  }
  const unions = (Object.keys(kinds) as KeywordKind[])
    .map(
      (kind) =>
        `/** Keywords whose values are ${KIND_DOC[kind]} (${kinds[kind].length}). */\n` +
        `export type ${kind}Keyword =\n${
          kinds[kind].length === 0 ? '  never' : kinds[kind].map((k) => `  | '${k}'`).join('\n')
        };\n`,
    )
    .join('\n');

  mkdirSync(out, { recursive: true });
  const header = '// Generated by scripts/generate.ts at build time. Do not edit.\n';
  writeFileSync(
    join(out, 'dictionary.ts'),
    `${header}
/**
 * The dictionary as JSON \`{ elements, ranges, privates }\`, raw-deflated and
 * base64-encoded: a short string for every process to parse at start, inflated
 * only when a lookup first needs it (src/dictionary.ts).
 * - elements: [tag, keyword, name, vr, vm, retired] for every PS3.6 data element (${elements.length});
 * - ranges: [group, groupMask, element, elementMask, keyword, name, vr, vm, retired] (${ranges.length});
 * - privates: [creator, group, elementByte, vr, vm, keyword] of known private elements (${privates.length}).
 */
export const DICTIONARY_DEFLATED: string = ${JSON.stringify(
      deflateRawSync(Buffer.from(JSON.stringify({ elements, ranges, privates })), {
        level: 9,
      }).toString('base64'),
    )};
`,
  );
  writeFileSync(
    join(out, 'uids.ts'),
    `${header}
/** [uid, keyword, name, type, retired] of PS3.6 Table A-1 (${uids.length}; snapshot: DICOM ${snapshot.source.dicomEdition}). */
export const UIDS_JSON: string = ${JSON.stringify(JSON.stringify(uids))};
`,
  );
  writeFileSync(join(out, 'keywords.ts'), `${header}\n${unions}`);
  console.log(
    `generated ${elements.length} elements, ${vrByKeyword.size} keywords, ${ranges.length} repeating, ${privates.length} private, ${uids.length} UIDs`,
  );
}

await main();
