import { describeStatus, formatStatus, type StatusService } from '@dnet/dimse';
import { errnoText } from './errors.js';

/** Result of an A-ASSOCIATE-RJ (PS3.8 §9.3.4, Table 9-21). */
export const RejectResult = {
  /** rejected-permanent */
  1: 'rejected-permanent',
  /** rejected-transient */
  2: 'rejected-transient',
} as const;

/** Source of an A-ASSOCIATE-RJ (PS3.8 Table 9-21). */
export const RejectSource = {
  /** DICOM UL service-user */
  1: 'service-user',
  /** DICOM UL service-provider (ACSE related function) */
  2: 'service-provider (ACSE)',
  /** DICOM UL service-provider (Presentation related function) */
  3: 'service-provider (presentation)',
} as const;

/** Reason/Diag. of an A-ASSOCIATE-RJ by source (PS3.8 Table 9-21). */
export const RejectReason: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: {
    /** no-reason-given */
    1: 'no-reason-given',
    /** application-context-name-not-supported */
    2: 'application-context-name-not-supported',
    /** calling-AE-title-not-recognized */
    3: 'calling-AE-title-not-recognized',
    /** called-AE-title-not-recognized */
    7: 'called-AE-title-not-recognized',
  },
  2: {
    /** no-reason-given */
    1: 'no-reason-given',
    /** protocol-version-not-supported */
    2: 'protocol-version-not-supported',
  },
  3: {
    /** temporary-congestion */
    1: 'temporary-congestion',
    /** local-limit-exceeded */
    2: 'local-limit-exceeded',
  },
};

/** Source of an A-ABORT (PS3.8 §9.3.8, Table 9-26). */
export const AbortSource = {
  /** DICOM UL service-user (initiated abort) */
  0: 'service-user',
  /** reserved */
  1: 'reserved',
  /** DICOM UL service-provider (initiated abort) */
  2: 'service-provider',
} as const;

/** Reason/Diag. of an A-ABORT from the service-provider (PS3.8 Table 9-26). */
export const AbortReason = {
  /** reason-not-specified */
  0: 'reason-not-specified',
  /** unrecognized-PDU */
  1: 'unrecognized-PDU',
  /** unexpected-PDU */
  2: 'unexpected-PDU',
  /** reserved */
  3: 'reserved',
  /** unrecognized-PDU parameter */
  4: 'unrecognized-PDU-parameter',
  /** unexpected-PDU parameter */
  5: 'unexpected-PDU-parameter',
  /** invalid-PDU-parameter value */
  6: 'invalid-PDU-parameter-value',
} as const;

/** Which status table names a DIMSE operation's status (PS3.4 B.2.3, C.4.1.1.4, C.4.2.1.5, C.4.3.1.4). */
const SERVICE_OF: Readonly<Record<string, StatusService>> = {
  'C-STORE': 'storage',
  'C-FIND': 'find',
  'C-MOVE': 'move',
  'C-GET': 'get',
};

/** A DIMSE status as `A700H Refused: out of resources`, named by the operation's service. */
export function statusText(status: number, operation = ''): string {
  return `${formatStatus(status)} ${describeStatus(status, SERVICE_OF[operation] ?? 'general').name}`;
}

const name = (table: Readonly<Record<number, string>>, n: number) => table[n] ?? `unknown (${n})`;

type Fields = Record<string, unknown> & { code?: unknown; message?: unknown; cause?: unknown };

/** The causes of an error, outermost first (bounded: a cycle cannot loop). */
function causes(e: unknown): Fields[] {
  const chain: Fields[] = [];
  for (
    let c = e as Fields | undefined;
    c && typeof c === 'object' && chain.length < 8;
    c = c.cause as Fields
  ) {
    chain.push(c);
  }
  return chain;
}

/** The system or TLS error code (`ECONNREFUSED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`...) in a cause chain. */
export function systemCode(e: unknown): string | undefined {
  for (const c of causes(e)) {
    if (
      typeof c.code === 'string' &&
      /^[A-Z][A-Z0-9_]+$/.test(c.code) &&
      !c.code.startsWith('DNET_')
    ) {
      return c.code;
    }
  }
  return undefined;
}

/** The first line of a message: OpenSSL appends its source location on more lines. */
const firstLine = (text: string) => text.split('\n')[0]!.trim();

