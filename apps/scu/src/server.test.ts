/**
 * End to end: the built `dnet-scu` against dnet's own Server (@dnet/services)
 * where a test needs to see or steer the SCP side: the user identity sent,
 * failure statuses by name, and Ctrl-C cancelling a C-FIND (C-CANCEL).
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type NRequest, Server } from '@dnet/services';
import { freePort } from '@dnet/testkit';
import { tcp } from '@dnet/transport-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scu, tempDir, uidsOf, useBuiltCli, writeCtFiles } from './scu-cli.test-support.js';

let dir: AsyncDisposable & { path: string };
let cli: AsyncDisposable;
let server: Server;
let files: string[];
const identities: { type: number; user: string; password: string }[] = [];
let findCancelled = false;
let imageQuery: unknown;

const decoder = new TextDecoder();
const at = () => ['127.0.0.1', String(server.port), '--aec', 'DNET'];

beforeAll(async () => {
  dir = await tempDir();
  cli = await useBuiltCli();
  files = await writeCtFiles(dir.path, 1, 1, 2);
  server = await Server.listen({
    transport: tcp(),
    host: '127.0.0.1',
    port: 0,
    aeTitle: 'DNET',
    handlers: {
      echo: (context) => {
        const id = context.userIdentity;
        if (id) {
          identities.push({
            type: id.type,
            user: decoder.decode(id.primaryField),
            password: decoder.decode(id.secondaryField),
          });
        }
      },
      // PS3.4 Table B.2-1: A7xxH, refused: out of resources.
      store: async (instance) => {
        for await (const _ of instance.dataSet);
        return { status: 0xa700, errorComment: 'disk full' };
      },
      find: async function* (request, _context, signal) {
        if (request.level === 'SERIES') throw new Error('no series here');
        if (request.level === 'IMAGE') {
          imageQuery = request.identifier;
          // A handler may answer in the keyword form.
          yield {
            PatientName: 'DOE^JOHN',
            SOPInstanceUID: '1.2.3',
            Rows: 512,
            QueryRetrieveLevel: 'IMAGE',
          };
          return;
        }
        // Matches keep coming until the client cancels (bounded: 200 at most).
        for (let i = 0; i < 200 && !signal.aborted; i++) {
          yield { '00100020': { vr: 'LO', Value: [`PID${i}`] } };
          await new Promise((r) => setTimeout(r, 20));
        }
        findCancelled = signal.aborted;
      },
    },
  });
});

afterAll(async () => {
  await server?.close({ timeoutMs: 1000 });
  await dir?.[Symbol.asyncDispose]();
  await cli?.[Symbol.asyncDispose]();
});

it('sends the user identity: type 1 with --user, type 2 with --password (PS3.7 D.3.3.7)', async () => {
  expect((await scu(['echo', ...at(), '--user', 'alice'])).code).toBe(0);
  expect((await scu(['echo', ...at(), '--user', 'bob', '--password', 's3cret'])).code).toBe(0);
  expect(identities).toEqual([
    { type: 1, user: 'alice', password: '' },
    { type: 2, user: 'bob', password: 's3cret' },
  ]);
});

it('store: each failed file is one line with the status by name and the comment; exit 1', async () => {
  const r = await scu(['store', ...at(), ...files]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toEqual(
    files.map((f) => `${f}: C-STORE failed: A700H Refused: out of resources (disk full)`),
  );
  expect(r.stdout).toMatch(/^stored 0 of 2 files \(2 failed\)/);
});

it('find: a failure status is one line; exit 1', async () => {
  const r = await scu(['find', ...at(), '--level', 'SERIES', '-k', 'SeriesInstanceUID']);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toMatch(/^dnet-scu find: C-FIND failed: C\w{3}H Unable to process/);
});

it('find: Ctrl-C sends C-CANCEL, prints what came, exits 130', async () => {
  let interrupted = false;
  const r = await scu(['find', ...at(), '--json', '-k', 'PatientID'], {
    onStdout: (out, child) => {
      if (!interrupted && out.split('\n').length > 3) {
        interrupted = true;
        child.kill('SIGINT');
      }
    },
  });
  expect(r.code).toBe(130);
  const records = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(records.length).toBeGreaterThanOrEqual(4);
  expect(records.length).toBeLessThan(200);
  expect(records[0]).toEqual({
    type: 'match',
    dataSet: { '00100020': { vr: 'LO', Value: ['PID0'] } },
  });
  expect(records.at(-1)).toEqual({
    type: 'summary',
    operation: 'C-FIND',
    matches: records.length - 1,
    interrupted: true,
  });
  expect(findCancelled).toBe(true);
});

it('find --json --keywords prints each match by keyword; -k goes through the keyword form', async () => {
  const r = await scu([
    'find',
    ...at(),
    '--level',
    'IMAGE',
    '-k',
    'PatientName=DOE^*',
    '-k',
    'ReferencedSeriesSequence[0].SeriesInstanceUID=1.2',
    '-k',
    'SOPInstanceUID',
    '--json',
    '--keywords',
  ]);
  expect(r.code).toBe(0);
  expect(records(r.stdout)).toEqual([
    {
      type: 'match',
      dataSet: {
        PatientName: 'DOE^JOHN',
        SOPInstanceUID: '1.2.3',
        Rows: 512,
        QueryRetrieveLevel: 'IMAGE',
      },
    },
    { type: 'summary', operation: 'C-FIND', matches: 1, interrupted: false },
  ]);
  expect(imageQuery).toEqual({
    '00080052': { vr: 'CS', Value: ['IMAGE'] },
    '00080018': { vr: 'UI' },
    '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2'] } }] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^*' }] },
  });
  const usage = await scu(['find', ...at(), '-k', 'PatientID', '--keywords']);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/--keywords goes with --json/);
});

/** Every stdout line of a `--json` run, parsed: each must be an object with a known `type`. */
function records(stdout: string): Record<string, unknown>[] {
  const lines = stdout.trimEnd().split('\n');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const r of parsed)
    expect([
      'echo',
      'file',
      'skipped',
      'match',
      'response',
      'instance',
      'result',
      'error',
      'summary',
    ]).toContain(r.type);
  return parsed;
}

