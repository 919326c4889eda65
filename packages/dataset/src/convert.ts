/**
 * Conversion between transfer syntaxes (PS3.5 §10), for when the accepted
 * presentation context differs from the syntax a data set is held in.
 */
import { type DecodeOptions, decodeDataSet } from './decode.js';
import { encodeDataSet } from './encode.js';
import { transferSyntaxInfo } from './uid.js';

/**
 * Re-encodes a data set from one transfer syntax to another. When both are the
 * same the bytes are returned untouched. Element values are carried over as
 * bytes (swapped per VR between little and big endian, PS3.5 §7.3); implicit VR
 * elements take the dictionary's VR, unknown ones UN (PS3.5 §6.2.2).
 *
 * @param bytes - the encoded data set
 * @param fromTransferSyntaxUid - the syntax of `bytes`
 * @param toTransferSyntaxUid - the syntax wanted
 * @param options - decoding limits
 */
export function convertTransferSyntax(
  bytes: Uint8Array,
  fromTransferSyntaxUid: string,
  toTransferSyntaxUid: string,
  options: DecodeOptions = {},
): Uint8Array {
  const from = transferSyntaxInfo(fromTransferSyntaxUid);
  const to = transferSyntaxInfo(toTransferSyntaxUid);
  if (from.uid === to.uid) return bytes;
  return encodeDataSet(decodeDataSet(bytes, from.uid, options), to.uid);
}
