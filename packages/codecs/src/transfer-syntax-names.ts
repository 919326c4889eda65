/**
 * Short names for the transfer syntaxes a transcoder reads and writes, as a
 * command line takes them (`explicit-le`, `jpeg-ls-lossless`, `rle`...).
 */
import { CodecsError, CodecsErrorCode } from './errors.js';

/** Each short name and the transfer syntax UID it stands for (PS3.5 §10, PS3.6 Table A-1). */
export const TRANSFER_SYNTAX_NAMES: Readonly<Record<string, string>> = {
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-le': '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  'explicit-be': '1.2.840.10008.1.2.2',
  'jpeg-baseline': '1.2.840.10008.1.2.4.50',
  'jpeg-extended': '1.2.840.10008.1.2.4.51',
  'jpeg-lossless': '1.2.840.10008.1.2.4.57',
  'jpeg-lossless-sv1': '1.2.840.10008.1.2.4.70',
  'jpeg-ls-lossless': '1.2.840.10008.1.2.4.80',
  'jpeg-ls-near-lossless': '1.2.840.10008.1.2.4.81',
  'j2k-lossless': '1.2.840.10008.1.2.4.90',
  j2k: '1.2.840.10008.1.2.4.91',
  'htj2k-lossless': '1.2.840.10008.1.2.4.201',
  'htj2k-lossless-rpcl': '1.2.840.10008.1.2.4.202',
  htj2k: '1.2.840.10008.1.2.4.203',
  rle: '1.2.840.10008.1.2.5',
};

/**
 * The UID for a short name of {@link TRANSFER_SYNTAX_NAMES} or a UID itself.
 *
 * @param nameOrUid - e.g. `jpeg-ls-lossless` or `1.2.840.10008.1.2.4.80`
 * @throws CodecsError `DNET_CODECS_UNSUPPORTED_TRANSFER_SYNTAX` for an unknown name
 */
export function resolveTransferSyntax(nameOrUid: string): string {
  const key = nameOrUid.trim();
  const byName = TRANSFER_SYNTAX_NAMES[key.toLowerCase()];
  if (byName) return byName;
  if (/^[0-9]+(\.[0-9]+)+$/.test(key)) return key;
  throw new CodecsError(
    CodecsErrorCode.UNSUPPORTED_TRANSFER_SYNTAX,
    `unknown transfer syntax "${nameOrUid}" (one of ${Object.keys(TRANSFER_SYNTAX_NAMES).join(', ')}, or a UID)`,
  );
}
