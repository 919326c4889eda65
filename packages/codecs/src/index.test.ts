import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as codecs from './index.js';

describe('@dnet/codecs', () => {
  it('loads without touching WebAssembly (the codecs load on first use)', () => {
    expect(typeof codecs.transcode).toBe('function');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.filter((p) => p.includes('@cornerstonejs'))).toEqual([]);
  });

  it('names the syntaxes and finds their codecs', () => {
    expect(codecs.resolveTransferSyntax('jpeg-ls-lossless')).toBe('1.2.840.10008.1.2.4.80');
    expect(codecs.resolveTransferSyntax(' 1.2.840.10008.1.2.5 ')).toBe('1.2.840.10008.1.2.5');
    expect(() => codecs.resolveTransferSyntax('jpeg-xl')).toThrow(codecs.CodecsError);
    for (const uid of Object.values(codecs.TRANSFER_SYNTAX_NAMES)) {
      const codec = codecs.codecFor(uid);
      if (codec) expect(codec.transferSyntaxUid).toBe(uid);
    }
    expect(codecs.codecFor('1.2.840.10008.1.2.1')).toBeUndefined();
    expect(codecs.builtInCodecs).toHaveLength(12);
  });
});
