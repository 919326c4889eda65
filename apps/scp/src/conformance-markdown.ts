/**
 * The Markdown of `dnet-scp conformance`: the sections of PS3.2 Annex A
 * (overview, table of contents, introduction, networking, media, character
 * sets, security, annexes) filled from a {@link ConformanceModel}. Tables of
 * presentation contexts name their transfer syntaxes by group ("TS-1",
 * "any"), each group listed once, so a reader (or a test) can resolve them.
 */
import {
  COMPUTED_TAGS,
  DEFAULT_MAX_HEAD_BYTES,
  LEVEL_TAGS,
  MODEL_LEVELS,
  QueryStatus,
  StoreStatusCode,
  UNIQUE_KEY,
} from '@dnet/archive';
import { MAX_PRESENTATION_CONTEXTS, MIN_PEER_PDU_LENGTH } from '@dnet/association';
import { lookupTag } from '@dnet/dataset';
import { describeStatus, Status, type StatusService } from '@dnet/dimse';
import { CommitmentFailureReason, INCOMPLETE_DATA_SET_STATUS, SopClass } from '@dnet/services';
import {
  type AcceptanceActivity,
  type AcceptedContext,
  ANY_TRANSFER_SYNTAX,
  type ConformanceModel,
  type ProposedContext,
  uidName,
} from './conformance-model.js';

/** Where the table of contents goes, replaced once the document is complete. */
const TOC_MARKER = '\u0000toc\u0000';

/** The DICOM Application Context Name (PS3.7 Annex A.2.1). */
const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

/** The heading of the tables of accepted contexts, which a reader of the Markdown can look for. */
export const ACCEPTED_CONTEXTS_HEADING = 'Accepted Presentation Contexts';

/** The label of the transfer syntax group that accepts anything (the requestor's first proposal). */
export const ANY_GROUP = 'any';