/** The message of the innermost cause when it says more than the error's own. */
function rootMessage(e: unknown): string {
  const chain = causes(e);
  const own = firstLine(String(chain[0]?.message ?? e));
  const root = chain.length > 1 ? firstLine(String(chain[chain.length - 1]!.message ?? '')) : '';
  return root && !own.includes(root) ? `${own}: ${root}` : own;
}

/** Name-resolution failures of getaddrinfo, which the system error map lacks. */
const DNS_TEXT: Readonly<Record<string, string>> = {
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed for now',
};

/** True for the errors of a TLS handshake (Node's, OpenSSL's and @dnet/tls's codes). */
function tlsFailure(e: unknown): Fields | undefined {
  return causes(e).find(
    (c) =>
      typeof c.code === 'string' &&
      /^(DNET_TLS_|ERR_SSL_|ERR_TLS_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|CERT_)/.test(c.code),
  );
}

/**
 * A connection that never opened (`cannot connect to host:port: why`) or
 * one that was lost once open, in one line: a TLS handshake failure by its
 * reason, not OpenSSL's dump.
 */
function connectionText(e: Fields): string {
  const message = String(e.message ?? '');
  const code = systemCode(e.cause);
  if (!message.startsWith('cannot connect')) {
    return `connection lost: ${rootMessage(e)}${code ? ` (${code})` : ''}`;
  }
  if (code === 'ECONNREFUSED') return 'cannot connect: connection refused (ECONNREFUSED)';
  const where = message.replace(/^cannot connect( to)?\s*/, '');
  const prefix = `cannot connect${where ? ` to ${where}` : ''}`;
  if (tlsFailure(e)) {
    // The innermost error says why: OpenSSL's reason, a certificate check, a reset.
    const inner = causes(e).at(-1)!;
    const innerCode = typeof inner.code === 'string' ? inner.code : code;
    const reason =
      typeof inner.reason === 'string'
        ? inner.reason
        : innerCode && /^E[A-Z]+$/.test(innerCode)
          ? errnoText(innerCode)
          : firstLine(String(inner.message ?? 'failed'));
    const hint = /wrong version number|packet length too long|ECONNRESET/.test(
      `${reason} ${innerCode}`,
    )
      ? ' (does the peer speak TLS on this port?)'
      : '';
    return `${prefix}: TLS handshake failed: ${reason}${innerCode ? ` (${innerCode})` : ''}${hint}`;
  }
  if (code) return `${prefix}: ${DNS_TEXT[code] ?? errnoText(code)} (${code})`;
  const root = causes(e).at(-1);
  return `${prefix}: ${firstLine(String(root?.message ?? 'failed'))}`;
}

/**
 * One clear line for an error: an association rejection with its result,
 * source and reason (PS3.8 Table 9-21), an abort with its source and reason
 * (Table 9-26), a failure status with its name (PS3.7 Annex C, PS3.4), a
 * connection failure with the system's code. Errors are read by their stable
 * `code` and fields, so any copy of the dnet packages is understood.
 */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const e = error as Fields;
  const message = String(e.message ?? error);
  switch (e.code) {
    case 'DNET_ASSOCIATION_REJECTED': {
      const source = e.source as number;
      return `association rejected: ${name(RejectResult, e.result as number)}, ${name(RejectSource, source)}, ${name(RejectReason[source] ?? {}, e.reason as number)}`;
    }
    case 'DNET_ASSOCIATION_ABORTED': {
      const source = e.source as number;
      const who = e.local ? 'locally' : 'by the peer';
      const reason = source === 2 ? `, ${name(AbortReason, e.reason as number)}` : '';
      return `association aborted ${who}: ${name(AbortSource, source)}${reason}`;
    }
    case 'DNET_SERVICES_OPERATION_FAILED': {
      const comment = e.errorComment ? ` (${e.errorComment})` : '';
      return `${e.operation} failed: ${statusText(e.status as number, e.operation as string)}${comment}`;
    }
    case 'DNET_ASSOCIATION_CONNECTION_LOST':
      return connectionText(e);
    case 'DNET_SCU_NOT_ASSOCIATED':
      return message;
    case 'DNET_SCU_LOCAL_IO':
      return `local error: ${message}`;
    case 'DNET_TRANSPORT_CONNECT_TIMEOUT':
      return `cannot connect: ${message}`;
    case 'DNET_ASSOCIATION_TIMEOUT':
      return `timed out: ${message}`;
    default: {
      const code = systemCode(error);
      if (code === 'ECONNREFUSED') return 'cannot connect: connection refused (ECONNREFUSED)';
      return rootMessage(error);
    }
  }
}
