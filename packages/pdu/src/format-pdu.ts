import type { Pdu } from './pdu.js';
import { PduType } from './pdu-type.js';
import type { UnknownItem, UserInformation } from './user-information.js';

const NAMES: Record<number, string> = {
  [PduType.A_ASSOCIATE_RQ]: 'A-ASSOCIATE-RQ',
  [PduType.A_ASSOCIATE_AC]: 'A-ASSOCIATE-AC',
  [PduType.A_ASSOCIATE_RJ]: 'A-ASSOCIATE-RJ',
  [PduType.P_DATA_TF]: 'P-DATA-TF',
  [PduType.A_RELEASE_RQ]: 'A-RELEASE-RQ',
  [PduType.A_RELEASE_RP]: 'A-RELEASE-RP',
  [PduType.A_ABORT]: 'A-ABORT',
};

/** Names of the reject result, source and reason values (PS3.8 §9.3.4 Table 9-21). */
const REJECT_RESULT = ['', 'rejected-permanent', 'rejected-transient'];
const REJECT_SOURCE = [
  '',
  'DICOM UL service-user',
  'DICOM UL service-provider (ACSE related function)',
  'DICOM UL service-provider (Presentation related function)',
];
const REJECT_REASON: Record<number, string[]> = {
  1: [
    '',
    'no-reason-given',
    'application-context-name-not-supported',
    'calling-AE-title-not-recognized',
    '',
    '',
    '',
    'called-AE-title-not-recognized',
  ],
  2: ['', 'no-reason-given', 'protocol-version-not-supported'],
  3: ['', 'temporary-congestion', 'local-limit-exceeded'],
};
/** Names of the A-ABORT source and reason values (PS3.8 §9.3.8 Table 9-26). */
const ABORT_SOURCE = ['DICOM UL service-user', 'reserved', 'DICOM UL service-provider'];
const ABORT_REASON = [
  'reason-not-specified',
  'unrecognized-PDU',
  'unexpected-PDU',
  'reserved',
  'unrecognized-PDU parameter',
  'unexpected-PDU parameter',
  'invalid-PDU-parameter value',
];
/** Names of the presentation context results (PS3.8 §9.3.3.2 Table 9-18). */
const CONTEXT_RESULT = [
  'acceptance',
  'user-rejection',
  'no-reason (provider rejection)',
  'abstract-syntax-not-supported (provider rejection)',
  'transfer-syntaxes-not-supported (provider rejection)',
];

/** `value` followed by its name in parentheses when it has one. */
function named(value: number, names: readonly string[] | undefined): string {
  const name = names?.[value];
  return name ? `${value} (${name})` : `${value}`;
}

const hexByte = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();

function bytes(data: Uint8Array, limit: number): string {
  const shown = Array.from(data.subarray(0, limit), hexByte).join(' ');
  return data.length > limit
    ? `${shown} ... (${data.length} bytes)`
    : `${shown} (${data.length} bytes)`;
}

function unknown(lines: string[], indent: string, items: readonly UnknownItem[] | undefined): void {
  for (const item of items ?? []) {
    lines.push(`${indent}unknown item ${hexByte(item.type)}H: ${bytes(item.data, 32)}`);
  }
}

