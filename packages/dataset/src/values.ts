/**
 * Typed views of string values: Person Name (PS3.5 §6.2.1), Date, Time and
 * Date Time (PS3.5 §6.2, Table 6.2-1).
 */

/**
 * A Person Name value: up to three component groups (PS3.5 §6.2.1), named as in
 * the DICOM JSON model (PS3.18 §F.2.2).
 */
export interface PersonName {
  /** The alphabetic (single-byte) representation. */
  Alphabetic?: string;
  /** The ideographic representation. */
  Ideographic?: string;
  /** The phonetic representation. */
  Phonetic?: string;
}

/** The five components of one component group of a Person Name (PS3.5 §6.2.1). */
export interface PersonNameComponents {
  /** Family name complex. */
  familyName: string;
  /** Given name complex. */
  givenName: string;
  /** Middle name. */
  middleName: string;
  /** Name prefix. */
  namePrefix: string;
  /** Name suffix. */
  nameSuffix: string;
}

/**
 * Parses one Person Name value (`Alphabetic=Ideographic=Phonetic`, PS3.5 §6.2.1).
 * Trailing empty groups are left out.
 *
 * @param text - one value, without the backslash delimiters
 */
export function parsePersonName(text: string): PersonName {
  const [a, i, p] = text.split('=');
  const pn: PersonName = {};
  if (a) pn.Alphabetic = a;
  if (i) pn.Ideographic = i;
  if (p) pn.Phonetic = p;
  return pn;
}

/**
 * Formats a Person Name as its string form, dropping trailing empty groups
 * (PS3.5 §6.2.1).
 *
 * @param pn - the component groups
 */
export function formatPersonName(pn: PersonName | string): string {
  if (typeof pn === 'string') return pn;
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

/**
 * Splits one component group into its five components (`^`-separated, PS3.5
 * §6.2.1).
 *
 * @param group - e.g. `Adams^John Robert Quincy^^Rev.^B.A. M.Div.`
 */
export function personNameComponents(group: string): PersonNameComponents {
  const [familyName = '', givenName = '', middleName = '', namePrefix = '', nameSuffix = ''] =
    group.split('^');
  return { familyName, givenName, middleName, namePrefix, nameSuffix };
}

/** A DA value (PS3.5 Table 6.2-1: YYYYMMDD). */
export interface DicomDate {
  /** Year. */
  year: number;
  /** Month 1–12. */
  month: number;
  /** Day 1–31. */
  day: number;
}

/** A TM value (PS3.5 Table 6.2-1: `HH[MM[SS[.F{1-6}]]]`). */
export interface DicomTime {
  /** Hours 0–23. */
  hours: number;
  /** Minutes, when given. */
  minutes?: number;
  /** Seconds (0–60), when given. */
  seconds?: number;
  /** Fraction of a second in microseconds, when given. */
  microseconds?: number;
}

/** A DT value (PS3.5 Table 6.2-1: `YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]`). */
export interface DicomDateTime {
  /** Year. */
  year: number;
  /** Month, when given. */
  month?: number;
  /** Day, when given. */
  day?: number;
  /** Hours, when given. */
  hours?: number;
  /** Minutes, when given. */
  minutes?: number;
  /** Seconds, when given. */
  seconds?: number;
  /** Fraction of a second in microseconds, when given. */
  microseconds?: number;
  /** Offset from UTC in minutes, when given (`&ZZXX`). */
  utcOffsetMinutes?: number;
}

/**
 * Parses a DA value `YYYYMMDD` (also the old `YYYY.MM.DD` of ACR-NEMA);
 * `undefined` when it is not a date.
 *
 * @param text - the value
 */
export function parseDate(text: string): DicomDate | undefined {
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return undefined;
  return d;
}

/**
 * Parses a TM value `HH[MM[SS[.FFFFFF]]]` (also `HH:MM:SS` of ACR-NEMA).
 *
 * @param text - the value
 */
export function parseTime(text: string): DicomTime | undefined {
  const m = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$/.exec(text.trim());
  if (!m) return undefined;
  const t: DicomTime = { hours: Number(m[1]) };
  if (m[2] !== undefined) t.minutes = Number(m[2]);
  if (m[3] !== undefined) t.seconds = Number(m[3]);
  if (m[4] !== undefined) t.microseconds = Number(m[4].padEnd(6, '0'));
  if (t.hours > 23 || (t.minutes ?? 0) > 59 || (t.seconds ?? 0) > 60) return undefined;
  return t;
}

/**
 * Parses a DT value `YYYY[MM[DD[HH[MM[SS[.FFFFFF]]]]]][&ZZXX]`.
 *
 * @param text - the value
 */
export function parseDateTime(text: string): DicomDateTime | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$/.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const dt: DicomDateTime = { year: Number(m[1]) };
  const keys = ['month', 'day', 'hours', 'minutes', 'seconds'] as const;
  keys.forEach((k, i) => {
    const v = m[i + 2];
    if (v !== undefined) dt[k] = Number(v);
  });
  if (m[7] !== undefined) dt.microseconds = Number(m[7].padEnd(6, '0'));
  if (m[8] !== undefined) {
    const sign = m[8][0] === '-' ? -1 : 1;
    dt.utcOffsetMinutes = sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(3)));
  }
  return dt;
}

const two = (n: number) => String(n).padStart(2, '0');

/** Formats a DA value from a date's UTC fields or a {@link DicomDate}. @param d - the date */
export function formatDate(d: Date | DicomDate): string {
  if (d instanceof Date)
    return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`;
  return `${String(d.year).padStart(4, '0')}${two(d.month)}${two(d.day)}`;
}

/** Formats a TM value. @param t - the time */
export function formatTime(t: DicomTime): string {
  let s = two(t.hours);
  if (t.minutes === undefined) return s;
  s += two(t.minutes);
  if (t.seconds === undefined) return s;
  s += two(t.seconds);
  if (t.microseconds !== undefined) s += `.${String(t.microseconds).padStart(6, '0')}`;
  return s;
}
