import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import {
  decodeDataSet,
  encodeDataSet,
  encodePart10,
  encodePart10Header,
  TransferSyntax,
} from '@dnet/dataset';
import { memory } from '@dnet/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type StoreProgress } from './client.js';
import type { ClientOptions } from './client-types.js';
import { storage } from './contexts.js';
import { IncompleteSourceError } from './errors.js';
import { bytesOf, hierarchy, makeInstance, tempDir } from './instances.test-support.js';
import { Server } from './server.js';
import { SopClass } from './sop-class.js';
import type { Transcoder } from './transcoding.js';

const CT = SopClass.CT_IMAGE_STORAGE;
const ELE = TransferSyntax.ExplicitVRLittleEndian;
const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;

/** A deflated data set whose deflate stream has an odd length (the pad PS3.5 §A.5 asks for left out). */
function oddDeflate(): { inflated: Uint8Array; deflated: Uint8Array; uid: string } {
  for (let i = 1; i < 200; i++) {
    const ds = makeInstance({ patient: 1, study: 1, series: 1, instance: i });
    const inflated = encodeDataSet(ds, ELE);
    const deflated = new Uint8Array(deflateRawSync(inflated));
    if (deflated.length % 2 === 1) return { inflated, deflated, uid: ds.uid('SOPInstanceUID')! };
  }
  throw new Error('no odd deflate stream found');
}

/**
 * A Server over the memory transport that keeps each data set received by
 * SOP Instance UID; `onStore` may act first (abort the association...).
 */
function receiver() {
  const transport = memory();
  const received = new Map<string, Uint8Array[]>();
  const state = {
    associations: 0,
    onStore: undefined as undefined | ((uid: string, abort: () => void) => void),
  };
  let server: Server;
  return {
    transport,
    received,
    state,
    async start() {
      server = await Server.listen({
        transport,
        port: 0,
        aeTitle: 'SCP',
        handlers: {
          store: async (instance, context) => {
            state.onStore?.(instance.sopInstanceUid, () => context.association.abort());
            const bytes = await bytesOf(instance);
            const list = received.get(instance.sopInstanceUid) ?? [];
            list.push(bytes);
            received.set(instance.sopInstanceUid, list);
            return 0;
          },
        },
      });
      server.on('association', () => state.associations++);
    },
    stop: () => server.close(),
    connect: (syntaxes: string[] = [ELE], extra: Partial<ClientOptions> = {}) =>
      Client.connect({
        transport,
        host: '127.0.0.1',
        port: server.port,
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        contexts: [storage(CT, syntaxes)],
        ...extra,
      }),
  };
}

