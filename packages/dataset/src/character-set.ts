/**
 * Specific Character Set (0008,0005): decoding and encoding of the text of
 * SH, LO, ST, LT, UC, UT and PN values (PS3.5 §6.1, PS3.3 §C.12.1.1.2).
 * Decoding uses the WHATWG `TextDecoder` of Node (full ICU), with the ISO 2022
 * code extension of PS3.5 §6.1.2.5 handled here: the text is cut at each
 * escape sequence and every run is decoded with the set it designates.
 * GB18030 and GBK, which the platform only decodes, are encoded with
 * `iconv-lite`.
 */
import { TextDecoder, TextEncoder } from 'node:util';
import iconv from 'iconv-lite';
import { InvalidValueError } from './errors.js';

const ESC = 0x1b;

/** A decoder for one run of bytes. */
type RunDecoder = (bytes: Uint8Array) => string;

const decoders = new Map<string, TextDecoder>();
function whatwg(label: string): RunDecoder {
  return (bytes) => {
    let d = decoders.get(label);
    if (!d) {
      d = new TextDecoder(label);
      decoders.set(label, d);
    }
    return d.decode(bytes);
  };
}

/** Values up to this many bytes are decoded byte by byte (see {@link latin1}). */
const SHORT_TEXT = 64;

/** ISO 8859-1 exactly (WHATWG maps the label to windows-1252). */
function latin1(bytes: Uint8Array): string {
  let s = '';
  // Short values (UIDs, codes, names: most of a header) are built byte by
  // byte: cheaper than the spread call of `fromCharCode.apply` below.
  if (bytes.length <= SHORT_TEXT) {
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** Adds the high bit to every byte: a GL-coded 94×94 set as its EUC form. */
function toEuc(bytes: Uint8Array, prefix?: number): Uint8Array {
  const out = new Uint8Array(prefix === undefined ? bytes.length : bytes.length * 1.5 + 1);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x21 || b > 0x7e) {
      out[o++] = b;
      continue;
    }
    if (prefix !== undefined && i % 2 === 0) out[o++] = prefix;
    out[o++] = b | 0x80;
  }
  return out.subarray(0, o);
}

/** Single-byte sets by defined term (PS3.3 Table C.12-2 and C.12-3). */
const SINGLE_BYTE: Record<string, RunDecoder> = {
  'ISO_IR 6': latin1,
  'ISO_IR 100': latin1,
  'ISO_IR 101': whatwg('iso-8859-2'),
  'ISO_IR 109': whatwg('iso-8859-3'),
  'ISO_IR 110': whatwg('iso-8859-4'),
  'ISO_IR 144': whatwg('iso-8859-5'),
  'ISO_IR 127': whatwg('iso-8859-6'),
  'ISO_IR 126': whatwg('iso-8859-7'),
  'ISO_IR 138': whatwg('iso-8859-8'),
  'ISO_IR 148': whatwg('iso-8859-9'),
  'ISO_IR 203': whatwg('iso-8859-15'),
  'ISO_IR 13': whatwg('shift_jis'),
  'ISO_IR 166': whatwg('windows-874'),
};

/** Sets without code extension that are not single-byte (PS3.3 Table C.12-5). */
const MULTI_BYTE_NO_EXTENSION: Record<string, RunDecoder> = {
  'ISO_IR 192': whatwg('utf-8'),
  GB18030: whatwg('gb18030'),
  GBK: whatwg('gbk'),
};

/**
 * The set designated by each escape sequence of PS3.3 Tables C.12-3 and C.12-4
 * (bytes after ESC), and how to decode a run in it.
 */
