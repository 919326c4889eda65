import { keywordOf, lookupUidKeyword, parseTag } from '@dnet/dataset';
import {
  CommitmentListener,
  mpps as mppsContext,
  type NResult,
  Server,
  storageCommitment,
} from '@dnet/services';
import { type Command, ExitStatus, finish, logContexts, printHelp } from '../command.js';
import { describeError, statusText } from '../describe-error.js';
import { dicomFilesOf } from '../dicom-files.js';
import { UsageError } from '../errors.js';
import { writeRecord } from '../json-output.js';
import { parseKeys } from '../keys.js';
import {
  COMMON_HELP,
  type CommonValues,
  connect,
  type Io,
  integerOption,
  parseCommand,
  peerOf,
  transportOf,
} from '../options.js';
import { formatValue } from '../table.js';

/** Modality Performed Procedure Step SOP Class (PS3.4 F.7.3). */
const MPPS_CLASS = '1.2.840.10008.3.1.2.3.3';

type Operation = 'N-GET' | 'N-SET' | 'N-ACTION' | 'N-CREATE' | 'N-DELETE';

const N_OPTIONS = {
  class: { type: 'string' },
  instance: { type: 'string' },
  action: { type: 'string' },
  query: { type: 'string', short: 'k', multiple: true },
} as const;

/** A SOP class given as a UID or a registry keyword (`ModalityPerformedProcedureStep`). */
function sopClassOf(text: string | undefined): string {
  if (!text) throw new UsageError('give the SOP class with --class UID (or its keyword)');
  if (/^[0-9.]+$/.test(text)) return text;
  const entry = lookupUidKeyword(text);
  if (!entry) throw new UsageError(`unknown SOP class keyword '${text}'`);
  return entry.uid;
}

/** Prints a DIMSE-N result: the status, the SOP instance, the reply data set one attribute a line. */
function printResult(io: Io, values: CommonValues, operation: Operation, result: NResult): void {
  if (values.json) {
    writeRecord(io, 'result', { operation, ...result });
    return;
  }
  if (values.quiet) return;
  const instance = result.sopInstanceUid ? ` ${result.sopInstanceUid}` : '';
  io.out(`${operation}${instance}: ${statusText(result.status)}`);
  for (const [hex, attr] of Object.entries(result.dataSet ?? {})) {
    io.out(`  ${keywordOf(parseTag(hex) ?? 0)}: ${formatValue(attr)}`);
  }
}

const HELPS: Readonly<
  Record<Operation, { name: string; usage: string; text: string; example: string }>
> = {
  'N-GET': {
    name: 'nget',
    usage: '--class UID --instance UID [-k Keyword]...',
    text: 'Reads attributes of a SOP instance with N-GET (PS3.7 §10.1.2); -k keys name the attributes (all when none).',
    example:
      '--class ModalityPerformedProcedureStep --instance 1.2.3 -k PerformedProcedureStepStatus',
  },
  'N-SET': {
    name: 'nset',
    usage: '--class UID --instance UID -k Keyword=value...',
    text: 'Changes attributes of a SOP instance with N-SET (PS3.7 §10.1.3).',
    example:
      '--class ModalityPerformedProcedureStep --instance 1.2.3 -k PerformedProcedureStepStatus=COMPLETED',
  },
  'N-ACTION': {
    name: 'naction',
    usage: '--class UID --instance UID --action N [-k Keyword=value]...',
    text: 'Asks for an action with N-ACTION (PS3.7 §10.1.4); -k keys make the Action Information.',
    example:
      '--class 1.2.840.10008.1.20.1 --instance 1.2.840.10008.1.20.1.1 --action 1 -k TransactionUID=2.25.1',
  },
  'N-CREATE': {
    name: 'ncreate',
    usage: '--class UID [--instance UID] -k Keyword=value...',
    text: 'Creates a SOP instance with N-CREATE (PS3.7 §10.1.5); without --instance the SCP chooses its UID.',
    example:
      '--class ModalityPerformedProcedureStep -k PerformedProcedureStepStatus="IN PROGRESS" -k Modality=CT',
  },
  'N-DELETE': {
    name: 'ndelete',
    usage: '--class UID --instance UID',
    text: 'Deletes a SOP instance with N-DELETE (PS3.7 §10.1.6).',
    example: '--class 1.2.840.10008.5.1.1.40 --instance 1.2.3',
  },
};

