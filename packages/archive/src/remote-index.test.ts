import type { DicomJsonDataSet } from '@dnet/dataset';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeArchiveIndex, record, S4, type Spec } from './archive-index-compliance.js';
import { collect } from './compliance-helpers.js';
import { ArchiveErrorCode, InvalidQueryError, InvalidRecordError } from './errors.js';
import { type IndexChannel, type IndexMessage, RemoteIndex, serveIndex } from './remote-index.js';
import { SqliteIndex } from './sqlite-index.js';

/**
 * Two ends of an in-memory channel that behave like Node's IPC: each message
 * arrives later (never within the send) and as a JSON copy.
 */
function channelPair(log: IndexMessage[] = []): [IndexChannel, IndexChannel] {
  const listeners: [Set<(m: unknown) => void>, Set<(m: unknown) => void>] = [new Set(), new Set()];
  const end = (mine: 0 | 1): IndexChannel => ({
    send(message) {
      log.push(message as IndexMessage);
      const copy: unknown = JSON.parse(JSON.stringify(message));
      setImmediate(() => {
        for (const l of listeners[mine === 0 ? 1 : 0]) l(copy);
      });
    },
    onMessage(listener) {
      listeners[mine].add(listener);
      return () => listeners[mine].delete(listener);
    },
  });
  return [end(0), end(1)];
}

/** A RemoteIndex over a served in-memory SqliteIndex; closing it closes both. */
function remote(log?: IndexMessage[]): RemoteIndex {
  const served = new SqliteIndex(':memory:');
  const [client, server] = channelPair(log);
  const service = serveIndex(served, server);
  const index = new RemoteIndex(client);
  const close = index.close.bind(index);
  index.close = async () => {
    await close();
    service.stop();
    await served.close();
  };
  return index;
}

describeArchiveIndex('RemoteIndex over serveIndex(SqliteIndex)', () => remote());

describe('RemoteIndex', () => {
  const log: IndexMessage[] = [];
  let index: RemoteIndex;
  beforeEach(() => {
    log.length = 0;
    index = remote(log);
  });
  afterEach(() => index.close());

  const spec = (n: number): Spec => ({
    ...S4,
    seriesUid: '1.2.3.4.1',
    sopUid: `1.2.3.4.1.${n}`,
    instanceNumber: n,
  });
  const imageQuery: DicomJsonDataSet = {
    '0020000D': { vr: 'UI', Value: [S4.studyUid] },
    '0020000E': { vr: 'UI', Value: ['1.2.3.4.1'] },
    '00080018': { vr: 'UI' },
  };

  it('rebuilds the archive error classes with their fields', async () => {
    const good = record(spec(1));
    const { '00080018': _, ...noSop } = good.attributes;
    const error = await index.put({ ...good, attributes: noSop }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect(error).toMatchObject({ code: ArchiveErrorCode.INVALID_RECORD, tag: '00080018' });
    const query = await collect(index.find('WARD' as 'STUDY', {})).catch((e: unknown) => e);
    expect(query).toBeInstanceOf(InvalidQueryError);
    expect(query).toMatchObject({ status: 0xa900, offendingElement: '00080052' });
  });

  it('streams a long C-FIND answer in batches the client asks for, and cancels one it stops reading', async () => {
    for (let n = 1; n <= 150; n++) await index.put(record(spec(n)));
    expect(await collect(index.find('IMAGE', imageQuery))).toHaveLength(150);
    const batches = log.filter((m) => m.dnetIndex === 'items');
    expect(batches.map((m) => (m as { items: unknown[] }).items.length)).toEqual([64, 64, 22]);
    expect(log.filter((m) => m.dnetIndex === 'more')).toHaveLength(2);
    log.length = 0;
    let read = 0;
    for await (const _ of index.find('IMAGE', imageQuery)) if (++read === 70) break;
    expect(log.filter((m) => m.dnetIndex === 'items')).toHaveLength(2);
    expect(log.at(-1)).toMatchObject({ dnetIndex: 'cancel' });
    // The index answers on after a cancelled query.
    expect(await index.count()).toMatchObject({ instances: 150 });
  });

  it('a put resolves with the serving index transaction (the instance is found right after)', async () => {
    const results = await Promise.all([1, 2, 3].map((n) => index.put(record(spec(n)))));
    expect(results).toEqual([{ replaced: false }, { replaced: false }, { replaced: false }]);
    expect(
      await index.hasInstance(
        '1.2.3.4.1.2',
        record(spec(2)).attributes['00080016']?.Value?.[0] as string,
      ),
    ).toBe(true);
    expect((await index.get('1.2.3.4.1.3'))?.path).toBe(record(spec(3)).path);
  });
});