const ESCAPES: [number[], RunDecoder][] = [
  // ESC ( B: ISO 646 (ASCII) into G0, ISO 2022 IR 6.
  [[0x28, 0x42], latin1],
  // ESC ( J: JIS X 0201 Romaji into G0, ISO 2022 IR 13.
  [[0x28, 0x4a], whatwg('shift_jis')],
  // ESC ) I: JIS X 0201 Katakana into G1, ISO 2022 IR 13.
  [[0x29, 0x49], whatwg('shift_jis')],
  // ESC $ B: JIS X 0208 into G0, ISO 2022 IR 87.
  [[0x24, 0x42], (b) => whatwg('euc-jp')(toEuc(b))],
  // ESC $ ( D: JIS X 0212 into G0, ISO 2022 IR 159.
  [[0x24, 0x28, 0x44], (b) => whatwg('euc-jp')(toEuc(b, 0x8f))],
  // ESC $ ) C: KS X 1001 into G1, ISO 2022 IR 149.
  [[0x24, 0x29, 0x43], whatwg('euc-kr')],
  // ESC $ ) A: GB 2312 into G1, ISO 2022 IR 58.
  [[0x24, 0x29, 0x41], whatwg('gb18030')],
  // ESC - A: ISO 8859-1 into G1, ISO 2022 IR 100.
  [[0x2d, 0x41], latin1],
  // ESC - B: ISO 8859-2, ISO 2022 IR 101.
  [[0x2d, 0x42], whatwg('iso-8859-2')],
  // ESC - C: ISO 8859-3, ISO 2022 IR 109.
  [[0x2d, 0x43], whatwg('iso-8859-3')],
  // ESC - D: ISO 8859-4, ISO 2022 IR 110.
  [[0x2d, 0x44], whatwg('iso-8859-4')],
  // ESC - L: ISO 8859-5 (Cyrillic), ISO 2022 IR 144.
  [[0x2d, 0x4c], whatwg('iso-8859-5')],
  // ESC - G: ISO 8859-6 (Arabic), ISO 2022 IR 127.
  [[0x2d, 0x47], whatwg('iso-8859-6')],
  // ESC - F: ISO 8859-7 (Greek), ISO 2022 IR 126.
  [[0x2d, 0x46], whatwg('iso-8859-7')],
  // ESC - H: ISO 8859-8 (Hebrew), ISO 2022 IR 138.
  [[0x2d, 0x48], whatwg('iso-8859-8')],
  // ESC - M: ISO 8859-9 (Latin 5), ISO 2022 IR 148.
  [[0x2d, 0x4d], whatwg('iso-8859-9')],
  // ESC - b: ISO 8859-15 (Latin 9), ISO 2022 IR 203.
  [[0x2d, 0x62], whatwg('iso-8859-15')],
  // ESC - T: TIS 620-2533 (Thai), ISO 2022 IR 166.
  [[0x2d, 0x54], whatwg('windows-874')],
];

/** The initial decoder for a defined term, with or without the `ISO 2022` prefix. */
function decoderOfTerm(term: string): RunDecoder | undefined {
  const t = term.trim();
  if (t === '') return latin1;
  const plain = t.replace(/^ISO 2022 IR /, 'ISO_IR ');
  return SINGLE_BYTE[plain] ?? MULTI_BYTE_NO_EXTENSION[plain];
}

/**
 * A decoder of the text of one data set, made from the values of its Specific
 * Character Set (0008,0005).
 */
export interface CharacterSetDecoder {
  /** The defined terms it was made from. */
  readonly terms: readonly string[];
  /** Decodes a value's bytes to text (PS3.5 §6.1.2.5 code extension included). */
  decode(bytes: Uint8Array): string;
}

const cache = new Map<string, CharacterSetDecoder>();

/**
 * Makes the decoder for the values of Specific Character Set (PS3.3
 * §C.12.1.1.2). An empty list, or unknown terms, decode as ISO 8859-1 so that
 * decoding never fails; `ISO_IR 192` is UTF-8; several values, or an `ISO 2022`
 * term, switch on ISO 2022 escape sequences.
 *
 * @param terms - the values of (0008,0005), e.g. `['', 'ISO 2022 IR 87']`
 */
export function characterSetDecoder(terms: readonly string[] = []): CharacterSetDecoder {
  const key = terms.join('\\');
  const cached = cache.get(key);
  if (cached) return cached;
  const first = decoderOfTerm(terms[0] ?? '') ?? latin1;
  const extended = terms.length > 1 || terms.some((t) => t.startsWith('ISO 2022'));
  const decoder: CharacterSetDecoder = {
    terms: [...terms],
    decode: extended ? (bytes) => decodeIso2022(bytes, first) : first,
  };
  cache.set(key, decoder);
  return decoder;
}