function nCommand(operation: Operation): Command {
  const h = HELPS[operation];
  const help = `Usage: dnet-scu ${h.name} <host> <port> ${h.usage} [options]

${h.text}

Options:
  --class UID          the SOP class, as a UID or a keyword of the UID registry
  --instance UID       the SOP instance
  -k, --query KEY[=VALUE]  attributes, as for find
${operation === 'N-ACTION' ? '  --action N           Action Type ID (0000,1008)\n' : ''}
${COMMON_HELP}

Examples:
  dnet-scu ${h.name} 127.0.0.1 11112 ${h.example}`;
  return {
    summary: `${`${h.name} <host> <port> --class UID`.padEnd(34)} ${operation}`,
    async run(argv, io) {
      const { values, positionals } = parseCommand(argv, N_OPTIONS);
      if (values.help) return printHelp(io, help);
      const peer = peerOf(positionals);
      const sopClassUid = sopClassOf(values.class);
      const instance = values.instance;
      if (!instance && operation !== 'N-CREATE')
        throw new UsageError('give the SOP instance with --instance UID');
      const attributes = parseKeys(values.query ?? []);
      const action = integerOption('action', values.action, 0xffff);
      if (operation === 'N-ACTION' && action === undefined)
        throw new UsageError('give the Action Type ID with --action N');
      const client = await connect(
        values,
        peer,
        [
          {
            abstractSyntax: sopClassUid,
            transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
          },
        ],
        { signal: io.signal },
      );
      if (values.verbose) logContexts(io, client);
      const signal = io.signal ? { signal: io.signal } : {};
      try {
        const result = await {
          'N-GET': () =>
            client.nGet(sopClassUid, instance!, {
              ...signal,
              attributes: Object.keys(attributes).map((hex) => Number.parseInt(hex, 16)),
            }),
          'N-SET': () => client.nSet(sopClassUid, instance!, attributes, signal),
          'N-ACTION': () =>
            client.nAction(
              sopClassUid,
              instance!,
              action!,
              Object.keys(attributes).length ? attributes : undefined,
              signal,
            ),
          'N-CREATE': () =>
            client.nCreate(sopClassUid, attributes, {
              ...signal,
              ...(instance && { sopInstanceUid: instance }),
            }),
          'N-DELETE': () => client.nDelete(sopClassUid, instance!, signal),
        }[operation]();
        printResult(io, values, operation, result);
      } finally {
        await finish(client, io);
      }
      return ExitStatus.OK;
    },
  };
}

const COMMIT_HELP = `Usage: dnet-scu commit <host> <port> <file-or-folder>... [options]

Asks the peer to commit to keeping the instances of these Part 10 files
(Storage Commitment Push Model, PS3.4 Annex J): N-ACTION with their
references, then waits for the N-EVENT-REPORT on the same association. Exit 0
only when every instance is committed.

Options:
  --wait S             longest wait for the report, in seconds (default 60)
  --listen [HOST:]PORT also take the report on a new association the peer opens
                       to us (--aet) at this address, as most archives send it
                       (PS3.4 J.3.3.1); HOST defaults to all interfaces

${COMMON_HELP}

Examples:
  dnet-scu commit 127.0.0.1 11112 --aec PACS ./sent/
  dnet-scu commit pacs 104 --aec PACS ct.dcm --wait 300 --json
  dnet-scu commit 127.0.0.1 4242 --aec ORTHANC --listen 11113 ./sent/`;