function userInformation(lines: string[], info: UserInformation): void {
  lines.push('  user-information (50H)');
  lines.push(`    maximum-length (51H): ${info.maxLength}`);
  lines.push(`    implementation-class-uid (52H): ${info.implementationClassUid}`);
  if (info.asyncOperationsWindow) {
    const w = info.asyncOperationsWindow;
    lines.push(
      `    asynchronous-operations-window (53H): invoked ${w.maxInvoked}, performed ${w.maxPerformed}`,
    );
  }
  for (const r of info.roleSelections) {
    lines.push(
      `    role-selection (54H): ${r.sopClassUid} scu-role ${Number(r.scuRole)} scp-role ${Number(r.scpRole)}`,
    );
  }
  if (info.implementationVersionName !== undefined) {
    lines.push(
      `    implementation-version-name (55H): ${JSON.stringify(info.implementationVersionName)}`,
    );
  }
  for (const e of info.extendedNegotiations) {
    lines.push(
      `    sop-class-extended-negotiation (56H): ${e.sopClassUid} ${bytes(e.serviceClassApplicationInformation, 32)}`,
    );
  }
  for (const c of info.commonExtendedNegotiations) {
    lines.push(
      `    sop-class-common-extended-negotiation (57H): ${c.sopClassUid} service-class ${c.serviceClassUid} related [${c.relatedGeneralSopClassUids.join(', ')}]`,
    );
  }
  const id = info.userIdentity;
  if (id && 'type' in id) {
    lines.push(
      `    user-identity (58H): type ${id.type}, positive-response-requested ${Number(id.positiveResponseRequested)}`,
    );
    lines.push(`      primary-field: ${bytes(id.primaryField, 32)}`);
    lines.push(`      secondary-field: ${bytes(id.secondaryField, 32)}`);
  } else if (id) {
    lines.push(`    user-identity (59H): server-response ${bytes(id.serverResponse, 32)}`);
  }
  unknown(lines, '    ', info.unknownItems);
}

/**
 * A readable, multi-line description of a PDU with the standard's field names
 * (PS3.8 §9.3), for logs and the fixtures' `.txt` files. Data are shown as
 * hex, at most 32 bytes of each.
 */
export function formatPdu(pdu: Pdu): string {
  const lines = [`${NAMES[pdu.type] ?? 'PDU'} (${hexByte(pdu.type)}H)`];
  switch (pdu.type) {
    case PduType.A_ASSOCIATE_RQ:
    case PduType.A_ASSOCIATE_AC:
      lines.push(`  protocol-version: ${pdu.protocolVersion}`);
      lines.push(`  called-ae-title: ${JSON.stringify(pdu.calledAeTitle)}`);
      lines.push(`  calling-ae-title: ${JSON.stringify(pdu.callingAeTitle)}`);
      lines.push(`  application-context-name (10H): ${pdu.applicationContextName}`);
      if (pdu.type === PduType.A_ASSOCIATE_RQ) {
        for (const pc of pdu.presentationContexts) {
          lines.push(`  presentation-context (20H) id ${pc.id}`);
          lines.push(`    abstract-syntax (30H): ${pc.abstractSyntax}`);
          for (const ts of pc.transferSyntaxes) lines.push(`    transfer-syntax (40H): ${ts}`);
          unknown(lines, '    ', pc.unknownItems);
        }
      } else {
        for (const pc of pdu.presentationContexts) {
          lines.push(
            `  presentation-context (21H) id ${pc.id} result ${named(pc.result, CONTEXT_RESULT)}`,
          );
          lines.push(`    transfer-syntax (40H): ${pc.transferSyntax}`);
          unknown(lines, '    ', pc.unknownItems);
        }
      }
      userInformation(lines, pdu.userInformation);
      unknown(lines, '  ', pdu.unknownItems);
      break;
    case PduType.A_ASSOCIATE_RJ:
      lines.push(
        `  result: ${named(pdu.result, REJECT_RESULT)}`,
        `  source: ${named(pdu.source, REJECT_SOURCE)}`,
        `  reason/diag: ${named(pdu.reason, REJECT_REASON[pdu.source])}`,
      );
      break;
    case PduType.A_ABORT:
      lines.push(
        `  source: ${named(pdu.source, ABORT_SOURCE)}`,
        // PS3.8 §9.3.8: the reason is significant only when the service-provider aborts.
        `  reason/diag: ${pdu.source === 2 ? named(pdu.reason, ABORT_REASON) : pdu.reason}`,
      );
      break;
    case PduType.P_DATA_TF:
      for (const pdv of pdu.pdvs) {
        lines.push(
          `  pdv context ${pdv.contextId} ${pdv.command ? 'command' : 'data'}${pdv.last ? ' last' : ''}: ${bytes(pdv.data, 32)}`,
        );
      }
      break;
    default:
      break;
  }
  return lines.join('\n');
}