/** Decodes text with ISO 2022 escape sequences (PS3.5 §6.1.2.5). */
function decodeIso2022(bytes: Uint8Array, initial: RunDecoder): string {
  let current = initial;
  let start = 0;
  let out = '';
  let i = bytes.indexOf(ESC);
  if (i < 0) return initial(bytes);
  while (i >= 0) {
    if (i > start) out += current(bytes.subarray(start, i));
    let matched = false;
    for (const [seq, dec] of ESCAPES) {
      let ok = i + seq.length < bytes.length;
      for (let k = 0; ok && k < seq.length; k++) ok = bytes[i + 1 + k] === seq[k];
      if (ok) {
        current = dec;
        start = i + 1 + seq.length;
        matched = true;
        break;
      }
    }
    if (!matched) {
      // An unknown escape sequence: keep the ESC as text and go on.
      out += '\u001b';
      start = i + 1;
    }
    // PS3.5 §6.1.2.5.3: delimiters return G0 to the default repertoire; in
    // practice writers emit ESC ( B before them, so runs are decoded as designated.
    i = bytes.indexOf(ESC, start);
  }
  if (start < bytes.length) out += current(bytes.subarray(start));
  return out;
}

const utf8 = new TextEncoder();

const reverseTables = new Map<string, Map<number, number>>();

/**
 * The byte of each character of a single-byte set, built by decoding every byte
 * with the set's decoder (no hand-made table).
 */
function reverseTable(term: string): Map<number, number> | undefined {
  const plain = term.replace(/^ISO 2022 IR /, 'ISO_IR ');
  const decode = SINGLE_BYTE[plain];
  if (!decode) return undefined;
  let table = reverseTables.get(plain);
  if (!table) {
    table = new Map();
    for (let b = 0xff; b >= 0; b--) {
      const text = decode(new Uint8Array([b]));
      if (text.length === 1 && text !== '\ufffd') table.set(text.charCodeAt(0), b);
    }
    reverseTables.set(plain, table);
  }
  return table;
}

/** A code element of ISO 2022 as used by PS3.3 Tables C.12-3 and C.12-4. */
interface CodeSet {
  /** Designated into G0 (GL) or G1 (GR). */
  readonly register: 'G0' | 'G1';
  /** The escape sequence that designates it (bytes after nothing: ESC included). */
  readonly escape: readonly number[];
  /** The bytes of a character, or undefined when the set lacks it. */
  lookup(c: number): readonly number[] | undefined;
}

const twoByteTables = new Map<string, Map<number, number>>();

/**
 * The two-byte code (row and cell, 0x21–0x7E each) of every character of a
 * 94×94 set, built by decoding every pair with the set's EUC decoder.
 */
function twoByteTable(label: string, prefix?: number): Map<number, number> {
  const key = `${label}:${prefix ?? ''}`;
  let table = twoByteTables.get(key);
  if (table) return table;
  table = new Map();
  const decoder = new TextDecoder(label);
  const pair = prefix === undefined ? new Uint8Array(2) : new Uint8Array([prefix, 0, 0]);
  const o = prefix === undefined ? 0 : 1;
  for (let r = 0x21; r <= 0x7e; r++) {
    for (let c = 0x21; c <= 0x7e; c++) {
      pair[o] = r | 0x80;
      pair[o + 1] = c | 0x80;
      const text = decoder.decode(pair);
      if (text.length === 1 && text !== '\ufffd' && !table.has(text.charCodeAt(0))) {
        table.set(text.charCodeAt(0), (r << 8) | c);
      }
    }
  }
  twoByteTables.set(key, table);
  return table;
}

function singleByteSet(term: string, designation: number[]): CodeSet | undefined {
  const table = reverseTable(term);
  if (!table) return undefined;
  return {
    register: 'G1',
    escape: designation,
    lookup: (c) => {
      const b = table.get(c);
      return b !== undefined && b >= 0x80 ? [b] : undefined;
    },
  };
}