/** `dnet-scu commit`: Storage Commitment of files already stored. */
export const commit: Command = {
  summary: 'commit <host> <port> <path>...     storage commitment of stored files',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, {
      wait: { type: 'string' },
      listen: { type: 'string' },
    });
    if (values.help) return printHelp(io, COMMIT_HELP);
    const listenAt = values.listen?.match(/^(?:(.+):)?(\d+)$/);
    if (values.listen !== undefined && !listenAt)
      throw new UsageError('--listen takes [HOST:]PORT');
    const peer = peerOf(positionals);
    if (positionals.length < 3) throw new UsageError('give at least one file or folder');
    const waitS = integerOption('wait', values.wait, 86_400) ?? 60;
    const files = await dicomFilesOf(positionals.slice(2), io, values);
    if (files.length === 0) throw new UsageError('no DICOM files to commit');
    // The report may come on a new association to our AE (PS3.4 J.3.3.1): listen for it first.
    const listener = listenAt ? new CommitmentListener() : undefined;
    const server = listenAt
      ? await Server.listen({
          transport: await transportOf(values),
          host: listenAt[1] ?? '0.0.0.0',
          port: integerOption('listen', listenAt[2], 65535)!,
          aeTitle: values.aet,
          handlers: { nServices: [listener!.service] },
        })
      : undefined;
    server?.on('association', (a) => {
      if (values.verbose) io.err(`report association from ${a.info.callingAeTitle}`);
    });
    server?.on('error', (error) => io.err(`warning: report listener: ${describeError(error)}`));
    const client = await connect(values, peer, [storageCommitment()], { signal: io.signal }).catch(
      async (error) => {
        await server?.close({ timeoutMs: 1000 });
        throw error;
      },
    );
    if (values.verbose) logContexts(io, client);
    try {
      const refs = files.map((f) => ({
        sopClassUid: f.sopClassUid,
        sopInstanceUid: f.sopInstanceUid,
      }));
      const report = await client.commit(refs, {
        ...(listener && { listener }),
        timeoutMs: waitS * 1000,
        ...(io.signal && { signal: io.signal }),
      });
      if (!values.json)
        for (const f of report.failed)
          io.err(`${f.sopInstanceUid}: not committed, ${statusText(f.reason)}`);
      if (values.json) writeRecord(io, 'result', { operation: 'commit', ...report });
      else if (!values.quiet) {
        io.out(
          `committed ${report.committed.length} of ${refs.length} instances (transaction ${report.transactionUid})`,
        );
      }
      return report.failed.length === 0 && report.committed.length === refs.length
        ? ExitStatus.OK
        : ExitStatus.FAILED;
    } finally {
      await finish(client, io);
      await server?.close({ timeoutMs: 1000 });
    }
  },
};

const MPPS_HELP = `Usage: dnet-scu mpps <host> <port> create|complete|discontinue [--instance UID] [-k KEY=VALUE]... [options]

Modality Performed Procedure Step (PS3.4 Annex F.7): \`create\` sends the
N-CREATE of a step IN PROGRESS (the SCP chooses its UID unless --instance is
given) and prints its UID; \`complete\` and \`discontinue\` send the N-SET that
ends it (PS3.4 F.7.2.2: the final state is COMPLETED or DISCONTINUED).

Options:
  --instance UID       the procedure step (required to complete or discontinue)
  -k, --query KEY[=VALUE]  attributes, as for find

${COMMON_HELP}

Examples:
  dnet-scu mpps 127.0.0.1 11112 create -k Modality=CT -k PerformedStationAETitle=CT1
  dnet-scu mpps 127.0.0.1 11112 complete --instance 2.25.42 -k PerformedProcedureStepEndTime=101500`;

/** PS3.4 F.7.2.1: Performed Procedure Step Status (0040,0252) values. */
const MPPS_STATUS = {
  /** create: the step has started */
  create: 'IN PROGRESS',
  /** the step is over */
  complete: 'COMPLETED',
  /** the step was stopped */
  discontinue: 'DISCONTINUED',
} as const;

/** `dnet-scu mpps`: N-CREATE and N-SET of a Modality Performed Procedure Step. */
export const mpps: Command = {
  summary: 'mpps <host> <port> create|complete  Modality Performed Procedure Step',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, N_OPTIONS);
    if (values.help) return printHelp(io, MPPS_HELP);
    const peer = peerOf(positionals);
    const action = positionals[2] as keyof typeof MPPS_STATUS | undefined;
    if (!action || !(action in MPPS_STATUS))
      throw new UsageError('give create, complete or discontinue');
    if (action !== 'create' && !values.instance)
      throw new UsageError(`give the step to ${action} with --instance UID`);
    const attributes = parseKeys(values.query ?? []);
    attributes['00400252'] ??= { vr: 'CS', Value: [MPPS_STATUS[action]] };
    const client = await connect(values, peer, [mppsContext()], { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    const signal = io.signal ? { signal: io.signal } : {};
    try {
      const result =
        action === 'create'
          ? await client.nCreate(MPPS_CLASS, attributes, {
              ...signal,
              ...(values.instance && { sopInstanceUid: values.instance }),
            })
          : await client.nSet(MPPS_CLASS, values.instance!, attributes, signal);
      printResult(io, values, action === 'create' ? 'N-CREATE' : 'N-SET', {
        ...result,
        sopInstanceUid: result.sopInstanceUid ?? values.instance,
      });
    } finally {
      await finish(client, io);
    }
    return ExitStatus.OK;
  },
};

/** The DIMSE-N commands: nget, nset, naction, ncreate, ndelete. */
export const nCommands: Readonly<Record<string, Command>> = Object.fromEntries(
  (Object.keys(HELPS) as Operation[]).map((op) => [HELPS[op].name, nCommand(op)]),
);
