/**
 * @packageDocumentation
 * `@dnet/dataset`: DICOM data sets (PS3.5): tags, VRs, the data dictionary,
 * the element codec for every uncompressed transfer syntax, Part 10 files and
 * the DICOM JSON model.
 *
 * @example
 * ```ts
 * import { TransferSyntax } from '@dnet/dataset';
 * TransferSyntax.ImplicitVRLittleEndian; // '1.2.840.10008.1.2'
 * ```
 */

/** The uncompressed transfer syntaxes of PS3.5 §10 and Annex A. */
export const TransferSyntax = {
  /** PS3.5 §A.1 */
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  /** PS3.5 §A.2 */
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  /** PS3.5 §A.5 */
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  /** PS3.5 §A.3 (retired) */
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
} as const;