function twoByteSet(
  register: 'G0' | 'G1',
  designation: number[],
  label: string,
  prefix?: number,
): CodeSet {
  return {
    register,
    escape: designation,
    lookup: (c) => {
      const code = twoByteTable(label, prefix).get(c);
      if (code === undefined) return undefined;
      const high = register === 'G1' ? 0x80 : 0;
      return [(code >> 8) | high, (code & 0xff) | high];
    },
  };
}

const G1_ESCAPE: Record<string, number[]> = {
  'ISO 2022 IR 100': [0x1b, 0x2d, 0x41],
  'ISO 2022 IR 101': [0x1b, 0x2d, 0x42],
  'ISO 2022 IR 109': [0x1b, 0x2d, 0x43],
  'ISO 2022 IR 110': [0x1b, 0x2d, 0x44],
  'ISO 2022 IR 144': [0x1b, 0x2d, 0x4c],
  'ISO 2022 IR 127': [0x1b, 0x2d, 0x47],
  'ISO 2022 IR 126': [0x1b, 0x2d, 0x46],
  'ISO 2022 IR 138': [0x1b, 0x2d, 0x48],
  'ISO 2022 IR 148': [0x1b, 0x2d, 0x4d],
  'ISO 2022 IR 203': [0x1b, 0x2d, 0x62],
  'ISO 2022 IR 166': [0x1b, 0x2d, 0x54],
  'ISO 2022 IR 13': [0x1b, 0x29, 0x49],
};

/** The G1 code set a term designates (PS3.3 Tables C.12-3, C.12-4), if any. */
function codeSetOf(term: string): CodeSet | undefined {
  switch (term) {
    case 'ISO 2022 IR 87':
      return twoByteSet('G0', [0x1b, 0x24, 0x42], 'euc-jp');
    case 'ISO 2022 IR 159':
      return twoByteSet('G0', [0x1b, 0x24, 0x28, 0x44], 'euc-jp', 0x8f);
    case 'ISO 2022 IR 149':
      return twoByteSet('G1', [0x1b, 0x24, 0x29, 0x43], 'euc-kr');
    case 'ISO 2022 IR 58':
      return twoByteSet('G1', [0x1b, 0x24, 0x29, 0x41], 'gb18030');
  }
  const designation = G1_ESCAPE[term];
  return designation ? singleByteSet(term, designation) : undefined;
}

const ESC_ASCII = [0x1b, 0x28, 0x42];
const ESC_ROMAJI = [0x1b, 0x28, 0x4a];
/** Delimiters before and after which value 1's sets are active (PS3.5 §6.1.2.5.3). */
const DELIMITERS = new Set([0x5c, 0x5e, 0x3d, 0x0d, 0x0a, 0x09, 0x0c]);

/**
 * Encodes text with ISO 2022 code extension (PS3.5 §6.1.2.5): value 1's sets
 * are designated at the start; any other set is designated by its escape
 * sequence, G0 is returned to value 1's set before every ASCII character and at
 * the end, and G1 is designated again after a delimiter (as in PS3.5 Annexes H,
 * I and K).
 */
function encodeIso2022(text: string, terms: readonly string[]): Uint8Array {
  const first = (terms[0] ?? '').trim();
  const initialG0 = first === 'ISO 2022 IR 13' ? ESC_ROMAJI : ESC_ASCII;
  const initialG1 = codeSetOf(first);
  const others = terms
    .slice(1)
    .map((t) => codeSetOf(t.trim()))
    .filter((s): s is CodeSet => s !== undefined);
  const out: number[] = [];
  let g0: CodeSet | undefined; // undefined: value 1's single-byte set
  let g1: CodeSet | null | undefined = initialG1; // null: must be designated again
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      if (g0) {
        out.push(...initialG0);
        g0 = undefined;
      }
      out.push(c);
      if (DELIMITERS.has(c) && g1 !== initialG1) g1 = null;
      continue;
    }
    let done = false;
    for (const set of initialG1 ? [initialG1, ...others] : others) {
      const bytes = set.lookup(c);
      if (!bytes) continue;
      if (set.register === 'G0') {
        if (g0 !== set) out.push(...set.escape);
        g0 = set;
      } else {
        if (g0) {
          out.push(...initialG0);
          g0 = undefined;
        }
        if (g1 !== set) out.push(...set.escape);
        g1 = set;
      }
      out.push(...bytes);
      done = true;
      break;
    }
    if (!done) {
      throw new InvalidValueError(
        `character U+${c.toString(16).padStart(4, '0')} is in none of "${terms.join('\\')}"; set Specific Character Set to ISO_IR 192 (PS3.3 C.12.1.1.2)`,
      );
    }
  }
  if (g0) out.push(...initialG0);
  return new Uint8Array(out);
}

