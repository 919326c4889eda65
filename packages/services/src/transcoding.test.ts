import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransferSyntaxNotAcceptedError } from './errors.js';
import { splitStoragePlans } from './storage-plan.js';
import { pickStoreContext } from './store-source.js';
import { chooseTransferSyntax, type Transcoder, transferSyntaxesFor } from './transcoding.js';

const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const BIG = '1.2.840.10008.1.2.2';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const JPEG_LOSSLESS = '1.2.840.10008.1.2.4.70';
const JLS = '1.2.840.10008.1.2.4.80';
const J2K_LOSSLESS = '1.2.840.10008.1.2.4.90';
const J2K = '1.2.840.10008.1.2.4.91';
const RLE = '1.2.840.10008.1.2.5';
const MPEG2 = '1.2.840.10008.1.2.4.100';
const CT = '1.2.840.10008.5.1.4.1.1.2';

/** A transcoder that reads and writes the codecs' syntaxes (not MPEG), and calls JPEG Baseline and JPEG 2000 lossy. */
const fake: Transcoder = {
  canTranscode: (from, to) => from !== MPEG2 && to !== MPEG2,
  isLossy: (uid) => uid === JPEG_BASELINE || uid === J2K,
  transcodeDataSet: () => {
    throw new Error('not in these tests');
  },
};

describe('chooseTransferSyntax', () => {
  it('keeps the data set`s own syntax whenever it was accepted', () => {
    expect(chooseTransferSyntax(JLS, [EXPLICIT, JLS], { transcoder: fake })).toEqual({
      transferSyntaxUid: JLS,
      via: 'none',
    });
  });

  it('compressed, own syntax refused: a lossless compressed one, then Explicit, then Implicit VR LE', () => {
    const t = { transcoder: fake };
    expect(chooseTransferSyntax(J2K_LOSSLESS, [IMPLICIT, EXPLICIT, RLE], t)).toEqual({
      transferSyntaxUid: RLE,
      via: 'transcode',
    });
    expect(chooseTransferSyntax(J2K_LOSSLESS, [IMPLICIT, EXPLICIT], t)?.transferSyntaxUid).toBe(
      EXPLICIT,
    );
    expect(chooseTransferSyntax(J2K_LOSSLESS, [IMPLICIT], t)?.transferSyntaxUid).toBe(IMPLICIT);
    expect(
      chooseTransferSyntax(J2K_LOSSLESS, [EXPLICIT, JPEG_LOSSLESS], t)?.transferSyntaxUid,
    ).toBe(JPEG_LOSSLESS);
    expect(chooseTransferSyntax(J2K_LOSSLESS, [BIG], t)?.transferSyntaxUid).toBe(BIG);
  });

  it('uncompressed: the uncompressed syntaxes (no codec) before a lossless compressed one', () => {
    expect(chooseTransferSyntax(IMPLICIT, [JLS, EXPLICIT], { transcoder: fake })).toEqual({
      transferSyntaxUid: EXPLICIT,
      via: 'convert',
    });
    expect(chooseTransferSyntax(IMPLICIT, [JLS], { transcoder: fake })).toEqual({
      transferSyntaxUid: JLS,
      via: 'transcode',
    });
  });

  it('a lossy target only when allowed', () => {
    expect(chooseTransferSyntax(JLS, [JPEG_BASELINE, J2K], { transcoder: fake })).toBeUndefined();
    expect(
      chooseTransferSyntax(JLS, [JPEG_BASELINE, J2K], { transcoder: fake, lossy: true }),
    ).toEqual({ transferSyntaxUid: JPEG_BASELINE, via: 'transcode' });
    // Lossless targets stay first even when lossy is allowed.
    expect(
      chooseTransferSyntax(JLS, [J2K, EXPLICIT], { transcoder: fake, lossy: true })
        ?.transferSyntaxUid,
    ).toBe(EXPLICIT);
    // Decoding a lossy file loses nothing more: allowed.
    expect(chooseTransferSyntax(JPEG_BASELINE, [EXPLICIT], { transcoder: fake })).toEqual({
      transferSyntaxUid: EXPLICIT,
      via: 'transcode',
    });
  });

  it('the preferred syntaxes come first (dnet-scu --propose), lossless ones unless lossy is allowed', () => {
    const prefer = [JLS];
    expect(chooseTransferSyntax(EXPLICIT, [EXPLICIT, JLS], { transcoder: fake, prefer })).toEqual({
      transferSyntaxUid: JLS,
      via: 'transcode',
    });
    expect(chooseTransferSyntax(RLE, [EXPLICIT, JLS, RLE], { transcoder: fake, prefer }))?.toEqual({
      transferSyntaxUid: JLS,
      via: 'transcode',
    });
    // Not accepted: the usual order.
    expect(
      chooseTransferSyntax(RLE, [EXPLICIT, RLE], { transcoder: fake, prefer })?.transferSyntaxUid,
    ).toBe(RLE);
    expect(
      chooseTransferSyntax(EXPLICIT, [EXPLICIT, J2K], { transcoder: fake, prefer: [J2K] })
        ?.transferSyntaxUid,
    ).toBe(EXPLICIT);
  });

  it('without a transcoder: only its own syntax, or the uncompressed conversions', () => {
    expect(chooseTransferSyntax(JLS, [EXPLICIT, IMPLICIT])).toBeUndefined();
    expect(chooseTransferSyntax(IMPLICIT, [JLS, EXPLICIT])?.transferSyntaxUid).toBe(EXPLICIT);
    expect(chooseTransferSyntax(undefined, [JLS, IMPLICIT])?.transferSyntaxUid).toBe(IMPLICIT);
  });

  it('a syntax the transcoder cannot read goes only as it is', () => {
    expect(chooseTransferSyntax(MPEG2, [EXPLICIT], { transcoder: fake })).toBeUndefined();
    expect(transferSyntaxesFor(MPEG2, fake)).toEqual([MPEG2]);
    expect(transferSyntaxesFor(JLS, fake)).toEqual([JLS, EXPLICIT, IMPLICIT]);
    expect(transferSyntaxesFor(JLS)).toEqual([JLS]);
  });
});

