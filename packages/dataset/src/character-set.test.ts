import { describe, expect, it } from 'vitest';
import { characterSetDecoder, encodeText } from './character-set.js';
import { DataSet } from './data-set.js';
import { decodeDataSet } from './decode.js';
import { encodeDataSet } from './encode.js';
import { InvalidValueError } from './errors.js';
import { TransferSyntax } from './uid.js';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

/**
 * The examples of PS3.5 Annexes H, I and K, encoded by an independent encoder
 * (Python's iso2022_jp, euc_kr, gb2312 and gb18030 codecs).
 */
const EXAMPLES: [string, string[], string, string][] = [
  [
    'Japanese, ISO 2022 IR 87 (PS3.5 H.3.1)',
    ['', 'ISO 2022 IR 87'],
    '59616d6164615e5461726f753d1b24423b3345441b28425e1b244242404f3a1b28423d1b24422464245e24401b28425e1b2442243f246d24261b2842',
    'Yamada^Tarou=山田^太郎=やまだ^たろう',
  ],
  [
    'Japanese, ISO 2022 IR 13 with IR 87 (PS3.5 H.3.2)',
    ['ISO 2022 IR 13', 'ISO 2022 IR 87'],
    'd4cfc0de5ec0dbb33d1b24423b3345441b284a5e1b244242404f3a1b284a3d1b24422464245e24401b284a5e1b2442243f246d24261b284a',
    'ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう',
  ],
  [
    'Japanese, JIS X 0212 (ISO 2022 IR 159)',
    ['', 'ISO 2022 IR 159'],
    '411b24284430213022',
    'A丂丄',
  ],
  [
    'Korean, ISO 2022 IR 149 (PS3.5 I.2)',
    ['', 'ISO 2022 IR 149'],
    '486f6e675e47696c646f6e673d1b242943fbf35e1b242943d1ced4d73d1b242943c8ab5e1b242943b1e6b5bf',
    'Hong^Gildong=洪^吉洞=홍^길동',
  ],
  [
    'Chinese, ISO 2022 IR 58 (PS3.5 K.2)',
    ['', 'ISO 2022 IR 58'],
    '5a68616e675e5869616f446f6e673d1b242941d5c55e1b242941d0a1b6ab3d',
    'Zhang^XiaoDong=张^小东=',
  ],
  [
    'Chinese, GB18030 (PS3.5 K.1)',
    ['GB18030'],
    '57616e675e5869616f446f6e673dcdf55ed0a1b6ab3d',
    'Wang^XiaoDong=王^小东=',
  ],
  ['Greek, ISO_IR 126', ['ISO_IR 126'], 'c5ebebe7ede9eadc', 'Ελληνικά'],
  ['Cyrillic, ISO_IR 144', ['ISO_IR 144'], 'bfe0d8d2d5e2', 'Привет'],
  ['Latin-1, ISO_IR 100', ['ISO_IR 100'], '4dfc6c6c65725e4ac3bc', 'Müller^JÃ¼'],
  ['UTF-8, ISO_IR 192', ['ISO_IR 192'], 'e5b1b1e794b05e', '山田^'],
  ['Cyrillic via ISO 2022 escape', ['', 'ISO 2022 IR 144'], '411b2d4cbfe0', 'AПр'],
];

