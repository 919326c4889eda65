/**
 * Reads back what a conformance statement of `dnet-scp conformance` says, from
 * its Markdown alone (as a peer's integrator would): the accepted
 * presentation contexts with their transfer syntaxes and roles, the
 * implementation identity, the maximum PDU length and the operations window.
 */
import { ACCEPTED_CONTEXTS_HEADING, ANY_GROUP } from './conformance-markdown.js';

/** One accepted abstract syntax as a statement lists it. */
export interface StatedContext {
  /** SOP Class UID. */
  uid: string;
  /** The transfer syntaxes in the statement's order, or `'any'`. */
  transferSyntaxes: readonly string[] | 'any';
  /** dnet-scp's roles: `SCP` (the requestor may be SCU), `SCU` (the requestor may be SCP). */
  roles: ReadonlySet<string>;
  /** The Extended Negotiation cell. */
  extendedNegotiation: string;
}

/** What {@link parseStatement} reads. */
export interface StatedFacts {
  /** The accepted contexts by SOP Class UID. */
  accepted: Map<string, StatedContext>;
  /** Implementation Class UID. */
  implementationClassUid: string;
  /** Implementation Version Name. */
  implementationVersionName: string;
  /** Maximum PDU size received. */
  maxPduLength: number;
  /** The window granted: operations invoked, performed. */
  window: { maxInvoked: number; maxPerformed: number };
  /** The rows of the association rejection table: condition, then result, source, reason (PS3.8 Table 9-21). */
  rejections: { condition: string; result: number; source: number; reason: number }[];
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replaceAll('\\|', '|'));
}

/** Reads the facts of a statement's Markdown; throws when one is missing. */
export function parseStatement(markdown: string): StatedFacts {
  const groups = new Map<string, string[]>();
  const rows: { group: string; uid: string; roles: string; extended: string }[] = [];
  const facts: Partial<Omit<StatedFacts, 'accepted'>> = {};
  const window: Partial<StatedFacts['window']> = {};
  const rejections: StatedFacts['rejections'] = [];
  // "rejected-permanent (1)": the number in parentheses.
  const code = (text: string | undefined) => Number(/\((\d+)\)\s*$/.exec(text ?? '')?.[1]);
  let heading = '';
  let caption = '';
  let header: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('#')) {
      heading = line.replace(/^#+\s*/, '');
      caption = '';
      header = undefined;
      continue;
    }
    if (!line.startsWith('|')) {
      if (line.trim() !== '') caption = line.trim();
      header = undefined;
      continue;
    }
    if (/^\|(\s*-+\s*\|)+$/.test(line.trim())) continue;
    const row = cells(line);
    if (!header) {
      header = row;
      continue;
    }
    const group = /^Transfer Syntax Group (\S+)$/.exec(heading)?.[1];
    if (group !== undefined) {
      if (group !== ANY_GROUP) groups.set(group, [...(groups.get(group) ?? []), row[1]!]);
    } else if (caption.startsWith(ACCEPTED_CONTEXTS_HEADING)) {
      rows.push({ uid: row[1]!, group: row[2]!, roles: row[3]!, extended: row[4]! });
    } else if (header[0] === 'Condition' && header[3] === 'Reason/Diagnosis') {
      rejections.push({
        condition: row[0]!,
        result: code(row[1]),
        source: code(row[2]),
        reason: code(row[3]),
      });
    } else if (header[0] === 'Implementation Class UID') {
      facts.implementationClassUid = row[0]!;
      facts.implementationVersionName = row[1]!;
    } else if (row[0] === 'Maximum PDU size received') {
      facts.maxPduLength = Number(row[1]);
    } else if (row[0]?.endsWith('Maximum Number Operations Invoked granted')) {
      window.maxInvoked = Number.parseInt(row[1]!, 10);
    } else if (row[0]?.endsWith('Maximum Number Operations Performed granted')) {
      window.maxPerformed = Number.parseInt(row[1]!, 10);
    }
  }
  const accepted = new Map<string, StatedContext>();
  for (const r of rows) {
    const list = r.group === ANY_GROUP ? 'any' : groups.get(r.group);
    if (!list) throw new Error(`transfer syntax group ${r.group} of ${r.uid} is not listed`);
    accepted.set(r.uid, {
      uid: r.uid,
      transferSyntaxes: list,
      roles: new Set(r.roles.split(/,\s*/)),
      extendedNegotiation: r.extended,
    });
  }
  const { implementationClassUid, implementationVersionName, maxPduLength } = facts;
  if (!implementationClassUid || !implementationVersionName || !maxPduLength) {
    throw new Error('the statement names no implementation identity or maximum PDU length');
  }
  if (window.maxInvoked === undefined || window.maxPerformed === undefined) {
    throw new Error('the statement names no asynchronous operations window');
  }
  if (accepted.size === 0) throw new Error('the statement lists no accepted context');
  return {
    accepted,
    implementationClassUid,
    implementationVersionName,
    maxPduLength,
    window: { maxInvoked: window.maxInvoked, maxPerformed: window.maxPerformed },
    rejections,
  };
}