const cell = (s: string | number) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]) {
  return [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

const hex = (code: number) => `${code.toString(16).toUpperCase().padStart(4, '0')}H`;

/** A GitHub heading anchor. */
function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

/** Sections with PS3.2 Annex A numbers, collected for the table of contents. */
class Document {
  readonly #parts: string[] = [];
  readonly #toc: { level: number; title: string }[] = [];

  heading(level: number, title: string): void {
    this.#toc.push({ level, title });
    this.#parts.push(`${'#'.repeat(level)} ${title}`);
  }

  text(...paragraphs: string[]): void {
    this.#parts.push(...paragraphs);
  }

  tableOfContents(): string {
    return this.#toc
      .filter((t) => t.level <= 4)
      .map((t) => `${'  '.repeat(t.level - 2)}- [${t.title}](#${slug(t.title)})`)
      .join('\n');
  }

  toString(): string {
    return `${this.#parts.join('\n\n')}\n`;
  }
}

/** Names transfer syntax lists "TS-1", "TS-2"... in order of appearance; `['*']` is "any". */
class TransferSyntaxGroups {
  readonly #groups = new Map<string, { label: string; list: readonly string[] }>();

  label(list: readonly string[]): string {
    if (list.includes(ANY_TRANSFER_SYNTAX)) return ANY_GROUP;
    const key = list.join(',');
    let group = this.#groups.get(key);
    if (!group) {
      group = { label: `TS-${this.#groups.size + 1}`, list };
      this.#groups.set(key, group);
    }
    return group.label;
  }

  get all() {
    return [...this.#groups.values()];
  }
}

const ACTIVITIES: Record<AcceptanceActivity, { title: string; description: string }> = {
  verification: {
    title: 'Verify Communication',
    description:
      'A remote AE sends C-ECHO-RQ to check that dnet-scp answers. Every C-ECHO is answered Success (0000H) and logged.',
  },
  storage: {
    title: 'Receive Objects to Archive',
    description:
      'A remote AE sends C-STORE-RQs. Each data set is streamed to a temporary file and checked complete as it arrives, made durable (fsync, rename), indexed, and only then answered. The same Storage SOP classes carry the C-STORE sub-operations of a C-GET on the requestor’s association, where dnet-scp is SCU when the requestor proposed the SCP role (SCP/SCU Role Selection, PS3.7 Annex D.3.3.4).',
  },
  query: {
    title: 'Answer Queries',
    description:
      'A remote AE sends C-FIND-RQs; each match is returned in a Pending response (FF00H), then a final Success, or a failure status. A C-CANCEL-RQ stops the matching (FE00H).',
  },
  retrieve: {
    title: 'Answer Retrieve Requests',
    description:
      'A remote AE sends C-MOVE-RQs (the objects go to a configured destination AE over a new association, see the initiation policy) or C-GET-RQs (the objects come back on the same association as C-STORE sub-operations, with the SCP role the requestor proposed). Pending responses carry the sub-operation counts; the final response lists the failed SOP Instance UIDs.',
  },
  commitment: {
    title: 'Commit Stored Objects',
    description:
      'A remote AE sends an N-ACTION-RQ (Request Storage Commitment) to the well-known instance 1.2.840.10008.1.20.1.1. It is answered at once; each referenced instance is then checked (indexed with the same SOP Class, its file present with the indexed size) and the result sent in an N-EVENT-REPORT-RQ on the same association while it is open, otherwise on a new association (see the initiation policy).',
  },
  other: {
    title: 'Other Services',
    description: 'Further SOP classes the server accepts.',
  },
};

function roleText(c: AcceptedContext): string {
  return [c.scp && 'SCP', c.scu && 'SCU'].filter(Boolean).join(', ');
}

/** How the statement names each Query/Retrieve extended negotiation option (PS3.4 §C.5). */
export const EXTENDED_NEGOTIATION_NAMES: Readonly<Record<string, string>> = {
  relationalQueries: 'relational-queries',
  dateTimeMatching: 'combined date-time matching',
  fuzzySemanticMatchingOfPersonNames: 'fuzzy semantic matching of person names',
  timezoneQueryAdjustment: 'timezone query adjustment',
  enhancedMultiFrameImageConversion: 'enhanced multi-frame image conversion',
  emptyValueMatching: 'empty value matching',
  multipleValueMatching: 'multiple value matching',
  relationalRetrieval: 'relational-retrieval',
};

function extendedText(c: AcceptedContext): string {
  if (c.extendedNegotiation === undefined) return 'None';
  if (c.extendedNegotiation.length === 0) return 'Answered, no option supported';
  return `Answered: ${c.extendedNegotiation.map((o) => EXTENDED_NEGOTIATION_NAMES[o] ?? o).join(', ')}`;
}

function statusTable(service: StatusService, rows: [number, string][]): string {
  return table(
    ['Service Status', 'Code', 'Meaning (PS3.4, PS3.7 Annex C)', 'Behaviour'],
    rows.map(([code, behaviour]) => {
      const info = describeStatus(code, service);
      return [info.category, hex(code), info.name, behaviour];
    }),
  );
}

function tagName(hexTag: string): string {
  const entry = lookupTag(Number.parseInt(hexTag, 16));
  return `${entry?.name ?? 'Unknown'} (${hexTag.slice(0, 4)},${hexTag.slice(4)})`;
}

/** The sections PS3.2 Annex A asks for that this document does not fill; empty for a full statement. */
export function sectionsNotCovered(model: ConformanceModel): string[] {
  const gaps = [
    'A.3.1 Revision History: the document is generated from the configuration; the implementation version name identifies the software.',
    'A.4.2.1.4 SOP Specific Conformance of C-FIND: the matching type of each key (PS3.4 §C.2.2.2) is given as general rules, not key by key.',
  ];
  if (model.accepted.some((c) => c.uid === SopClass.MODALITY_WORKLIST_FIND)) {
    gaps.push(
      'A.8.1 IOD Contents of the Modality Worklist: the matching and return keys are those of the worklist items on disk, not listed here.',
    );
  }
  return gaps;
}

/** Renders the conformance statement (PS3.2 Annex A) of a {@link ConformanceModel} as Markdown. */
export function renderConformance(model: ConformanceModel): string {
  const { config, policy } = model;
  const gaps = sectionsNotCovered(model);
  const kind = gaps.length === 0 ? 'Conformance Statement' : 'Conformance Summary';
  const ae = config.aeTitle;
  const groups = new TransferSyntaxGroups();
  const byActivity = new Map<AcceptanceActivity, AcceptedContext[]>();
  for (const c of model.accepted) {
    const list = byActivity.get(c.activity) ?? [];
    list.push(c);
    byActivity.set(c.activity, list);
  }
  const has = (a: AcceptanceActivity) => (byActivity.get(a)?.length ?? 0) > 0;
  const peers = Object.entries(config.peers);

  const body = new Document();
  // A.1
  body.heading(2, '1 Conformance Statement Overview');
  body.text(
    `dnet-scp is a small DICOM archive: it stores the objects it receives as files with an index (SQLite or PostgreSQL), answers queries and retrieve requests over them, commits storage${has('query') && byActivity.get('query')!.some((c) => c.uid === SopClass.MODALITY_WORKLIST_FIND) ? ', serves a Modality Worklist' : ''} and answers verification. It is one Application Entity, \`${ae}\`, accepting associations on port ${config.port}${config.tls ? ' over TLS' : ''}; it requests associations itself only to send the objects of a C-MOVE and, when the requesting association has ended, a Storage Commitment report.`,
  );
  const groupOf: Record<AcceptanceActivity, string> = {
    verification: 'Verification',
    storage: 'Transfer',
    query: 'Query/Retrieve',
    retrieve: 'Query/Retrieve',
    commitment: 'Workflow Management',
    other: 'Other',
  };
  const storage = byActivity.get('storage') ?? [];
  // One row per SOP class, the Storage SOP classes summed up in one (Table 4.2-2 lists them).
  const overview: (string | number)[][] = [];
  for (const c of model.accepted) {
    if (c.activity !== 'storage') overview.push([groupOf[c.activity], c.name, 'No', 'Yes']);
    else if (c === storage[0]) {
      overview.push([
        groupOf.storage,
        `Storage SOP Classes: the ${storage.length} of Table 4.2-2`,
        storage.some((s) => s.scu) ? 'Yes (C-MOVE and C-GET sub-operations)' : 'Yes (C-MOVE)',
        'Yes',
      ]);
    }
  }
  body.text(
    'Table 1-1. Network Services',
    table(['Group', 'SOP Classes', 'User of Service (SCU)', 'Provider of Service (SCP)'], overview),
    'Media Services: none (dnet-scp reads and writes no DICOM media, PS3.10 file sets).',
  );
  if (gaps.length > 0) {
    body.text(
      `This document follows the layout of PS3.2 Annex A and is called a summary because it does not fill every section a Conformance Statement requires. Not covered:`,
      gaps.map((g) => `- ${g}`).join('\n'),
    );
  }

  // A.2: filled in once every heading is known.
  body.heading(2, '2 Table of Contents');
  body.text(TOC_MARKER);

  // A.3
  body.heading(2, '3 Introduction');
  body.heading(3, '3.1 Revision History');
  body.text(
    `Generated by \`dnet-scp conformance\` from the configuration it is given, for implementation version ${model.implementation.versionName}. Run it with the options of your \`dnet-scp\` to describe your installation.`,
  );
  body.heading(3, '3.2 Audience');
  body.text(
    'Integrators connecting modalities, workstations or archives to dnet-scp. Familiarity with DICOM (PS3.1 to PS3.20) is assumed.',
  );
  body.heading(3, '3.3 Remarks');
  body.text(
    'This document covers the network services of dnet-scp as configured. It does not by itself guarantee interoperation: compare it with the peer’s statement and test the connection.',
  );
  body.heading(3, '3.4 Terms, Definitions and Abbreviations');
  body.text(
    'AE: Application Entity. AET: AE Title. SCU/SCP: Service Class User/Provider. PDU: Protocol Data Unit. TS: Transfer Syntax. IOD: Information Object Definition. TLS: Transport Layer Security. See PS3.2 §3, §4.',
  );
  body.heading(3, '3.5 References');
  body.text(
    'NEMA PS3 / ISO 12052, Digital Imaging and Communications in Medicine (DICOM): PS3.2 (conformance), PS3.4 (service classes), PS3.5 (data encoding), PS3.7 (message exchange), PS3.8 (network communication), PS3.15 (security profiles).',
  );

  // A.4
  body.heading(2, '4 Networking');
  body.heading(3, '4.1 Implementation Model');
  body.heading(4, '4.1.1 Application Data Flow');
  body.text(
    [
      '```',
      `Remote AE --C-ECHO------------------> [ ${ae} ] (answers Success)`,
      `Remote AE --C-STORE-----------------> [ ${ae} ] --> files + index`,
      `Remote AE --C-FIND------------------> [ ${ae} ] <-- index (matches)`,
      'Remote AE --C-MOVE------------------> [ ' +
        ae +
        ' ] --C-STORE--> destination AE (new association)',
      'Remote AE --C-GET-------------------> [ ' +
        ae +
        ' ] --C-STORE--> Remote AE (same association)',
      `Remote AE --N-ACTION (commitment)---> [ ${ae} ] --N-EVENT-REPORT--> Remote AE`,
      '```',
    ].join('\n'),
  );
  body.heading(4, '4.1.2 Functional Definition of AEs');
  body.text(
    `\`${ae}\` waits for associations on ${config.host}:${config.port}. It serves each accepted association independently; received objects are written under the storage folder and indexed before the C-STORE is answered, so an object a query finds is always complete on disk. C-MOVE sub-operations and Storage Commitment reports that cannot go back on the requesting association open associations to the remote AEs of its configuration (section 4.4.1.2).`,
  );
  body.heading(4, '4.1.3 Sequencing of Real-World Activities');
  body.text(
    'An object is found by C-FIND, retrieved by C-MOVE or C-GET, and committed by Storage Commitment only after its C-STORE has been answered Success. A Storage Commitment report is sent after the N-ACTION-RSP. No other ordering is imposed.',
  );

  body.heading(3, '4.2 AE Specifications');
  body.heading(4, `4.2.1 ${ae} AE Specification`);
  body.heading(5, '4.2.1.1 SOP Classes');
  body.text(
    `\`${ae}\` provides Standard Conformance to the following SOP Classes (Table 4.2-1; the Storage SOP Classes in Table 4.2-2):`,
    'Table 4.2-1. SOP Classes',
    table(
      ['SOP Class Name', 'SOP Class UID', 'SCU', 'SCP'],
      model.accepted
        .filter((c) => c.activity !== 'storage')
        .map((c) => [c.name, c.uid, 'No', 'Yes']),
    ),
    'Table 4.2-2. Storage SOP Classes',
    table(
      ['SOP Class Name', 'SOP Class UID', 'SCU', 'SCP'],
      storage.map((c) => [c.name, c.uid, c.scu ? 'Yes (C-MOVE, C-GET)' : 'Yes (C-MOVE)', 'Yes']),
    ),
  );

  body.heading(5, '4.2.1.2 Association Policies');
  body.heading(6, '4.2.1.2.1 General');
  body.text(
    table(
      [
        'Application Context Name',
        'Maximum PDU size received (accepted associations)',
        'Maximum PDU size received (requested associations)',
      ],
      [
        [
          (policy.applicationContextNames ?? [DICOM_APPLICATION_CONTEXT]).join(', '),
          model.maxPduLength,
          model.initiatorMaxPduLength,
        ],
      ],
    ),
    `A P-DATA-TF longer than the maximum announced is refused with an A-ABORT. A requestor announcing a Maximum Length Received below ${Math.max(MIN_PEER_PDU_LENGTH, policy.minPeerPduLength ?? 0)} bytes (other than 0, unlimited) is rejected (PS3.8 Annex D.1).`,
  );
  body.heading(6, '4.2.1.2.2 Number of Associations');
  body.text(
    table(
      ['Number of Associations', 'Maximum'],
      [
        ['As Association Acceptor, in all', model.maxAssociations],
        [
          'As Association Acceptor, per calling AE title',
          model.maxAssociationsPerAe ?? 'No limit of its own (the total applies)',
        ],
        [
          'As Association Initiator',
          'One per C-MOVE being performed, plus one per Storage Commitment report sent on a new association',
        ],
      ],
    ),
    'An A-ASSOCIATE-RQ beyond either acceptor limit is rejected: rejected-transient, DICOM UL service-provider (presentation related function), local-limit-exceeded (PS3.8 Table 9-21). Associations still negotiating count.',
  );
  body.heading(6, '4.2.1.2.3 Asynchronous Nature');
  body.text(
    table(
      ['Asynchronous Operations Window (PS3.7 Annex D.3.3.3)', 'Value'],
      [
        [
          'As Association Acceptor: Maximum Number Operations Invoked granted',
          `${model.window.maxInvoked} (or fewer when fewer are proposed)`,
        ],
        [
          'As Association Acceptor: Maximum Number Operations Performed granted',
          `${model.window.maxPerformed} (or fewer when fewer are proposed)`,
        ],
        [
          'As Association Initiator (C-MOVE sub-operations)',
          model.subOperationWindow > 1
            ? `${model.subOperationWindow} invoked, 1 performed, proposed`
            : 'Not proposed: one operation at a time',
        ],
      ],
    ),
    'The window is answered only when the requestor proposes one; otherwise the association is synchronous (1/1).',
  );
  body.heading(6, '4.2.1.2.4 Implementation Identifying Information');
  body.text(
    table(
      ['Implementation Class UID', 'Implementation Version Name'],
      [[model.implementation.classUid, model.implementation.versionName]],
    ),
    'Both are sent in every A-ASSOCIATE-AC and A-ASSOCIATE-RQ of dnet-scp, and in the File Meta Information of the files it writes.',
  );

  // Initiation policy.
  body.heading(5, '4.2.1.3 Association Initiation Policy');
  body.text(
    `\`${ae}\` requests associations only for the two activities below, to the remote AEs of section 4.4.1.2. It proposes no SOP Class Extended Negotiation and no user identity.`,
  );
  body.heading(6, '4.2.1.3.1 Send Objects of a C-MOVE');
  body.text(
    `For a C-MOVE-RQ whose Move Destination is a configured remote AE, dnet-scp requests one association to it, proposes one presentation context per SOP Class among the objects to send (at most 128, PS3.8 §9.3.2.2; objects of further classes count as failed sub-operations), sends one C-STORE-RQ per object, and releases the association. An unknown destination is refused before any association (A801H).`,
    'Proposed Presentation Contexts',
    proposedTable(groups, model.moveContexts, 'see Table 4.2-3'),
    'Table 4.2-3. Transfer syntaxes proposed for an object, by the transfer syntax it is stored in',
    table(
      ['Stored in', 'Proposed, in order'],
      model.moveTransferSyntaxes.map((g) => [
        g.proposed.length === 0
          ? `Any other transfer syntax (${g.stored.length} of the registry, and any private one)`
          : g.stored.map(uidName).join(', '),
        g.proposed.length === 0
          ? 'Its own only (sent as stored, never converted)'
          : g.proposed.map(uidName).join(', '),
      ]),
    ),
    'The object is sent in its stored transfer syntax when the destination accepts it; otherwise converted to the accepted Explicit or Implicit VR Little Endian: between uncompressed syntaxes as it streams, and a compressed object (RLE, JPEG, JPEG-LS, JPEG 2000, HTJ2K) transcoded losslessly one frame at a time. The same holds for C-GET, in the contexts the requestor proposed. A C-STORE-RSP other than Success or Warning counts as a failed sub-operation; the C-MOVE goes on with the next object.',
  );
  body.heading(6, '4.2.1.3.2 Send a Storage Commitment Report on a New Association');
  body.text(
    `When the association that carried an N-ACTION (Request Storage Commitment) has ended before the report could be sent, dnet-scp requests an association to the requestor${peers.length > 0 ? ' (found by its AE title among the remote AEs of section 4.4.1.2)' : ' (none configured: such a report is logged and dropped)'}, sends the N-EVENT-REPORT-RQ with the SCP role, and releases it (PS3.4 §J.3.3).`,
    'Proposed Presentation Contexts',
    proposedTable(groups, [model.commitmentReportContext]),
    `SCP/SCU Role Selection proposed: ${
      model.commitmentReportContext.roleSelection
        ? `SCU role ${Number(model.commitmentReportContext.roleSelection.scuRole)}, SCP role ${Number(model.commitmentReportContext.roleSelection.scpRole)}`
        : 'none'
    } (PS3.7 Annex D.3.3.4).`,
  );

  // Acceptance policy.
  body.heading(5, '4.2.1.4 Association Acceptance Policy');
  const rejections: (string | number)[][] = [
    [
      `Called AE title other than ${ae}`,
      'rejected-permanent (1)',
      'DICOM UL service-user (1)',
      'called-AE-title-not-recognized (7)',
    ],
    [
      config.allowAeTitles.length > 0
        ? `Calling AE title not among ${config.allowAeTitles.join(', ')}, or of spaces only`
        : 'Calling AE title of spaces only',
      'rejected-permanent (1)',
      'DICOM UL service-user (1)',
      'calling-AE-title-not-recognized (3)',
    ],
    [
      'Application context name other than DICOM',
      'rejected-permanent (1)',
      'DICOM UL service-user (1)',
      'application-context-name-not-supported (2)',
    ],
    [
      'Protocol version without bit 0',
      'rejected-permanent (1)',
      'DICOM UL service-provider, ACSE (2)',
      'protocol-version-not-supported (2)',
    ],
    [
      `More than ${MAX_PRESENTATION_CONTEXTS} presentation contexts`,
      'rejected-permanent (1)',
      'DICOM UL service-provider, presentation (3)',
      'local-limit-exceeded (2)',
    ],
    [
      `Maximum Length Received below ${Math.max(MIN_PEER_PDU_LENGTH, policy.minPeerPduLength ?? 0)} bytes (0, unlimited, is accepted)`,
      'rejected-permanent (1)',
      'DICOM UL service-provider, ACSE (2)',
      'no-reason-given (1)',
    ],
    [
      'Association limit reached (section 4.2.1.2.2)',
      'rejected-transient (2)',
      'DICOM UL service-provider, presentation (3)',
      'local-limit-exceeded (2)',
    ],
  ];
  if (model.userIdentity) {
    rejections.push([
      'User identity missing or refused',
      'rejected-permanent (1)',
      'DICOM UL service-provider, ACSE (2)',
      'no-reason-given (1)',
    ]);
  }
  if (config.tls) {
    rejections.push([
      'Plaintext connection, or a client certificate not allowed (section 7)',
      'rejected-permanent (1)',
      'DICOM UL service-provider, ACSE (2)',
      'no-reason-given (1)',
    ]);
  }
  body.text(
    `\`${ae}\` accepts every association that passes the checks below, then decides each presentation context alone. Table 4.2-4 lists the A-ASSOCIATE-RJ it sends (PS3.8 Table 9-21).`,
    'Table 4.2-4. Association Rejection Reasons',
    table(['Condition', 'Result', 'Source', 'Reason/Diagnosis'], rejections),
  );
  body.heading(
    6,
    '4.2.1.4.1 Presentation Context Acceptance Criterion and Transfer Syntax Selection',
  );
  body.text(
    [
      '- A context whose abstract syntax is listed in a table of this section is accepted when one of the listed transfer syntaxes is proposed; the transfer syntax chosen is the first of the listed ones (in the order of the table) that the requestor proposed. For the group "any", every transfer syntax is accepted, including private ones, and the requestor’s first proposal is chosen.',
      '- A listed abstract syntax with none of its transfer syntaxes proposed: rejected, transfer-syntaxes-not-supported (result 4, PS3.8 Table 9-18).',
      `- An abstract syntax not listed: rejected, abstract-syntax-not-supported (result 3)${policy.relatedGeneralSopClasses ? ', unless the requestor’s SOP Class Common Extended Negotiation (PS3.7 Annex D.3.3.6) names a Related General SOP Class that is listed: it is then accepted with that class’s transfer syntaxes and roles (PS3.4 §B.3.1.4) and the object keeps its own SOP Class UID' : ''}.`,
      '- A context with an even or repeated ID: rejected, no-reason (result 2, PS3.8 §9.3.2.2).',
      '- Several contexts of one abstract syntax are each decided alone.',
      '- SCP/SCU Role Selection (PS3.7 Annex D.3.3.4) is answered for accepted classes only: the requestor’s SCU role when dnet-scp is SCP, its SCP role when dnet-scp may be SCU (column Role).',
      '- SOP Class Extended Negotiation (PS3.7 Annex D.3.3.5) is answered for the classes of column Extended Negotiation only, each option 1 when proposed and supported, 0 otherwise, with as many bytes as proposed.',
    ].join('\n'),
  );
  const order: AcceptanceActivity[] = [
    'verification',
    'storage',
    'query',
    'retrieve',
    'commitment',
    'other',
  ];
  let n = 1;
  for (const activity of order) {
    const contexts = byActivity.get(activity);
    if (!contexts?.length) continue;
    n++;
    const a = ACTIVITIES[activity];
    body.heading(6, `4.2.1.4.${n} ${a.title}`);
    body.text(a.description);
    body.text(
      `${ACCEPTED_CONTEXTS_HEADING}: ${a.title}`,
      table(
        ['Abstract Syntax', 'UID', 'Transfer Syntaxes', 'Role', 'Extended Negotiation'],
        contexts.map((c) => [
          c.name,
          c.uid,
          groups.label(c.transferSyntaxes),
          roleText(c),
          extendedText(c),
        ]),
      ),
    );
    body.text(...sopSpecific(activity, model));
  }

  // Transfer syntax groups.
  body.heading(5, '4.2.1.5 Transfer Syntax Groups');
  body.text(
    'The transfer syntaxes of each group named in the tables above, in dnet-scp’s order of preference.',
  );
  body.heading(6, `Transfer Syntax Group ${ANY_GROUP}`);
  body.text(
    'Any transfer syntax the requestor proposes, the first one chosen. Data sets are kept as received (no decompression, no conversion). The transfer syntaxes of the registry (PS3.6 Table A-1):',
    table(
      ['Transfer Syntax', 'UID'],
      [
        ...model.knownTransferSyntaxes.map((uid) => [uidName(uid), uid]),
        ['Any other transfer syntax (private ones included)', 'any'],
      ],
    ),
  );
  for (const g of groups.all) {
    body.heading(6, `Transfer Syntax Group ${g.label}`);
    body.text(
      table(
        ['Transfer Syntax', 'UID'],
        g.list.map((uid) => [uidName(uid), uid]),
      ),
    );
  }

  // A.4.3 Network interfaces.
  body.heading(3, '4.3 Network Interfaces');
  body.heading(4, '4.3.1 Physical Network Interface');
  body.text(
    'dnet-scp uses the TCP/IP stack of the host (PS3.8 §9); it runs on any network interface the operating system offers and supports no other physical medium.',
  );
  body.heading(4, '4.3.2 Additional Protocols');
  body.text(
    'None: no DHCP, DNS-SD or NTP of its own. Host names of remote AEs are resolved by the operating system.',
  );
  body.heading(4, '4.3.3 IPv4 and IPv6 Support');
  body.text(
    `Both: it listens on ${config.host} (an IPv6 address may be given with --host) and connects to remote AEs by IPv4 or IPv6 address or host name.`,
  );

  // A.4.4 Configuration.
  body.heading(3, '4.4 Configuration');
  body.heading(4, '4.4.1 AE Title/Presentation Address Mapping');
  body.heading(5, '4.4.1.1 Local AE Titles');
  body.text(
    table(
      ['Application Entity', 'Default AE Title', 'Default TCP/IP Port', 'Set with'],
      [[ae, ae, config.port, '--aet, --port, --host']],
    ),
  );
  body.heading(5, '4.4.1.2 Remote AE Title/Presentation Address Mapping');
  body.text(
    peers.length > 0
      ? table(
          ['Remote AE Title', 'Host', 'Port', 'Used for'],
          peers.map(([title, p]) => [
            title,
            p.host,
            p.port,
            'C-MOVE destination; Storage Commitment report on a new association',
          ]),
        )
      : 'None configured (--peer AET=host:port adds one): C-MOVE to any destination is refused with A801H, and a Storage Commitment report is only sent on the requesting association.',
    config.allowAeTitles.length > 0
      ? `Only the calling AE titles ${config.allowAeTitles.join(', ')} may associate (--allow-aet).`
      : 'Any calling AE title may associate (--allow-aet restricts them).',
  );
  body.heading(4, '4.4.2 Parameters');
  body.text(
    table(
      ['Parameter', 'Value', 'Configurable'],
      [
        ['Maximum PDU size received', model.maxPduLength, 'Yes (--max-pdu)'],
        ['Maximum simultaneous associations', model.maxAssociations, 'Yes (--max-associations)'],
        [
          'Maximum simultaneous associations per calling AE title',
          model.maxAssociationsPerAe ?? 'no limit',
          'Yes (--max-associations-per-ae)',
        ],
        ['ARTIM timeout (PS3.8 §9.1.5), ms', model.timeouts.artimMs, 'No'],
        ['ACSE timeout (association, release), ms', model.timeouts.acseMs, 'No'],
        ['DIMSE response timeout, ms', model.timeouts.dimseMs, 'No'],
        ['Idle association timeout, ms', model.timeouts.idleMs, 'No'],
        ['Connect timeout (requested associations), ms', model.timeouts.connectMs, 'No'],
        [
          'Shutdown: wait for operations in flight, ms',
          config.shutdownTimeoutMs,
          'Yes (--shutdown-timeout)',
        ],
        ['A C-STORE of an instance already archived', config.onDuplicate, 'Yes (--on-duplicate)'],
        [
          'Transfer syntax of stored images',
          config.storeAs
            ? `${uidName(config.storeAs.transferSyntaxUid)}${config.storeAs.lossy ? ', lossy allowed' : ''}`
            : 'as received',
          'Yes (--store-as, --lossy)',
        ],
        [
          'Modality Worklist',
          config.worklist ? 'served from a folder' : 'not served',
          'Yes (--worklist)',
        ],
      ],
    ),
  );

  // A.5, A.6, A.7.
  body.heading(2, '5 Media Interchange');
  body.text('Not supported.');
  body.heading(2, '6 Support of Character Sets');
  body.text(
    'Stored objects are kept as received, whatever their Specific Character Set (0008,0005). For matching, the text of the index and of C-FIND Identifiers is decoded with its Specific Character Set: ISO_IR 6 (default), the ISO 8859 sets (ISO_IR 100, 101, 109, 110, 126, 127, 138, 144, 148, 203), ISO_IR 13, ISO_IR 166, ISO_IR 192 (UTF-8), GB18030, GBK, and the ISO 2022 code extensions of PS3.3 Tables C.12-3 and C.12-4 (Japanese, Korean, Chinese). A response carries the Specific Character Set of the values it returns.',
  );
  body.heading(2, '7 Security');
  body.heading(3, '7.1 Security Profiles');
  if (model.tls) {
    const p = model.tls.profile;
    body.text(
      p
        ? `DICOM over TLS: the ${p.section} profile (${p.name}${p.retired ? ', retired' : ''}), TLS ${p.minVersion.replace('TLSv', '')} to ${p.maxVersion.replace('TLSv', '')}. Only TLS connections are served (a plaintext client fails the handshake; an unencrypted association would be rejected).`
        : 'DICOM over TLS (PS3.15 Annex B).',
      p
        ? table(
            ['TLS version', 'Cipher suites, most preferred first'],
            [
              ['TLS 1.2', p.tls12CipherSuites.join(', ')],
              ...(p.tls13CipherSuites.length > 0
                ? [['TLS 1.3', p.tls13CipherSuites.join(', ')]]
                : []),
            ],
          )
        : '',
      `Client certificates: ${
        model.tls.clientCertificate === 'require'
          ? 'required, verified against the configured CA'
          : model.tls.clientCertificate === 'request'
            ? 'requested and verified against the configured CA when sent'
            : 'not requested'
      }.${
        model.tls.allowedSubjects + model.tls.allowedFingerprints > 0
          ? ` Only ${model.tls.allowedSubjects} subject CN(s) and ${model.tls.allowedFingerprints} SHA-256 fingerprint(s) configured may associate.`
          : ''
      }`,
    );
  } else {
    body.text(
      'None: associations run over plain TCP. DICOM over TLS (PS3.15 Annex B.12, BCP 195 RFC 8996, by default) is available with --tls --cert --key [--ca].',
    );
  }
  body.heading(3, '7.2 Association Level Security');
  body.text(
    model.userIdentity
      ? `User Identity Negotiation (PS3.7 Annex D.3.3.7) is required: accepted types ${model.userIdentity.join(', ')}. A positive response is returned when requested.`
      : 'User Identity Negotiation (PS3.7 Annex D.3.3.7) is not required; a proposed identity is neither checked nor answered.',
    'The called and calling AE titles are checked as in Table 4.2-4.',
  );
  body.heading(3, '7.3 Application Level Security');
  body.text('None: every accepted association may use every service listed.');

  // A.8 Annexes.
  body.heading(2, '8 Annexes');
  body.heading(3, '8.1 IOD Contents');
  body.heading(4, '8.1.1 Created SOP Instances');
  body.text(
    `${config.storeAs?.lossy ? `Lossy compressed copies of received images (--store-as ${config.storeAs.transferSyntaxUid} --lossy): the received instance with a new SOP Instance UID, Lossy Image Compression (0028,2110) 01 and the ratio and method appended (PS3.3 §C.7.6.1.1.5). Otherwise none` : 'None'}: objects are stored ${config.storeAs ? 'as received or transcoded (the storage SOP Specific Conformance of section 4.2.1.4)' : 'as received'}. dnet-scp creates only the C-FIND response Identifiers and the Storage Commitment reports (PS3.4 §J.3.3: Transaction UID, Referenced SOP Sequence, Failed SOP Sequence, Retrieve AE Title).`,
  );
  body.heading(4, '8.1.2 Usage of Attributes from Received IODs');
  body.text(
    `Indexed from each stored object: its SOP Class and SOP Instance UIDs, the keys of Table 4.2-5, and at the instance level every attribute within the first ${DEFAULT_MAX_HEAD_BYTES} bytes of its data set, before the pixel data. Nothing else is interpreted.`,
  );
  body.heading(4, '8.1.3 Attribute Mapping');
  body.text(`C-FIND responses carry Retrieve AE Title (0008,0054) = ${ae}.`);
  body.heading(4, '8.1.4 Coerced/Modified Fields');
  body.text('None: no attribute of a stored object is coerced or modified.');
  body.heading(3, '8.2 Data Dictionary of Private Attributes');
  body.text('None.');
  body.heading(3, '8.3 Coded Terminology and Templates');
  body.text('None.');
  body.heading(3, '8.4 Grayscale Image Consistency');
  body.text('Not applicable: dnet-scp displays nothing.');
  body.heading(3, '8.5 Standard Extended, Specialized and Private SOP Classes');
  body.text('None.');
  body.heading(3, '8.6 Private Transfer Syntaxes');
  body.text(
    'None defined. Objects received in a private transfer syntax are stored as received (group "any").',
  );

  const head = [
    `# dnet-scp DICOM ${kind}`,
    `Application Entity \`${ae}\`, implementation ${model.implementation.versionName} (${model.implementation.classUid}). Generated by \`dnet-scp conformance\`; it describes the configuration it was given.`,
  ].join('\n\n');
  return `${head}\n\n${body.toString().replace(TOC_MARKER, body.tableOfContents())}`;
}

function proposedTable(
  groups: TransferSyntaxGroups,
  contexts: readonly ProposedContext[],
  transferSyntaxes?: string,
): string {
  return table(
    ['Abstract Syntax', 'UID', 'Transfer Syntaxes', 'Role', 'Extended Negotiation'],
    contexts.map((c) => [
      c.name,
      c.uid ?? 'the object’s',
      transferSyntaxes ?? groups.label(c.transferSyntaxes),
      c.role,
      'None',
    ]),
  );
}

/** How a received data set is stored: as received, or in the `--store-as` syntax. */
function storedAs(config: ConformanceModel['config']): string {
  const asReceived =
    'stored bit for bit as received (private and retired elements, digital signatures included, never checked nor altered), in the transfer syntax it came in, with a File Meta Information header';
  if (!config.storeAs) return `every data set is ${asReceived}; nothing is coerced.`;
  const { transferSyntaxUid, lossy } = config.storeAs;
  return `every data set with Pixel Data received in another transfer syntax is stored in ${uidName(transferSyntaxUid)} (${transferSyntaxUid}, --store-as), transcoded frame by frame as it is received: the other elements are kept (Photometric Interpretation and Planar Configuration follow the syntax's encoding, an Extended Offset Table and group lengths are dropped)${lossy ? '; compression may lose information (--lossy): such a copy gets Lossy Image Compression (0028,2110) 01, its ratio and method, and a new SOP Instance UID under which it is indexed (PS3.3 §C.7.6.1.1.5)' : ', and the pixel values are kept exactly (lossless)'}. A data set without Pixel Data, or one the codecs cannot transcode (its pixel format, a codec error), is ${asReceived}.`;
}

/** The SOP Specific Conformance of an activity (PS3.2 §A.4.2.1.4.x.3), status codes included. */
function sopSpecific(activity: AcceptanceActivity, model: ConformanceModel): string[] {
  const refusedRole: [number, string] = [
    Status.NOT_AUTHORIZED,
    'The request came on a context where the requestor has no SCU role',
  ];
  switch (activity) {
    case 'verification':
      return [
        'SOP Specific Conformance: C-ECHO is always answered Success.',
        statusTable('general', [[Status.SUCCESS, 'Always']]),
      ];
    case 'storage':
      return [
        `SOP Specific Conformance (PS3.4 §B.4.2): Level 2 (Full) storage: ${storedAs(model.config)} Stored objects are kept until removed by an operator. A data set that ends early or cannot be decoded is refused, never acknowledged. An instance already archived (same SOP Instance UID) is handled by the duplicate policy "${model.config.onDuplicate}" (--on-duplicate keep: Success and the copy on file kept; replace: the new copy replaces it; reject: A701H).`,
        statusTable('storage', [
          [StoreStatusCode.SUCCESS, 'Stored and indexed (or a duplicate kept)'],
          [StoreStatusCode.OUT_OF_RESOURCES, 'The file or the index could not be written'],
          [StoreStatusCode.DUPLICATE_REJECTED, 'Already archived, with --on-duplicate reject'],
          [
            StoreStatusCode.DATA_SET_DOES_NOT_MATCH,
            'The data set’s SOP Class or Instance UID differs from the request’s',
          ],
          [
            INCOMPLETE_DATA_SET_STATUS,
            'The data set is cut short, malformed, or cannot be decoded or placed',
          ],
          refusedRole,
        ]),
      ];
    case 'query': {
      const levels = Object.entries(MODEL_LEVELS)
        .map(
          ([m, ls]) => `${m === 'PATIENT_ROOT' ? 'Patient Root' : 'Study Root'}: ${ls.join(', ')}`,
        )
        .join('; ');
      const keys = (['PATIENT', 'STUDY', 'SERIES'] as const).map((level) => [
        level,
        tagName(UNIQUE_KEY[level]),
        [...LEVEL_TAGS[level]]
          .filter((t) => t !== UNIQUE_KEY[level])
          .map(tagName)
          .join(', '),
        [...COMPUTED_TAGS[level]].map(tagName).join(', '),
      ]);
      keys.push([
        'IMAGE',
        tagName(UNIQUE_KEY.IMAGE),
        `Any attribute within the first ${DEFAULT_MAX_HEAD_BYTES} bytes of the instance’s data set, before the pixel data`,
        [...COMPUTED_TAGS.IMAGE].map(tagName).join(', '),
      ]);
      return [
        `SOP Specific Conformance (PS3.4 §C.4.1): levels ${levels}. Hierarchical queries (PS3.4 §C.4.1.2.1); relational queries when negotiated. Matching: single value, universal (empty key), wild card (* and ?) on AE, CS, LO, LT, PN, SH, ST, UC, UR, UT, range on DA, TM, DT, list of UIDs, sequence matching; person names match without regard to case. Specific Character Set (0008,0005) and Query/Retrieve Level (0008,0052) are never matched. Table 4.2-5 lists the keys per level.${model.accepted.some((c) => c.uid === SopClass.MODALITY_WORKLIST_FIND) ? ' Modality Worklist items are read from the worklist folder (*.json in the DICOM JSON Model, *.wl Part 10 files) and matched with the same rules.' : ''}`,
        'Table 4.2-5. C-FIND keys per level (Patient Root and Study Root)',
        table(
          ['Level', 'Unique key', 'Other keys matched and returned', 'Computed return keys'],
          keys,
        ),
        statusTable('find', [
          [Status.PENDING, 'One per match'],
          [Status.SUCCESS, 'Matching is complete'],
          [
            QueryStatus.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS,
            'The Identifier breaks the model (a missing unique key of a higher level, an unknown level...)',
          ],
          [QueryStatus.UNABLE_TO_PROCESS, 'The index failed'],
          [Status.CANCEL, 'After a C-CANCEL-RQ'],
          refusedRole,
        ]),
      ];
    }
    case 'retrieve':
      return [
        `SOP Specific Conformance (PS3.4 §C.4.2, §C.4.3): the levels and unique keys of Table 4.2-5; relational retrieval when negotiated. C-MOVE destinations are the remote AEs of section 4.4.1.2. Sub-operations run ${model.subOperationWindow} at a time. A pending response follows each sub-operation but the last.`,
        statusTable('move', [
          [Status.PENDING, 'After each sub-operation but the last, with the counts'],
          [Status.SUCCESS, 'Every sub-operation succeeded'],
          [Status.WARNING_B000, 'Some sub-operations failed or had warnings'],
          [
            Status.OUT_OF_RESOURCES_SUB_OPERATIONS,
            'Every sub-operation failed (e.g. the destination could not be reached)',
          ],
          [
            Status.MOVE_DESTINATION_UNKNOWN,
            'C-MOVE: the destination is not a configured remote AE',
          ],
          [QueryStatus.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS, 'The Identifier breaks the model'],
          [QueryStatus.UNABLE_TO_PROCESS, 'The index failed'],
          [Status.CANCEL, 'After a C-CANCEL-RQ'],
          refusedRole,
        ]),
      ];
    case 'commitment':
      return [
        `SOP Specific Conformance (PS3.4 §J.3): the Storage Commitment Push Model SCP. Committed instances are held indefinitely (until an operator removes them); the report's Retrieve AE Title is ${model.config.aeTitle}. N-ACTION-RSP status: 0000H when accepted; 0110H (processing failure, or more references than the archive takes at once), 0112H (not the well-known instance), 0115H (a reference without its UIDs), 0121H (Transaction UID missing or Referenced SOP Sequence empty, with the Offending Element), 0123H (action type other than 1). Failure Reasons (0008,1197) of the report:`,
        table(
          ['Failure Reason', 'Meaning'],
          Object.entries(CommitmentFailureReason).map(([name, code]) => [
            hex(code),
            name.toLowerCase().replaceAll('_', ' '),
          ]),
        ),
      ];
    default:
      return [];
  }
}
