import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { lookupUid, lookupUidKeyword } from '@dnet/dataset';
import {
  type ReceivedInstance,
  type RetrieveProgress,
  retrieveContexts,
  storageSopClasses,
  storeToFolder,
} from '@dnet/services';
import { type Command, finish, logContexts, printHelp } from '../command.js';
import { statusText } from '../describe-error.js';
import { LocalIoError, UsageError } from '../errors.js';
import { errorFields, writeRecord } from '../json-output.js';
import { removeLeftovers, removeOwnTemporary } from '../leftover-files.js';
import { COMMON_HELP, connect, parseCommand, peerOf } from '../options.js';
import { progressBar } from '../progress.js';
import { QUERY_HELP, QUERY_OPTIONS, queryPlan } from '../query-options.js';
import { type RetrieveOutcome, reportRetrieve, writeResponse } from '../retrieve-report.js';

const HELP = `Usage: dnet-scu get <host> <port> --out DIR -k KEY=VALUE... [options]

Retrieves the matching instances with C-GET (PS3.4 §C.4.3): they come back on
the same association (no port to open) and are written to DIR as
<SOPInstanceUID>.dcm Part 10 files; DCMTK's getscu. Ctrl-C cancels (C-CANCEL)
and then aborts the association. A file that cannot be written here (disk
full or read-only) is said as a local error with its path; the peer gets the
sub-operation's failure status (A700H, out of resources, PS3.4 B.2.3).
Temporary files of runs that were killed are removed at the next run in DIR.
The Storage SOP classes are proposed with the SCP role (PS3.7 Annex D.3.3.4).
An association holds at most 127 of them besides the C-GET context (PS3.8
§9.3.2.2: odd context IDs 1-255), so by default every current (not retired)
Storage class is proposed except the specialised families that a clinical
study does not hold: security screening (DICOS), eddy current (DICONDE),
the "For Processing" variants, second-generation RT, protocol storage,
ophthalmic measurements, and hanging protocols, color palettes and implant
templates (these have Query/Retrieve models of their own).

Options:
  --out DIR            where the files go, created if needed (DCMTK: -od)
  --storage-class X    propose only these Storage classes (keyword such as
                       CTImageStorage, or UID; repeatable, at most 127)

${QUERY_HELP}

${COMMON_HELP}

Examples:
  dnet-scu get 127.0.0.1 11112 --out ./study -k StudyInstanceUID=1.2.840.113619.2.1
  dnet-scu get pacs 104 --aec PACS --out ./p -P --level PATIENT -k PatientID=12345`;

/**
 * Storage SOP classes left out of the default proposal, by PS3.6 keyword:
 * families that do not occur in a clinical imaging study, so that every other
 * current class fits in the 127 contexts an association has left.
 */
const SPECIALISED_STORAGE =
  /^(?:DICOS|EddyCurrent|HangingProtocol|ColorPalette|GenericImplantTemplate|ImplantAssemblyTemplate|ImplantTemplateGroup|ProtocolApproval|RTPhysicianIntent|RTSegmentAnnotation|RTRadiation|RTTreatmentPreparation|CArmPhotonElectron|Tomotherapeutic|Robotic|RTBeamsDeliveryInstruction|RTBrachyApplicationSetupDeliveryInstruction|Lensometry|Autorefraction|Keratometry|SubjectiveRefraction|VisualAcuity|SpectaclePrescription|OphthalmicAxial|IntraocularLens|MacularGrid|OphthalmicVisualField|OphthalmicThickness|CornealTopography)|ProcedureProtocolStorage$|ForProcessing$/;

/** PS3.8 §9.3.2.2: 128 presentation contexts (odd IDs 1-255), one for the C-GET itself. */
export const MAX_STORAGE_CONTEXTS = 127;

/**
 * The Storage SOP classes a C-GET proposes: the ones named with
 * --storage-class, or every current one of the registry (PS3.6 Table A-1)
 * outside {@link SPECIALISED_STORAGE}.
 */
