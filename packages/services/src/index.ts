/**
 * @packageDocumentation
 * `@dnet/services`: DICOM AE-level Client (SCU) and Server (SCP) with the PS3.4 service classes.
 */

/** The package's name, for diagnostics. */
export const packageName = '@dnet/services';