describe('pickStoreContext', () => {
  const ctx = (id: number, transferSyntax: string, accepted = true) => ({
    id,
    abstractSyntax: CT,
    transferSyntax,
    accepted,
    result: accepted ? 0 : 4,
    requestorScu: true,
    requestorScp: false,
  });

  it('names the file, its syntax and what was accepted when nothing can carry it and no transcoder is given', () => {
    const contexts = [ctx(1, JLS, false), ctx(3, EXPLICIT)] as never;
    let error: unknown;
    try {
      pickStoreContext(contexts, 'requestor', CT, JLS, {}, '/data/ct.dcm');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransferSyntaxNotAcceptedError);
    const e = error as TransferSyntaxNotAcceptedError;
    expect(e.code).toBe('DNET_SERVICES_TRANSFER_SYNTAX_NOT_ACCEPTED');
    expect(e.accepted).toEqual([EXPLICIT]);
    expect(e.message).toContain('/data/ct.dcm');
    expect(e.message).toContain(JLS);
    expect(e.message).toContain('no transcoder');
    expect(pickStoreContext(contexts, 'requestor', CT, JLS, { transcoder: fake }).id).toBe(3);
  });
});

describe('splitStoragePlans with a transcoder', () => {
  const file = (path: string, transferSyntaxUid: string, sopClassUid = CT) => ({
    path,
    sopClassUid,
    transferSyntaxUid,
  });

  it('proposes each compressed syntax alone and the uncompressed fallbacks in a context of their own', () => {
    const files = [file('a', JLS), file('b', RLE), file('c', IMPLICIT)];
    expect(splitStoragePlans(files)[0]!.contexts.map((c) => c.transferSyntaxes)).toEqual([
      [JLS],
      [RLE],
      [IMPLICIT, EXPLICIT],
    ]);
    const [plan] = splitStoragePlans(files, 128, { transcoder: fake });
    expect(plan!.contexts.map((c) => c.transferSyntaxes)).toEqual([
      [JLS],
      [RLE],
      [IMPLICIT, EXPLICIT],
    ]);
    const [only] = splitStoragePlans([file('a', JLS)], 128, { transcoder: fake });
    expect(only!.contexts.map((c) => c.transferSyntaxes)).toEqual([[JLS], [EXPLICIT, IMPLICIT]]);
  });

  it('--propose: the syntaxes asked for in place of the files` own ones (except those it cannot read)', () => {
    const files = [file('a', J2K_LOSSLESS), file('b', MPEG2), file('c', EXPLICIT)];
    const [plan] = splitStoragePlans(files, 128, { transcoder: fake, propose: [JLS] });
    expect(plan!.contexts.map((c) => c.transferSyntaxes)).toEqual([
      [JLS],
      [MPEG2],
      [EXPLICIT, IMPLICIT],
    ]);
  });

  it('keeps a class`s contexts in one association when splitting', () => {
    const other = '1.2.840.10008.5.1.4.1.1.7';
    const files = [file('a', JLS), file('b', RLE, other), file('c', JLS, other)];
    const plans = splitStoragePlans(files, 3, { transcoder: fake });
    expect(plans.map((p) => p.files.map((f) => f.path))).toEqual([['a'], ['b', 'c']]);
    expect(plans.map((p) => p.contexts.length)).toEqual([2, 3]);
  });
});

describe('@dnet/codecs stays optional', () => {
  it('no module of @dnet/services imports it (only its tests do)', () => {
    const src = import.meta.dirname;
    const importing = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) =>
        /from '@dnet\/codecs'|import\('@dnet\/codecs'\)/.test(readFileSync(join(src, f), 'utf8')),
      );
    expect(importing).toEqual([]);
  });
});
