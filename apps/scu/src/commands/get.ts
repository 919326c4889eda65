import { mkdir } from 'node:fs/promises';
import { lookupUid, lookupUidKeyword } from '@dnet/dataset';
import {
  type ReceivedInstance,
  retrieveContexts,
  storageSopClasses,
  writeToFolder,
} from '@dnet/services';
import { type Command, finish, logContexts, printHelp } from '../command.js';
import { UsageError } from '../errors.js';
import { COMMON_HELP, connect, parseCommand, peerOf } from '../options.js';
import { progressBar } from '../progress.js';
import { QUERY_HELP, QUERY_OPTIONS, queryPlan } from '../query-options.js';
import { reportRetrieve } from '../retrieve-report.js';

const HELP = `Usage: dnet-scu get <host> <port> --out DIR -k KEY=VALUE... [options]

Retrieves the matching instances with C-GET (PS3.4 §C.4.3): they come back on
the same association (no port to open) and are written to DIR as
<SOPInstanceUID>.dcm Part 10 files; DCMTK's getscu. Ctrl-C cancels (C-CANCEL).
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
    await mkdir(out, { recursive: true });
    const contexts = [
      context,
      ...retrieveContexts('study', wantedStorageClasses(values['storage-class'] ?? [])).slice(1),
    ];
    const client = await connect(values, peer, contexts, { signal: io.signal });
    if (values.verbose) logContexts(io, client);
    const bar = progressBar(io, 'get', values.quiet);
    const started = performance.now();
    let [received, failed, bytes, total] = [0, 0, 0, 0];
    async function* counted(data: AsyncIterable<Uint8Array>) {
      for await (const chunk of data) {
        bytes += chunk.length;
        yield chunk;
      }
    }
    const sink = async (instance: ReceivedInstance) => {
      const status = await writeToFolder(
        out,
        { ...instance, dataSet: counted(instance.dataSet) },
        values.aec,
      );
      if (status === 0) received++;
      else failed++;
      bar.update(received, failed, bytes);
      return status;
    };
    try {
      const result = await client.get(query, {
        ...target,
        sink,
        ...(io.signal && { signal: io.signal }),
        onProgress: (p) => {
          total = Math.max(total, p.completed + p.failed + p.warning + (p.remaining ?? 0));
          bar.total(total);
        },
      });
      bar.stop();
      return reportRetrieve(io, 'C-GET', result, {
        ...values,
        verb: `received`,
        bytes,
        ms: performance.now() - started,
      });
    } finally {
      bar.stop();
      await finish(client);
    }
  },
};