describe('files from the wild', () => {
  const r = receiver();
  beforeAll(() => r.start());
  afterAll(() => r.stop());

  it('sends a bare data set (no meta header) in the syntax inferred from it', async () => {
    await using dir = await tempDir();
    for (const [i, ts] of [
      TransferSyntax.ImplicitVRLittleEndian,
      TransferSyntax.ExplicitVRLittleEndian,
      TransferSyntax.ExplicitVRBigEndian,
    ].entries()) {
      const ds = makeInstance({ patient: 2, study: 1, series: 1, instance: i + 1 });
      const bytes = encodeDataSet(ds, ts);
      const path = join(dir.path, `bare-${i}`);
      await writeFile(path, bytes);
      const client = await r.connect([ts]);
      const result = await client.store(path);
      await client.release();
      expect(result).toMatchObject({ status: 0, transferSyntaxUid: ts, sopClassUid: CT });
      expect(r.received.get(ds.uid('SOPInstanceUID')!)).toEqual([bytes]);
    }
  });

  it('refuses a file that is neither Part 10 nor a data set with SOP UIDs', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'notes.txt');
    await writeFile(path, 'just some text, long enough to be read as a data set\n');
    const client = await r.connect();
    await expect(client.store(path)).rejects.toThrow(/is not a DICOM file/);
    await client.release();
  });

  it('sends under the data set`s SOP Instance UID when the meta header disagrees, with a warning', async () => {
    await using dir = await tempDir();
    const ds = makeInstance({ patient: 3, study: 1, series: 1, instance: 1 });
    const path = join(dir.path, 'stale.dcm');
    await writeFile(
      path,
      encodePart10(ds, { transferSyntaxUid: ELE, mediaStorageSopInstanceUid: '1.2.3.999' }),
    );
    const client = await r.connect();
    const result = await client.store(path);
    await client.release();
    expect(result.sopInstanceUid).toBe(ds.uid('SOPInstanceUID'));
    expect(result.warnings).toEqual([expect.stringMatching(/\(0002,0003\).*1\.2\.3\.999/)]);
    expect(r.received.has(ds.uid('SOPInstanceUID')!)).toBe(true);
  });

  it('pads an odd deflated data set to even length (PS3.5 A.5), from memory and streamed', async () => {
    await using dir = await tempDir();
    const { deflated, uid } = oddDeflate();
    const path = join(dir.path, 'odd-deflate.dcm');
    const header = encodePart10Header({
      mediaStorageSopClassUid: CT,
      mediaStorageSopInstanceUid: uid,
      transferSyntaxUid: DEFLATED,
    });
    await writeFile(path, Buffer.concat([header, deflated]));
    const client = await r.connect([DEFLATED]);
    await client.store(path);
    await client.store({
      sopClassUid: CT,
      sopInstanceUid: uid,
      transferSyntaxUid: DEFLATED,
      dataSet: () =>
        (async function* () {
          yield deflated.subarray(0, 101);
          yield deflated.subarray(101);
        })(),
    });
    await client.release();
    const padded = new Uint8Array([...deflated, 0]);
    expect(r.received.get(uid)).toEqual([padded, padded]);
  });

  it('a large file cut inside Pixel Data fails at the element`s header: nothing sent, association kept', async () => {
    await using dir = await tempDir();
    const ds = makeInstance({ patient: 4, study: 1, series: 1, instance: 1, pixels: 6 << 20 });
    const file = encodePart10(ds, { transferSyntaxUid: ELE });
    const path = join(dir.path, 'cut.dcm');
    await writeFile(path, file.subarray(0, file.length - 1000));
    const client = await r.connect();
    const error = await client.store(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompleteSourceError);
    expect((error as IncompleteSourceError).message).toMatch(
      new RegExp(`^${path.replace(/[.\\/]/g, '\\$&')}: .*\\(7FE0,0010\\).*file offset \\d+`),
    );
    expect((error as IncompleteSourceError).fileOffset).toBeGreaterThan(132);
    expect(r.received.has(ds.uid('SOPInstanceUID')!)).toBe(false);
    expect(client.association.state).toBe('Sta6');
    // The same association carries the whole file next.
    await writeFile(path, file);
    await expect(client.store(path)).resolves.toMatchObject({ status: 0 });
    await client.release();
  });
});

