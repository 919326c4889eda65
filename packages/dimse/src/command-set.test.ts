import { describe, expect, it } from 'vitest';
import { CommandTag } from './command-element.js';
import { decodeCommandSet, encodeCommandSet } from './command-set.js';
import { CommandTooLargeError, InvalidCommandSetError, InvalidFieldError } from './errors.js';

/** Implicit VR LE element: tag, 4-byte length, value (PS3.5 §7.1.3). */
function el(tag: number, value: number[]): number[] {
  const len = value.length;
  return [
    (tag >>> 16) & 0xff,
    tag >>> 24,
    tag & 0xff,
    (tag >>> 8) & 0xff,
    len & 0xff,
    (len >>> 8) & 0xff,
    (len >>> 16) & 0xff,
    len >>> 24,
    ...value,
  ];
}
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const us = (n: number) => [n & 0xff, n >>> 8];
const ul = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];

function withGroupLength(body: number[]): Uint8Array {
  return new Uint8Array([...el(0, ul(body.length)), ...body]);
}

const echoBody = [
  ...el(CommandTag.AffectedSopClassUid, [...ascii('1.2.840.10008.1.1'), 0]),
  ...el(CommandTag.CommandField, us(0x0030)),
  ...el(CommandTag.MessageId, us(1)),
  ...el(CommandTag.CommandDataSetType, us(0x0101)),
];

describe('command set codec (PS3.7 §6.3.1, Annex E)', () => {
  it('encodes a C-ECHO-RQ byte for byte, group length computed, UI padded with 00H', () => {
    const bytes = encodeCommandSet({
      commandField: 0x0030,
      messageId: 1,
      affectedSopClassUid: '1.2.840.10008.1.1',
      commandDataSetType: 0x0101,
    });
    expect(bytes).toEqual(withGroupLength(echoBody));
    expect(bytes.length).toBe(68);
  });

  it('pads AE and LO with a space and strips padding when decoding', () => {
    const bytes = encodeCommandSet({ moveDestination: 'ABC', errorComment: 'odd' });
    expect([...bytes.subarray(20, 24)]).toEqual(ascii('ABC '));
    expect(decodeCommandSet(bytes)).toEqual({ moveDestination: 'ABC', errorComment: 'odd' });
    // Leading spaces are not significant in AE (PS3.5 §6.2).
    const padded = withGroupLength(el(CommandTag.MoveDestination, ascii('  AE  ')));
    expect(decodeCommandSet(padded).moveDestination).toBe('AE');
  });

  it('encodes AT values as group then element, each little endian', () => {
    const bytes = encodeCommandSet({ offendingElement: [0x00100020, 0x7fe00010] });
    expect([...bytes.subarray(20)]).toEqual([0x10, 0x00, 0x20, 0x00, 0xe0, 0x7f, 0x10, 0x00]);
    expect(decodeCommandSet(bytes).offendingElement).toEqual([0x00100020, 0x7fe00010]);
  });

  it('keeps retired elements raw and writes them back in tag order', () => {
    // (0000,0001) Command Length to End, retired (PS3.7 Table E.2-1).
    const body = [...el(0x00000001, ul(10)), ...echoBody];
    const bytes = withGroupLength(body);
    const set = decodeCommandSet(bytes);
    expect(set.otherElements).toEqual([{ tag: 1, value: new Uint8Array(ul(10)) }]);
    expect(encodeCommandSet(set)).toEqual(bytes);
  });

  it('copies raw values, never keeping a view of the input', () => {
    const bytes = withGroupLength(el(0x00004000, ascii('AB')));
    const set = decodeCommandSet(bytes);
    bytes.fill(0);
    expect([...set.otherElements![0]!.value]).toEqual(ascii('AB'));
  });

  it('reads a command set that is a view into a larger buffer', () => {
    const inner = withGroupLength(echoBody);
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 7);
    expect(decodeCommandSet(outer.subarray(7, 7 + inner.length)).messageId).toBe(1);
  });

  const malformed: [string, Uint8Array, RegExp][] = [
    ['an empty buffer', new Uint8Array(0), /Group Length/],
    ['a truncated header', withGroupLength(echoBody).subarray(0, 70 - 5), /truncated|runs past/],
    ['no group length', new Uint8Array(echoBody), /Group Length/],
    [
      'a wrong group length',
      new Uint8Array([...el(0, ul(echoBody.length + 2)), ...echoBody]),
      /says/,
    ],
    ['an element of group 0008', withGroupLength(el(0x00080016, ascii('12'))), /group 0008/],
    [
      'elements out of order',
      withGroupLength([...el(0x00000110, us(1)), ...el(0x00000100, us(0x30))]),
      /order/,
    ],
    [
      'a repeated element',
      withGroupLength([...el(0x00000110, us(1)), ...el(0x00000110, us(2))]),
      /order or repeated/,
    ],
    ['a US of 4 bytes', withGroupLength(el(0x00000110, ul(1))), /not 2/],
    ['an AT of 6 bytes', withGroupLength(el(0x00000901, [1, 0, 2, 0, 3, 0])), /multiple of 4/],
    ['a UID with letters', withGroupLength(el(0x00000002, ascii('1.2.A.'))), /invalid/],
    [
      'an undefined length',
      new Uint8Array([...el(0, ul(8)), 0, 0, 0x10, 0x01, 0xff, 0xff, 0xff, 0xff]),
      /undefined length/,
    ],
  ];
  for (const [name, bytes, message] of malformed) {
    it(`refuses ${name}`, () => {
      expect(() => decodeCommandSet(bytes)).toThrow(InvalidCommandSetError);
      expect(() => decodeCommandSet(bytes)).toThrow(message);
    });
  }

  it('refuses a command set above maxCommandLength', () => {
    const bytes = withGroupLength(echoBody);
    expect(() => decodeCommandSet(bytes, { maxCommandLength: 67 })).toThrow(CommandTooLargeError);
    expect(decodeCommandSet(bytes, { maxCommandLength: 68 }).commandField).toBe(0x30);
  });

  it('refuses bad values on encode', () => {
    expect(() => encodeCommandSet({ status: -1 })).toThrow(InvalidFieldError);
    expect(() => encodeCommandSet({ errorComment: 'x'.repeat(65) })).toThrow(/at most 64/);
    expect(() => encodeCommandSet({ errorComment: 'a\\b' })).toThrow(InvalidFieldError);
    expect(() => encodeCommandSet({ offendingElement: [] })).toThrow(InvalidFieldError);
    expect(() =>
      encodeCommandSet({
        messageId: 1,
        otherElements: [{ tag: 0x00000110, value: new Uint8Array(2) }],
      }),
    ).toThrow(/duplicates the field/);
    expect(() =>
      encodeCommandSet({ otherElements: [{ tag: 0x00080001, value: new Uint8Array(2) }] }),
    ).toThrow(/group 0000/);
  });
});