describe('--json', () => {
  it('echo: one object per C-ECHO, then the summary', async () => {
    const r = await scu(['echo', ...at(), '--json', '--repeat', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = records(r.stdout);
    expect(out.map((o) => o.type)).toEqual(['echo', 'echo', 'summary']);
    expect(out[0]).toMatchObject({ operation: 'C-ECHO', status: 0, statusText: '0000H Success' });
    expect(out[2]).toEqual({
      type: 'summary',
      operation: 'C-ECHO',
      answered: 2,
      total: 2,
      interrupted: false,
    });
  });

  it('store: one object per file with its status or error, skipped files with the reason, the summary', async () => {
    const notDicom = join(dir.path, 'notes.txt');
    await writeFile(notDicom, 'not DICOM');
    const r = await scu(['store', ...at(), '--json', notDicom, ...files]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const out = records(r.stdout);
    expect(out[0]).toEqual({
      type: 'skipped',
      path: notDicom,
      reason: expect.stringContaining('not a DICOM'),
    });
    expect(out.slice(1, -1).sort((a, b) => String(a.path).localeCompare(String(b.path)))).toEqual(
      files.map((path) => ({
        type: 'file',
        path,
        error: {
          message: 'C-STORE failed: A700H Refused: out of resources (disk full)',
          code: 'DNET_SERVICES_OPERATION_FAILED',
          operation: 'C-STORE',
          status: 0xa700,
          errorComment: 'disk full',
          statusText: 'A700H Refused: out of resources',
        },
      })),
    );
    expect(out.at(-1)).toMatchObject({
      type: 'summary',
      operation: 'C-STORE',
      stored: 0,
      failed: 2,
      total: 2,
    });
  });

  it('find: a failure is an error object, then the summary', async () => {
    const r = await scu([
      'find',
      ...at(),
      '--json',
      '--level',
      'SERIES',
      '-k',
      'SeriesInstanceUID',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const out = records(r.stdout);
    expect(out.map((o) => o.type)).toEqual(['error', 'summary']);
    expect(out[0]).toMatchObject({
      code: 'DNET_SERVICES_OPERATION_FAILED',
      operation: 'C-FIND',
      message: expect.stringMatching(/^C-FIND failed: C\w{3}H Unable to process/),
    });
  });

  it('a connection refused is one error object with the system code', async () => {
    const r = await scu(['echo', '127.0.0.1', String(await freePort()), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(records(r.stdout)).toEqual([
      {
        type: 'error',
        message: 'cannot connect: connection refused (ECONNREFUSED)',
        code: 'DNET_ASSOCIATION_CONNECTION_LOST',
        systemCode: 'ECONNREFUSED',
      },
    ]);
  });
});

describe('DIMSE-N commands', () => {
  let nServer: Server;
  const MPPS = '1.2.840.10008.3.1.2.3.3';
  const seen: {
    operation: string;
    instance: string | undefined;
    data: unknown;
    action?: number;
  }[] = [];
  const n = () => ['127.0.0.1', String(nServer.port), '--aec', 'NDNET'];

  beforeAll(async () => {
    const record = (request: NRequest) => {
      seen.push({
        operation: request.operation,
        instance: request.sopInstanceUid,
        data: request.dataSet,
        ...(request.actionTypeId !== undefined && { action: request.actionTypeId }),
      });
    };
    nServer = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'NDNET',
      handlers: {
        nServices: [
          {
            sopClasses: [MPPS],
            nCreate: (r) => {
              record(r);
              return { sopInstanceUid: '2.25.42' };
            },
            nSet: (r) => void record(r),
            nGet: (r) => {
              record(r);
              return { dataSet: { '00400252': { vr: 'CS', Value: ['COMPLETED'] } } };
            },
            nAction: (r) => {
              record(r);
              return 0x0123; // PS3.7 §C.5.1x: no such action
            },
            nDelete: (r) => void record(r),
          },
        ],
        storageCommitment: (request) => ({
          committed: request.references.filter((r) => !r.sopInstanceUid.endsWith('.2')),
          failed: request.references
            .filter((r) => r.sopInstanceUid.endsWith('.2'))
            .map((r) => ({ ...r, reason: 0x0112 })),
        }),
      },
    });
  });

  afterAll(async () => {
    await nServer?.close({ timeoutMs: 1000 });
  });

  it('ncreate, nset, nget, ndelete with keyword class and -k attributes', async () => {
    const created = await scu([
      'ncreate',
      ...n(),
      '--class',
      'ModalityPerformedProcedureStep',
      '-k',
      'PerformedProcedureStepStatus=IN PROGRESS',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('N-CREATE 2.25.42: 0000H Success');
    const set = await scu([
      'nset',
      ...n(),
      '--class',
      MPPS,
      '--instance',
      '2.25.42',
      '-k',
      'PerformedProcedureStepStatus=COMPLETED',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const got = await scu([
      'nget',
      ...n(),
      '--class',
      MPPS,
      '--instance',
      '2.25.42',
      '-k',
      'PerformedProcedureStepStatus',
      '--json',
    ]);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      type: 'result',
      operation: 'N-GET',
      status: 0,
      dataSet: { '00400252': { Value: ['COMPLETED'] } },
    });
    expect((await scu(['ndelete', ...n(), '--class', MPPS, '--instance', '2.25.42'])).code).toBe(0);
    expect(seen.map((s) => [s.operation, s.instance])).toEqual([
      ['N-CREATE', undefined],
      ['N-SET', '2.25.42'],
      ['N-GET', '2.25.42'],
      ['N-DELETE', '2.25.42'],
    ]);
    expect(seen[0]?.data).toEqual({ '00400252': { vr: 'CS', Value: ['IN PROGRESS'] } });
  });

  it('mpps create then complete: N-CREATE IN PROGRESS, N-SET COMPLETED (PS3.4 F.7.2)', async () => {
    const created = await scu(['mpps', ...n(), 'create', '-k', 'Modality=CT']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('N-CREATE 2.25.42: 0000H Success');
    const done = await scu(['mpps', ...n(), 'complete', '--instance', '2.25.42']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout.trim()).toBe('N-SET 2.25.42: 0000H Success');
    expect(seen.slice(-2)).toEqual([
      {
        operation: 'N-CREATE',
        instance: undefined,
        data: {
          '00080060': { vr: 'CS', Value: ['CT'] },
          '00400252': { vr: 'CS', Value: ['IN PROGRESS'] },
        },
      },
      {
        operation: 'N-SET',
        instance: '2.25.42',
        data: { '00400252': { vr: 'CS', Value: ['COMPLETED'] } },
      },
    ]);
  });

  it('naction: a failure status is one line with its name; exit 1', async () => {
    const r = await scu([
      'naction',
      ...n(),
      '--class',
      MPPS,
      '--instance',
      '2.25.42',
      '--action',
      '7',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('dnet-scu naction: N-ACTION failed: 0123H No such action type');
    expect(seen.at(-1)).toMatchObject({ operation: 'N-ACTION', action: 7 });
  });

  it('commit --listen: the report arrives on a new association to our listener (PS3.4 J.3.3)', async () => {
    const listenPort = await freePort();
    const scp = await Server.listen({
      transport: tcp(),
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'COMMITSCP',
      aeTable: { LISTENER: { host: '127.0.0.1', port: listenPort } },
      handlers: {
        storageCommitment: (request) => ({
          committed: request.references,
          failed: [],
          reportOn: 'new-association',
        }),
      },
    });
    try {
      const r = await scu([
        'commit',
        '127.0.0.1',
        String(scp.port),
        '--aec',
        'COMMITSCP',
        '--aet',
        'LISTENER',
        '--listen',
        `127.0.0.1:${listenPort}`,
        '--wait',
        '20',
        ...files,
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^committed 2 of 2 instances \(transaction 2\.25\.\d+\)/);
    } finally {
      await scp.close({ timeoutMs: 1000 });
    }
  });

  it('--json: ncreate, mpps and commit print one result object', async () => {
    for (const argv of [
      ['ncreate', ...n(), '--class', MPPS, '--json'],
      ['mpps', ...n(), 'create', '-k', 'Modality=CT', '--json'],
      ['commit', ...n(), '--json', ...files],
    ]) {
      const r = await scu(argv);
      expect(r.stderr).toBe('');
      const out = records(r.stdout);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ type: 'result' });
    }
  });

  it('commit: committed and failed instances from the report; exit 1 when any failed', async () => {
    const r = await scu(['commit', ...n(), ...files]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^committed 1 of 2 instances \(transaction 2\.25\.\d+\)/);
    expect(r.stderr.trim()).toBe(
      `${uidsOf(1, 1, 2).instance}: not committed, 0112H No such SOP Instance`,
    );
  });
});