describe('storeMany goes on after the association is lost', () => {
  const r = receiver();
  beforeAll(() => r.start());
  afterAll(() => r.stop());

  async function files(dir: string, patient: number, n: number) {
    const specs = hierarchy(1, 1, 1, n).map((s) => ({ ...s, patient }));
    const paths: string[] = [];
    const uids: string[] = [];
    for (const s of specs) {
      const ds = makeInstance(s);
      const path = join(dir, `${s.instance}.dcm`);
      await writeFile(path, encodePart10(ds, { transferSyntaxUid: ELE }));
      paths.push(path);
      uids.push(ds.uid('SOPInstanceUID')!);
    }
    return { paths, uids };
  }

  it('retries the file in flight once, alone, on a new association, and sends the rest; nothing answered twice', async () => {
    await using dir = await tempDir();
    const { paths, uids } = await files(dir.path, 5, 6);
    let aborted = 0;
    r.state.onStore = (uid, abort) => {
      // The peer aborts the first time the third file arrives.
      if (uid === uids[2] && aborted++ === 0) abort();
    };
    const before = r.state.associations;
    const client = await r.connect();
    const progress: StoreProgress[] = [];
    const result = await client.storeMany(paths, { onProgress: (p) => progress.push(p) });
    await client.release();
    r.state.onStore = undefined;
    expect(result).toMatchObject({ stored: 6, failed: 0 });
    expect(progress).toHaveLength(6);
    expect(r.state.associations - before).toBe(2);
    // Every file answered exactly once; the one in flight arrived again whole.
    for (const uid of uids) expect(r.received.get(uid)).toHaveLength(1);
  });

  it('a large file whose sequence is never closed fails at its end, before its last fragment: A-ABORT, the batch goes on', async () => {
    await using dir = await tempDir();
    const { paths, uids } = await files(dir.path, 8, 3);
    const big = makeInstance({ patient: 8, study: 1, series: 1, instance: 9, pixels: 6 << 20 });
    // (FFFA,FFFA) Digital Signatures Sequence of undefined length, an item opened, nothing closed.
    const open = new Uint8Array([
      0xfa, 0xff, 0xfa, 0xff, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0,
      0xff, 0xff, 0xff, 0xff,
    ]);
    const bigPath = join(dir.path, 'unclosed.dcm');
    await writeFile(bigPath, Buffer.concat([encodePart10(big, { transferSyntaxUid: ELE }), open]));
    const before = r.state.associations;
    const client = await r.connect();
    const result = await client.storeMany([paths[0]!, bigPath, paths[1]!, paths[2]!]);
    await client.release();
    expect(result.stored).toBe(3);
    expect(result.results[1]).toBeInstanceOf(IncompleteSourceError);
    expect((result.results[1] as Error).message).toMatch(/\(FFFA,FFFA\)/);
    // The cut file was aborted mid-message; the rest went on over a second association.
    expect(r.state.associations - before).toBe(2);
    expect(r.received.has(big.uid('SOPInstanceUID')!)).toBe(false);
    for (const uid of uids) expect(r.received.get(uid)).toHaveLength(1);
  });

  it('a transcoder failing mid-stream (a frame it cannot decode): that file fails alone, its association aborted, the batch goes on', async () => {
    const JLS = '1.2.840.10008.1.2.4.80';
    const ILE = TransferSyntax.ImplicitVRLittleEndian;
    const good = [1, 2, 3].map((i) =>
      makeInstance({ patient: 9, study: 1, series: 1, instance: i }),
    );
    const big = makeInstance({ patient: 9, study: 1, series: 1, instance: 4, pixels: 2 << 20 });
    const bigUid = big.uid('SOPInstanceUID')!;
    // Stands for the codecs: the data set in Implicit VR LE, cut by an error after 5 chunks for `big`.
    const failing: Transcoder = {
      canTranscode: () => true,
      isLossy: () => false,
      async *transcodeDataSet(source) {
        const bytes = Buffer.concat([...(source as Iterable<Uint8Array>)]);
        const { dataSet } = { dataSet: encodeDataSet(decodeDataSet(bytes, ELE), ILE) };
        const fails = decodeDataSet(bytes, ELE).uid('SOPInstanceUID') === bigUid;
        for (let at = 0, n = 0; at < dataSet.length; at += 64 * 1024, n++) {
          if (fails && n === 5) throw new Error('frame 3 cannot be decoded');
          yield dataSet.subarray(at, at + 64 * 1024);
        }
      },
    };
    const source = (ds: (typeof good)[number]) => ({
      sopClassUid: ds.uid('SOPClassUID')!,
      sopInstanceUid: ds.uid('SOPInstanceUID')!,
      transferSyntaxUid: JLS,
      dataSet: encodeDataSet(ds, ELE),
    });
    const before = r.state.associations;
    const client = await r.connect([ILE], { transcoder: failing });
    const result = await client.storeMany([
      source(good[0]!),
      source(big),
      ...good.slice(1).map(source),
    ]);
    await client.release();
    expect(result.stored).toBe(3);
    expect((result.results[1] as Error).message).toBe('frame 3 cannot be decoded');
    // Bytes of it had gone out: its association was aborted, the rest went on over a new one.
    expect(r.state.associations - before).toBe(2);
    expect(r.received.has(bigUid)).toBe(false);
    for (const ds of good) expect(r.received.get(ds.uid('SOPInstanceUID')!)).toHaveLength(1);
  });

  it('reports the file that breaks every association failed after one retry, and the rest stored; retries bound the new associations', async () => {
    await using dir = await tempDir();
    const { paths, uids } = await files(dir.path, 6, 5);
    r.state.onStore = (uid, abort) => {
      if (uid === uids[1]) abort();
    };
    const client = await r.connect();
    const result = await client.storeMany(paths, { retries: 3 });
    expect(result.stored).toBe(4);
    expect(result.results[1]).toBeInstanceOf(Error);
    for (const i of [0, 2, 3, 4]) expect(r.received.get(uids[i]!)).toHaveLength(1);

    // With no retries left the files not sent are reported failed, not thrown.
    const more = await files(dir.path, 7, 3);
    r.state.onStore = (uid, abort) => {
      if (uid === more.uids[0]) abort();
    };
    const fresh = await r.connect();
    const none = await fresh.storeMany(more.paths, { retries: 0 });
    r.state.onStore = undefined;
    expect(none.stored).toBe(0);
    expect(none.results.every((x) => x instanceof Error)).toBe(true);
    if (client.association.state === 'Sta6') await client.release();
  });
});