describe('Specific Character Set (PS3.3 C.12.1.1.2, PS3.5 6.1)', () => {
  it.each(EXAMPLES)('decodes %s', (_name, terms, hex, text) => {
    expect(characterSetDecoder(terms).decode(bytes(hex))).toBe(text);
  });

  it.each(EXAMPLES.filter(([name]) => !/UTF-8|escape|JIS X 0212/.test(name)))(
    'encodes %s to the same bytes',
    (_name, terms, hex, text) => {
      expect(Buffer.from(encodeText(text, terms)).toString('hex')).toBe(hex);
    },
  );

  // Expected bytes from an independent encoder (Python's gb18030 codec).
  it.each([
    ['2-byte and ASCII', 'Wang^XiaoDong=王^小东=', '57616e675e5869616f446f6e673dcdf55ed0a1b6ab3d'],
    [
      '4-byte sequences (BMP and supplementary planes)',
      'Zoë€¥😀𠀀',
      '5a6f81308a35a2e3813084369439fc3695328236',
    ],
  ])('encodes GB18030, %s, and reads it back', (_name, text, hex) => {
    const encoded = encodeText(text, ['GB18030']);
    expect(Buffer.from(encoded).toString('hex')).toBe(hex);
    expect(characterSetDecoder(['GB18030']).decode(encoded)).toBe(text);
  });

  it('encodes GBK, its 2-byte subset, and refuses what GBK lacks', () => {
    const encoded = encodeText('Wang^XiaoDong=王^小东=', ['GBK']);
    expect(Buffer.from(encoded).toString('hex')).toBe(
      '57616e675e5869616f446f6e673dcdf55ed0a1b6ab3d',
    );
    expect(characterSetDecoder(['GBK']).decode(encoded)).toBe('Wang^XiaoDong=王^小东=');
    // U+00A5 and U+1F600 need GB18030's 4-byte sequences: not GBK.
    expect(() => encodeText('¥', ['GBK'])).toThrow(/U\+00a5.*GBK/);
    expect(() => encodeText('A😀', ['GBK'])).toThrow(InvalidValueError);
  });

  it('round-trips GB18030 text, backslash-like trail bytes included, through every syntax', () => {
    // 乗 is 0x81 0x5C in GB18030 (Python's codec): a trail byte equal to '\\'
    // must not split the value, so a value is decoded before it is split.
    const backslashTrail = '乗';
    expect(Buffer.from(encodeText(backslashTrail, ['GB18030'])).toString('hex')).toBe('815c');
    const values = [`${backslashTrail}^王`, '😀𠀀', 'Zoë'];
    for (const ts of Object.values(TransferSyntax)) {
      const ds = new DataSet();
      ds.setString('SpecificCharacterSet', 'GB18030');
      ds.setString('InstitutionName', values[0]!);
      ds.setString('OtherPatientNames', values);
      ds.setPersonName('PatientName', { Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小东😀' });
      const back = decodeDataSet(encodeDataSet(ds, ts), ts);
      expect(back.string('InstitutionName'), ts).toBe(values[0]);
      expect(back.strings('OtherPatientNames'), ts).toEqual(values);
      expect(back.personName('PatientName')?.Ideographic, ts).toBe('王^小东😀');
    }
  });

  it('encodes and decodes JIS X 0212 and mixed sets through a data set', () => {
    const terms = ['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'];
    const text = 'A丂丄^山田=😀';
    expect(() => encodeText(text, terms)).toThrow(InvalidValueError);
    const ok = 'A丂丄^山田=やまだ';
    expect(characterSetDecoder(terms).decode(encodeText(ok, terms))).toBe(ok);
    const ds = new DataSet();
    ds.setString('SpecificCharacterSet', ['ISO 2022 IR 100', 'ISO 2022 IR 149']);
    ds.setPersonName('PatientName', {
      Alphabetic: 'Müller^Hong',
      Ideographic: '洪^吉洞',
      Phonetic: 'é^홍',
    });
    for (const ts of Object.values(TransferSyntax)) {
      const back = decodeDataSet(encodeDataSet(ds, ts), ts);
      expect(back.personName('PatientName')).toEqual({
        Alphabetic: 'Müller^Hong',
        Ideographic: '洪^吉洞',
        Phonetic: 'é^홍',
      });
    }
  });

  it('splits values after decoding, so 0x5C inside a two-byte character is not a delimiter', () => {
    // JIS X 0208 "本" is 0x4B 0x5C: its second byte is the backslash.
    const ds = new DataSet();
    ds.setString('SpecificCharacterSet', ['', 'ISO 2022 IR 87']);
    ds.setBytes('InstitutionName', bytes('1b24424b5c1b28425c41'), 'LO');
    expect(ds.strings('InstitutionName')).toEqual(['本', 'A']);
  });

  it('reads the character set of a data set and inherits it in sequence items', () => {
    const ds = new DataSet();
    ds.setString('SpecificCharacterSet', 'ISO_IR 192');
    ds.setString('PatientName', 'Ωmega');
    ds.addItem('ProcedureCodeSequence').setString('CodeMeaning', 'ünïcode');
    for (const ts of Object.values(TransferSyntax)) {
      const back = decodeDataSet(encodeDataSet(ds, ts), ts);
      expect(back.string('PatientName')).toBe('Ωmega');
      expect(back.sequence('ProcedureCodeSequence')[0]?.string('CodeMeaning')).toBe('ünïcode');
    }
  });

  it('never fails on unknown terms or stray bytes (ISO 8859-1 fallback)', () => {
    expect(characterSetDecoder(['ISO_IR 999']).decode(bytes('41e9'))).toBe('Aé');
    expect(characterSetDecoder(['', 'ISO 2022 IR 87']).decode(bytes('1b2a41'))).toBe('\u001b*A');
  });

  it('encodes text in the default repertoire, ISO_IR 100 and ISO_IR 192, and refuses the rest', () => {
    expect(Buffer.from(encodeText('Zoë', ['ISO_IR 100'])).toString('hex')).toBe('5a6feb');
    expect(Buffer.from(encodeText('Zoë', ['ISO_IR 192'])).toString('hex')).toBe('5a6fc3ab');
    expect(() => encodeText('Zoë', [])).toThrow(InvalidValueError);
    expect(() => encodeText('山', ['ISO_IR 100'])).toThrow(/ISO_IR 192/);
    expect(Buffer.from(encodeText('Ελληνικά', ['ISO_IR 126'])).toString('hex')).toBe(
      'c5ebebe7ede9eadc',
    );
    expect(Buffer.from(encodeText('Привет', ['ISO 2022 IR 144'])).toString('hex')).toBe(
      'bfe0d8d2d5e2',
    );
    expect(Buffer.from(encodeText('ｱ', ['ISO_IR 13'])).toString('hex')).toBe('b1');
  });

  it('does not apply the character set to default-repertoire VRs (PS3.5 6.1.2.3)', () => {
    const ds = new DataSet();
    ds.setString('SpecificCharacterSet', 'ISO_IR 192');
    ds.setBytes('Modality', bytes('4354'), 'CS');
    expect(ds.string('Modality')).toBe('CT');
  });
});