export function wantedStorageClasses(named: readonly string[] = []): string[] {
  if (named.length > 0) {
    const uids = [
      ...new Set(
        named.map((n) => {
          const uid = /^[0-9.]+$/.test(n) ? n : lookupUidKeyword(n)?.uid;
          if (!uid) throw new UsageError(`unknown SOP class '${n}' in --storage-class`);
          return uid;
        }),
      ),
    ];
    if (uids.length > MAX_STORAGE_CONTEXTS)
      throw new UsageError(
        `at most ${MAX_STORAGE_CONTEXTS} --storage-class values fit in one association`,
      );
    return uids;
  }
  const current = storageSopClasses().filter((uid) => {
    const entry = lookupUid(uid);
    return entry !== undefined && !entry.retired && !SPECIALISED_STORAGE.test(entry.keyword);
  });
  return current.slice(0, MAX_STORAGE_CONTEXTS);
}

/** `dnet-scu get`: C-GET into a folder, with a progress bar. */
export const get: Command = {
  summary: 'get <host> <port> --out DIR -k     C-GET into a folder',
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, {
      ...QUERY_OPTIONS,
      out: { type: 'string', short: 'o' },
      'storage-class': { type: 'string', multiple: true },
    });
    if (values.help) return printHelp(io, HELP);
    const peer = peerOf(positionals);
    const out = values.out;
    if (!out) throw new UsageError('give the folder for the files with --out DIR');
    const { query, target, context } = queryPlan(values, 'get');
    try {
      await mkdir(out, { recursive: true });
    } catch (error) {
      throw new LocalIoError('create the folder', out, error);
    }
    for (const name of await removeLeftovers(out))
      if (values.verbose) io.err(`removed ${join(out, name)}, left by a run that was killed`);
    const contexts = [
      context,
      ...retrieveContexts('study', wantedStorageClasses(values['storage-class'] ?? [])).slice(1),
    ];
    const client = await connect(values, peer, contexts, { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    const bar = await progressBar(io, 'get', values.quiet);
    const started = performance.now();
    let [received, failed, bytes, total] = [0, 0, 0, 0];
    // Local write failures by system error: the first path and how many files.
    const local = new Map<string, { first: LocalIoError; count: number }>();
    async function* counted(data: AsyncIterable<Uint8Array>) {
      for await (const chunk of data) {
        bytes += chunk.length;
        yield chunk;
      }
    }
    const sink = async (instance: ReceivedInstance) => {
      const fileName = `${instance.sopInstanceUid}.dcm`;
      const path = join(out, fileName);
      const about = { sopInstanceUid: instance.sopInstanceUid, sopClassUid: instance.sopClassUid };
      let status: number;
      try {
        status = await storeToFolder(out)(
          { ...instance, dataSet: counted(instance.dataSet) },
          { callingAeTitle: values.aec },
        );
      } catch (error) {
        await removeOwnTemporary(out, fileName);
        const e = new LocalIoError('write', path, error);
        failed++;
        const seen = local.get(e.errno);
        if (seen) seen.count++;
        else local.set(e.errno, { first: e, count: 1 });
        if (values.json) writeRecord(io, 'instance', { ...about, path, error: errorFields(e) });
        else if (values.verbose) io.err(`local error: ${e.message}`);
        bar.update(received, failed, bytes);
        // @dnet/services answers the sub-operation with A700H (out of resources, PS3.4 B.2.3).
        throw error;
      }
      if (status === 0) received++;
      else failed++;
      if (values.json)
        writeRecord(io, 'instance', {
          ...about,
          ...(status === 0 && { path }),
          status,
          statusText: statusText(status, 'C-STORE'),
        });
      bar.update(received, failed, bytes);
      return status;
    };
    let last: RetrieveProgress | undefined;
    let outcome: RetrieveOutcome;
    try {
      const result = await client.get(query, {
        ...target,
        sink,
        ...(io.signal && { signal: io.signal }),
        onProgress: (p) => {
          last = p;
          if (values.json) writeResponse(io, 'C-GET', p);
          total = Math.max(total, p.completed + p.failed + p.warning + (p.remaining ?? 0));
          bar.total(total);
        },
      });
      outcome = { result };
    } catch (error) {
      outcome = { error, last };
    } finally {
      bar.stop();
      await finish(client, io);
    }
    const localFailures = [...local.values()].map(({ first, count }) => {
      const more =
        count > 1 ? ` (${count - 1} more file${count === 2 ? '' : 's'} not written)` : '';
      return `dnet-scu get: local error: ${first.message}${more}`;
    });
    return reportRetrieve(io, 'C-GET', outcome, {
      ...values,
      command: 'get',
      verb: `received`,
      bytes,
      ms: performance.now() - started,
      localFailures,
    });
  },
};
