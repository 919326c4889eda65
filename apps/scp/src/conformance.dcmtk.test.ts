import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SopClass } from '@dnet/services';
import { describePeer, runTool } from '@dnet/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseCommandLine } from './config.js';
import { conformanceStatement } from './conformance.js';
import { parseStatement, type StatedFacts } from './conformance.test-support.js';
import { type InProcessScp, startInProcess } from './in-process-scp.test-support.js';
import { CT_IMAGE_STORAGE, syntheticImages } from './synthetic-images.js';

/** DCMTK's names (`-d` dumps) of the transfer syntaxes these tests propose. */
const DCMTK_TS: Record<string, string> = {
  LittleEndianImplicit: '1.2.840.10008.1.2',
  LittleEndianExplicit: '1.2.840.10008.1.2.1',
  DeflatedLittleEndianExplicit: '1.2.840.10008.1.2.1.99',
  BigEndianExplicit: '1.2.840.10008.1.2.2',
};

/**
 * The A-ASSOCIATE-AC of a DCMTK `-d` log: the peer's identity and each
 * context's outcome, with the first transfer syntax the tool proposed for it.
 */
function acOf(log: string) {
  // The last parameter dump is the negotiated one (the first is the request's).
  const split = log.lastIndexOf('Their Implementation Class UID');
  const [rq, ac] = [log.slice(0, split), log.slice(split)];
  const their = (what: string) =>
    new RegExp(`Their Implementation ${what}:[ \\t]*(\\S+)`).exec(ac)?.[1];
  const line = String.raw`\n\S+\s+`;
  const firstProposed = new Map(
    [
      ...rq.matchAll(
        new RegExp(
          String.raw`Context ID:\s+(\d+) \(Proposed\)${line}Abstract Syntax: =\S+(?:${line}Proposed SCP/SCU Role: .*)?${line}Proposed Transfer Syntax\(es\):${line}=(\S+)`,
          'g',
        ),
      ),
    ].map((m) => [m[1], m[2]]),
  );
  const context = new RegExp(
    String.raw`Context ID:\s+(\d+) \(([^)]+)\)${line}Abstract Syntax: =(\S+)(?:${line}(?:Proposed|Accepted) SCP/SCU Role: .*)*(?:${line}Accepted Transfer Syntax: =(\S+))?`,
    'g',
  );
  const contexts = [...ac.matchAll(context)].map((m) => ({
    result: m[2],
    abstractSyntax: m[3],
    transferSyntax: m[4] && (DCMTK_TS[m[4]] ?? m[4]),
    firstProposed: firstProposed.get(m[1]!),
  }));
  return { classUid: their('Class UID'), versionName: their('Version Name'), contexts };
}

describePeer(
  ['echoscu', 'storescu', 'findscu', 'dcmconv'],
  'dnet-scp conformance with DCMTK',
  () => {
    let dir: string;
    let scp: InProcessScp;
    let facts: StatedFacts;
    let port: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-conformance-dcmtk-'));
      // The default services: no worklist, so Modality Worklist is not in the statement.
      const options = ['--host', '127.0.0.1', '--port', '0', '--storage', join(dir, 'storage')];
      scp = await startInProcess(options);
      port = String(scp.port);
      facts = parseStatement(await conformanceStatement(parseCommandLine(options).config!));
    }, 30_000);

    afterAll(async () => {
      await scp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('echoscu: Verification is accepted and the AC names the stated implementation', async () => {
      expect(facts.accepted.get(SopClass.VERIFICATION)?.transferSyntaxes).toBe('any');
      // -pts 5: five transfer syntaxes proposed; "any" takes the first (Implicit VR LE, DCMTK's).
      const r = await runTool('echoscu', ['-d', '-pts', '5', '-aec', 'DNETSCP', '127.0.0.1', port]);
      expect(r.code, r.stderr).toBe(0);
      const ac = acOf(r.stdout + r.stderr);
      expect(ac.classUid).toBe(facts.implementationClassUid);
      expect(ac.versionName).toBe(facts.implementationVersionName);
      expect(ac.contexts).toEqual([
        {
          result: 'Accepted',
          abstractSyntax: 'VerificationSOPClass',
          transferSyntax: DCMTK_TS.LittleEndianImplicit,
          firstProposed: 'LittleEndianImplicit',
        },
      ]);
    });

    it('storescu: a listed class is accepted with the first transfer syntax proposed, and stored', async () => {
      const [image] = await syntheticImages(join(dir, 'images'), { count: 1, size: 16 });
      const deflated = join(dir, 'deflated.dcm');
      expect((await runTool('dcmconv', ['+td', image!.path, deflated])).code).toBe(0);
      expect(facts.accepted.get(CT_IMAGE_STORAGE)?.transferSyntaxes).toBe('any');
      // -R: only the file's class, with its own transfer syntax and those it can be converted to.
      const r = await runTool('storescu', [
        '-R',
        '-d',
        '-aec',
        'DNETSCP',
        '127.0.0.1',
        port,
        deflated,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const { contexts } = acOf(r.stdout + r.stderr);
      expect(contexts.length).toBeGreaterThan(0);
      for (const c of contexts) {
        // Group "any": accepted, with the requestor's first proposal.
        expect(c).toMatchObject({ result: 'Accepted', abstractSyntax: 'CTImageStorage' });
        expect(c.transferSyntax).toBe(DCMTK_TS[c.firstProposed!] ?? c.firstProposed);
      }
      expect(await scp.scp.index.get(image!.sopInstanceUid)).toBeDefined();
    });

    it('findscu: an unlisted transfer syntax proposed first is passed over for the stated one', async () => {
      const stated = facts.accepted.get(SopClass.STUDY_ROOT_FIND)?.transferSyntaxes;
      expect(Array.isArray(stated) && !stated.includes(DCMTK_TS.BigEndianExplicit!)).toBe(true);
      // -xb: Explicit VR Big Endian first, then the little endian ones.
      const r = await runTool('findscu', [
        ...['-S', '-xb', '-d', '-aec', 'DNETSCP'],
        ...['-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID'],
        ...['127.0.0.1', port],
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(acOf(r.stdout + r.stderr).contexts).toEqual([
        {
          result: 'Accepted',
          abstractSyntax: 'FINDStudyRootQueryRetrieveInformationModel',
          transferSyntax: (stated as string[])[0],
          firstProposed: 'BigEndianExplicit',
        },
      ]);
    });

    it('findscu: an unlisted class (Modality Worklist without --worklist) is rejected as the statement implies', async () => {
      expect(facts.accepted.has(SopClass.MODALITY_WORKLIST_FIND)).toBe(false);
      const r = await runTool('findscu', [
        '-W',
        '-d',
        '-aec',
        'DNETSCP',
        '-k',
        'PatientName',
        '127.0.0.1',
        port,
      ]);
      expect(r.code).not.toBe(0);
      expect(acOf(r.stdout + r.stderr).contexts).toEqual([
        {
          result: 'Abstract Syntax Not Supported',
          abstractSyntax: 'FINDModalityWorklistInformationModel',
          transferSyntax: undefined,
          firstProposed: expect.any(String),
        },
      ]);
    });
  },
);
