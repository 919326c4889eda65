import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uidEntries } from '@dnet/dataset';
import {
  Client,
  type ClientOptions,
  type ContextSpec,
  hashPassword,
  QUERY_MODELS,
  SopClass,
  storageSopClasses,
  verification,
} from '@dnet/services';
import { hasCommand } from '@dnet/testkit';
import { makeTestPki, type TestPki } from '@dnet/testkit/pki';
import { TLS_DEFAULTS, TLS_PROFILES, tls } from '@dnet/tls';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from './config.js';
import { conformanceStatement } from './conformance.js';
import {
  parseStatement,
  type StatedContext,
  type StatedFacts,
} from './conformance.test-support.js';
import { EXTENDED_NEGOTIATION_NAMES } from './conformance-markdown.js';
import { type InProcessScp, startInProcess } from './in-process-scp.test-support.js';
import { main } from './main.js';

/** The sample statement of the default configuration, kept current by the last test. */
const SAMPLE = join(import.meta.dirname, '../../../docs/conformance-dnet-scp.md');

/** PS3.8 Table 9-18 results. */
const ACCEPTANCE = 0;
const ABSTRACT_SYNTAX_NOT_SUPPORTED = 3;
const TRANSFER_SYNTAXES_NOT_SUPPORTED = 4;

/** Every SOP class of the services dnet-scp may serve: verification, storage, query/retrieve, worklist, commitment, and two N-services it does not. */
const CLASSES = [
  ...new Set([
    SopClass.VERIFICATION,
    ...storageSopClasses(),
    ...Object.values(QUERY_MODELS).flatMap((m) => [m.find, m.move, m.get]),
    SopClass.MODALITY_WORKLIST_FIND,
    SopClass.STORAGE_COMMITMENT_PUSH_MODEL,
    SopClass.MODALITY_PERFORMED_PROCEDURE_STEP,
    SopClass.INSTANCE_AVAILABILITY_NOTIFICATION,
  ]),
];

/** Every transfer syntax of the UID registry (PS3.6 Table A-1), and a private one. */
const TRANSFER_SYNTAXES = [
  ...uidEntries()
    .filter((e) => e.type === 'Transfer Syntax')
    .map((e) => e.uid),
  '1.2.826.0.1.3680043.2.1143.999.1',
];

