import { describe, expect, it } from 'vitest';
import { queryRetrieve } from './contexts.js';
import { OperationFailedError } from './errors.js';
import { uidsOf } from './instances.test-support.js';
import { archiveWith, collect, setup } from './server.test-support.js';

// The Server's Query service (PS3.4 §C.4.1).
describe('Query (PS3.4 §C.4.1)', () => {
  it('finds at every level of the Study Root and Patient Root models', async () => {
    const archive = await archiveWith();
    const { server, connect } = await setup(archive.handlers());
    const client = await connect([queryRetrieve('study'), queryRetrieve('patient')]);
    const patients = await collect(
      client.find(
        { '00100020': { vr: 'LO' }, '00201200': { vr: 'IS' } },
        { model: 'patient', level: 'PATIENT' },
      ),
    );
    expect(patients.map((p) => p['00100020']?.Value?.[0]).sort()).toEqual(['PID1', 'PID2']);
    expect(patients[0]!['00201200']?.Value).toEqual([2]);
    const studies = await collect(
      client.find(
        {
          '00100010': { vr: 'PN', Value: [{ Alphabetic: 'doe^patient1' }] },
          '0020000D': { vr: 'UI' },
        },
        { level: 'STUDY' },
      ),
    );
    expect(studies).toHaveLength(2);
    expect(studies[0]!['00080052']?.Value).toEqual(['STUDY']);
    const study = uidsOf({ patient: 1, study: 1, series: 1, instance: 1 }).study;
    const series = await collect(
      client.find(
        {
          '0020000D': { vr: 'UI', Value: [study] },
          '0020000E': { vr: 'UI' },
          '00080060': { vr: 'CS', Value: ['MR'] },
        },
        { level: 'SERIES' },
      ),
    );
    expect(series).toHaveLength(1);
    expect(series[0]!['00080060']?.Value).toEqual(['MR']);
    const images = await collect(
      client.find(
        { '0020000D': { vr: 'UI', Value: [study] }, '00080018': { vr: 'UI' } },
        { level: 'IMAGE', as: 'dataset' },
      ),
    );
    expect(images).toHaveLength(4);
    expect(images.every((d) => d.string('SOPInstanceUID')?.startsWith(study))).toBe(true);
    await client.release();
    await server.close();
  });

  it('cancels: aborting the signal sends C-CANCEL and ends the iteration cleanly', async () => {
    let sent = 0;
    let cancelled = false;
    const { server, connect } = await setup({
      find: async function* (_rq, _ctx, signal) {
        for (let i = 0; i < 10_000; i++) {
          if (signal.aborted) {
            cancelled = true;
            return;
          }
          sent++;
          yield { '00100020': { vr: 'LO', Value: [`P${i}`] } };
          await new Promise((r) => setImmediate(r));
        }
      },
    });
    const client = await connect([queryRetrieve('study')]);
    const controller = new AbortController();
    const got: unknown[] = [];
    for await (const m of client.find(
      { '00100020': { vr: 'LO' } },
      { level: 'PATIENT', signal: controller.signal },
    )) {
      got.push(m);
      if (got.length === 5) controller.abort();
    }
    expect(got).toHaveLength(5);
    expect(cancelled).toBe(true);
    expect(sent).toBeLessThan(10_000);
    // The association is still usable after the cancel.
    expect(
      await collect(
        client.find(
          { '00100020': { vr: 'LO' } },
          { level: 'PATIENT', signal: AbortSignal.abort() },
        ),
      ),
    ).toEqual([]);
    await client.release();
    await server.close();
  });

  it('leaving the loop early cancels too, and a failing handler gives a failure status', async () => {
    const { server, connect } = await setup({
      find: async function* (rq) {
        if (rq.identifier['00100020']?.Value?.[0] === 'FAIL') throw new Error('no index');
        for (let i = 0; i < 1000; i++) yield { '00100020': { vr: 'LO', Value: [`P${i}`] } };
      },
    });
    const client = await connect([queryRetrieve('study')]);
    for await (const _ of client.find({ '00100020': { vr: 'LO' } }, { level: 'PATIENT' })) break;
    const error = await collect(
      client.find({ '00100020': { vr: 'LO', Value: ['FAIL'] } }, { level: 'PATIENT' }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error.status).toBe(0xc000);
    await client.release();
    await server.close();
  });
});
