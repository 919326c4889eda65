import { ArchiveError, type ArchiveErrorCode, type ArchiveErrorOptions } from './errors.js';

/**
 * Stable code of {@link UnreadableDataSetError}. It keeps the code dnet-scp has
 * always logged, so log queries keep working; it is not (yet) one of
 * `ArchiveErrorCode`'s values.
 */
export const UNREADABLE_DATA_SET = 'DNET_SCP_UNREADABLE_DATA_SET';

/**
 * A received data set whose beginning cannot be decoded, or that lacks the
 * attributes the archive files it under (PS3.4 §B.2.3: the SCP answers C000H).
 */
export class UnreadableDataSetError extends ArchiveError {
  /**
   * @param message - what is wrong
   * @param options - the decoder's error
   */
  constructor(message: string, options: ArchiveErrorOptions = {}) {
    super(message, UNREADABLE_DATA_SET as unknown as ArchiveErrorCode, options);
    this.name = 'UnreadableDataSetError';
  }
}