/** What the statement implies for one context proposing `ts` alone for `uid`. */
function expected(stated: StatedContext | undefined, ts: string): number {
  if (!stated) return ABSTRACT_SYNTAX_NOT_SUPPORTED;
  if (stated.transferSyntaxes === 'any' || stated.transferSyntaxes.includes(ts)) return ACCEPTANCE;
  return TRANSFER_SYNTAXES_NOT_SUPPORTED;
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

describe('dnet-scp conformance', () => {
  let dir: string;
  let scp: InProcessScp;
  let markdown: string;
  let facts: StatedFacts;
  /** The options of both the server and the statement (a non-default configuration). */
  let options: string[];

  const connect = (contexts: ContextSpec[], maxOperations?: number) =>
    Client.connect({
      transport: tcp(),
      host: '127.0.0.1',
      port: scp.port,
      callingAeTitle: 'CONFTEST',
      calledAeTitle: 'CONFSCP',
      contexts,
      ...(maxOperations !== undefined && { maxOperations }),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnet-scp-conformance-'));
    await mkdir(join(dir, 'worklist'));
    options = [
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--aet',
      'CONFSCP',
      '--storage',
      join(dir, 'storage'),
      '--worklist',
      join(dir, 'worklist'),
      '--max-pdu',
      '65536',
      '--peer',
      'MOVEDEST=127.0.0.1:1',
    ];
    scp = await startInProcess(options);
    // The statement as the command line prints it, for the same options.
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['conformance', ...options], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect(code, err.join('\n')).toBe(0);
    markdown = `${out.join('\n')}\n`;
    facts = parseStatement(markdown);
  }, 30_000);

  afterAll(async () => {
    await scp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the statement of exactly the options given', async () => {
    expect(markdown).toBe(await conformanceStatement(parseCommandLine(options).config!));
    expect(markdown).toContain('Application Entity `CONFSCP`');
    // --worklist adds Modality Worklist; --peer a remote AE.
    expect(facts.accepted.has(SopClass.MODALITY_WORKLIST_FIND)).toBe(true);
    expect(markdown).toMatch(/\| MOVEDEST \| 127\.0\.0\.1 \| 1 \|/);
    expect(facts.maxPduLength).toBe(65536);
  });

  it('lists every Storage SOP class as accepted', () => {
    for (const uid of storageSopClasses()) expect(facts.accepted.has(uid), uid).toBe(true);
  });

  it('is what the A-ASSOCIATE-AC answers, for every class with every transfer syntax, identity and PDU length included', async () => {
    const pairs = CLASSES.flatMap((uid) => TRANSFER_SYNTAXES.map((ts) => ({ uid, ts })));
    const wrong: string[] = [];
    const results = new Map<number, number>();
    let associations = 0;
    // At most 128 presentation contexts per association (PS3.8 §9.3.2.2).
    for (const chunk of chunks(pairs, 128)) {
      const client = await connect(
        chunk.map(({ uid, ts }) => ({ abstractSyntax: uid, transferSyntaxes: [ts] })),
      );
      try {
        associations++;
        const n = client.association.negotiation!;
        expect(n.acceptorImplementation).toEqual({
          classUid: facts.implementationClassUid,
          versionName: facts.implementationVersionName,
        });
        expect(n.acceptorMaxPduLength).toBe(facts.maxPduLength);
        n.contexts.forEach((c, i) => {
          const { uid, ts } = chunk[i]!;
          const want = expected(facts.accepted.get(uid), ts);
          results.set(c.result, (results.get(c.result) ?? 0) + 1);
          if (c.result !== want) wrong.push(`${uid} with ${ts}: ${c.result}, stated ${want}`);
          if (want === ACCEPTANCE && c.transferSyntax !== ts)
            wrong.push(`${uid}: ${c.transferSyntax}`);
        });
      } finally {
        await client.release();
      }
    }
    expect(associations).toBe(Math.ceil(pairs.length / 128));
    expect(wrong).toEqual([]);
    // Not vacuous: the statement's tables decide acceptances and both kinds of rejection.
    for (const result of [
      ACCEPTANCE,
      ABSTRACT_SYNTAX_NOT_SUPPORTED,
      TRANSFER_SYNTAXES_NOT_SUPPORTED,
    ]) {
      expect(results.get(result), `result ${result}`).toBeGreaterThan(0);
    }
  }, 120_000);

  it('chooses the transfer syntax and answers the roles the statement names', async () => {
    // Every known transfer syntax proposed, in reverse order, and both roles asked.
    const proposed = [...TRANSFER_SYNTAXES].reverse();
    const stated = [...facts.accepted.values()];
    const wrong: string[] = [];
    for (const chunk of chunks(stated, 128)) {
      const client = await connect(
        chunk.map((s) => ({ abstractSyntax: s.uid, transferSyntaxes: proposed, role: 'both' })),
      );
      try {
        client.association.negotiation!.contexts.forEach((c, i) => {
          const s = chunk[i]!;
          // "any": the requestor's first; otherwise the statement's first that was proposed.
          const ts = s.transferSyntaxes === 'any' ? proposed[0] : s.transferSyntaxes[0];
          if (c.transferSyntax !== ts) wrong.push(`${s.uid}: ${c.transferSyntax}, stated ${ts}`);
          if (c.requestorScu !== s.roles.has('SCP'))
            wrong.push(`${s.uid}: requestor SCU ${c.requestorScu}`);
          if (c.requestorScp !== s.roles.has('SCU'))
            wrong.push(`${s.uid}: requestor SCP ${c.requestorScp}`);
        });
      } finally {
        await client.release();
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers extended negotiation and the operations window as stated', async () => {
    const qr = [...facts.accepted.values()].filter((s) =>
      Object.values(QUERY_MODELS).some((m) => [m.find, m.move, m.get].includes(s.uid)),
    );
    expect(qr.length).toBeGreaterThan(0);
    const client = await connect(
      qr.map((s) => ({
        abstractSyntax: s.uid,
        transferSyntaxes: ['1.2.840.10008.1.2'],
        // Every option proposed (PS3.4 §C.5.1.1, §C.5.2.1, §C.5.3.1).
        extendedNegotiation: new Uint8Array(7).fill(1),
      })),
      100,
    );
    try {
      for (const s of qr) {
        const isFind = Object.values(QUERY_MODELS).some((m) => m.find === s.uid);
        const agreed: object = isFind
          ? client.queryExtendedNegotiation({ sopClassUid: s.uid })
          : client.retrieveExtendedNegotiation(
              Object.values(QUERY_MODELS).some((m) => m.move === s.uid) ? 'move' : 'get',
              { sopClassUid: s.uid },
            );
        const names = Object.entries(agreed)
          .filter(([, on]) => on)
          .map(([option]) => EXTENDED_NEGOTIATION_NAMES[option]);
        const cell = names.length > 0 ? `Answered: ${names.join(', ')}` : 'None';
        expect(s.extendedNegotiation, s.uid).toBe(cell);
      }
      // 100 invoked / 1 performed proposed: the smaller of each is granted (PS3.7 Annex D.3.3.3).
      expect(client.association.negotiation!.asyncOperationsWindow).toEqual({
        maxInvoked: Math.min(100, facts.window.maxInvoked),
        maxPerformed: Math.min(1, facts.window.maxPerformed),
      });
    } finally {
      await client.release();
    }
  });

  it('rejects an association as its rejection table says', async () => {
    const row = facts.rejections.find((r) => r.condition.startsWith('Called AE title other than'));
    expect(row).toBeDefined();
    const { result, source, reason } = row!;
    await expect(
      Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'CONFTEST',
        calledAeTitle: 'NOTOURS',
        contexts: [verification()],
      }),
    ).rejects.toMatchObject({ result, source, reason });
    // A requestor whose Maximum Length Received is below the stated floor (PS3.8 Annex D.1).
    const small = facts.rejections.find((r) => r.condition.startsWith('Maximum Length Received'));
    const floor = Number(/below (\d+) bytes/.exec(small?.condition ?? '')?.[1]);
    expect(floor).toBeGreaterThan(1);
    await expect(
      Client.connect({
        transport: tcp(),
        host: '127.0.0.1',
        port: scp.port,
        callingAeTitle: 'CONFTEST',
        calledAeTitle: 'CONFSCP',
        contexts: [verification()],
        maxPduLength: floor - 1,
      }),
    ).rejects.toMatchObject({
      result: small!.result,
      source: small!.source,
      reason: small!.reason,
    });
  });

  it('keeps docs/conformance-dnet-scp.md current (the statement of the default configuration)', async () => {
    const fresh = await conformanceStatement(parseCommandLine([]).config!);
    if (process.env.DNET_UPDATE_CONFORMANCE === '1') await writeFile(SAMPLE, fresh);
    const committed = await readFile(SAMPLE, 'utf8').catch(() => '');
    expect(
      committed === fresh,
      'docs/conformance-dnet-scp.md is stale: run `pnpm --filter dnet-scp docs:conformance`',
    ).toBe(true);
  });

  it('says, with --store-as, that images are stored in that syntax (lossless unless --lossy)', async () => {
    const storeAs = await conformanceStatement(
      parseCommandLine(['--store-as', 'jpeg-ls-lossless']).config!,
    );
    expect(storeAs).toContain(
      'stored in JPEG-LS Lossless Image Compression (1.2.840.10008.1.2.4.80, --store-as), transcoded frame by frame',
    );
    expect(storeAs).toContain('the pixel values are kept exactly (lossless)');
    expect(storeAs).toMatch(
      /Transfer syntax of stored images \| JPEG-LS Lossless Image Compression \|/,
    );
    const plain = await conformanceStatement(parseCommandLine([]).config!);
    expect(plain).not.toContain('--store-as),');
    expect(plain).toContain('in the transfer syntax it came in');
    const lossy = await conformanceStatement(
      parseCommandLine(['--store-as', 'jpeg-baseline', '--lossy']).config!,
    );
    expect(lossy).toContain('a new SOP Instance UID under which it is indexed');
    expect(lossy).toContain('Lossy compressed copies of received images');
  });
});

describe.skipIf(!hasCommand('openssl') && !process.env.CI)(
  'dnet-scp conformance with --tls and --users (PS3.15 Annex B, PS3.7 Annex D.3.3.7)',
  () => {
    let dir: string;
    let pki: TestPki;
    let scp: InProcessScp;
    let markdown: string;
    let facts: StatedFacts;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dnet-scp-conformance-tls-'));
      pki = makeTestPki();
      const users = join(dir, 'users.json');
      await writeFile(users, JSON.stringify({ alice: await hashPassword('secret') }));
      const options = [
        ...['--host', '127.0.0.1', '--port', '0', '--storage', join(dir, 'storage')],
        ...['--tls', '--cert', pki.path('server.pem'), '--key', pki.path('server.key')],
        ...['--ca', pki.path('ca.pem'), '--require-client-cert', '--users', users],
      ];
      scp = await startInProcess(options);
      markdown = await conformanceStatement(parseCommandLine(options).config!);
      facts = parseStatement(markdown);
    }, 30_000);

    afterAll(async () => {
      await scp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
      pki?.remove();
    });

    it('names the TLS profile of the listener, its cipher suites and the identity required', () => {
      const profile = TLS_PROFILES[TLS_DEFAULTS.profile];
      expect(markdown).toContain(`DICOM over TLS: the ${profile.section} profile`);
      for (const suite of [...profile.tls12CipherSuites, ...profile.tls13CipherSuites]) {
        expect(markdown).toContain(suite);
      }
      expect(markdown).toContain('Client certificates: required');
      expect(markdown).toMatch(
        /User Identity Negotiation \(PS3\.7 Annex D\.3\.3\.7\) is required: accepted types 2 \(Username and Passcode\)/,
      );
    });

    it('rejects an association without a user identity as its rejection table says', async () => {
      const row = facts.rejections.find((r) => r.condition.startsWith('User identity missing'));
      expect(row).toBeDefined();
      const { result, source, reason } = row!;
      const connect = (userIdentity?: ClientOptions['userIdentity']) =>
        Client.connect({
          transport: tls({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }),
          host: '127.0.0.1',
          port: scp.port,
          callingAeTitle: 'CONFTEST',
          calledAeTitle: 'DNETSCP',
          contexts: [verification()],
          ...(userIdentity && { userIdentity }),
        });
      await expect(connect()).rejects.toMatchObject({ result, source, reason });
      // With the identity the statement asks for, the association is accepted.
      const client = await connect({
        type: 2,
        primaryField: new TextEncoder().encode('alice'),
        secondaryField: new TextEncoder().encode('secret'),
        positiveResponseRequested: false,
      });
      expect(client.association.negotiation!.acceptorImplementation.classUid).toBe(
        facts.implementationClassUid,
      );
      await client.release();
    });
  },
);