/**
 * Encodes text for a data set whose Specific Character Set is `terms`: UTF-8 for
 * ISO_IR 192; ISO 2022 code extension (escape sequences, PS3.5 §6.1.2.5) when
 * there are several values or an `ISO 2022` term, covering the Japanese (IR 13,
 * 87, 159), Korean (IR 149) and Chinese (IR 58) sets of PS3.3 Table C.12-4;
 * GB18030 and GBK (Table C.12-5) with `iconv-lite`; the single-byte sets of
 * Table C.12-2; the default repertoire otherwise. The code tables are built
 * from the platform's decoders or come from `iconv-lite`, not typed by hand.
 *
 * @param text - the text
 * @param terms - the values of (0008,0005)
 * @throws InvalidValueError when the text cannot be represented
 */
export function encodeText(text: string, terms: readonly string[] = []): Uint8Array {
  const term = (terms[0] ?? '').trim();
  if (term === 'ISO_IR 192') return utf8.encode(text);
  // GB18030 and GBK: multi-byte sets without code extension (PS3.3 Table C.12-5).
  if (term === 'GB18030' || term === 'GBK') return encodeChinese(text, term, terms);
  if (terms.length > 1 || term.startsWith('ISO 2022')) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range
    if (!/[^\u0000-\u007f]/.test(text)) return encodeAscii(text);
    return encodeIso2022(text, terms);
  }
  const table = term === '' || term === 'ISO_IR 6' ? undefined : reverseTable(term);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = c < 0x80 ? c : table?.get(c);
    if (b !== undefined) {
      out[i] = b;
      continue;
    }
    throw new InvalidValueError(
      `character U+${c.toString(16).padStart(4, '0')} is not in Specific Character Set "${terms.join('\\')}"; set it to ISO_IR 192 (PS3.3 C.12.1.1.2)`,
    );
  }
  return out;
}

/**
 * GB18030 (every code point, with 4-byte sequences beyond its 2-byte part) or
 * GBK (its 2-byte subset), single-valued terms of PS3.3 Table C.12-5, encoded
 * with `iconv-lite`. Its encoder writes `?` for a character it cannot map, so
 * the result is decoded back with the same decoder that reads data sets, and a
 * difference is an error rather than a silently changed value.
 */
function encodeChinese(
  text: string,
  term: 'GB18030' | 'GBK',
  terms: readonly string[],
): Uint8Array {
  const encoded = iconv.encode(text, term === 'GB18030' ? 'gb18030' : 'gbk');
  const bytes = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (MULTI_BYTE_NO_EXTENSION[term]!(bytes) === text) return bytes;
  const chars = [...text];
  const back = [...MULTI_BYTE_NO_EXTENSION[term]!(bytes)];
  let i = 0;
  while (i < chars.length && chars[i] === back[i]) i++;
  const c = (chars[i] ?? chars[chars.length - 1] ?? '').codePointAt(0) ?? 0;
  throw new InvalidValueError(
    `character U+${c.toString(16).padStart(4, '0')} is not in Specific Character Set "${terms.join('\\')}"; set it to ISO_IR 192 (PS3.3 C.12.1.1.2)`,
  );
}

/**
 * Encodes text of the default repertoire (PS3.5 §6.1.2.1), used for AE, AS, CS,
 * DA, DS, DT, IS, TM, UI and UR; other characters are kept as ISO 8859-1 bytes.
 *
 * @param text - the text
 */
export function encodeAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Decodes bytes of the default repertoire (bytes above 0x7F as ISO 8859-1). @param bytes - the value */
export function decodeAscii(bytes: Uint8Array): string {
  return latin1(bytes);
}
